/**
 * The opt-in "Leviathan Dashboard" issue (`dashboard: true` on the scheduler action): every task's state and
 * reason, the limits in use and the dependency graph, edited in place after each tick. The body holds
 * nothing that changes on its own (no time, no per-tick event list), so an idle repository's dashboard is
 * written once and then left alone.
 */
import { cell } from '../core/pr-body.js';
import type { EnsuredIssue, Forge } from '../forge/forge.js';
import { ROW_HEADER, rowCells, spendLine } from './summary.js';
import type { TickReport } from './tick.js';

export const DASHBOARD_TITLE = 'Leviathan Dashboard';
export const DASHBOARD_MARKER = '<!-- leviathan:dashboard -->';
export const DASHBOARD_LABEL = 'leviathan-dashboard';

export function renderDashboard(report: TickReport, graph: string): string {
  const l = report.limits;
  const breaker = { trip: 'open', cooldown_reset: 'closed' }[report.breaker as string] ?? report.breaker;
  const lines = [
    DASHBOARD_MARKER,
    '',
    `Leviathan's scheduler keeps this issue up to date after every tick; edits here are overwritten. The backlog is \`.leviathan/backlog.yaml\` on \`${report.base}\`.`,
    '',
    `| ${ROW_HEADER.join(' | ')} |`,
    `|${ROW_HEADER.map(() => '---').join('|')}|`,
    ...report.rows.map((r) => `| ${rowCells(r).map(cell).join(' | ')} |`),
    '',
    `Circuit breaker: **${breaker}** · open PRs ${l.open_prs}/${l.config.max_open_prs} · running ${l.running}/${l.config.max_running_attempts} · at most ${l.config.max_dispatches_per_hour} dispatches an hour`,
  ];
  const spent = spendLine(report);
  if (spent) lines.push('', spent.charAt(0).toUpperCase() + spent.slice(1));
  if (graph) lines.push('', graph.trim());
  return `${lines.join('\n')}\n`;
}

export type DashboardResult = EnsuredIssue | { action: 'unsupported' };

/** Brings the dashboard issue to this tick's report; a forge without issues (the local one) says so. */
export async function updateDashboard(
  forge: Forge,
  report: TickReport,
  graph: string,
): Promise<DashboardResult> {
  if (!forge.ensureIssue) return { action: 'unsupported' };
  return forge.ensureIssue({
    marker: DASHBOARD_MARKER,
    label: DASHBOARD_LABEL,
    title: DASHBOARD_TITLE,
    body: renderDashboard(report, graph),
  });
}
