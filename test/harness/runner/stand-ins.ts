/**
 * Small stand-ins for the third-party actions our workflows use, doing what the real ones do for us:
 * checkout clones from the git server (ref, depth, token, `persist-credentials`), the artifact actions keep
 * files per run, create-github-app-token mints a token the API emulator accepts as an installation token.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
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
  /** The step's environment (the runner's, the job's and the step's `env:`). */
  env: Record<string, string>;
  /** `runner.temp`. */
  temp: string;
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

/**
 * anthropics/claude-code-action in automation mode (a `prompt` given), as the agent recipe uses it: runs
 * `claude -p <prompt> --output-format json` with `claude_args` in the checkout with the API key, and writes
 * the execution file (the session's messages, the result object last) whose path is its `execution_file`.
 * The `claude` found first on the step's PATH is the test's stand-in agent.
 */
const claudeCodeAction: StandIn = async (ctx) => {
  const prompt = ctx.inputs.prompt ?? '';
  if (!prompt)
    throw new Error('claude-code-action: this stand-in knows automation mode only (give a prompt)');
  const key = ctx.inputs.anthropic_api_key || ctx.inputs.claude_code_oauth_token;
  if (!key) throw new Error('claude-code-action: no anthropic_api_key or claude_code_oauth_token');
  const args = (ctx.inputs.claude_args ?? '').split(/\s+/).filter(Boolean);
  const { stdout } = await run('claude', ['-p', prompt, '--output-format', 'json', ...args], {
    cwd: ctx.workspace,
    env: { ...ctx.env, ANTHROPIC_API_KEY: key },
  });
  const result = JSON.parse(stdout) as { is_error?: boolean };
  const file = join(ctx.temp, 'claude-execution-output.json');
  await writeFile(file, JSON.stringify([{ type: 'system', subtype: 'init' }, result], null, 2));
  ctx.log(`claude-code-action: ran claude (${args.join(' ')})`);
  return { conclusion: result.is_error ? 'failure' : 'success', execution_file: file };
};

/** By `owner/name` of a `uses:`; anything not here (and not ours) fails the run. */
export const STAND_INS: Record<string, StandIn> = {
  'actions/checkout': checkout,
  'actions/upload-artifact': uploadArtifact,
  'actions/download-artifact': downloadArtifact,
  'actions/create-github-app-token': createAppToken,
  'actions/setup-node': async () => ({}),
  'anthropics/claude-code-action': claudeCodeAction,
};
