/** The projection's queries, and `project`: the fold of events into a state (core/fold.ts). */
import type { LeviathanEvent } from './events.js';
import { Fold, mergedPull, OPEN_STATUSES } from './fold.js';
import { own } from './own-key.js';
import type { AttemptState, AttemptStatus, State, TaskSummary } from './state-types.js';

export { DISPATCH_WINDOW_HOURS, hourKeyAt } from './hours.js';

/** The snapshot format `initialState` and the fold produce (`State.v`). */
export const STATE_VERSION = 3;

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

/** The attempt with this id, if the state holds it (its newest attempt per task and every open one). */
export function attemptById(state: State, id: string): AttemptState | undefined {
  return own(state.attempts, id);
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
  return project([event], state);
}

/**
 * Folds events over `from` (or the initial state); `from` is copied once, never mutated. See `Fold` for what
 * the events must be.
 */
export function project(events: Iterable<LeviathanEvent>, from?: State): State {
  return new Fold(from ? cloneState(from) : initialState()).add(events).result();
}
