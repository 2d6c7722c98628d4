import type { Command } from 'commander';
import { ulid } from 'ulid';
import { UserError } from '../../core/errors.js';
import type { EventStore } from '../../store/event-store.js';
import { type Output, processOutput } from '../output.js';
import { LOG_FORGE_HELP, parseForgeKind } from '../target.js';
import { userFacing } from '../user-errors.js';
import { openEventLog } from './events.js';
import { configuredKey } from './verify.js';

/** The `--json` shape of `leviathan breaker reset`. */
export interface BreakerResetReport {
  seq: number;
  id: string;
  /** The breaker as the reset found it. */
  was_open: boolean;
  consecutive_failures: number;
}

export interface BreakerResetOptions {
  reason?: string;
  now?: () => Date;
  newId?: () => string;
}

/** Appends `breaker.reset` (by a human, through the CLI); always recorded, even on a closed breaker. */
export async function resetBreaker(
  log: EventStore,
  options: BreakerResetOptions = {},
): Promise<BreakerResetReport> {
  const now = options.now ?? (() => new Date());
  const id = (options.newId ?? ulid)();
  let found = { open: false, consecutive_failures: 0 };
  const result = await userFacing(() =>
    log.append(
      [
        {
          type: 'breaker.reset',
          id,
          ts: now().toISOString(),
          actor: { kind: 'cli' },
          data: { reason: options.reason ?? '', by: 'manual' },
        },
      ],
      (state) => {
        // Runs on the state the reset lands on (again after a lost race), so the report is exact.
        found = { open: state.breaker.open, consecutive_failures: state.breaker.consecutive_failures };
        return true;
      },
    ),
  );
  if (!result.ok) throw new UserError(`breaker reset was refused: ${result.refused}`);
  const event = result.events[0];
  if (!event) throw new UserError('breaker reset wrote no event');
  return {
    seq: event.seq,
    id: event.id,
    was_open: found.open,
    consecutive_failures: found.consecutive_failures,
  };
}

export async function runBreakerReset(
  log: EventStore,
  options: BreakerResetOptions,
  out: Output,
): Promise<BreakerResetReport> {
  const report = await resetBreaker(log, options);
  if (out.json) {
    out.out(JSON.stringify(report));
  } else {
    const was = report.was_open
      ? `it was open after ${report.consecutive_failures} consecutive failed attempts`
      : 'it was already closed';
    out.out(`breaker reset (seq ${report.seq}); ${was}`);
  }
  return report;
}

export function registerBreaker(program: Command): void {
  const breaker = program.command('breaker').description('the circuit breaker that stops all dispatch');
  breaker
    .command('reset')
    .description('close the circuit breaker (appends breaker.reset)')
    .option('--reason <text>', 'why, recorded in the event')
    .option('--forge <kind>', LOG_FORGE_HELP, parseForgeKind, 'local')
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--json', 'machine-readable output')
    .action(async (opts: { reason?: string; dir: string; json?: boolean }) => {
      const out = processOutput(Boolean(opts.json));
      const log = openEventLog(opts.dir);
      log.trustKey(await configuredKey(opts.dir, out));
      await runBreakerReset(log, opts.reason === undefined ? {} : { reason: opts.reason }, out);
    });
}
