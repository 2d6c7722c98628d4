import type { Backlog, Task } from './backlog.js';
import { canonicalJson, sha256Hex } from './chain.js';
import type { Config } from './config.js';
import { retryCommand } from './hints.js';
import { type Decision, maxAttemptsFor, type Reason } from './select.js';
import { attemptsCharged, latestAttempt, taskSummary } from './state.js';
import type { State } from './state-types.js';

/** One row of the status table, the tick's job summary and `status --json`. */
export interface TaskRow {
  task: string;
  state: 'done' | 'blocked' | 'running' | 'pr_open' | 'ready' | 'waiting' | 'not_ready' | 'out_of_scope';
  /** Attempts that count toward the limit (those since the last retry). */
  attempts: number;
  max_attempts: number;
  pr: number | null;
  reason: Reason;
  /** A blocked task: why (the block's reason, the last failure's reason and detail) and how to retry. */
  why?: string;
  retry?: string;
  /** The task's backlog entry changed after it was blocked: a retry may now succeed. */
  entry_changed?: boolean;
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

/** A short, stable hash of a task's backlog entry (as parsed, so formatting and comments do not count). */
export function taskEntryHash(task: Task): string {
  return sha256Hex(canonicalJson(task)).slice(0, 16);
}

/** Why a blocked task is blocked, in one line: the block's reason and its last failure. */
function blockedWhy(state: State, task: Task): string {
  const summary = taskSummary(state, task.id);
  const last = latestAttempt(state, task.id);
  const parts: string[] = [];
  if (task.status === 'blocked') parts.push('status: blocked in the backlog');
  else if (summary?.blocked_reason === 'pr_closed' || summary?.pr?.state === 'closed')
    parts.push(`pull request #${summary?.pr?.number ?? '?'} was closed unmerged`);
  else parts.push('used all its attempts');
  if (last?.reason && last.reason !== 'pr_closed') {
    parts.push(`last failure: ${last.reason}${last.detail ? `: ${last.detail}` : ''}`);
  }
  return parts.join('; ');
}

export function taskRows(backlog: Backlog, config: Config, state: State, decision: Decision): TaskRow[] {
  // The reasons come in backlog order from `select`: the map is only for a decision that does not line up.
  let reasons: Map<string, Reason> | undefined;
  const reasonOf = (task: Task, i: number): Reason | undefined => {
    const r = decision.reasons[i];
    if (r !== undefined && r.task === task.id) return r.reason;
    reasons ??= new Map(decision.reasons.map((x) => [x.task, x.reason]));
    return reasons.get(task.id);
  };
  return backlog.tasks.map((task, i) => {
    const known = taskSummary(state, task.id);
    const reason = reasonOf(task, i) ?? 'not_ready';
    const row: TaskRow = {
      task: task.id,
      state: rowState(reason),
      // A task the log has never seen has no attempts.
      attempts: known === undefined ? 0 : attemptsCharged(state, task.id),
      max_attempts: maxAttemptsFor(task, config),
      pr: known?.pr && known.pr.state !== 'closed' ? known.pr.number : null,
      reason,
    };
    if (row.state === 'blocked') {
      row.why = blockedWhy(state, task);
      // A task blocked in the backlog is a human's decision there, not something a retry undoes.
      if (task.status !== 'blocked') row.retry = retryCommand(task.id);
      if (known?.blocked_entry !== undefined && known.blocked_entry !== taskEntryHash(task)) {
        row.entry_changed = true;
      }
    }
    return row;
  });
}
