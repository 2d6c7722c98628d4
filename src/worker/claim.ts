import type { Backlog, Task } from '../core/backlog.js';
import { attemptCreated, manualClaimRefusal } from '../core/claim.js';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { RunContext } from '../core/run-context.js';
import type { OpenPull } from '../core/select.js';
import { attemptById, attemptCount } from '../core/state.js';
import type { AttemptState, State } from '../core/state-types.js';
import type { EventStore } from '../store/event-store.js';

/** An attempt the scheduler claimed and nobody has started yet. */
export function claimedAttempt(state: State, task: string, attempt: string): AttemptState {
  const found = attemptById(state, attempt);
  if (!found || found.task !== task) {
    throw new UserError(`attempt ${attempt} of ${task} was never claimed; refusing to run it`);
  }
  if (found.status !== 'created' && found.status !== 'dispatched') {
    throw new UserError(`attempt ${attempt} of ${task} is already ${found.status}; refusing to run it twice`);
  }
  return found;
}

/**
 * A manual `work --task` without an attempt claims one first, under the same limits as a tick; the
 * precondition re-checks them on whatever state the append lands on.
 */
export async function claimManually(
  events: EventStore,
  task: Task,
  backlog: Backlog,
  config: Config,
  openPulls: OpenPull[],
  ctx: RunContext,
): Promise<string> {
  const { state } = await events.read();
  const refusal = manualClaimRefusal(task, backlog, config, state, openPulls, ctx.now());
  if (refusal) throw new UserError(`task ${task.id} cannot be claimed now: ${refusal}`);
  const attempt = ctx.newId();
  const seenAttempts = attemptCount(state, task.id);
  const result = await events.append([attemptCreated(task, attempt, state, config, ctx, true)], (s) => {
    if (attemptCount(s, task.id) !== seenAttempts) return 'another attempt was created meanwhile';
    return manualClaimRefusal(task, backlog, config, s, openPulls, ctx.now()) ?? true;
  });
  if (!result.ok) throw new UserError(`task ${task.id} cannot be claimed now: ${result.refused}`);
  return attempt;
}
