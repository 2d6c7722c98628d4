import type { LeviathanEvent } from './events.js';
import type { AttemptState, AttemptStatus, State, TaskState } from './state-types.js';

/** How long per-hour dispatch counters are kept, relative to the newest event's hour. */
export const DISPATCH_WINDOW_HOURS = 48;

const OPEN_STATUSES: ReadonlySet<AttemptStatus> = new Set<AttemptStatus>([
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

export function initialState(): State {
  return {
    v: 1,
    seq: 0,
    hash: null,
    ts: null,
    tasks: {},
    attempts: {},
    breaker: { open: false, consecutive_failures: 0 },
    dispatches: {},
  };
}

/** UTC hour key `YYYY-MM-DDTHH` of a date or ISO timestamp. */
export function hourKey(date: Date | string): string {
  const d = typeof date === 'string' ? new Date(date) : date;
  return d.toISOString().slice(0, 13);
}

export function isOpenStatus(status: AttemptStatus): boolean {
  return OPEN_STATUSES.has(status);
}

/** Attempts that still hold a slot: created, dispatched or running, in creation order. */
export function openAttempts(state: State): AttemptState[] {
  return Object.values(state.attempts).filter((a) => OPEN_STATUSES.has(a.status));
}

/** The task's attempts in creation order (unknown task → none). */
export function attemptsOf(state: State, taskId: string): AttemptState[] {
  const task = own(state.tasks, taskId);
  if (!task) return [];
  const out: AttemptState[] = [];
  for (const id of task.attempts) {
    const a = own(state.attempts, id);
    if (a) out.push(a);
  }
  return out;
}

/** Attempts created in the UTC clock hour that contains `now`. */
export function dispatchesInHour(state: State, now: Date): number {
  return own(state.dispatches, hourKey(now)) ?? 0;
}

/** Deep copy through JSON: the state is plain JSON by construction, and this is what a snapshot round-trips. */
export function cloneState(state: State): State {
  return JSON.parse(JSON.stringify(state)) as State;
}

/** Applies one event and returns a new state; the input is left untouched. */
export function applyEvent(state: State, event: LeviathanEvent): State {
  const next = cloneState(state);
  applyInPlace(next, event);
  return next;
}

/**
 * Folds events over `from` (or the initial state). `from` is copied, never mutated. Events must continue the
 * state exactly (seq = state.seq + 1, prev = state.hash): applying an event twice or skipping one would
 * silently corrupt counters, so that throws instead.
 */
export function project(events: Iterable<LeviathanEvent>, from?: State): State {
  const state = from ? cloneState(from) : initialState();
  for (const e of events) applyInPlace(state, e);
  return state;
}

// Ids come from event data, so `__proto__` or `constructor` must not reach Object.prototype.
function own<T>(rec: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

function put<T>(rec: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(rec, key, { value, enumerable: true, writable: true, configurable: true });
}

function ensureTask(state: State, id: string): TaskState {
  const existing = own(state.tasks, id);
  if (existing) return existing;
  const t: TaskState = { id, attempts: [], failures: 0, completed: false, blocked: false };
  put(state.tasks, id, t);
  return t;
}

function recordFailure(state: State, task: TaskState): void {
  task.failures += 1;
  state.breaker.consecutive_failures += 1;
}

function pruneDispatches(state: State, ts: string): void {
  if (Object.keys(state.dispatches).length === 0) return;
  const cutoff = hourKey(new Date(Date.parse(ts) - DISPATCH_WINDOW_HOURS * 3_600_000));
  for (const key of Object.keys(state.dispatches)) {
    // Hour keys are fixed-width, so string order is time order.
    if (key < cutoff) delete state.dispatches[key];
  }
}

function applyInPlace(state: State, e: LeviathanEvent): void {
  if (e.seq !== state.seq + 1) {
    throw new Error(`event seq ${e.seq} does not follow state seq ${state.seq}`);
  }
  if (e.prev !== state.hash) {
    throw new Error(`event seq ${e.seq} links to ${e.prev}, state is at ${state.hash}`);
  }
  state.seq = e.seq;
  state.hash = e.hash;
  state.ts = e.ts;
  pruneDispatches(state, e.ts);

  // Events that name no task (or attempt) where their type needs one change nothing but the position:
  // the chain writer refuses such drafts, and a fold that throws on a stored event could never recover.
  const attempt = e.attempt !== undefined ? own(state.attempts, e.attempt) : undefined;
  switch (e.type) {
    case 'attempt.created': {
      if (e.task === undefined || e.attempt === undefined || attempt) return;
      const task = ensureTask(state, e.task);
      put(state.attempts, e.attempt, {
        id: e.attempt,
        task: e.task,
        number: e.data.number,
        status: 'created',
        branch: e.data.branch,
        created_at: e.ts,
        deadline: e.data.deadline,
        manual: e.data.manual,
      });
      task.attempts.push(e.attempt);
      const key = hourKey(e.ts);
      put(state.dispatches, key, (own(state.dispatches, key) ?? 0) + 1);
      return;
    }
    case 'attempt.dispatched':
    case 'attempt.started': {
      const to: AttemptStatus = e.type === 'attempt.dispatched' ? 'dispatched' : 'running';
      if (attempt && RANK[attempt.status] < RANK[to]) attempt.status = to;
      return;
    }
    case 'attempt.succeeded': {
      if (!attempt || RANK[attempt.status] >= RANK.succeeded) return;
      attempt.status = 'succeeded';
      attempt.pr = e.data.pr;
      state.breaker.consecutive_failures = 0;
      return;
    }
    case 'attempt.failed':
    case 'attempt.timed_out': {
      if (!attempt || RANK[attempt.status] >= RANK.failed) return;
      if (e.type === 'attempt.failed') {
        attempt.status = 'failed';
        attempt.reason = e.data.reason;
      } else {
        attempt.status = 'timed_out';
        attempt.reason = 'timeout';
      }
      if (e.data.wip_branch !== undefined) attempt.wip_branch = e.data.wip_branch;
      recordFailure(state, ensureTask(state, attempt.task));
      return;
    }
    case 'pr.created': {
      if (e.task === undefined) return;
      const task = ensureTask(state, e.task);
      task.pr = { number: e.data.number, branch: e.data.branch, state: 'open' };
      if (e.attempt !== undefined) task.pr.attempt = e.attempt;
      if (attempt) attempt.pr = e.data.number;
      return;
    }
    case 'pr.merged':
    case 'pr.closed': {
      if (e.task === undefined) return;
      const task = ensureTask(state, e.task);
      const known = task.pr?.number === e.data.number ? task.pr : undefined;
      if (known && known.state !== 'open') return; // recorded already: count a close only once
      const pr = known ?? { number: e.data.number, branch: '', state: 'open' as const };
      if (!known && e.attempt !== undefined) pr.attempt = e.attempt;
      if (e.type === 'pr.merged') {
        pr.state = 'merged';
      } else {
        pr.state = 'closed';
        // A PR closed unmerged makes the attempt behind it a failure (SPEC §3.1 step 4).
        recordFailure(state, task);
        const opener = pr.attempt !== undefined ? own(state.attempts, pr.attempt) : undefined;
        if (opener && opener.status === 'succeeded') {
          opener.status = 'failed';
          opener.reason = 'pr_closed';
        }
      }
      task.pr = pr;
      return;
    }
    case 'task.completed':
      if (e.task !== undefined) ensureTask(state, e.task).completed = true;
      return;
    case 'task.blocked':
      if (e.task !== undefined) ensureTask(state, e.task).blocked = true;
      return;
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
