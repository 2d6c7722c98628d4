import type { Command } from 'commander';
import type { Config } from '../../core/config.js';
import type { LeviathanEvent } from '../../core/events.js';
import { openPullsOf } from '../../core/reconcile.js';
import { select } from '../../core/select.js';
import { describeSpend, type SpendReport, spendReport } from '../../core/spend.js';
import { dispatchesInHour, openAttempts } from '../../core/state.js';
import type { BreakerState } from '../../core/state-types.js';
import { type TaskRow, taskRows } from '../../core/task-status.js';
import { observePulls } from '../../forge/observe.js';
import { ROW_HEADER, rowCells } from '../../scheduler/summary.js';
import { loadBaseDocuments } from '../../store/base-branch.js';
import { type Output, processOutput } from '../output.js';
import { renderTable } from '../table.js';
import { type ForgeKind, openForgeTarget, parseForgeKind } from '../target.js';

export interface StatusReport {
  base: string;
  rows: TaskRow[];
  breaker: BreakerState;
  limits: { open_prs: number; running: number; dispatched_this_hour: number; config: Config['limits'] };
  /** Spend so far (what attempts reported): today's (UTC) and each task's; unknown spend counted apart. */
  spend: SpendReport;
  last_events: Array<Pick<LeviathanEvent, 'seq' | 'ts' | 'type' | 'task'>>;
}

/** What a human wants to know at a glance: per task state and why, the breaker, the limits, recent events. */
export async function collectStatus(
  dir: string,
  now: () => Date = () => new Date(),
  forge: ForgeKind = 'local',
): Promise<StatusReport> {
  const target = await openForgeTarget({ dir, now, forge });
  const docs = await loadBaseDocuments(target.git, await target.forge.defaultBranch());
  target.events.trustKey(docs.config.events.public_key);
  // The sealed snapshot and the newest day file: status costs the same at 10 events and at 100,000.
  const { recent, state } = await target.events.readRecent(5);
  const pulls = await observePulls(target.forge, docs.config, now());
  const openPulls = openPullsOf(pulls, docs.config.pr.branch_prefix);
  const decision = select({ backlog: docs.backlog, config: docs.config, state, openPulls, now: now() });
  return {
    base: docs.base,
    rows: taskRows(docs.backlog, docs.config, state, decision),
    breaker: state.breaker,
    limits: {
      open_prs: openPulls.length,
      running: openAttempts(state).length,
      dispatched_this_hour: dispatchesInHour(state, now()),
      config: docs.config.limits,
    },
    spend: spendReport(
      state,
      now(),
      docs.backlog.tasks.map((t) => t.id),
    ),
    last_events: recent.map((e) => ({
      seq: e.seq,
      ts: e.ts,
      type: e.type,
      ...(e.task ? { task: e.task } : {}),
    })),
  };
}

export function renderStatus(report: StatusReport): string {
  const l = report.limits;
  const breaker = report.breaker.open
    ? `OPEN since ${report.breaker.tripped_at ?? '?'} (reset with 'leviathan breaker reset')`
    : `closed (${report.breaker.consecutive_failures}/${l.config.circuit_breaker_failures} consecutive failures)`;
  return [
    renderTable(ROW_HEADER, report.rows.map(rowCells)),
    ...blockedLines(report.rows),
    '',
    `breaker: ${breaker}`,
    `limits:  open PRs ${l.open_prs}/${l.config.max_open_prs}, running ${l.running}/${l.config.max_running_attempts}, dispatched this hour ${l.dispatched_this_hour}/${l.config.max_dispatches_per_hour}`,
    ...spendLines(report),
    'last events:',
    ...(report.last_events.length
      ? report.last_events.map((e) => `  ${e.seq}  ${e.ts}  ${e.type}${e.task ? `  ${e.task}` : ''}`)
      : ['  (none)']),
  ].join('\n');
}

/** Today's spend against the daily budget, then each task's that spent anything against the per-task one. */
function spendLines(report: StatusReport): string[] {
  const { spend, limits } = report;
  const tasks = Object.entries(spend.tasks);
  return [
    `spend:   today (${spend.day}, UTC) ${describeSpend(spend.today, limits.config.max_cost_usd_per_day, 'day')}`,
    ...tasks.map(([id, s]) => `  ${id}: ${describeSpend(s, limits.config.max_cost_usd_per_task, 'task')}`),
  ];
}

/** Each blocked task: why, and the command that gives it another chance. */
function blockedLines(rows: readonly TaskRow[]): string[] {
  const blocked = rows.filter((r) => r.why !== undefined);
  if (blocked.length === 0) return [];
  return [
    '',
    'blocked:',
    ...blocked.map((r) => {
      const changed = r.entry_changed
        ? ' (its backlog entry changed since it was blocked: worth a retry)'
        : '';
      const retry = r.retry ? `; retry with '${r.retry}'` : '';
      return `  ${r.task}: ${r.why}${retry}${changed}`;
    }),
  ];
}

export async function runStatus(dir: string, out: Output, forge: ForgeKind = 'local'): Promise<StatusReport> {
  const report = await collectStatus(dir, undefined, forge);
  out.out(out.json ? JSON.stringify(report) : renderStatus(report));
  return report;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('per-task state, attempts, open PRs, breaker and limits')
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--forge <kind>', 'local or github', parseForgeKind, 'local')
    .option('--json', 'machine-readable output')
    .action(async (opts: { dir: string; forge: ForgeKind; json?: boolean }) => {
      await runStatus(opts.dir, processOutput(Boolean(opts.json)), opts.forge);
    });
}
