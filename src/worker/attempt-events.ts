/** Events of one attempt: how they are made, and the precondition every terminal one carries. */
import type { EventDraft } from '../core/events.js';
import type { RunContext } from '../core/run-context.js';
import { attemptById } from '../core/state.js';
import type { State } from '../core/state-types.js';

/** An event of this attempt, made now by this actor. */
export function attemptDraft(
  deps: RunContext,
  ctx: { task: { id: string }; attempt: string },
  rest: Pick<EventDraft, 'type' | 'data'>,
): EventDraft {
  return {
    id: deps.newId(),
    ts: deps.now().toISOString(),
    actor: deps.actor,
    task: ctx.task.id,
    attempt: ctx.attempt,
    ...rest,
  } as EventDraft;
}

/** The attempt is still running: a terminal event of its worker counts only then. */
export function stillRunning(state: State, attempt: string): true | string {
  const a = attemptById(state, attempt);
  if (a?.status === 'running') return true;
  // The state keeps only a task's newest attempt and the open ones: one it dropped has ended.
  return a
    ? `attempt is ${a.status}`
    : 'attempt is closed (it ended, and a newer attempt of the task exists)';
}

/** Why a late result may not be recorded: the attempt already has a worker's outcome (null: it may). */
export function workerOutcome(state: State, attempt: string): string | null {
  const a = attemptById(state, attempt);
  return a?.status === 'succeeded' || a?.status === 'failed' ? `attempt is already ${a.status}` : null;
}
