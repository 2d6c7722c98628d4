import type { Backlog } from './backlog.js';
import type { Config } from './config.js';
import { type Decision, maxAttemptsFor, type Reason } from './select.js';
import { attemptCount, taskSummary } from './state.js';
import type { State } from './state-types.js';

/** One row of the status table, the tick's job summary and `status --json`. */
export interface TaskRow {
  task: string;
  state: 'done' | 'blocked' | 'running' | 'pr_open' | 'ready' | 'waiting' | 'not_ready' | 'out_of_scope';
  attempts: number;
  max_attempts: number;
  pr: number | null;
  reason: Reason;
}

function rowState(reason: Reason): TaskRow['state'] {
  if (reason === 'done') return 'done';
  if (reason === 'blocked' || reason === 'max_attempts') return 'blocked';
  if (reason === 'running') return 'running';
  if (reason.startsWith('pr_open')) return 'pr_open';
  if (reason === 'not_ready') return 'not_ready';
  if (reason.startsWith('out_of_scope')) return 'out_of_scope';
  if (reason.startsWith('dependency_pending')) return 'waiting';
  return 'ready';
}

export function taskRows(backlog: Backlog, config: Config, state: State, decision: Decision): TaskRow[] {
  const reasons = new Map(decision.reasons.map((r) => [r.task, r.reason]));
  return backlog.tasks.map((task) => {
    const known = taskSummary(state, task.id);
    const reason = reasons.get(task.id) ?? 'not_ready';
    return {
      task: task.id,
      state: rowState(reason),
      attempts: attemptCount(state, task.id),
      max_attempts: maxAttemptsFor(task, config),
      pr: known?.pr && known.pr.state !== 'closed' ? known.pr.number : null,
      reason,
    };
  });
}
