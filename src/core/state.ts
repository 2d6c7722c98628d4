import type { LeviathanEvent } from './events.js';
import { chargeSpend, pruneSpend } from './spend.js';
import type { AttemptState, AttemptStatus, PullState, State, TaskState, TaskSummary } from './state-types.js';

/** How long per-hour dispatch counters are kept, relative to the newest event's hour. */
export const DISPATCH_WINDOW_HOURS = 48;

/** The output tail kept for the next attempt's feedback, at most (the worker records 4 KB). */
const FEEDBACK_TAIL_CHARS = 4096;

/** The snapshot format `initialState` and the fold produce (`State.v`). */
export const STATE_VERSION = 3;

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
    v: STATE_VERSION,
    seq: 0,
    hash: null,
    ts: null,
    tasks: {},
    done: {},
    attempts: {},
    breaker: { open: false, consecutive_failures: 0 },
    dispatches: {},
    spend: {},
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

/** A task as the queries see it, in play or settled (unknown task → undefined). */
export function taskSummary(state: State, taskId: string): TaskSummary | undefined {
  const task = own(state.tasks, taskId);
  if (task) return task;
  const settled = own(state.done, taskId);
  if (settled === undefined) return undefined;
  const summary: TaskSummary = { id: taskId, attempts: settled.attempts, completed: true, blocked: false };
  if (settled.pr !== undefined) summary.pr = mergedPull(settled.pr);
  return summary;
}

/** The record of a settled task's merged PR (its branch and opening attempt are not kept). */
function mergedPull(number: number): PullState {
  return { number, branch: '', state: 'merged' };
}

/** How many attempts were ever created for the task: what `max_attempts` limits. */
export function attemptCount(state: State, taskId: string): number {
  return own(state.tasks, taskId)?.attempts ?? own(state.done, taskId)?.attempts ?? 0;
}

/** Attempts that count toward `max_attempts`: those created since a human last retried the task. */
export function attemptsCharged(state: State, taskId: string): number {
  const task = own(state.tasks, taskId);
  return attemptCount(state, taskId) - (task?.retry_base ?? 0);
}

/** The task's newest attempt, while the task is in play (a settled task keeps none). */
export function latestAttempt(state: State, taskId: string): AttemptState | undefined {
  const id = own(state.tasks, taskId)?.last_attempt;
  return id === undefined ? undefined : own(state.attempts, id);
}

/** Attempts created in the UTC clock hour that contains `now`. */
/** The attempt with this id, if the state holds it (its newest attempt per task and every open one). */
export function attemptById(state: State, id: string): AttemptState | undefined {
  return own(state.attempts, id);
}

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
 * Folds events over `from` (or the initial state). `from` is copied once, never mutated; the events are then
 * folded into the copy in place. Events must continue the state exactly (seq = state.seq + 1, prev =
 * state.hash): applying an event twice or skipping one would silently corrupt counters, so that throws instead.
 */
export function project(events: Iterable<LeviathanEvent>, from?: State): State {
  const state = from ? cloneState(from) : initialState();
  for (const e of events) applyInPlace(state, e);
  return state;
}

/**
 * `project(events)` fed in batches, for a reader that verifies the log a batch at a time (a full verify):
 * `foldInto(state, batch)` for each batch on a state from `initialState()` gives what `project` of all of
 * them gives, without an iterator between the verifier and the fold.
 */
export function foldInto(state: State, events: readonly LeviathanEvent[]): void {
  for (let i = 0; i < events.length; i++) applyInPlace(state, events[i] as LeviathanEvent);
}

// Ids come from event data, so `__proto__` or `constructor` must not reach Object.prototype.
function own<T>(rec: Record<string, T>, key: string): T | undefined {
  // A miss (the usual answer for `done`) needs no second look; a hit is checked to be the record's own.
  const value = rec[key];
  return value !== undefined && Object.hasOwn(rec, key) ? value : undefined;
}

function put<T>(rec: Record<string, T>, key: string, value: T): void {
  // Only `__proto__` is an accessor on a plain object; every other key is a plain (and faster) assignment.
  if (key === '__proto__') {
    Object.defineProperty(rec, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    rec[key] = value;
  }
}

/** The task in play, created if unknown; a settled task is brought back into play (a new attempt or PR). */
function taskInPlay(state: State, id: string): TaskState {
  const existing = own(state.tasks, id);
  if (existing) return existing;
  const settled = own(state.done, id);
  const t: TaskState = { id, attempts: 0, failures: 0, completed: false, blocked: false };
  if (settled !== undefined) {
    delete state.done[id];
    t.attempts = settled.attempts;
    t.completed = true;
    if (settled.pr !== undefined) t.pr = mergedPull(settled.pr);
  }
  put(state.tasks, id, t);
  return t;
}

function recordFailure(state: State, task: TaskState): void {
  task.failures += 1;
  state.breaker.consecutive_failures += 1;
}

/**
 * A completed task with no open attempt and no open PR is settled: it leaves `tasks` (and its last attempt
 * leaves `attempts`) for one `done` entry holding its attempts count and merged PR.
 */
function settleIfDone(state: State, task: TaskState): void {
  if (!task.completed || task.pr?.state === 'open') return;
  for (const id in state.attempts) {
    const a = state.attempts[id] as AttemptState;
    if (a.task === task.id && OPEN_STATUSES.has(a.status)) return;
  }
  if (task.last_attempt !== undefined) delete state.attempts[task.last_attempt];
  delete state.tasks[task.id];
  put(
    state.done,
    task.id,
    task.pr?.state === 'merged'
      ? { attempts: task.attempts, pr: task.pr.number }
      : { attempts: task.attempts },
  );
}

/** A terminal attempt is kept only while it is its task's newest one. */
function dropIfSuperseded(state: State, attempt: AttemptState): void {
  if (own(state.tasks, attempt.task)?.last_attempt !== attempt.id) delete state.attempts[attempt.id];
}

const HOUR_MS = 3_600_000;

/**
 * The hour key of an hour index (hours since the epoch), as `new Date(hour * HOUR_MS).toISOString()` begins.
 * Computed from the civil date (H. Hinnant's days-to-date) for the years 0..9999 a key has four digits for:
 * the fold asks once per hour of history, and a Date per ask was a good part of its cost.
 */
export function hourKeyAt(hour: number): string {
  const days = Math.floor(hour / 24);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (!Number.isSafeInteger(hour) || year < 0 || year > 9999) {
    return new Date(hour * HOUR_MS).toISOString().slice(0, 13);
  }
  const h = hour - days * 24;
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(h)}`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `Date.parse(ts)` in hours since the epoch (rounded down), for the last two timestamps asked about. */
let lastTs: [string, number, string, number] = ['', 0, '', 0];
function hourOf(ts: string): number {
  if (ts === lastTs[0]) return lastTs[1];
  if (ts === lastTs[2]) return lastTs[3];
  const hour = Math.floor(Date.parse(ts) / HOUR_MS);
  lastTs = [ts, hour, lastTs[0], lastTs[1]];
  return hour;
}

/**
 * Drops dispatch counters of hours more than the window before `ts`'s hour. The fold keeps every key at or
 * after the previous event's cutoff, so only the hours between that cutoff and the new one need a look
 * (usually one): no enumeration of the counters, which `delete` has turned into a slow dictionary.
 */
function pruneDispatches(state: State, ts: string): void {
  const keep = hourOf(ts) - DISPATCH_WINDOW_HOURS;
  const kept = state.ts === null ? null : hourOf(state.ts) - DISPATCH_WINDOW_HOURS;
  if (kept !== null && keep <= kept) return; // the same hour, or a clock behind the last event's
  if (kept !== null && keep - kept <= DISPATCH_WINDOW_HOURS) {
    for (let hour = kept; hour < keep; hour++) {
      const key = hourKeyAt(hour);
      if (Object.hasOwn(state.dispatches, key)) delete state.dispatches[key];
    }
    return;
  }
  const cutoff = hourKeyAt(keep);
  for (const key of Object.keys(state.dispatches)) {
    // Hour keys are fixed-width, so string order is time order.
    if (key < cutoff) delete state.dispatches[key];
  }
}

/**
 * The hour key of a timestamp (its first 13 characters), the same string object while the hour is the same:
 * a key string used before is found at once, a new one is first looked up among all of V8's key strings.
 */
let lastHourKey = '';
function hourKeyOf(ts: string): string {
  if (!samePrefix(lastHourKey, ts, 13)) lastHourKey = ts.slice(0, 13);
  return lastHourKey;
}

/** Whether `a` and `b` have the same first `n` characters (both at least `n` long). */
function samePrefix(a: string, b: string, n: number): boolean {
  if (a.length < n || b.length < n) return false;
  for (let i = 0; i < n; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return true;
}

function applyInPlace(state: State, e: LeviathanEvent): void {
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
  const attempt = e.attempt !== undefined ? own(state.attempts, e.attempt) : undefined;
  switch (e.type) {
    case 'attempt.created': {
      if (e.task === undefined || e.attempt === undefined || attempt) return;
      const task = taskInPlay(state, e.task);
      const previous = task.last_attempt !== undefined ? own(state.attempts, task.last_attempt) : undefined;
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
      task.attempts += 1;
      task.last_attempt = e.attempt;
      if (previous && !OPEN_STATUSES.has(previous.status)) delete state.attempts[previous.id];
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
      chargeSpend(state, e, first);
      if (!attempt || !first) return;
      attempt.status = 'succeeded';
      attempt.pr = e.data.pr;
      state.breaker.consecutive_failures = 0;
      finish(state, attempt);
      return;
    }
    case 'attempt.failed':
    case 'attempt.timed_out': {
      const first = attempt !== undefined && RANK[attempt.status] < RANK.failed;
      chargeSpend(state, e, first);
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
      const task = taskInPlay(state, attempt.task);
      task.last_failure = {
        attempt: attempt.id,
        number: attempt.number,
        reason: attempt.reason,
        ...(attempt.detail !== undefined ? { detail: attempt.detail } : {}),
        ...(e.type === 'attempt.failed' && e.data.output_tail
          ? { output_tail: e.data.output_tail.slice(-FEEDBACK_TAIL_CHARS) }
          : {}),
      };
      recordFailure(state, task);
      finish(state, attempt);
      return;
    }
    case 'pr.created': {
      if (e.task === undefined) return;
      const task = taskInPlay(state, e.task);
      task.pr = { number: e.data.number, branch: e.data.branch, state: 'open' };
      if (e.attempt !== undefined) task.pr.attempt = e.attempt;
      if (attempt) attempt.pr = e.data.number;
      return;
    }
    case 'pr.merged':
    case 'pr.closed': {
      // A settled task has no open PR: its PR was merged or closed already, or never recorded. The task is
      // delivered, so a PR of it closing is not a failure of anything still to be done.
      if (e.task === undefined || own(state.done, e.task) !== undefined) return;
      const task = taskInPlay(state, e.task);
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
        const opener = pr.attempt !== undefined ? own(state.attempts, pr.attempt) : undefined;
        if (opener && opener.status === 'succeeded') {
          opener.status = 'failed';
          opener.reason = 'pr_closed';
        }
      }
      task.pr = pr;
      settleIfDone(state, task);
      return;
    }
    case 'task.completed': {
      if (e.task === undefined || own(state.done, e.task) !== undefined) return;
      const task = taskInPlay(state, e.task);
      task.completed = true;
      settleIfDone(state, task);
      return;
    }
    case 'task.blocked':
      // A settled task is done: blocking it changes nothing any query reads.
      if (e.task !== undefined && own(state.done, e.task) === undefined) {
        const task = taskInPlay(state, e.task);
        task.blocked = true;
        task.blocked_reason = e.data.reason;
        if (e.data.entry !== undefined) task.blocked_entry = e.data.entry;
        else delete task.blocked_entry;
      }
      return;
    case 'task.retried': {
      // Only a task in play can be retried; a settled one is done, an unknown one has nothing to reset.
      const task = e.task === undefined ? undefined : own(state.tasks, e.task);
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

/** After an attempt reached a terminal status: drop it unless it is its task's newest, settle its task. */
function finish(state: State, attempt: AttemptState): void {
  dropIfSuperseded(state, attempt);
  const task = own(state.tasks, attempt.task);
  if (task) settleIfDone(state, task);
}
