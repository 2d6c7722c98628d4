/**
 * The log checked against the outside world (issue 7 §3): the forge and the origin remember attempts the log
 * should know. A Leviathan pull whose marker names an attempt, or a WIP branch `leviathan-wip/<task>/<attempt>`
 * on the origin, exists only after the log recorded that attempt's `attempt.created`; so one the log does not
 * account for means the log was rolled back, truncated, re-chained or deleted. Pure: the caller lists them.
 */
import { parsePullMarker } from './pr-body.js';
import { type ObservedPull, pullsBeyondLog, taskOfPull } from './reconcile.js';
import { taskSummary } from './state.js';
import type { State } from './state-types.js';

const WIP_PREFIX = 'leviathan-wip/';

/** An attempt something outside the log names, and what names it (for the one-line reason). */
export interface NamedAttempt {
  task: string;
  attempt: string;
  /** e.g. `branch leviathan-wip/docs-a/01J…` or `pull request #3`. */
  where: string;
}

/** The task and attempt a WIP branch name (without `refs/heads/`) names, or null when it is not one. */
export function parseWipBranch(branch: string): { task: string; attempt: string } | null {
  if (!branch.startsWith(WIP_PREFIX)) return null;
  const rest = branch.slice(WIP_PREFIX.length);
  const cut = rest.lastIndexOf('/');
  if (cut <= 0 || cut === rest.length - 1) return null;
  return { task: rest.slice(0, cut), attempt: rest.slice(cut + 1) };
}

/** The attempts the origin's WIP branches and the forge's Leviathan pulls (marker agreeing with branch) name. */
export function namedAttempts(
  wipBranches: Iterable<string>,
  pulls: readonly ObservedPull[],
  branchPrefix: string,
): NamedAttempt[] {
  const named: NamedAttempt[] = [];
  for (const branch of [...wipBranches].sort()) {
    const wip = parseWipBranch(branch);
    if (wip) named.push({ ...wip, where: `branch ${branch}` });
  }
  for (const pull of [...pulls].sort((a, b) => a.number - b.number)) {
    const marker = parsePullMarker(pull.body);
    if (marker && taskOfPull(pull, branchPrefix) === marker.task) {
      named.push({ task: marker.task, attempt: marker.attempt, where: `pull request #${pull.number}` });
    }
  }
  return named;
}

/**
 * Why the log is behind what the outside world names, in one line, or null. The log keeps only the newest
 * attempt of a task (and the open ones), but it counts every attempt ever created: so a task the log does not
 * know at all, or more distinct attempts named for a task than the log ever created for it, is a rollback.
 * An honest log never fails this (an attempt is recorded before anything can name it); an attacker who also
 * deletes every branch and pull naming the lost attempts is not caught here (protect the branches).
 */
export function attemptsBeyondLog(state: State, named: readonly NamedAttempt[]): string | null {
  const byTask = new Map<string, NamedAttempt[]>();
  for (const n of named) {
    const list = byTask.get(n.task) ?? [];
    if (!list.some((m) => m.attempt === n.attempt)) list.push(n);
    byTask.set(n.task, list);
  }
  for (const [task, list] of [...byTask].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const first = list[0] as NamedAttempt;
    const known = taskSummary(state, task);
    if (!known) {
      const log =
        state.seq === 0 ? 'the event log is empty or missing' : 'the event log does not know the task';
      return `${first.where} names attempt ${first.attempt} of task ${task}, but ${log}: the log was rolled back, replaced or deleted`;
    }
    if (list.length > known.attempts) {
      const unknown = list.find((n) => !isKnownAttempt(state, task, n.attempt)) ?? first;
      return `the origin names ${list.length} attempts of task ${task} (${unknown.where} among them), but the event log records ${known.attempts}: the log was rolled back or replaced`;
    }
  }
  return null;
}

function isKnownAttempt(state: State, task: string, attempt: string): boolean {
  if (Object.hasOwn(state.attempts, attempt) && state.attempts[attempt]?.task === task) return true;
  const known = taskSummary(state, task);
  return known?.last_attempt === attempt || known?.pr?.attempt === attempt;
}

/**
 * The whole cross-check: the pulls' markers (always, they are listed anyway) and, when the origin's WIP
 * branches were listed (`wipBranches` not null), the attempts they name. One line, or null.
 */
export function logBehindOutside(
  state: State,
  pulls: readonly ObservedPull[],
  wipBranches: ReadonlySet<string> | null,
  branchPrefix: string,
): string | null {
  return (
    pullsBeyondLog(state, pulls, branchPrefix) ??
    attemptsBeyondLog(state, namedAttempts(wipBranches ?? [], pulls, branchPrefix))
  );
}
