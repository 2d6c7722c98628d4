import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ulid } from 'ulid';
import { UserError } from '../core/errors.js';
import type { RunContext } from '../core/run-context.js';
import type { Forge } from '../forge/forge.js';
import { LocalForge, type LocalForgeOptions } from '../forge/local.js';
import { EventLog } from '../store/event-log.js';
import { Git } from '../store/git.js';
import { sealerFromEnv } from '../store/log-seal.js';

export type ForgeKind = 'local' | 'github';

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

export async function openTarget(options: TargetOptions): Promise<Target & { forge: LocalForge }> {
  if (options.forge === 'github') {
    throw new UserError(
      'the github forge is not available from the CLI yet; use --forge local (the default)',
    );
  }
  const dir = resolve(options.dir);
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new UserError(`not a directory: ${options.dir}`);
  const git = new Git(dir);
  const inside = await git.run(['rev-parse', '--git-dir'], { allowFailure: true });
  if (inside.exitCode !== 0)
    throw new UserError(`not a git repository: ${options.dir} (run 'git init' first)`);
  const ctx = cliContext(options.progress, options.now);
  const forge = new LocalForge({
    dir,
    now: ctx.now,
    ...(options.dispatch ? { dispatch: options.dispatch } : {}),
  });
  return { dir, git, events: new EventLog({ dir, sealer: sealerFromEnv() }), forge, ctx };
}

/**
 * Runs `fn` in a throwaway clone of the target's origin (or of the target itself when it has no remote), so
 * a worker never touches the user's working tree, index or current branch.
 */
export async function withScratchClone<T>(target: Target, fn: (clone: Target) => Promise<T>): Promise<T> {
  const source = await cloneSource(target);
  const dir = await mkdtemp(join(tmpdir(), 'leviathan-work-'));
  try {
    await new Git(tmpdir()).run(['clone', '--quiet', '--no-checkout', source, dir]);
    const git = new Git(dir);
    const forge = new LocalForge({ dir, now: target.ctx.now });
    const events = new EventLog({ dir, sealer: sealerFromEnv() });
    return await fn({ dir, git, events, forge, ctx: target.ctx });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
