import type { Backlog, Task } from '../core/backlog.js';
import { chainEvents } from '../core/chain.js';
import { attemptCreated } from '../core/claim.js';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { BlockReason, EventDraft, LeviathanEvent } from '../core/events.js';
import { type ObservedPull, openPullsOf, reconcile, runsToCheck } from '../core/reconcile.js';
import type { RunContext } from '../core/run-context.js';
import { type Decision, select } from '../core/select.js';
import { type SpendReport, spendReport } from '../core/spend.js';
import { attemptCount, dispatchesInHour, openAttempts, project } from '../core/state.js';
import type { State } from '../core/state-types.js';
import { type TaskRow, taskEntryHash, taskRows } from '../core/task-status.js';
import type { DispatchResult, Forge } from '../forge/forge.js';
import { observePulls } from '../forge/observe.js';
import { type BaseDocuments, loadBaseDocuments } from '../store/base-branch.js';
import type { EventStore } from '../store/event-store.js';
import type { Git } from '../store/git.js';
import { assertLogNotBehind, originWipBranches } from './outside-world.js';

/** A tick whose decision was overtaken by another writer decides again from the new state, this often. */
const MAX_DECISION_ROUNDS = 8;

export interface TickOptions extends RunContext {
  git: Git;
  forge: Forge;
  events: EventStore;
  dryRun?: boolean;
  /** Told which base documents the tick acts on, once they are read. */
  onBase?: (docs: BaseDocuments & { base: string }) => void;
}

export type TickOutcome = 'dispatched' | 'dispatch_failed' | 'idle' | 'dry_run';

export interface TickReport {
  outcome: TickOutcome;
  task: string | null;
  attempt: string | null;
  base: string;
  /** The base branch commit the backlog and config were read from. */
  base_sha: string;
  rows: TaskRow[];
  breaker: Decision['breaker'];
  appended: LeviathanEvent[];
  limits: { open_prs: number; running: number; dispatched_this_hour: number; config: Config['limits'] };
  /** Spend so far (reported by attempts): today's and each task's; unknown spend counted apart. */
  spend: SpendReport;
}

/** What this tick would write, computed from one state; appended only if the state has not moved. */
interface Plan {
  drafts: EventDraft[];
  decision: Decision;
  /** The state once this plan is written; a dry run writes nothing, so it reports `decided` instead. */
  preview: State;
  /** The state the decision was made on (after reconciling). */
  decided: State;
  claim: { task: Task; attempt: string } | null;
}

function plan(
  state: State,
  backlog: Backlog,
  config: Config,
  pulls: ObservedPull[],
  wipBranches: ReadonlySet<string>,
  endedRuns: ReadonlyMap<string, string>,
  ctx: RunContext,
): Plan {
  const now = ctx.now();
  const ts = now.toISOString();
  const base = () => ({ id: ctx.newId(), ts, actor: ctx.actor });
  // Autonomy off: the tick only reports (SPEC §2.2), so not even merges or timeouts are recorded; the next
  // enabled tick records them.
  const drafts = config.autonomy.enabled
    ? reconcile({
        state,
        pulls,
        branchPrefix: config.pr.branch_prefix,
        wipBranches,
        endedRuns,
        now,
        actor: ctx.actor,
        newId: ctx.newId,
      })
    : [];
  const openPulls = openPullsOf(pulls, config.pr.branch_prefix);
  const afterReconcile = preview(state, drafts);
  const decision = select({ backlog, config, state: afterReconcile, openPulls, now });

  if (decision.breaker === 'trip') {
    drafts.push({
      ...base(),
      type: 'breaker.tripped',
      data: {
        consecutive_failures: afterReconcile.breaker.consecutive_failures,
        threshold: config.limits.circuit_breaker_failures,
      },
    });
  } else if (decision.breaker === 'cooldown_reset') {
    drafts.push({ ...base(), type: 'breaker.reset', data: { reason: 'cooldown elapsed', by: 'cooldown' } });
  }
  const entries = new Map(backlog.tasks.map((t) => [t.id, t]));
  const block = (task: string, reason: BlockReason) => {
    const attempts = attemptCount(afterReconcile, task);
    const entry = entries.get(task);
    drafts.push({
      ...base(),
      task,
      type: 'task.blocked',
      data: { reason, attempts, ...(entry ? { entry: taskEntryHash(entry) } : {}) },
    });
  };
  // A closed PR is a human's no: the task waits for `leviathan retry`, it is never re-opened on its own.
  for (const task of decision.rejected) block(task, 'pr_closed');
  for (const task of decision.toBlock) block(task, 'max_attempts');
  let claim: Plan['claim'] = null;
  if (decision.selected) {
    const task = decision.selected;
    const attempt = ctx.newId();
    drafts.push(attemptCreated(task, attempt, afterReconcile, config, ctx, false));
    claim = { task, attempt };
  }
  return { drafts, decision, preview: preview(state, drafts), decided: afterReconcile, claim };
}

function preview(state: State, drafts: EventDraft[]): State {
  if (drafts.length === 0) return state;
  const tip = state.hash === null ? null : { seq: state.seq, hash: state.hash };
  return project(chainEvents(tip, drafts), state);
}

/** What `attempt.dispatched` records; the local forge's description stays in `run_id`, as it always was. */
function dispatchedData(kind: Forge['kind'], sent: DispatchResult) {
  if (kind === 'local') return sent.runUrl ? { forge: kind, run_id: sent.runUrl } : { forge: kind };
  return {
    forge: kind,
    ...(sent.runId ? { run_id: sent.runId } : {}),
    ...(sent.runUrl ? { run_url: sent.runUrl } : {}),
    ...(sent.unconfirmed ? { unconfirmed: true } : {}),
  };
}

/** Attempts in flight whose worker run has already completed; one call per such attempt, none otherwise. */
async function endedRuns(forge: Forge, state: State, now: Date): Promise<Map<string, string>> {
  const ended = new Map<string, string>();
  if (!forge.getRun) return ended;
  for (const { attempt, run } of runsToCheck(state, now)) {
    let found: Awaited<ReturnType<NonNullable<Forge['getRun']>>>;
    try {
      found = await forge.getRun(run);
    } catch (error) {
      throw new UserError(
        `cannot read worker run ${run} from the ${forge.kind} forge: ${(error as Error).message}`,
      );
    }
    if (found?.status === 'completed') ended.set(attempt, found.conclusion ?? 'unknown');
  }
  return ended;
}

/**
 * One scheduler tick (SPEC §3.1): load → observe → reconcile → select → claim → dispatch → report.
 * Fails closed: any doubt about the documents, the log or the forge throws before anything is written.
 */
export async function tick(options: TickOptions): Promise<TickReport> {
  const { git, forge, events } = options;
  const say = options.progress ?? (() => {});

  say('reading the default branch from the forge');
  let defaultBranch: string;
  try {
    defaultBranch = await forge.defaultBranch();
  } catch (error) {
    throw new UserError(`the ${forge.kind} forge is unreachable: ${(error as Error).message}`);
  }
  say(`loading backlog and config from ${defaultBranch}`);
  const docs = await loadBaseDocuments(git, defaultBranch);
  options.onBase?.(docs);
  const { backlog, config } = docs;
  events.trustKey?.(config.events.public_key);

  for (let round = 1; ; round++) {
    say('reading the event log');
    const { state } = await events.read();
    say('observing pull requests');
    const pulls = await observePulls(forge, config, options.now());
    // The WIP branches are listed when an attempt is open (a timeout points at its work) and before anything
    // is written, so an idle tick costs no listing.
    let wip = openAttempts(state).length > 0 ? await originWipBranches(git) : null;
    const ended = await endedRuns(forge, state, options.now());
    const p = plan(state, backlog, config, pulls, wip ?? new Set(), ended, options);
    if (p.drafts.length > 0) wip ??= await originWipBranches(git);
    // The forge and the origin remember what the log should: a PR or WIP branch of an attempt the log does
    // not account for means the log was rolled back, replaced or deleted (fail closed, nothing written).
    const prefix = config.pr.branch_prefix;
    const fresh = await assertLogNotBehind(
      state,
      pulls,
      wip,
      prefix,
      async () => (await events.read()).state,
    );
    if (fresh === 'moved') {
      if (round >= MAX_DECISION_ROUNDS) {
        throw new UserError(`gave up after ${round} rounds: other writers kept changing the event log`);
      }
      continue;
    }
    const seen: Seen = { base: docs.base, baseSha: docs.sha, backlog, config, pulls };

    if (options.dryRun || p.drafts.length === 0) {
      return report(options.dryRun ? 'dry_run' : 'idle', p, [], seen, options);
    }
    say(`recording ${p.drafts.length} event(s)${p.claim ? ` and claiming ${p.claim.task.id}` : ''}`);
    // The decision is only valid for the state it was made on: refuse if anyone wrote in between.
    const seq = state.seq;
    const result = await events.append(p.drafts, (s) => (s.seq === seq ? true : 'the event log moved on'));
    if (!result.ok) {
      if (round >= MAX_DECISION_ROUNDS) {
        throw new UserError(`gave up after ${round} rounds: other writers kept changing the event log`);
      }
      continue;
    }
    if (!p.claim) return report('idle', p, result.events, seen, options);

    const { task, attempt } = p.claim;
    say(`dispatching a worker for ${task.id}`);
    let outcome: TickOutcome;
    let recorded: Pick<EventDraft, 'type' | 'data'>;
    try {
      const sent = await forge.dispatchWorker({ task: task.id, attempt, ref: docs.base });
      outcome = 'dispatched';
      recorded = { type: 'attempt.dispatched', data: dispatchedData(forge.kind, sent) };
    } catch (error) {
      outcome = 'dispatch_failed';
      recorded = {
        type: 'attempt.failed',
        data: { reason: 'dispatch_error', detail: (error as Error).message },
      };
    }
    const sent = await events.append([
      {
        id: options.newId(),
        ts: options.now().toISOString(),
        actor: options.actor,
        task: task.id,
        attempt,
        ...recorded,
      } as EventDraft,
    ]);
    return report(outcome, p, sent.ok ? [...result.events, ...sent.events] : result.events, seen, options);
  }
}

/** What one round of the tick saw: the base branch's documents and the forge's pulls. */
interface Seen {
  base: string;
  baseSha: string;
  backlog: Backlog;
  config: Config;
  pulls: ObservedPull[];
}

function report(
  outcome: TickOutcome,
  p: Plan,
  appended: LeviathanEvent[],
  { base, baseSha, backlog, config, pulls }: Seen,
  ctx: RunContext,
): TickReport {
  // Only a tick that claimed names the claim; a dry run reports the state it decided on, unwritten.
  const claim = outcome === 'dispatched' || outcome === 'dispatch_failed' ? p.claim : null;
  const state = outcome === 'dry_run' ? p.decided : p.preview;
  const now = ctx.now();
  return {
    outcome,
    task: claim?.task.id ?? null,
    attempt: claim?.attempt ?? null,
    base,
    base_sha: baseSha,
    rows: taskRows(backlog, config, state, p.decision),
    breaker: p.decision.breaker,
    appended,
    limits: {
      open_prs: openPullsOf(pulls, config.pr.branch_prefix).length,
      running: openAttempts(state).length,
      dispatched_this_hour: dispatchesInHour(state, now),
      config: config.limits,
    },
    spend: spendReport(
      state,
      now,
      backlog.tasks.map((t) => t.id),
    ),
  };
}
