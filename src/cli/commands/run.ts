import { type Command, InvalidArgumentError } from 'commander';
import { renderTickMarkdown, tickHeadline } from '../../scheduler/summary.js';
import { type TickReport, tick } from '../../scheduler/tick.js';
import type { AttemptResult } from '../../worker/attempt.js';
import { attemptHeadline, renderAttemptMarkdown } from '../../worker/summary.js';
import { type Output, processOutput } from '../output.js';
import { createProgress } from '../progress.js';
import { writeStepSummary } from '../step-summary.js';
import { openTarget } from '../target.js';
import { workInScratch } from './work.js';

export interface RunSummary {
  ticks: number;
  attempts: Array<{ task: string; attempt: string; status: string; reason?: string; pr?: number }>;
  last: TickReport | null;
}

/** The local loop: tick, work what it dispatched, repeat until a tick dispatches nothing. */
export async function runLoop(
  options: { dir: string; maxTicks: number; now?: () => Date },
  out: Output,
  onAttempt?: (result: AttemptResult) => void,
): Promise<RunSummary> {
  const progress = createProgress(process.stderr, out.progress ?? !out.json);
  const target = await openTarget({
    dir: options.dir,
    progress: progress.step,
    ...(options.now ? { now: options.now } : {}),
  });
  const summary: RunSummary = { ticks: 0, attempts: [], last: null };
  try {
    while (summary.ticks < options.maxTicks) {
      const report = await tick({
        ...target.ctx,
        git: target.git,
        forge: target.forge,
        events: target.events,
      });
      summary.ticks += 1;
      summary.last = report;
      progress.done();
      await writeStepSummary(renderTickMarkdown(report));
      if (!out.json) out.out(`tick ${summary.ticks}: ${tickHeadline(report)}`);
      const queued = target.forge.takeDispatched();
      if (queued.length === 0) break;
      for (const request of queued) {
        let result: AttemptResult;
        try {
          result = await workInScratch(target, request.task, request.attempt);
        } catch (error) {
          // An attempt that could not even run is recorded by the worker where it can be; the loop goes on.
          progress.done();
          const reason = (error as Error).message;
          summary.attempts.push({ task: request.task, attempt: request.attempt, status: 'error', reason });
          if (!out.json) out.out(`  ${request.task}: ${reason}`);
          continue;
        }
        progress.done();
        onAttempt?.(result);
        await writeStepSummary(renderAttemptMarkdown(result));
        const o = result.outcome;
        summary.attempts.push({
          task: request.task,
          attempt: request.attempt,
          status: o.status,
          ...(o.status === 'failed' ? { reason: o.reason } : { pr: o.pr }),
        });
        if (!out.json) out.out(`  ${attemptHeadline(result)}`);
      }
    }
  } finally {
    progress.done();
  }
  if (out.json) out.out(JSON.stringify(summary));
  return summary;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'local loop on the local forge: tick, work the dispatched attempt, until nothing is eligible',
    )
    .option('--max-ticks <n>', 'stop after this many ticks', positiveInt, 20)
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--json', 'machine-readable output')
    .action(async (opts: { dir: string; maxTicks: number; json?: boolean }) => {
      await runLoop(opts, processOutput(Boolean(opts.json)));
    });
}
