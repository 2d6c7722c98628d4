import { retryCommand } from '../core/hints.js';
import { cell } from '../core/pr-body.js';
import { describeSpend } from '../core/spend.js';
import type { TaskRow } from '../core/task-status.js';
import type { TickReport } from './tick.js';

const OUTCOME_TEXT: Record<TickReport['outcome'], string> = {
  dispatched: 'dispatched a worker',
  dispatch_failed: 'claimed a task but could not dispatch its worker',
  idle: 'nothing to dispatch',
  dry_run: 'dry run: nothing written',
};

export function tickHeadline(report: TickReport): string {
  const what = OUTCOME_TEXT[report.outcome];
  const head = report.task ? `${what}: ${report.task} (attempt ${report.attempt})` : what;
  return [head, ...tickNotes(report)].join('; ');
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * What this tick changed that stops work, in the words the user acts on: a tripped breaker (nothing is
 * dispatched until a reset) and each task it blocked (and how to give it another chance).
 */
export function tickNotes(report: TickReport): string[] {
  const notes: string[] = [];
  for (const e of report.appended) {
    if (e.type === 'breaker.tripped') {
      notes.push(
        `circuit breaker tripped after ${count(e.data.consecutive_failures, 'consecutive failure')} (threshold ${e.data.threshold}): nothing is dispatched until 'leviathan breaker reset'`,
      );
    } else if (e.type === 'task.blocked' && e.task) {
      const why =
        e.data.reason === 'pr_closed'
          ? 'its pull request was closed unmerged'
          : `${count(e.data.attempts, 'attempt')} used`;
      notes.push(`blocked ${e.task} (${why}): '${retryCommand(e.task)}' gives it another chance`);
    }
  }
  if (report.rows.some((r) => r.reason === 'budget_day')) {
    const spent = describeSpend(report.spend.today, report.limits.config.max_cost_usd_per_day, 'day');
    notes.push(`daily spend budget reached (${spent}): nothing is dispatched until the next UTC day`);
  }
  if (report.outcome === 'dry_run' && report.breaker === 'trip') {
    notes.push('the circuit breaker would trip');
  }
  return notes;
}

export function rowCells(row: TaskRow): string[] {
  return [
    row.task,
    row.state,
    `${row.attempts}/${row.max_attempts}`,
    row.pr === null ? '' : `#${row.pr}`,
    row.reason,
  ];
}

/** The spend line of a tick's text output; null when nothing was spent today and no daily budget is set. */
export function spendLine(report: TickReport): string | null {
  const { today, day } = report.spend;
  const limit = report.limits.config.max_cost_usd_per_day;
  if (today.micros === 0 && today.unknown === 0 && limit === 0) return null;
  return `spend today (${day}, UTC): ${describeSpend(today, limit, 'day')}`;
}

export const ROW_HEADER = ['task', 'state', 'attempts', 'PR', 'reason'];

/** The tick's job summary: one row per task with the reason it was or was not picked. */
export function renderTickMarkdown(report: TickReport): string {
  const l = report.limits;
  const lines = [
    `## Leviathan tick — ${tickHeadline(report)}`,
    '',
    `| ${ROW_HEADER.join(' | ')} |`,
    `|${ROW_HEADER.map(() => '---').join('|')}|`,
    ...report.rows.map((r) => `| ${rowCells(r).map(cell).join(' | ')} |`),
    '',
    `Breaker: **${report.breaker}** · open PRs ${l.open_prs}/${l.config.max_open_prs} · running ${l.running}/${l.config.max_running_attempts} · dispatched this hour ${l.dispatched_this_hour}/${l.config.max_dispatches_per_hour} · base \`${report.base}\``,
    '',
    `Spend today (${report.spend.day}, UTC): ${describeSpend(report.spend.today, l.config.max_cost_usd_per_day, 'day')}`,
    '',
    `Events appended: ${report.appended.length ? report.appended.map((e) => `${e.seq} ${e.type}`).join(', ') : 'none'}`,
  ];
  return `${lines.join('\n')}\n`;
}
