import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { ulid } from 'ulid';
import { UserError } from '../core/errors.js';
import { NOT_A_REPOSITORY_HINT, noSuchDirectory, notARepository } from '../core/hints.js';
import type { RunContext } from '../core/run-context.js';
import type { Forge } from '../forge/forge.js';
import { GitHubForge, githubForgeOptionsFromEnv } from '../forge/github.js';
import { LocalForge, type LocalForgeOptions } from '../forge/local.js';
import { EventLog } from '../store/event-log.js';
import { Git } from '../store/git.js';
import { sealerFromEnv } from '../store/log-seal.js';

/** Every forge the CLI can talk to: `--forge` accepts exactly these (add a forge here, in one line). */
export const FORGES = ['local', 'github'] as const;
export type ForgeKind = (typeof FORGES)[number];

/**
 * The checks every command on a repository makes first, each failure one line with one wording: `--dir`
 * names a directory, inside a git repository. Returns the repository's top level (the directory itself for a
 * bare one), so a command run from a subdirectory works on the same repository, event log and pulls as one
 * run at the top (without an origin, the repository itself is where they live).
 */
export async function assertRepository(dirOption: string): Promise<string> {
  const dir = resolve(dirOption);
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new UserError(noSuchDirectory(dirOption));
  const git = new Git(dir);
  const top = await git.run(['rev-parse', '--show-toplevel'], { allowFailure: true });
  if (top.exitCode === 0 && top.stdout.trim() !== '') return top.stdout.trim();
  // Not in a work tree: a bare repository is still one (it is its own top), anything else is not.
  const inside = await git.run(['rev-parse', '--git-dir'], { allowFailure: true });
  if (inside.exitCode !== 0) throw new UserError(notARepository(dirOption), [], 1, NOT_A_REPOSITORY_HINT);
  return dir;
}

/** Commander's parser for `--forge`: a typo is bad usage (exit 2), not a silent local run. */
export function parseForgeKind(value: string): ForgeKind {
  if (!(FORGES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${FORGES.join(', ')}, got ${value}`);
  }
  return value as ForgeKind;
}

/** `--forge` for commands that only touch the event log: it lives on the origin's git either way. */
export const LOG_FORGE_HELP = 'local or github (the event log is on the origin either way)';

/** Everything a command needs about the repository it works on. */
export interface Target {
  dir: string;
  git: Git;
  events: EventLog;
  forge: Forge;
  ctx: RunContext;
}

export interface TargetOptions {
  dir: string;
  forge?: ForgeKind;
  progress?: (message: string) => void;
  /** The local forge's dispatch hook; default: queue the request (see LocalForge). */
  dispatch?: LocalForgeOptions['dispatch'];
  now?: () => Date;
  /** Environment the GitHub forge is configured from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

export function cliContext(
  progress?: (message: string) => void,
  now: () => Date = () => new Date(),
): RunContext {
  return {
    now,
    newId: () => ulid(now().getTime()),
    actor: { kind: 'cli' },
    ...(progress ? { progress } : {}),
  };
}

/**
 * The target with the forge `--forge` names: `local` (pull records on the origin) or `github` (the REST API
 * of `GITHUB_REPOSITORY` at `GITHUB_API_URL`, with `LEVIATHAN_TOKEN`/`GITHUB_TOKEN` and the optional
 * `LEVIATHAN_PR_TOKEN`; `LEVIATHAN_WORKFLOW` names the worker workflow file).
 */
export async function openForgeTarget(options: TargetOptions): Promise<Target> {
  if (options.forge !== 'github') return openTarget(options);
  const local = await openTarget({ ...options, forge: 'local' });
  // The log's first read without the tree filter GitHub's servers refuse (see RefStoreOptions.rootBlobs).
  const events = new EventLog({ dir: local.dir, probe: local.git, sealer: sealerFromEnv() });
  const forge = new GitHubForge(
    githubForgeOptionsFromEnv(options.env ?? process.env, {
      warn: (line) => process.stderr.write(`leviathan: warning: ${line}\n`),
    }),
  );
  return { ...local, events, forge };
}

export async function openTarget(options: TargetOptions): Promise<Target & { forge: LocalForge }> {
  if (options.forge !== undefined && options.forge !== 'local') {
    throw new UserError(`this command works on the local forge only (got --forge ${options.forge})`);
  }
  const dir = await assertRepository(options.dir);
  const git = new Git(dir);
  const ctx = cliContext(options.progress, options.now);
  // One Git answers the repository questions for the forge, the log and the base-branch reads.
  const forge = new LocalForge({
    dir,
    probe: git,
    now: ctx.now,
    ...(options.dispatch ? { dispatch: options.dispatch } : {}),
  });
  // The local forge's origin is a plain git server: its first read takes the root's files in one fetch.
  const events = new EventLog({ dir, probe: git, sealer: sealerFromEnv(), rootBlobs: true });
  return { dir, git, events, forge, ctx };
}

/**
 * Runs `fn` in a throwaway clone of the target's origin (or of the target itself when it has no remote), so
 * a worker never touches the user's working tree, index or current branch.
 */
export async function withScratchClone<T>(target: Target, fn: (clone: Target) => Promise<T>): Promise<T> {
  const source = await cloneSource(target);
  const headers = await checkoutHeaders(target.git);
  const dir = await mkdtemp(join(tmpdir(), 'leviathan-work-'));
  try {
    await new Git(
      tmpdir(),
      undefined,
      {},
      headers.map(([k, v]) => `${k}=${v}`),
    ).run(['clone', '--quiet', '--no-checkout', source, dir]);
    const git = new Git(dir);
    // The clone authenticates as the checkout does (actions/checkout's extraheader), for the log and forge too.
    for (const [key, value] of headers) await git.run(['config', '--local', '--add', key, value]);
    // The GitHub forge is not tied to a checkout: the clone shares it.
    const forge =
      target.forge.kind === 'local' ? new LocalForge({ dir, now: target.ctx.now, probe: git }) : target.forge;
    return await fn({
      dir,
      git,
      events: new EventLog({ dir, probe: git, sealer: sealerFromEnv(), rootBlobs: forge.kind === 'local' }),
      forge,
      ctx: target.ctx,
    });
  } finally {
    // A process the agent left behind may still write into it: never let the clean-up replace the result.
    await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
  }
}

/** The checkout's `http.*.extraheader` settings (how actions/checkout leaves its auth), as key and value. */
async function checkoutHeaders(git: Git): Promise<Array<[string, string]>> {
  const r = await git.run(['config', '--local', '--get-regexp', '^http\\.(.*\\.)?extraheader$'], {
    allowFailure: true,
  });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const space = line.indexOf(' ');
      return [line.slice(0, space), line.slice(space + 1)] as [string, string];
    });
}

/**
 * Where the scratch clone is cloned from: origin's URL, with a relative path (`git remote add origin ../x`)
 * resolved against the checkout's top level as git itself does, since the clone runs elsewhere.
 */
async function cloneSource(target: Target): Promise<string> {
  const url = await target.git.originUrl();
  if (url === null) return target.dir;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/:]+:/.test(url) || isAbsolute(url)) return url;
  const top = await target.git.run(['rev-parse', '--show-toplevel'], { allowFailure: true });
  return resolve(top.exitCode === 0 ? top.stdout.trim() : target.dir, url);
}
