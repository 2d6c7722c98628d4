import type { Backlog, Priority, Task } from './backlog.js';
import type { Config } from './config.js';
import { daySpend, taskSpend } from './spend.js';
import { attemptsCharged, dispatchesInHour, openAttempts, taskSummary } from './state.js';
import type { State } from './state-types.js';
import { taskScope } from './task-scope.js';
import { usdToMicros } from './usage.js';

/** A Leviathan pull request the forge reports as open. */
export interface OpenPull {
  number: number;
  task: string;
  branch: string;
}

export interface SelectInput {
  backlog: Backlog;
  config: Config;
  state: State;
  openPulls: OpenPull[];
  now: Date;
}

/**
 * Why a task was or was not picked. `queued` (an addition to the architecture's list): eligible and under
 * every limit, but another task came first in priority/file order and only one is dispatched per tick.
 */
export type Reason =
  | 'not_ready'
  | 'done'
  | `dependency_pending:${string}`
  | `out_of_scope:${string}`
  | 'max_attempts'
  | `pr_open:#${number}`
  | 'running'
  | 'limit_open_prs'
  | 'limit_running'
  | 'limit_hourly'
  | 'budget_task'
  | 'budget_day'
  | 'breaker_open'
  | 'autonomy_disabled'
  | 'blocked'
  | 'queued'
  | 'selected';

export type BreakerDecision = 'closed' | 'open' | 'trip' | 'cooldown_reset';

export interface Decision {
  selected: Task | null;
  /** One entry per backlog task, in backlog file order. */
  reasons: Array<{ task: string; reason: Reason }>;
  /** Tasks that exhausted their attempts (none open, no open PR, not complete) and have no task.blocked yet. */
  toBlock: string[];
  /** Tasks whose pull request a human closed unmerged (nothing else open, not complete), not blocked yet. */
  rejected: string[];
  breaker: BreakerDecision;
}

const PRIORITY_RANK: Record<Priority, number> = { high: 0, medium: 1, low: 2 };

/** The attempt limit that applies to a task: its own `max_attempts` may only lower the config's. */
export function maxAttemptsFor(task: Task, config: Config): number {
  const limit = config.limits.max_attempts_per_task;
  return task.max_attempts === undefined ? limit : Math.min(task.max_attempts, limit);
}

function breakerDecision(state: State, config: Config, now: Date): BreakerDecision {
  const { open, consecutive_failures, tripped_at } = state.breaker;
  if (open) {
    const cooldownMs = config.limits.breaker_cooldown_minutes * 60_000;
    if (cooldownMs > 0 && tripped_at !== undefined) {
      const trippedMs = Date.parse(tripped_at);
      if (Number.isFinite(trippedMs) && now.getTime() >= trippedMs + cooldownMs) return 'cooldown_reset';
    }
    return 'open';
  }
  return consecutive_failures >= config.limits.circuit_breaker_failures ? 'trip' : 'closed';
}

interface TaskFacts {
  complete: boolean;
  blockedInState: boolean;
  atMax: boolean;
  openPr: number | undefined;
  hasOpenAttempt: boolean;
  prClosed: boolean;
  /** The task's known spend reached `limits.max_cost_usd_per_task`. */
  overBudget: boolean;
}

function taskReason(
  task: Task,
  facts: TaskFacts,
  depPending: string | undefined,
  config: Config,
): Reason | null {
  if (facts.complete) return 'done';
  if (task.status === 'blocked' || facts.blockedInState) return 'blocked';
  if (!task.ready) return 'not_ready';
  if (depPending !== undefined) return `dependency_pending:${depPending}`;
  const scope = taskScope(task.allowed_paths, config.scope);
  if (!scope.inScope) return `out_of_scope:${scope.path}`;
  // An open PR or attempt is what is true of the task, even when it used its last attempt.
  if (facts.openPr !== undefined) return `pr_open:#${facts.openPr}`;
  if (facts.hasOpenAttempt) return 'running';
  if (facts.prClosed) return 'blocked';
  if (facts.atMax) return 'max_attempts';
  if (facts.overBudget) return 'budget_task';
  return null;
}

/** The first global limit that stops a dispatch this tick, in the order the job summary explains them. */
function globalLimit(
  breaker: BreakerDecision,
  { config, state, openPulls, now }: SelectInput,
): Reason | null {
  if (breaker === 'open' || breaker === 'trip') return 'breaker_open';
  // A running attempt becomes a pull request, so it holds a PR slot already (unless its task has one open).
  const prSlots = new Set([...openPulls.map((p) => p.task), ...openAttempts(state).map((a) => a.task)]);
  if (prSlots.size >= config.limits.max_open_prs) return 'limit_open_prs';
  if (openAttempts(state).length >= config.limits.max_running_attempts) return 'limit_running';
  if (dispatchesInHour(state, now) >= config.limits.max_dispatches_per_hour) return 'limit_hourly';
  // Unknown spend never blocks: only what attempts reported counts against the budget.
  const perDay = usdToMicros(config.limits.max_cost_usd_per_day);
  if (perDay > 0 && daySpend(state, now).micros >= perDay) return 'budget_day';
  return null;
}

/**
 * The scheduling decision of one tick (SPEC §3.1 steps 5–6). Pure: the caller records `breaker`, `toBlock`
 * and the claim of `selected` as events. A `cooldown_reset` breaker selects as if closed.
 */
export function select(input: SelectInput): Decision {
  const { backlog, config, state, openPulls, now } = input;
  const tasks = backlog.tasks;

  if (!config.autonomy.enabled) {
    // Autonomy off: report only, so no breaker transition and nothing to block either.
    return {
      selected: null,
      reasons: tasks.map((t) => ({ task: t.id, reason: 'autonomy_disabled' as const })),
      toBlock: [],
      rejected: [],
      breaker: state.breaker.open ? 'open' : 'closed',
    };
  }

  const breaker = breakerDecision(state, config, now);
  const byId = new Map<string, Task>();
  for (let i = 0; i < tasks.length; i++) byId.set(tasks[i]!.id, tasks[i]!);
  const stateOf = (id: string) => taskSummary(state, id);
  // SPEC §5.3: done in the backlog, or a merged PR recorded as task.completed.
  const isComplete = (id: string) => byId.get(id)?.status === 'done' || stateOf(id)?.completed === true;
  const withOpenAttempt = new Set(openAttempts(state).map((a) => a.task));
  const perTask = usdToMicros(config.limits.max_cost_usd_per_task);

  const reasons = new Map<string, Reason>();
  const toBlock: string[] = [];
  const rejected: string[] = [];
  const eligible: Task[] = [];

  // The first open pull of each task (what a search of the list in order finds).
  const pullOf = new Map<string, OpenPull>();
  for (const p of openPulls) if (!pullOf.has(p.task)) pullOf.set(p.task, p);

  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i]!;
    const ts = stateOf(task.id);
    const pull = pullOf.get(task.id);
    // A task the log has never seen (most of a big backlog) has no attempts and no spend: nothing to look up.
    const facts: TaskFacts = {
      complete: byId.get(task.id)?.status === 'done' || ts?.completed === true,
      blockedInState: ts?.blocked === true,
      atMax: (ts === undefined ? 0 : attemptsCharged(state, task.id)) >= maxAttemptsFor(task, config),
      openPr: pull?.number ?? (ts?.pr?.state === 'open' ? ts.pr.number : undefined),
      hasOpenAttempt: withOpenAttempt.has(task.id),
      prClosed: ts?.pr?.state === 'closed',
      overBudget: perTask > 0 && ts !== undefined && taskSpend(state, task.id).micros >= perTask,
    };
    // Blocking is only right once no attempt or PR could still deliver the task.
    const settledOpen =
      !facts.complete && !facts.blockedInState && !facts.hasOpenAttempt && facts.openPr === undefined;
    if (settledOpen && facts.prClosed) rejected.push(task.id);
    else if (settledOpen && facts.atMax) toBlock.push(task.id);
    const dep = task.dependencies.find((d) => !isComplete(d));
    const reason = taskReason(task, facts, dep, config);
    if (reason) reasons.set(task.id, reason);
    else eligible.push(task);
  }

  // Priority first, then file order (Array.prototype.sort is stable).
  eligible.sort((a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority]);

  const limit = globalLimit(breaker, input);
  let selected: Task | null = null;
  for (const task of eligible) {
    if (limit) reasons.set(task.id, limit);
    else if (selected) reasons.set(task.id, 'queued');
    else {
      selected = task;
      reasons.set(task.id, 'selected');
    }
  }

  return {
    selected,
    reasons: tasks.map((t) => ({ task: t.id, reason: reasons.get(t.id) as Reason })),
    toBlock,
    rejected,
    breaker,
  };
}
