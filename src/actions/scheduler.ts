/** `actions/scheduler`: one tick in a workflow job, with its decision in the log, outputs and job summary. */
import * as core from '@actions/core';
import { UserError } from '../core/errors.js';
import type { LeviathanEvent } from '../core/events.js';
import type { Forge } from '../forge/forge.js';
import { updateDashboard } from '../scheduler/dashboard.js';
import { renderTaskGraph } from '../scheduler/graph.js';
import { renderTickMarkdown, tickHeadline } from '../scheduler/summary.js';
import { type TickReport, tick } from '../scheduler/tick.js';
import { readDocumentsAt } from '../store/base-branch.js';
import { actionContext, booleanInput, openActionTarget, phases, runAction, tokenInput } from './io.js';

function reasonOf(report: TickReport): string {
  if (report.task) return `${report.task} selected`;
  if (report.breaker === 'open' || report.breaker === 'trip') return 'circuit breaker open';
  const first = report.rows.find((r) => r.state === 'ready' || r.state === 'waiting');
  return first ? `${first.task}: ${first.reason}` : 'no task is eligible';
}

async function main(): Promise<void> {
  const token = tokenInput('token', true);
  const log = phases();
  await runAction(async () => {
    const dryRun = booleanInput('dry-run');
    const ctx = actionContext('scheduler', log.progress);
    const target = openActionTarget(token);
    if (booleanInput('reset-breaker') && !dryRun) {
      log.progress('resetting the circuit breaker');
      const reset = await target.events.append([
        {
          type: 'breaker.reset',
          id: ctx.newId(),
          ts: ctx.now().toISOString(),
          actor: ctx.actor,
          data: { reason: 'workflow_dispatch reset-breaker', by: 'manual' },
        },
      ]);
      if (reset.ok) core.notice(`circuit breaker reset (event ${reset.events[0]?.seq})`);
    }
    const report = await tick({
      ...ctx,
      git: target.git,
      forge: target.forge,
      events: target.events,
      dryRun,
    });
    log.end();

    core.info(`decision: ${tickHeadline(report)}`);
    if (report.outcome === 'dispatched')
      core.notice(`dispatched a worker for ${report.task} (attempt ${report.attempt})`);
    if (report.outcome === 'dispatch_failed') core.warning(`claimed ${report.task} but the dispatch failed`);
    warnings(report.appended);
    for (const row of report.rows.filter((r) => r.state === 'blocked')) {
      core.warning(`task ${row.task} is blocked (${row.reason})`);
    }
    let graph = '';
    try {
      const docs = await readDocumentsAt(target.git, 'HEAD');
      graph = `\n### Tasks\n\n${renderTaskGraph(docs.backlog, report.rows)}`;
    } catch {
      // The graph is a courtesy; the tick itself read the documents from the default branch.
    }
    await core.summary.addRaw(renderTickMarkdown(report) + graph).write();
    if (booleanInput('dashboard') && !dryRun) await dashboard(target.forge, report, graph);
    core.setOutput('decision', report.outcome);
    core.setOutput('task', report.task ?? '');
    core.setOutput('attempt', report.attempt ?? '');
    core.setOutput('reason', reasonOf(report));
    if (report.outcome === 'dispatch_failed')
      throw new UserError(`the worker for ${report.task} could not be dispatched`);
  }, log.end);
}

/** The dashboard is a view of the log: failing to write it is a warning, never a failed tick. */
async function dashboard(forge: Forge, report: TickReport, graph: string): Promise<void> {
  try {
    const result = await updateDashboard(forge, report, graph);
    if (result.action === 'unsupported') core.warning('dashboard: this forge has no issues; skipped');
    else if (result.action === 'created') core.notice(`dashboard issue opened: ${result.url}`);
    else core.info(`dashboard issue #${result.number}: ${result.action}`);
  } catch (error) {
    core.warning(`dashboard: ${(error as Error).message} (the tick's job needs permissions: issues: write)`);
  }
}

function warnings(appended: readonly LeviathanEvent[]): void {
  for (const e of appended) {
    if (e.type === 'breaker.tripped')
      core.warning(`circuit breaker tripped after ${e.data.consecutive_failures} consecutive failures`);
  }
}

await main();
