/**
 * Small stand-ins for the third-party actions our workflows use, doing what the real ones do for us:
 * checkout clones from the git server (ref, depth, token, `persist-credentials`), the artifact actions keep
 * files per run, create-github-app-token mints a token the API emulator accepts as an installation token.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface StandInContext {
  inputs: Record<string, string>;
  workspace: string;
  /** This run's artifact store. */
  artifacts: string;
  /** The job's token (`github.token`). */
  jobToken: string;
  repository: string;
  ref: string;
  cloneUrl: (repository: string) => string;
  mintAppToken?: (inputs: Record<string, string>) => Promise<string> | string;
  log: (line: string) => void;
}

export type StandIn = (ctx: StandInContext) => Promise<Record<string, string>>;

function basicHeader(token: string): string {
  return `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

const checkout: StandIn = async (ctx) => {
  const repository = ctx.inputs.repository || ctx.repository;
  const url = ctx.cloneUrl(repository);
  const token = ctx.inputs.token || ctx.jobToken;
  const depth = Number(ctx.inputs['fetch-depth'] ?? '1');
  const ref = ctx.inputs.ref || ctx.ref;
  const dir = resolve(ctx.workspace, ctx.inputs.path || '.');
  await mkdir(dir, { recursive: true });
  const git = (args: string[]) => run('git', args, { cwd: dir });
  const auth = ['-c', `http.extraheader=${basicHeader(token)}`];
  await git(['init', '--quiet']);
  await git(['remote', 'add', 'origin', url]);
  const refspec = /^[0-9a-f]{40}$/.test(ref)
    ? ref
    : `+${ref.startsWith('refs/') ? ref : `refs/heads/${ref}`}:refs/remotes/origin/${ref.replace(/^refs\/heads\//, '')}`;
  await run(
    'git',
    [...auth, 'fetch', '--quiet', '--no-tags', ...(depth > 0 ? [`--depth=${depth}`] : []), 'origin', refspec],
    {
      cwd: dir,
    },
  );
  await git([
    'checkout',
    '--quiet',
    '--force',
    /^[0-9a-f]{40}$/.test(ref) ? ref : `refs/remotes/origin/${ref.replace(/^refs\/heads\//, '')}`,
  ]);
  if (!/^[0-9a-f]{40}$/.test(ref)) {
    await git(['checkout', '--quiet', '-B', ref.replace(/^refs\/heads\//, '')]);
  }
  // The real action leaves the token in the local git config unless told not to.
  if ((ctx.inputs['persist-credentials'] ?? 'true') !== 'false') {
    await git(['config', '--local', `http.${new URL(url).origin}/.extraheader`, basicHeader(token)]);
  }
  ctx.log(`checked out ${repository}@${ref} (depth ${depth || 'all'})`);
  return {};
};

const uploadArtifact: StandIn = async (ctx) => {
  const name = ctx.inputs.name || 'artifact';
  const target = join(ctx.artifacts, name);
  const paths = (ctx.inputs.path ?? '')
    .split('\n')
    .map((p) => p.trim())
    .filter(Boolean);
  let copied = 0;
  for (const p of paths) {
    const source = resolve(ctx.workspace, p);
    const found = await stat(source).catch(() => null);
    if (!found) continue;
    await mkdir(target, { recursive: true });
    await cp(source, found.isDirectory() ? target : join(target, basename(source)), {
      recursive: true,
      verbatimSymlinks: true,
    });
    copied++;
  }
  if (copied === 0 && (ctx.inputs['if-no-files-found'] ?? 'warn') === 'error') {
    throw new Error(`upload-artifact: no files found at ${paths.join(', ')}`);
  }
  ctx.log(`uploaded artifact ${name} (${copied} path(s))`);
  return { 'artifact-id': name };
};

const downloadArtifact: StandIn = async (ctx) => {
  const name = ctx.inputs.name;
  const dir = resolve(ctx.workspace, ctx.inputs.path || '.');
  const source = join(ctx.artifacts, name ?? '');
  const exists = await readdir(source).catch(() => null);
  if (!exists) throw new Error(`download-artifact: artifact ${name} not found`);
  await mkdir(dir, { recursive: true });
  await cp(source, dir, { recursive: true, verbatimSymlinks: true });
  ctx.log(`downloaded artifact ${name} to ${dir}`);
  return { 'download-path': dir };
};

const createAppToken: StandIn = async (ctx) => {
  if (!ctx.mintAppToken)
    throw new Error('create-github-app-token: this test gave the runner no App to mint tokens for');
  const token = await ctx.mintAppToken(ctx.inputs);
  ctx.log(`::add-mask::${token}`);
  return { token };
};

/** By `owner/name` of a `uses:`; anything not here (and not ours) fails the run. */
export const STAND_INS: Record<string, StandIn> = {
  'actions/checkout': checkout,
  'actions/upload-artifact': uploadArtifact,
  'actions/download-artifact': downloadArtifact,
  'actions/create-github-app-token': createAppToken,
  'actions/setup-node': async () => ({}),
};
