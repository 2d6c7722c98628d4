import { createRedactor } from '../core/redact.js';
import type { TaskRow } from '../core/task-status.js';
import type { AttemptResult } from '../worker/attempt.js';
import { attemptHeadline } from '../worker/summary.js';

/** How many lines of a failing command's output `work` and `run` print under the headline. */
export const TAIL_LINES = 12;

/** Token shapes are removed whatever their value, on top of what the worker already redacted. */
const redact = createRedactor();

/**
 * An attempt as `work` and `run` print it: the headline, then for a failure the last lines of the failing
 * command's output (redacted), so the cause is where the user looks and not only in `events`.
 */
export function attemptLines(result: AttemptResult, indent = ''): string[] {
  const lines = [`${indent}${attemptHeadline(result)}`];
  const o = result.outcome;
  if (o.status !== 'failed' || !o.output_tail) return lines;
  const tail = redact(o.output_tail).replace(/\s+$/, '').split('\n');
  if (tail.length === 1 && tail[0] === '') return lines;
  const shown = tail.slice(-TAIL_LINES);
  const cut = tail.length - shown.length;
  lines.push(`${indent}  output${cut > 0 ? ` (last ${shown.length} lines)` : ''}:`);
  for (const line of shown) lines.push(`${indent}  | ${line}`);
  return lines;
}

/** The counts `run` ends with. */
export interface RunTally {
  succeeded: number;
  failed: number;
  blocked: number;
  waiting: number;
  /** Tasks whose pull request waits for a human's review. */
  in_review: number;
  /** Why the tasks that did not run this time are waiting, by reason (`not_ready`, `limit_open_prs`, …). */
  why: Record<string, number>;
}

/** Tally of a run: its attempts, and the last tick's rows for what is blocked or still waiting. */
export function runTally(attempts: ReadonlyArray<{ status: string }>, rows: readonly TaskRow[]): RunTally {
  const tally: RunTally = {
    succeeded: attempts.filter((a) => a.status === 'succeeded').length,
    failed: attempts.filter((a) => a.status !== 'succeeded').length,
    blocked: 0,
    waiting: 0,
    in_review: 0,
    why: {},
  };
  for (const row of rows) {
    if (row.state === 'blocked') tally.blocked += 1;
    else if (row.state === 'pr_open') tally.in_review += 1;
    else if (row.state !== 'done') {
      tally.waiting += 1;
      const reason = row.reason.replace(/:.*$/, '');
      tally.why[reason] = (tally.why[reason] ?? 0) + 1;
    }
  }
  return tally;
}

/** `run: 3 ticks, 2 succeeded, 1 failed, 1 blocked, 3 waiting (2 not_ready, 1 dependency_pending), 2 PRs to review`. */
export function tallyLine(ticks: number, t: RunTally): string {
  const why = Object.entries(t.why)
    .map(([reason, n]) => `${n} ${reason}`)
    .join(', ');
  return `run: ${ticks} tick${ticks === 1 ? '' : 's'}, ${t.succeeded} succeeded, ${t.failed} failed, ${t.blocked} blocked, ${t.waiting} waiting${why ? ` (${why})` : ''}, ${t.in_review} PR${t.in_review === 1 ? '' : 's'} to review`;
}
