import type { Backlog, Task } from '../core/backlog.js';
import { chainEvents } from '../core/chain.js';
import { attemptCreated } from '../core/claim.js';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { EventDraft, LeviathanEvent } from '../core/events.js';
import { type ObservedPull, reconcile, taskOfPull } from '../core/reconcile.js';
import type { RunContext } from '../core/run-context.js';
import { type Decision, type OpenPull, select } from '../core/select.js';
import { attemptCount, dispatchesInHour, openAttempts, project } from '../core/state.js';
import type { State } from '../core/state-types.js';
import { type TaskRow, taskRows } from '../core/task-status.js';
import { type Forge, ForgeError, type PullRequest } from '../forge/forge.js';
import { loadBaseDocuments } from '../store/base-branch.js';
import type { EventStore } from '../store/event-store.js';
import type { Git } from '../store/git.js';

/** How far back closed pulls are observed, so a merge seen late is still recorded. */
const CLOSED_LOOKBACK_MS = 7 * 24 * 3_600_000;
/** A tick whose decision was overtaken by another writer decides again from the new state, this often. */
const MAX_DECISION_ROUNDS = 8;

export interface TickOptions extends RunContext {
  git: Git;
  forge: Forge;
  events: EventStore;
  dryRun?: boolean;
}

export type TickOutcome = 'dispatched' | 'dispatch_failed' | 'idle' | 'dry_run';

export interface TickReport {
  outcome: TickOutcome;
  task: string | null;
  attempt: string | null;
  base: string;
  rows: TaskRow[];
  breaker: Decision['breaker'];
  appended: LeviathanEvent[];
  limits: { open_prs: number; running: number; dispatched_this_hour: number; config: Config['limits'] };
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
        now,
        actor: ctx.actor,
        newId: ctx.newId,
      })
    : [];
  const openPulls: OpenPull[] = [];
  for (const p of pulls) {
    const task = p.state === 'open' ? taskOfPull(p, config.pr.branch_prefix) : null;
    if (task) openPulls.push({ number: p.number, task, branch: p.head });
  }
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
  for (const task of decision.toBlock) {
    const attempts = attemptCount(afterReconcile, task);
    drafts.push({ ...base(), task, type: 'task.blocked', data: { reason: 'max_attempts', attempts } });
  }
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

export async function observePulls(forge: Forge, config: Config, now: Date): Promise<ObservedPull[]> {
  let pulls: PullRequest[];
  try {
    pulls = await forge.listPulls({
      branchPrefix: config.pr.branch_prefix,
      labels: config.pr.labels,
      closedSince: new Date(now.getTime() - CLOSED_LOOKBACK_MS),
    });
  } catch (error) {
    throw new UserError(
      `cannot read pull requests from the ${forge.kind} forge: ${(error as Error).message}`,
    );
  }
  return pulls.map((p) => ({ number: p.number, head: p.head, body: p.body, state: p.state }));
}

async function remoteWipBranches(git: Git, state: State): Promise<Set<string>> {
  if (openAttempts(state).length === 0) return new Set();
  const remote = (await git.originUrl()) ? 'origin' : '.';
  const out = await git.output(['ls-remote', '--heads', remote, 'refs/heads/leviathan-wip/*']);
  return new Set(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t')[1]!.replace(/^refs\/heads\//, '')),
  );
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
  const { backlog, config } = docs;

  let appended: LeviathanEvent[] = [];
  let dispatched: TickOutcome = 'idle';
  for (let round = 1; ; round++) {
    say('reading the event log');
    const { state } = await events.read();
    say('observing pull requests');
    const pulls = await observePulls(forge, config, options.now());
    const wip = await remoteWipBranches(git, state);
    const p = plan(state, backlog, config, pulls, wip, options);

    if (options.dryRun || p.drafts.length === 0) {
      return report(
        options.dryRun ? 'dry_run' : 'idle',
        null,
        docs.base,
        backlog,
        config,
        p,
        [],
        pulls,
        options,
      );
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
    appended = result.events;
    if (!p.claim) return report('idle', null, docs.base, backlog, config, p, appended, pulls, options);

    const { task, attempt } = p.claim;
    say(`dispatching a worker for ${task.id}`);
    const ts = () => options.now().toISOString();
    try {
      const { runUrl } = await forge.dispatchWorker({ task: task.id, attempt, ref: docs.base });
      const sent = await events.append([
        {
          id: options.newId(),
          ts: ts(),
          actor: options.actor,
          task: task.id,
          attempt,
          type: 'attempt.dispatched',
          data: runUrl ? { forge: forge.kind, run_id: runUrl } : { forge: forge.kind },
        },
      ]);
      if (sent.ok) appended = [...appended, ...sent.events];
      dispatched = 'dispatched';
    } catch (error) {
      const detail = error instanceof ForgeError || error instanceof Error ? error.message : String(error);
      const failed = await events.append([
        {
          id: options.newId(),
          ts: ts(),
          actor: options.actor,
          task: task.id,
          attempt,
          type: 'attempt.failed',
          data: { reason: 'dispatch_error', detail },
        },
      ]);
      if (failed.ok) appended = [...appended, ...failed.events];
      dispatched = 'dispatch_failed';
    }
    return report(dispatched, p.claim, docs.base, backlog, config, p, appended, pulls, options);
  }
}

function report(
  outcome: TickOutcome,
  claim: Plan['claim'],
  base: string,
  backlog: Backlog,
  config: Config,
  p: Plan,
  appended: LeviathanEvent[],
  pulls: ObservedPull[],
  ctx: RunContext,
): TickReport {
  const state = outcome === 'dry_run' ? p.decided : p.preview;
  const now = ctx.now();
  return {
    outcome,
    task: claim?.task.id ?? null,
    attempt: claim?.attempt ?? null,
    base,
    rows: taskRows(backlog, config, state, p.decision),
    breaker: p.decision.breaker,
    appended,
    limits: {
      open_prs: pulls.filter((x) => x.state === 'open').length,
      running: openAttempts(state).length,
      dispatched_this_hour: dispatchesInHour(state, now),
      config: config.limits,
    },
  };
}
