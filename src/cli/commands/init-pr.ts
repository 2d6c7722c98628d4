/**
 * `leviathan init --pr`: Renovate's onboarding habit. Instead of writing the files into the checkout, they go
 * in one commit on `leviathan/onboarding` off the default branch of the GitHub repository, and a pull request
 * asks a maintainer to review and merge them. The commit is built with plumbing in a throwaway bare
 * repository (no work tree, no hooks, the clean git environment), so the user's checkout is never touched;
 * the PR token pushes the branch and opens the pull when there is one, so the repository's CI runs on it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { GitHubForge, githubForgeOptionsFromEnv } from '../../forge/github.js';
import { Git } from '../../store/git.js';
import type { Output } from '../output.js';
import { assertRepository } from '../target.js';
import { type InitFile, NEXT_STEPS, refuseExisting, writeInitFiles } from './init-files.js';
import { runValidate } from './validate.js';

export const ONBOARDING_BRANCH = 'leviathan/onboarding';
const TITLE = 'Set up Leviathan';

export interface InitPrOptions {
  /** A checkout whose `origin` is the GitHub repository (`GITHUB_REPOSITORY`). */
  dir: string;
  force?: boolean;
  env: Record<string, string | undefined>;
}

export interface InitPrResult {
  number: number;
  url: string;
  branch: string;
  created: boolean;
  files: string[];
}

function pullBody(files: readonly InitFile[]): string {
  return [
    'This pull request sets up [Leviathan](https://github.com/leviathan-dev/leviathan): an autonomous',
    'backlog → pull request loop that runs in GitHub Actions.',
    '',
    '### What it adds',
    ...files.map((f) => `- \`${f.path}\``),
    '',
    'Nothing runs until this is merged, and no task runs until a human marks it `ready: true` in the backlog.',
    '',
    '### After merging',
    '```',
    ...NEXT_STEPS.slice(3).map((line) => line.replace(/^ {2}/, '')),
    '```',
  ].join('\n');
}

/** Validates the rendered files exactly as `init` does, in a scratch directory. */
async function validateRendered(files: readonly InitFile[], out: Output): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'leviathan-init-'));
  try {
    await writeInitFiles(dir, files);
    await runValidate(dir, { ...out, json: false, out: () => {} });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runInitPr(files: readonly InitFile[], options: InitPrOptions, out: Output) {
  await validateRendered(files, out);
  const checkout = new Git(await assertRepository(options.dir));
  const url = await checkout.originUrl();
  if (url === null) {
    throw new UserError(
      `init --pr needs a checkout of the GitHub repository: ${options.dir} has no origin remote`,
    );
  }
  const forge = new GitHubForge(
    githubForgeOptionsFromEnv(options.env, {
      warn: (line) => out.err(`leviathan: warning: ${line}`),
    }),
  );
  const base = await forge.defaultBranch();
  const scratch = await mkdtemp(join(tmpdir(), 'leviathan-onboarding-'));
  try {
    const token = forge.pushToken() ?? forge.secrets()[0]!;
    const git = checkout.withToken(token, scratch, { GIT_DIR: scratch });
    await git.run(['init', '--quiet', '--bare', scratch]);
    await git.run(['fetch', '--quiet', '--no-tags', '--depth=1', url, `refs/heads/${base}`]);
    const baseSha = await git.output(['rev-parse', 'FETCH_HEAD^{commit}']);
    if (!options.force) {
      const present: string[] = [];
      for (const f of files) {
        const r = await git.run(['cat-file', '-e', `${baseSha}:${f.path}`], { allowFailure: true });
        if (r.exitCode === 0) present.push(`${f.path} (on ${base})`);
      }
      refuseExisting(present);
    }
    const index = { GIT_INDEX_FILE: join(scratch, 'onboarding.index') };
    await git.run(['read-tree', baseSha], { env: index });
    for (const f of files) {
      const blob = await git.output(['hash-object', '-w', '--stdin'], { input: f.text });
      await git.run(['update-index', '--add', '--cacheinfo', `100644,${blob},${f.path}`], { env: index });
    }
    const tree = await git.output(['write-tree'], { env: index });
    const commit = await git.output(['commit-tree', tree, '-p', baseSha, '-m', `${TITLE}\n`]);
    // The branch is ours: a re-run replaces what an earlier one pushed there.
    await git.run([
      'push',
      '--quiet',
      '--no-verify',
      '--force',
      url,
      `${commit}:refs/heads/${ONBOARDING_BRANCH}`,
    ]);
    const { pull, created } = await forge.upsertPull({
      branch: ONBOARDING_BRANCH,
      headSha: commit,
      base,
      title: TITLE,
      body: pullBody(files),
      draft: false,
      labels: [],
      reviewers: [],
    });
    const result: InitPrResult = {
      number: pull.number,
      url: pull.url,
      branch: ONBOARDING_BRANCH,
      created,
      files: files.map((f) => f.path),
    };
    if (out.json) out.out(JSON.stringify(result));
    else {
      for (const f of files) out.out(`committed ${f.path} on ${ONBOARDING_BRANCH}`);
      out.out(`${created ? 'opened' : 'updated'} the onboarding pull request #${pull.number}: ${pull.url}`);
      out.out('Review and merge it; its description lists the steps after that.');
    }
    return result;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`init --pr failed: ${forge.redact((error as Error).message)}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
