import type { Command } from 'commander';
import type { Config } from '../../core/config.js';
import { UserError } from '../../core/errors.js';
import { logBehindOutside } from '../../core/log-freshness.js';
import { GitHubForge, githubForgeOptionsFromEnv } from '../../forge/github.js';
import { LocalForge } from '../../forge/local.js';
import { observePulls } from '../../forge/observe.js';
import { originWipBranches } from '../../scheduler/outside-world.js';
import { loadBaseDocuments } from '../../store/base-branch.js';
import type { EventLog } from '../../store/event-log.js';
import { Git } from '../../store/git.js';
import type { CrossCheck, LogVerifyResult } from '../../store/log-types.js';
import { type Output, processOutput, ReportedFailure } from '../output.js';
import { type ForgeKind, LOG_FORGE_HELP, parseForgeKind } from '../target.js';
import { userFacing } from '../user-errors.js';
import { openEventLog } from './events.js';

/**
 * Checks the whole chain, the day files, state.json, the tip commit, its seal (when the config names a key)
 * the anchor and the forge's cross-check. Prints `chain ok: N events` with what was proved, or fails (exit 1) naming the first bad seq.
 */
export async function runVerify(
  log: EventLog,
  out: Output,
  crossCheck?: CrossCheck,
): Promise<LogVerifyResult> {
  const result = await userFacing(() => log.verify(crossCheck));
  if (out.json) out.out(JSON.stringify(result));
  if (!result.ok) {
    // With --json the report above already says why: no second object on stdout.
    const message = `chain broken at seq ${result.seq}: ${result.reason}: ${result.detail}`;
    throw out.json ? new ReportedFailure(message) : new UserError(message);
  }
  if (!out.json) {
    for (const w of result.warnings) out.err(`warning: ${w}`);
    const proved = [
      result.signed ? `signed by key ${result.key_id}` : 'unsigned',
      result.anchored ? 'extends the last tip seen here' : 'no earlier tip seen here',
      result.crosschecked
        ? "knows every attempt the forge's pulls and the origin's branches name"
        : 'not checked against the forge',
    ];
    out.out(`chain ok: ${result.count} events (${proved.join(', ')})`);
  }
  return result;
}

/** The config on the default branch, or null (with a warning) when a repository has none to read. */
async function configured(dir: string, out: Output, unchecked: string): Promise<Config | null> {
  try {
    const docs = await loadBaseDocuments(new Git(dir), await new LocalForge({ dir }).defaultBranch());
    return docs.config;
  } catch (error) {
    out.err(`warning: no config read (${(error as Error).message.split('\n')[0]}); ${unchecked}`);
    return null;
  }
}

/**
 * The config's `events.public_key` from the default branch. A repository whose documents cannot be read
 * (a bare log, no config yet) is verified without a key, and says so.
 */
export async function configuredKey(dir: string, out: Output): Promise<string> {
  return (await configured(dir, out, 'the seal is not checked'))?.events.public_key ?? '';
}

/** The log's state against the forge's Leviathan pulls and the origin's WIP branches (issue 7 §3). */
export function forgeCrossCheck(dir: string, kind: ForgeKind, config: Config): CrossCheck {
  const forge =
    kind === 'github'
      ? new GitHubForge(
          githubForgeOptionsFromEnv(process.env, {
            warn: (line) => process.stderr.write(`leviathan: warning: ${line}\n`),
          }),
        )
      : new LocalForge({ dir });
  return async (state) => {
    const pulls = await observePulls(forge, config, new Date());
    const wip = await originWipBranches(new Git(dir));
    return logBehindOutside(state, pulls, wip, config.pr.branch_prefix);
  };
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'verify the event log: hash chain, seal, the last tip seen here, and every attempt the forge names',
    )
    .option('--forge <kind>', LOG_FORGE_HELP, parseForgeKind, 'local')
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--json', 'machine-readable output')
    .action(async (opts: { dir: string; forge: ForgeKind; json?: boolean }) => {
      const out = processOutput(Boolean(opts.json));
      const log = openEventLog(opts.dir);
      const config = await configured(
        opts.dir,
        out,
        'the seal is not checked and the log is not checked against the forge',
      );
      log.trustKey(config?.events.public_key ?? '');
      await runVerify(log, out, config ? forgeCrossCheck(opts.dir, opts.forge, config) : undefined);
    });
}
