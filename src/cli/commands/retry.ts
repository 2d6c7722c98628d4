import type { Command } from 'commander';
import { ulid } from 'ulid';
import { UserError } from '../../core/errors.js';
import { attemptsCharged, openAttempts, taskSummary } from '../../core/state.js';
import type { State } from '../../core/state-types.js';
import type { EventStore } from '../../store/event-store.js';
import { type Output, processOutput } from '../output.js';
import { userFacing } from '../user-errors.js';
import { openEventLog } from './events.js';

/** The `--json` shape of `leviathan retry`. */
export interface RetryReport {
  seq: number;
  id: string;
  task: string;
  /** What the retry found: was the task blocked, and how many attempts had it used of its budget. */
  was_blocked: boolean;
  attempts_used: number;
}

export interface RetryOptions {
  reason?: string;
  now?: () => Date;
  newId?: () => string;
}

/** Why `task` cannot be retried in `state`, or null when it can. */
function refusal(state: State, task: string): string | null {
  const summary = taskSummary(state, task);
  if (!summary) return `task ${task} has no attempts in the event log; there is nothing to retry`;
  if (summary.completed) return `task ${task} is done; there is nothing to retry`;
  if (openAttempts(state).some((a) => a.task === task)) return `task ${task} has an attempt running`;
  if (summary.pr?.state === 'open') return `task ${task} has pull request #${summary.pr.number} open`;
  return null;
}

/**
 * Appends `task.retried` (by a human): the task's attempt budget starts again and a block is lifted. The
 * decision is re-checked on the state the event lands on, so a retry never races a running attempt.
 */
export async function retryTask(
  log: EventStore,
  task: string,
  options: RetryOptions = {},
): Promise<RetryReport> {
  const now = options.now ?? (() => new Date());
  const id = (options.newId ?? ulid)();
  let found = { blocked: false, used: 0 };
  const result = await userFacing(() =>
    log.append(
      [
        {
          type: 'task.retried',
          id,
          ts: now().toISOString(),
          task,
          actor: { kind: 'human' },
          data: { reason: options.reason ?? '' },
        },
      ],
      (state) => {
        const why = refusal(state, task);
        if (why) return why;
        found = { blocked: taskSummary(state, task)?.blocked === true, used: attemptsCharged(state, task) };
        return true;
      },
    ),
  );
  if (!result.ok) throw new UserError(`retry refused: ${result.refused}`);
  const event = result.events[0];
  if (!event) throw new UserError('retry wrote no event');
  return { seq: event.seq, id: event.id, task, was_blocked: found.blocked, attempts_used: found.used };
}

export async function runRetry(
  log: EventStore,
  task: string,
  options: RetryOptions,
  out: Output,
): Promise<RetryReport> {
  const report = await retryTask(log, task, options);
  if (out.json) out.out(JSON.stringify(report));
  else {
    const was = report.was_blocked
      ? `it was blocked after ${report.attempts_used} attempt(s)`
      : `it had used ${report.attempts_used} attempt(s)`;
    out.out(`retry recorded for ${task} (seq ${report.seq}); ${was}; the next tick may dispatch it`);
  }
  return report;
}

export function registerRetry(program: Command): void {
  program
    .command('retry')
    .description('give a blocked task another chance: its attempt budget starts again (appends task.retried)')
    .argument('<task>', 'the task id')
    .option('--reason <text>', 'why, recorded in the event')
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--json', 'machine-readable output')
    .action(async (task: string, opts: { reason?: string; dir: string; json?: boolean }) => {
      await runRetry(
        openEventLog(opts.dir),
        task,
        opts.reason === undefined ? {} : { reason: opts.reason },
        processOutput(Boolean(opts.json)),
      );
    });
}
