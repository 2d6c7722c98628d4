import { ForgeError } from '../../forge/forge.js';
import { LocalForge } from '../../forge/local.js';
import type { PullRecord } from '../../forge/pull-records.js';
import { Git } from '../../store/git.js';
import { userFacing } from '../user-errors.js';
import type { PrContext } from './pr.js';

/**
 * `leviathan pr show N` and `pr diff N`: reviewing a pull request of the local forge from any clone, without
 * knowing where the records live (`refs/leviathan/pulls` is not fetched by a plain `git clone`).
 */

/** Where the pull's branches are fetched to, so reviewing never touches the user's own branches. */
const HEAD_REF = 'refs/leviathan/remotes/review-head';
const BASE_REF = 'refs/leviathan/remotes/review-base';

/** The two revisions a pull's change lies between: `from...to` (from the merge base, as a forge shows it). */
interface Range {
  from: string;
  to: string;
}

/** Fetches the pull's branches (one fetch) and returns its range; a missing branch is one clear line. */
async function pullRange(dir: string, pull: PullRecord): Promise<Range> {
  const git = new Git(dir);
  let head = `refs/heads/${pull.head}`;
  let base = `refs/heads/${pull.base}`;
  if ((await git.originUrl()) !== null) {
    const fetched = await git.run(
      [
        'fetch',
        '--quiet',
        '--no-tags',
        'origin',
        `+refs/heads/${pull.head}:${HEAD_REF}`,
        `+refs/heads/${pull.base}:${BASE_REF}`,
      ],
      { allowFailure: true },
    );
    if (fetched.exitCode !== 0) {
      throw new ForgeError(
        `pull #${pull.number}: could not fetch ${pull.head} and ${pull.base} from the origin: ${fetched.stderr.trim().replace(/\s*\n\s*/g, ' ')}`,
        'read',
      );
    }
    head = HEAD_REF;
    base = BASE_REF;
  }
  // The commit Leviathan judged when the record names it; once merged, the base as it was before the merge.
  const to = pull.head_sha ?? head;
  const from = pull.state === 'merged' && pull.merge_commit ? `${pull.merge_commit}^1` : base;
  return { from, to };
}

async function diffOf(dir: string, range: Range, args: string[]): Promise<string> {
  return new Git(dir).output(['diff', '--no-color', '--no-ext-diff', ...args, `${range.from}...${range.to}`]);
}

function forgeOf(ctx: PrContext): LocalForge {
  return new LocalForge({ dir: ctx.dir, ...(ctx.token ? { token: ctx.token } : {}) });
}

export interface PullShow {
  pull: PullRecord;
  /** `git diff --stat` of the change. */
  stat: string;
}

/** `pr show N`: the record (state, branches, title, body, comments) and the files it changes. */
export async function runPrShow(ctx: PrContext, pullNumber: number): Promise<PullShow> {
  const pull = await userFacing(() => forgeOf(ctx).getPull(pullNumber));
  const range = await userFacing(() => pullRange(ctx.dir, pull));
  const stat = await userFacing(() => diffOf(ctx.dir, range, ['--stat']));
  if (ctx.out.json) {
    ctx.out.out(JSON.stringify({ pull, stat }));
    return { pull, stat };
  }
  const state = pull.draft && pull.state === 'open' ? 'draft' : pull.state;
  const lines = [
    `#${pull.number} ${state}: ${pull.title}`,
    `${pull.head} → ${pull.base}${pull.head_sha ? ` at ${pull.head_sha.slice(0, 12)}` : ''}; created ${pull.created_at}${pull.merged_at ? `; merged ${pull.merged_at}` : ''}${pull.closed_at && !pull.merged_at ? `; closed ${pull.closed_at}` : ''}`,
    ...(pull.labels.length ? [`labels: ${pull.labels.join(', ')}`] : []),
    '',
    pull.body.trimEnd(),
    '',
    ...pull.comments.map((c) => `comment ${c.created_at}: ${c.body}`),
    stat.trimEnd() || '(no changes)',
    '',
    `the whole change: leviathan pr diff ${pull.number}${pull.state === 'open' ? `; then leviathan pr merge ${pull.number} or pr close ${pull.number}` : ''}`,
  ];
  for (const line of lines) ctx.out.out(line);
  return { pull, stat };
}

/** `pr diff N`: the pull's patch against its base (from the merge base, as a forge shows it). */
export async function runPrDiff(ctx: PrContext, pullNumber: number): Promise<string> {
  const pull = await userFacing(() => forgeOf(ctx).getPull(pullNumber));
  const range = await userFacing(() => pullRange(ctx.dir, pull));
  const patch = await userFacing(() => diffOf(ctx.dir, range, []));
  if (ctx.out.json) ctx.out.out(JSON.stringify({ number: pull.number, diff: patch }));
  else ctx.out.out(patch.trimEnd() || '(no changes)');
  return patch;
}
