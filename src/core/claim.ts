import type { Backlog, Task } from './backlog.js';
import type { Config } from './config.js';
import type { EventDraft } from './events.js';
import type { RunContext } from './run-context.js';
import { type OpenPull, select } from './select.js';
import { attemptCount } from './state.js';
import type { State } from './state-types.js';

/** The claim: `attempt.created` with its number and deadline, for the scheduler and manual runs alike. */
export function attemptCreated(
  task: Task,
  attempt: string,
  state: State,
  config: Config,
  ctx: RunContext,
  manual: boolean,
): EventDraft {
  const now = ctx.now();
  const minutes = Math.min(
    task.timeout_minutes ?? Number.POSITIVE_INFINITY,
    task.executor?.timeout_minutes ?? Number.POSITIVE_INFINITY,
    config.limits.attempt_timeout_minutes,
  );
  return {
    id: ctx.newId(),
    ts: now.toISOString(),
    actor: ctx.actor,
    task: task.id,
    attempt,
    type: 'attempt.created',
    data: {
      number: attemptCount(state, task.id) + 1,
      branch: `${config.pr.branch_prefix}${task.id}`,
      deadline: new Date(now.getTime() + minutes * 60_000).toISOString(),
      manual,
    },
  };
}

/** Reasons under which a manual run may still claim: eligible, and every limit has room. */
const CLAIMABLE = new Set(['selected', 'queued']);

/** Why this task may not be claimed by hand right now, or null when it may (the scheduler's rules). */
export function manualClaimRefusal(
  task: Task,
  backlog: Backlog,
  config: Config,
  state: State,
  openPulls: OpenPull[],
  now: Date,
): string | null {
  const decision = select({ backlog, config, state, openPulls, now });
  if (decision.breaker === 'trip') return 'breaker_open';
  const reason = decision.reasons.find((r) => r.task === task.id)?.reason ?? 'unknown task';
  return CLAIMABLE.has(reason) ? null : reason;
}
