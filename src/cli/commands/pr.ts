import { type Command, InvalidArgumentError } from 'commander';
import type { PullRequest } from '../../forge/forge.js';
import { LocalForge, type MergeResult } from '../../forge/local.js';
import type { PullRecord } from '../../forge/pull-records.js';
import { type Output, processOutput } from '../output.js';
import { userFacing } from '../user-errors.js';
import { runPrDiff, runPrShow } from './pr-review.js';

/**
 * `leviathan pr list|merge N|close N`: the human review step on the local forge (SPEC §5.1). Merging here is
 * the only path that writes the base branch, and only because a human asked for it.
 */

export interface PrContext {
  dir: string;
  out: Output;
  /** For tests: the forge's clock and an origin token. */
  now?: () => Date;
  token?: string;
}

function forgeOf(ctx: PrContext): LocalForge {
  return new LocalForge({
    dir: ctx.dir,
    ...(ctx.now ? { now: ctx.now } : {}),
    ...(ctx.token ? { token: ctx.token } : {}),
  });
}

/** `N` must be a positive integer; anything else is bad usage (exit 2). */
export function parsePullNumber(value: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(value)) {
    throw new InvalidArgumentError(`expected a pull request number, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** `2026-11-26T10:00:00.000Z` → `2026-11-26 10:00Z`: enough to order by eye, short enough for a table. */
function shortTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z`;
}

/** The `pr list` table: #, state, branch, title, updated. */
export function formatPullTable(pulls: readonly PullRecord[]): string[] {
  if (pulls.length === 0) return ['no pull requests'];
  const rows = [
    ['#', 'STATE', 'BRANCH', 'TITLE', 'UPDATED'],
    ...pulls.map((p) => [
      String(p.number),
      p.draft && p.state === 'open' ? 'draft' : p.state,
      p.head,
      p.title,
      shortTime(p.updated_at),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export async function runPrList(ctx: PrContext): Promise<PullRecord[]> {
  const pulls = await userFacing(() => forgeOf(ctx).allPulls());
  if (ctx.out.json) ctx.out.out(JSON.stringify({ pulls }));
  else for (const line of formatPullTable(pulls)) ctx.out.out(line);
  return pulls;
}

export async function runPrMerge(ctx: PrContext, pullNumber: number): Promise<MergeResult> {
  const result = await userFacing(() => forgeOf(ctx).merge(pullNumber));
  const { pull, mergeCommit } = result;
  if (ctx.out.json) ctx.out.out(JSON.stringify({ merged: true, pull, merge_commit: mergeCommit }));
  else ctx.out.out(`merged #${pull.number} (${pull.head} → ${pull.base}) as ${mergeCommit.slice(0, 12)}`);
  return result;
}

export async function runPrClose(ctx: PrContext, pullNumber: number): Promise<PullRequest> {
  const pull = await userFacing(() => forgeOf(ctx).close(pullNumber));
  if (ctx.out.json) ctx.out.out(JSON.stringify({ closed: true, pull }));
  else ctx.out.out(`closed #${pull.number} (${pull.head}) without merging`);
  return pull;
}

interface CommonOptions {
  dir: string;
  json?: boolean;
}

function common(command: Command): Command {
  return command
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--json', 'machine-readable output');
}

function ctxOf(opts: CommonOptions): PrContext {
  return { dir: opts.dir, out: processOutput(Boolean(opts.json)) };
}

export function registerPr(program: Command): void {
  const pr = program
    .command('pr')
    .description('local forge only: review pull requests (list, show, diff, merge, close)');
  common(pr.command('list').description('list the pull requests of the local forge')).action(
    async (opts: CommonOptions) => {
      await runPrList(ctxOf(opts));
    },
  );
  common(
    pr
      .command('show')
      .description('pull request N: state, branches, title, body and the files it changes')
      .argument('<N>', 'pull request number', parsePullNumber),
  ).action(async (n: number, opts: CommonOptions) => {
    await runPrShow(ctxOf(opts), n);
  });
  common(
    pr
      .command('diff')
      .description("pull request N's patch against its base")
      .argument('<N>', 'pull request number', parsePullNumber),
  ).action(async (n: number, opts: CommonOptions) => {
    await runPrDiff(ctxOf(opts), n);
  });
  common(
    pr
      .command('merge')
      .description('merge pull request N into its base branch (git merge --no-ff), as you')
      .argument('<N>', 'pull request number', parsePullNumber),
  ).action(async (n: number, opts: CommonOptions) => {
    await runPrMerge(ctxOf(opts), n);
  });
  common(
    pr
      .command('close')
      .description('close pull request N without merging')
      .argument('<N>', 'pull request number', parsePullNumber),
  ).action(async (n: number, opts: CommonOptions) => {
    await runPrClose(ctxOf(opts), n);
  });
}
