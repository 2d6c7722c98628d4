import { type Command, Option } from 'commander';
import { COMMIT_HINT } from '../../core/hints.js';
import {
  ROW_HEADER,
  renderTickMarkdown,
  rowCells,
  spendLine,
  tickHeadline,
} from '../../scheduler/summary.js';
import { type TickReport, tick } from '../../scheduler/tick.js';
import type { Git } from '../../store/git.js';
import { documentsDiffer } from '../drift.js';
import { type Output, processOutput } from '../output.js';
import { createProgress } from '../progress.js';
import { writeStepSummary } from '../step-summary.js';
import { renderTable } from '../table.js';
import { FORGES, type ForgeKind, openForgeTarget } from '../target.js';

export interface TickCommandOptions {
  dir: string;
  forge?: ForgeKind;
  dryRun?: boolean;
  now?: () => Date;
}

export async function runTick(options: TickCommandOptions, out: Output): Promise<TickReport> {
  const progress = createProgress(process.stderr, out.progress ?? !out.json);
  const target = await openForgeTarget({
    dir: options.dir,
    progress: progress.step,
    ...(options.forge ? { forge: options.forge } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  // Asked before the backlog is parsed: a git process spawned from a small heap is cheaper (probe keeps it).
  if (options.dryRun) void target.git.probe(['rev-parse', '--show-toplevel']);
  const acted: { base?: { sha: string; blobs?: ReadonlyMap<string, string> } } = {};
  try {
    const report = await tick({
      ...target.ctx,
      git: target.git,
      forge: target.forge,
      events: target.events,
      dryRun: Boolean(options.dryRun),
      onBase: (docs) => {
        acted.base = docs;
      },
    });
    progress.done();
    await writeStepSummary(() => renderTickMarkdown(report));
    // A dry run is how a user checks an edit: say when the working tree is not what the tick acted on.
    const blobs = acted.base?.sha === report.base_sha ? acted.base.blobs : undefined;
    const differs = options.dryRun ? await workingTreeDiffers(target.git, report.base_sha, blobs) : [];
    if (out.json) {
      out.out(JSON.stringify(options.dryRun ? { ...report, working_tree_differs: differs } : report));
    } else {
      if (differs.length > 0) out.err(driftWarning(differs, report.base));
      out.out(tickHeadline(report));
      out.out(renderTable(ROW_HEADER, report.rows.map(rowCells)));
      const spend = spendLine(report);
      if (spend) out.out(spend);
      if (report.outcome === 'dispatched' && report.task && target.forge.kind === 'local') {
        out.out(
          `next: leviathan work --task ${report.task} --attempt ${report.attempt} (or use 'leviathan run')`,
        );
      }
    }
    return report;
  } finally {
    progress.done();
  }
}

/** The documents whose working-tree text (at the checkout's top level) differs from the commit `sha`. */
async function workingTreeDiffers(
  git: Git,
  sha: string,
  blobs?: ReadonlyMap<string, string>,
): Promise<string[]> {
  const top = await git.probe(['rev-parse', '--show-toplevel']);
  if (top.exitCode !== 0 || top.stdout.trim() === '') return [];
  return documentsDiffer(git, top.stdout.trim(), sha, blobs);
}

export function driftWarning(differs: readonly string[], base: string): string {
  const verb = differs.length === 1 ? 'differs' : 'differ';
  return `warning: this dry run acted on ${base} on the origin; the working tree's ${differs.join(' and ')} ${verb} from it (${COMMIT_HINT})`;
}

export function registerTick(program: Command): void {
  program
    .command('tick')
    .description('one scheduler tick: reconcile, select, claim and dispatch')
    .option('--dir <dir>', 'the target repository checkout', '.')
    .addOption(new Option('--forge <kind>', 'where pull requests live').choices(FORGES).default('local'))
    .option('--dry-run', 'print the per-task reasons and write nothing')
    .option('--json', 'machine-readable output')
    .action(async (opts: { dir: string; forge: ForgeKind; dryRun?: boolean; json?: boolean }) => {
      await runTick(opts, processOutput(Boolean(opts.json)));
    });
}
