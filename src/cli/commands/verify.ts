import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { LocalForge } from '../../forge/local.js';
import { loadBaseDocuments } from '../../store/base-branch.js';
import type { EventLog, LogVerifyResult } from '../../store/event-log.js';
import { Git } from '../../store/git.js';
import { type Output, processOutput } from '../output.js';
import { LOG_FORGE_HELP, parseForgeKind } from '../target.js';
import { userFacing } from '../user-errors.js';
import { openEventLog } from './events.js';

/**
 * Checks the whole chain, the day files, state.json, the tip commit, its seal (when the config names a key)
 * and the anchor. Prints `chain ok: N events` with what was proved, or fails (exit 1) naming the first bad seq.
 */
export async function runVerify(log: EventLog, out: Output): Promise<LogVerifyResult> {
  const result = await userFacing(() => log.verify());
  if (out.json) out.out(JSON.stringify(result));
  if (!result.ok) {
    throw new UserError(`chain broken at seq ${result.seq}: ${result.reason}: ${result.detail}`);
  }
  if (!out.json) {
    for (const w of result.warnings) out.err(`warning: ${w}`);
    const proved = [
      result.signed ? `signed by key ${result.key_id}` : 'unsigned',
      result.anchored ? 'extends the last tip seen here' : 'no earlier tip seen here',
    ];
    out.out(`chain ok: ${result.count} events (${proved.join(', ')})`);
  }
  return result;
}

/**
 * The config's `events.public_key` from the default branch. A repository whose documents cannot be read
 * (a bare log, no config yet) is verified without a key, and says so.
 */
export async function configuredKey(dir: string, out: Output): Promise<string> {
  try {
    const docs = await loadBaseDocuments(new Git(dir), await new LocalForge({ dir }).defaultBranch());
    return docs.config.events.public_key;
  } catch (error) {
    out.err(`warning: no config read (${(error as Error).message.split('\n')[0]}); the seal is not checked`);
    return '';
  }
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify the event log: hash chain, seal, and that it extends the last tip seen here')
    .option('--forge <kind>', LOG_FORGE_HELP, parseForgeKind, 'local')
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--json', 'machine-readable output')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const out = processOutput(Boolean(opts.json));
      const log = openEventLog(opts.dir);
      log.trustKey(await configuredKey(opts.dir, out));
      await runVerify(log, out);
    });
}
