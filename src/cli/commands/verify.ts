import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import type { EventLog, LogVerifyResult } from '../../store/event-log.js';
import { type Output, processOutput } from '../output.js';
import { LOG_FORGE_HELP, parseForgeKind } from '../target.js';
import { userFacing } from '../user-errors.js';
import { openEventLog } from './events.js';

/**
 * Checks the whole chain, the day files, state.json and the tip commit. Prints `chain ok: N events`, or
 * fails (exit 1) naming the first bad seq and why.
 */
export async function runVerify(log: EventLog, out: Output): Promise<LogVerifyResult> {
  const result = await userFacing(() => log.verify());
  if (out.json) out.out(JSON.stringify(result));
  if (!result.ok) {
    throw new UserError(`chain broken at seq ${result.seq}: ${result.reason}: ${result.detail}`);
  }
  if (!out.json) {
    for (const w of result.warnings) out.err(`warning: ${w}`);
    out.out(`chain ok: ${result.count} events`);
  }
  return result;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify the hash chain of the event log; names the first bad seq')
    .option('--forge <kind>', LOG_FORGE_HELP, parseForgeKind, 'local')
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--json', 'machine-readable output')
    .action(async (opts: { dir: string; json?: boolean }) => {
      await runVerify(openEventLog(opts.dir), processOutput(Boolean(opts.json)));
    });
}
