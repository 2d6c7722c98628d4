import type { Actor, EventDraft } from './events.js';
import { parsePullMarker } from './pr-body.js';
import type { OpenPull } from './select.js';
import { openAttempts, taskSummary } from './state.js';
import type { State } from './state-types.js';

/** Grace after an attempt's deadline before the scheduler declares it timed out (SPEC §3.1 step 4). */
export const TIMEOUT_GRACE_MS = 5 * 60_000;

/** An attempt's worker run is looked at only after this long, so a fresh dispatch costs no extra call. */
export const RUN_CHECK_GRACE_MS = 2 * 60_000;

/** What the scheduler saw of one Leviathan pull request on the forge. */
export interface ObservedPull {
  number: number;
  head: string;
  body: string;
  state: 'open' | 'closed' | 'merged';
}

export interface ReconcileInput {
  state: State;
  pulls: readonly ObservedPull[];
  branchPrefix: string;
  /** WIP branches that exist on the remote, so a timed-out attempt can point at its kept work. */
  wipBranches: ReadonlySet<string>;
  /** Attempts whose worker run has completed (attempt id → the run's conclusion), see `runsToCheck`. */
  endedRuns?: ReadonlyMap<string, string>;
  now: Date;
  actor: Actor;
  newId: () => string;
}

export function wipBranch(task: string, attempt: string): string {
  return `leviathan-wip/${task}/${attempt}`;
}

/**
 * The task a pull belongs to: its branch name, and when it carries a marker, only if the marker names the same
 * task (a marker smuggled into another task's PR, or a branch renamed by hand, counts for nothing).
 */
export function taskOfPull(pull: ObservedPull, branchPrefix: string): string | null {
  const fromBranch = pull.head.startsWith(branchPrefix) ? pull.head.slice(branchPrefix.length) : null;
  const marker = parsePullMarker(pull.body);
  if (marker) return marker.task === fromBranch ? fromBranch : null;
  return fromBranch;
}

/**
 * Whether the log knows the attempt a pull's marker names, for that task. A settled task keeps no attempts,
 * so only its existence can be checked; an open pull's attempt must be the one recorded or still in the log.
 */
function attemptKnown(state: State, task: string, attempt: string, pull: ObservedPull): boolean {
  const known = taskSummary(state, task);
  if (!known) return false;
  if (known.pr?.number === pull.number && known.pr.attempt !== undefined) return known.pr.attempt === attempt;
  const a = state.attempts[attempt];
  if (a) return a.task === task;
  return pull.state !== 'open' || known.last_attempt === attempt;
}

/**
 * Leviathan wrote this pull (its marker agrees with its branch) for an attempt the log does not know: the log
 * was rolled back, truncated or replaced. One line naming the first such pull, or null.
 */
export function pullsBeyondLog(
  state: State,
  pulls: readonly ObservedPull[],
  branchPrefix: string,
): string | null {
  for (const pull of [...pulls].sort((a, b) => a.number - b.number)) {
    const marker = parsePullMarker(pull.body);
    if (!marker || taskOfPull(pull, branchPrefix) !== marker.task) continue;
    if (!attemptKnown(state, marker.task, marker.attempt, pull)) {
      return `pull request #${pull.number} (${pull.state}) was opened for attempt ${marker.attempt} of task ${marker.task}, which the event log does not know: the log was rolled back or replaced`;
    }
  }
  return null;
}

/** The open pulls that belong to a task (marker first, else branch), as `select` counts them. */
export function openPullsOf(pulls: readonly ObservedPull[], branchPrefix: string): OpenPull[] {
  return pulls.flatMap((p) => {
    const task = p.state === 'open' ? taskOfPull(p, branchPrefix) : null;
    return task ? [{ number: p.number, task, branch: p.head }] : [];
  });
}

/**
 * The events that bring the log in line with what the forge shows and what the clock says: merges,
 * closes and timeouts. Pure, and empty when nothing changed, so an idle tick appends nothing.
 */
export function reconcile(input: ReconcileInput): EventDraft[] {
  const { state, now, actor } = input;
  const ts = now.toISOString();
  const drafts: EventDraft[] = [];
  const base = () => ({ id: input.newId(), ts, actor });

  for (const pull of [...input.pulls].sort((a, b) => a.number - b.number)) {
    const task = taskOfPull(pull, input.branchPrefix);
    if (!task) continue;
    const known = taskSummary(state, task);
    const recorded = known?.pr?.number === pull.number ? known.pr : undefined;
    if (pull.state === 'merged' && !known?.completed && recorded?.state !== 'merged') {
      const marked = parsePullMarker(pull.body)?.attempt;
      // Marker, branch and the log's attempt must agree for a merge to complete the task.
      if (marked && recorded?.attempt && marked !== recorded.attempt) continue;
      const attempt = recorded?.attempt ?? marked;
      const ref = attempt ? { task, attempt } : { task };
      drafts.push({ ...base(), ...ref, type: 'pr.merged', data: { number: pull.number } });
      drafts.push({ ...base(), ...ref, type: 'task.completed', data: { via: 'pr_merged', pr: pull.number } });
    } else if (pull.state === 'closed' && recorded?.state === 'open') {
      const ref = recorded.attempt ? { task, attempt: recorded.attempt } : { task };
      drafts.push({ ...base(), ...ref, type: 'pr.closed', data: { number: pull.number } });
    }
  }

  for (const attempt of openAttempts(state)) {
    const conclusion = input.endedRuns?.get(attempt.id);
    if (conclusion === undefined && Date.parse(attempt.deadline) + TIMEOUT_GRACE_MS > now.getTime()) continue;
    const wip = wipBranch(attempt.task, attempt.id);
    drafts.push({
      ...base(),
      task: attempt.task,
      attempt: attempt.id,
      type: 'attempt.timed_out',
      data: {
        deadline: attempt.deadline,
        ...(input.wipBranches.has(wip) ? { wip_branch: wip } : {}),
        ...(conclusion !== undefined ? { conclusion } : {}),
      },
    });
  }
  return drafts;
}

/** The open attempts whose recorded worker run is worth one look: dispatched with a run id, past the grace. */
export function runsToCheck(state: State, now: Date): Array<{ attempt: string; run: string }> {
  return openAttempts(state).flatMap((a) =>
    a.run_id !== undefined && Date.parse(a.created_at) + RUN_CHECK_GRACE_MS <= now.getTime()
      ? [{ attempt: a.id, run: a.run_id }]
      : [],
  );
}
