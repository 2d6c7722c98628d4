/** Events of one attempt: how they are made, and the precondition every terminal one carries. */
import type { EventDraft } from '../core/events.js';
import type { RunContext } from '../core/run-context.js';
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
  const a = Object.hasOwn(state.attempts, attempt) ? state.attempts[attempt] : undefined;
  if (a?.status === 'running') return true;
  // The state keeps only a task's newest attempt and the open ones: one it dropped has ended.
  return a
    ? `attempt is ${a.status}`
    : 'attempt is closed (it ended, and a newer attempt of the task exists)';
}
