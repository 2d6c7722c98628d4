import { type Command, InvalidArgumentError } from 'commander';
import { renderTickMarkdown, tickHeadline } from '../../scheduler/summary.js';
import { type TickReport, tick } from '../../scheduler/tick.js';
import type { AttemptResult } from '../../worker/attempt.js';
import { renderAttemptMarkdown } from '../../worker/summary.js';
import { attemptLines, type RunTally, runTally, tallyLine } from '../attempt-lines.js';
import { type Output, processOutput } from '../output.js';
import { createProgress } from '../progress.js';
import { writeStepSummary } from '../step-summary.js';
import { openTarget } from '../target.js';
import { workInScratch } from './work.js';

export interface RunSummary {
  ticks: number;
  attempts: Array<{ task: string; attempt: string; status: string; reason?: string; pr?: number }>;
  last: TickReport | null;
  /** The closing counts (also the last line `run` prints). */
  tally: RunTally;
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
  const summary: RunSummary = { ticks: 0, attempts: [], last: null, tally: runTally([], []) };
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
      await writeStepSummary(() => renderTickMarkdown(report));
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
        if (!out.json) for (const line of attemptLines(result, '  ')) out.out(line);
      }
    }
  } finally {
    progress.done();
  }
  summary.tally = runTally(summary.attempts, summary.last?.rows ?? []);
  if (out.json) out.out(JSON.stringify(summary));
  else out.out(tallyLine(summary.ticks, summary.tally));
  return summary;
}

/** `run`'s exit status, in its --help (and the README). */
export const RUN_EXIT_HELP = `
Ends with one line: ticks, attempts succeeded and failed, tasks blocked, waiting (and why) and PRs to review.
Exit status: 0 when the loop ran until a tick dispatched nothing (or --max-ticks), even if attempts failed:
a failed attempt is an outcome the loop records and counts, not an error of run (see the tally, 'status',
'events --wide'); 1 when it could not run (not a repository, no origin, a broken event log, bad documents
on the base branch); 2 on bad usage. 'leviathan work' exits 1 when its one attempt fails.`;

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
    .addHelpText('after', RUN_EXIT_HELP)
    .option('--max-ticks <n>', 'stop after this many ticks', positiveInt, 20)
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--json', 'machine-readable output')
    .action(async (opts: { dir: string; maxTicks: number; json?: boolean }) => {
      await runLoop(opts, processOutput(Boolean(opts.json)));
    });
}
