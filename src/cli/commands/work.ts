import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { type AttemptResult, runAttempt } from '../../worker/attempt.js';
import { renderAttemptMarkdown } from '../../worker/summary.js';
import { attemptLines } from '../attempt-lines.js';
import { type Output, processOutput, ReportedFailure } from '../output.js';
import { createProgress } from '../progress.js';
import { writeStepSummary } from '../step-summary.js';
import { type ForgeKind, openForgeTarget, parseForgeKind, type Target, withScratchClone } from '../target.js';

/** Runs one attempt in a scratch clone of the target and reports it; shared by `work` and `run`. */
export async function workInScratch(target: Target, task: string, attempt?: string): Promise<AttemptResult> {
  return withScratchClone(target, (clone) =>
    // The user's checkout is hidden from the agent: its .git/config may hold credentials.
    runAttempt(
      { ...clone.ctx, git: clone.git, forge: clone.forge, events: clone.events, hide: [target.dir] },
      task,
      attempt,
    ),
  );
}

export async function runWork(
  options: { dir: string; task: string; attempt?: string; forge?: ForgeKind; now?: () => Date },
  out: Output,
): Promise<AttemptResult> {
  const progress = createProgress(process.stderr, out.progress ?? !out.json);
  try {
    const target = await openForgeTarget({
      dir: options.dir,
      ...(options.forge ? { forge: options.forge } : {}),
      progress: progress.step,
      ...(options.now ? { now: options.now } : {}),
    });
    const result = await workInScratch(target, options.task, options.attempt);
    progress.done();
    await writeStepSummary(renderAttemptMarkdown(result));
    if (out.json)
      out.out(
        JSON.stringify({ task: result.context.task.id, attempt: result.context.attempt, ...result.outcome }),
      );
    else for (const line of attemptLines(result)) out.out(line);
    if (result.outcome.status === 'failed') {
      const message = `attempt failed: ${result.outcome.reason}`;
      throw out.json ? new ReportedFailure(message) : new UserError(message);
    }
    return result;
  } finally {
    progress.done();
  }
}

export function registerWork(program: Command): void {
  program
    .command('work')
    .description('one worker attempt (claims one under the same limits when no --attempt is given)')
    .requiredOption('--task <id>', 'the task to work on')
    .option('--attempt <id>', 'the attempt the scheduler claimed')
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--forge <kind>', 'local or github', parseForgeKind, 'local')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: { dir: string; task: string; attempt?: string; forge: ForgeKind; json?: boolean }) => {
        await runWork(opts, processOutput(Boolean(opts.json)));
      },
    );
}
