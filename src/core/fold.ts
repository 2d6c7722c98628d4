/**
 * The fold of events into the projection (`State`). While events are applied, the tables of tasks and
 * attempts in play are Maps: their keys are ids read from each event line, new strings every time, and a
 * Map finds such a key several times faster than a property lookup does (which first looks the string up
 * among all of V8's key strings). They are written back as records, in the same order, by `Fold.result`.
 */
import type { LeviathanEvent } from './events.js';
import { hourKeyOf, pruneDispatches, samePrefix } from './hours.js';
import { own, put } from './own-key.js';
import { chargeSpend, pruneSpend } from './spend.js';
import type { AttemptState, AttemptStatus, PullState, State, TaskState } from './state-types.js';

/** The output tail kept for the next attempt's feedback, at most (the worker records 4 KB). */
const FEEDBACK_TAIL_CHARS = 4096;

export const OPEN_STATUSES: ReadonlySet<AttemptStatus> = new Set<AttemptStatus>([
  'created',
  'dispatched',
  'running',
]);

// Statuses only move forward: a late `attempt.dispatched` (the worker may start before the scheduler records
// the dispatch) must not pull a running or finished attempt back.
const RANK: Record<AttemptStatus, number> = {
  created: 0,
  dispatched: 1,
  running: 2,
  succeeded: 3,
  failed: 3,
  timed_out: 3,
};

/** The record of a settled task's merged PR (its branch and opening attempt are not kept). */
export function mergedPull(number: number): PullState {
  return { number, branch: '', state: 'merged' };
}

interface Folding {
  state: State;
  tasks: Map<string, TaskState>;
  attempts: Map<string, AttemptState>;
}

/**
 * Events folded into `state`, which the fold takes over (copy it first to keep it). Events must continue
 * the state exactly (seq = state.seq + 1, prev = state.hash): applying an event twice or skipping one would
 * silently corrupt counters, so that throws instead. Batches may be added one after the other (a verify
 * folds each day file as it is checked); `result()` gives the state.
 */
export class Fold {
  private readonly f: Folding;

  constructor(state: State) {
    this.f = {
      state,
      tasks: new Map(Object.entries(state.tasks)),
      attempts: new Map(Object.entries(state.attempts)),
    };
  }

  add(events: Iterable<LeviathanEvent>): this {
    for (const e of events) applyInPlace(this.f, e);
    return this;
  }

  /** The state after the events added so far (its `tasks` and `attempts` written anew from the Maps). */
  result(): State {
    const { state, tasks, attempts } = this.f;
    state.tasks = toRecord(tasks);
    state.attempts = toRecord(attempts);
    return state;
  }
}

/** A Map as a record with the same keys in the same order (integer-like keys first, as any record has them). */
function toRecord<T>(map: ReadonlyMap<string, T>): Record<string, T> {
  const rec: Record<string, T> = {};
  for (const [k, v] of map) put(rec, k, v);
  return rec;
}

function applyInPlace(f: Folding, e: LeviathanEvent): void {
  const { state } = f;
  if (e.seq !== state.seq + 1) {
    throw new Error(`event seq ${e.seq} does not follow state seq ${state.seq}`);
  }
  if (e.prev !== state.hash) {
    throw new Error(`event seq ${e.seq} links to ${e.prev}, state is at ${state.hash}`);
  }
  // Timestamps are UTC ISO strings (`…Z`, the schema admits no other), so the first 13 characters are the hour
  // key. The cutoff moves only when the hour does: within one hour the last event's pruning still holds.
  // (Compared in place: two new strings per event would cost more than the rest of most events' fold.)
  const sameHour = state.ts !== null && samePrefix(state.ts, e.ts, 13);
  if (!sameHour) pruneDispatches(state, e.ts);
  if (!sameHour && (state.ts === null || !samePrefix(state.ts, e.ts, 10))) pruneSpend(state, e.ts);
  state.seq = e.seq;
  state.hash = e.hash;
  state.ts = e.ts;

  // Events that name no task (or attempt) where their type needs one change nothing but the position:
  // the chain writer refuses such drafts, and a fold that throws on a stored event could never recover.
  // Attempts that are settled or superseded are gone from the state: events about them change nothing,
  // as they would not for any finished attempt.
  const attempt = e.attempt !== undefined ? f.attempts.get(e.attempt) : undefined;
  switch (e.type) {
    case 'attempt.created': {
      if (e.task === undefined || e.attempt === undefined || attempt) return;
      const task = taskInPlay(f, e.task);
      const previous = task.last_attempt !== undefined ? f.attempts.get(task.last_attempt) : undefined;
      f.attempts.set(e.attempt, {
        id: e.attempt,
        task: e.task,
        number: e.data.number,
        status: 'created',
        branch: e.data.branch,
        created_at: e.ts,
        deadline: e.data.deadline,
        manual: e.data.manual,
      });
      task.attempts += 1;
      task.last_attempt = e.attempt;
      if (previous && !OPEN_STATUSES.has(previous.status)) f.attempts.delete(previous.id);
      const hour = hourKeyOf(e.ts);
      put(state.dispatches, hour, (own(state.dispatches, hour) ?? 0) + 1);
      return;
    }
    case 'attempt.dispatched':
    case 'attempt.started': {
      const to: AttemptStatus = e.type === 'attempt.dispatched' ? 'dispatched' : 'running';
      if (
        attempt &&
        e.type === 'attempt.dispatched' &&
        e.data.run_id !== undefined &&
        RANK[attempt.status] < RANK.succeeded
      ) {
        attempt.run_id = e.data.run_id;
      }
      if (attempt && RANK[attempt.status] < RANK[to]) attempt.status = to;
      return;
    }
    case 'attempt.succeeded': {
      const first = attempt !== undefined && RANK[attempt.status] < RANK.succeeded;
      chargeSpend(state, e, first, e.task === undefined ? undefined : f.tasks.get(e.task));
      if (!attempt || !first) return;
      attempt.status = 'succeeded';
      attempt.pr = e.data.pr;
      state.breaker.consecutive_failures = 0;
      finish(f, attempt);
      return;
    }
    case 'attempt.failed':
    case 'attempt.timed_out': {
      const first = attempt !== undefined && RANK[attempt.status] < RANK.failed;
      chargeSpend(state, e, first, e.task === undefined ? undefined : f.tasks.get(e.task));
      if (!attempt || !first) return;
      if (e.type === 'attempt.failed') {
        attempt.status = 'failed';
        attempt.reason = e.data.reason;
        if (e.data.detail !== '') attempt.detail = e.data.detail;
      } else {
        attempt.status = 'timed_out';
        attempt.reason = 'timeout';
      }
      if (e.data.wip_branch !== undefined) attempt.wip_branch = e.data.wip_branch;
      const task = taskInPlay(f, attempt.task);
      task.last_failure = {
        attempt: attempt.id,
        number: attempt.number,
        reason: attempt.reason,
        ...(attempt.detail !== undefined ? { detail: attempt.detail } : {}),
        ...(e.type === 'attempt.failed' && e.data.output_tail
          ? { output_tail: e.data.output_tail.slice(-FEEDBACK_TAIL_CHARS) }
          : {}),
      };
      recordFailure(f, task);
      finish(f, attempt);
      return;
    }
    case 'pr.created': {
      if (e.task === undefined) return;
      const task = taskInPlay(f, e.task);
      task.pr = { number: e.data.number, branch: e.data.branch, state: 'open' };
      if (e.attempt !== undefined) task.pr.attempt = e.attempt;
      if (attempt) attempt.pr = e.data.number;
      return;
    }
    case 'pr.merged':
    case 'pr.closed': {
      // A settled task has no open PR: its PR was merged or closed already, or never recorded. The task is
      // delivered, so a PR of it closing is not a failure of anything still to be done.
      if (e.task === undefined || isSettled(f, e.task)) return;
      const task = taskInPlay(f, e.task);
      const known = task.pr?.number === e.data.number ? task.pr : undefined;
      if (known && known.state !== 'open') return; // recorded already: count a close only once
      const pr = known ?? { number: e.data.number, branch: '', state: 'open' as const };
      if (!known && e.attempt !== undefined) pr.attempt = e.attempt;
      if (e.type === 'pr.merged') {
        pr.state = 'merged';
      } else {
        pr.state = 'closed';
        // A PR closed unmerged is a human's rejection: the attempt behind it failed, but the worker did not,
        // so the breaker does not count it (the tick blocks the task with reason pr_closed instead).
        task.failures += 1;
        const opener = pr.attempt !== undefined ? f.attempts.get(pr.attempt) : undefined;
        if (opener && opener.status === 'succeeded') {
          opener.status = 'failed';
          opener.reason = 'pr_closed';
        }
      }
      task.pr = pr;
      settleIfDone(f, task);
      return;
    }
    case 'task.completed': {
      if (e.task === undefined || isSettled(f, e.task)) return;
      const task = taskInPlay(f, e.task);
      task.completed = true;
      settleIfDone(f, task);
      return;
    }
    case 'task.blocked':
      // A settled task is done: blocking it changes nothing any query reads.
      if (e.task !== undefined && !isSettled(f, e.task)) {
        const task = taskInPlay(f, e.task);
        task.blocked = true;
        task.blocked_reason = e.data.reason;
        if (e.data.entry !== undefined) task.blocked_entry = e.data.entry;
        else delete task.blocked_entry;
      }
      return;
    case 'task.retried': {
      // Only a task in play can be retried; a settled one is done, an unknown one has nothing to reset.
      const task = e.task === undefined ? undefined : f.tasks.get(e.task);
      if (!task) return;
      task.blocked = false;
      delete task.blocked_reason;
      delete task.blocked_entry;
      task.retry_base = task.attempts;
      // The rejected PR stays closed on the forge; forgetting it here lets the task open a new one.
      if (task.pr?.state === 'closed') delete task.pr;
      return;
    }
    case 'breaker.tripped':
      state.breaker.open = true;
      state.breaker.tripped_at = e.ts;
      return;
    case 'breaker.reset':
      state.breaker = { open: false, consecutive_failures: 0 };
      return;
    case 'config.invalid':
      return;
  }
}

/**
 * Whether the task is settled. A task is in play or settled, never both, so one in play (the small table)
 * needs no look into the settled ones (the table that grows with the history).
 */
function isSettled(f: Folding, id: string): boolean {
  return f.tasks.get(id) === undefined && own(f.state.done, id) !== undefined;
}

/** The task in play, created if unknown; a settled task is brought back into play (a new attempt or PR). */
function taskInPlay(f: Folding, id: string): TaskState {
  const { state } = f;
  const existing = f.tasks.get(id);
  if (existing) return existing;
  const settled = own(state.done, id);
  const t: TaskState = { id, attempts: 0, failures: 0, completed: false, blocked: false };
  if (settled !== undefined) {
    delete state.done[id];
    t.attempts = settled.attempts;
    t.completed = true;
    if (settled.pr !== undefined) t.pr = mergedPull(settled.pr);
  }
  f.tasks.set(id, t);
  return t;
}

function recordFailure(f: Folding, task: TaskState): void {
  task.failures += 1;
  f.state.breaker.consecutive_failures += 1;
}

/**
 * A completed task with no open attempt and no open PR is settled: it leaves `tasks` (and its last attempt
 * leaves `attempts`) for one `done` entry holding its attempts count and merged PR.
 */
function settleIfDone(f: Folding, task: TaskState): void {
  const { state } = f;
  if (!task.completed || task.pr?.state === 'open') return;
  for (const a of f.attempts.values()) if (a.task === task.id && OPEN_STATUSES.has(a.status)) return;
  if (task.last_attempt !== undefined) f.attempts.delete(task.last_attempt);
  f.tasks.delete(task.id);
  put(
    state.done,
    task.id,
    task.pr?.state === 'merged'
      ? { attempts: task.attempts, pr: task.pr.number }
      : { attempts: task.attempts },
  );
}

/** A terminal attempt is kept only while it is its task's newest one. */
function dropIfSuperseded(f: Folding, attempt: AttemptState): void {
  if (f.tasks.get(attempt.task)?.last_attempt !== attempt.id) f.attempts.delete(attempt.id);
}

/** After an attempt reached a terminal status: drop it unless it is its task's newest, settle its task. */
function finish(f: Folding, attempt: AttemptState): void {
  dropIfSuperseded(f, attempt);
  const task = f.tasks.get(attempt.task);
  if (task) settleIfDone(f, task);
}
