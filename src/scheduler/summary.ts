import { cell } from '../core/pr-body.js';
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
  return report.task ? `${what}: ${report.task} (attempt ${report.attempt})` : what;
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
    `Events appended: ${report.appended.length ? report.appended.map((e) => `${e.seq} ${e.type}`).join(', ') : 'none'}`,
  ];
  return `${lines.join('\n')}\n`;
}
