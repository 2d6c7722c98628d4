import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../../core/errors.js';
import { resolveSandbox, SandboxUnavailableError } from '../../executor/sandbox.js';
import { Git } from '../../store/git.js';
import { DEMO_BACKLOG, DEMO_CONFIG, DEMO_README, DEMO_UNSANDBOXED } from './sample.js';

export interface Sandbox {
  root: string;
  /** The bare repository that plays the forge's remote. */
  origin: string;
  /** The maintainer's clone, where every command runs. */
  clone: string;
  /** Why the sample tasks run without a sandbox (`executor.sandbox: none`), when no sandbox works here. */
  unsandboxed?: string;
}

/** null when `executor.sandbox: auto` works on this machine, else why not. */
async function noSandboxReason(): Promise<string | null> {
  try {
    await resolveSandbox({ mode: 'auto' });
    return null;
  } catch (error) {
    if (error instanceof SandboxUnavailableError) return error.message;
    throw error;
  }
}

/** A bare origin on `main` and a clone of it holding the demo's backlog, config and README. */
export async function createSandbox(keep?: string): Promise<Sandbox> {
  let root: string;
  if (keep) {
    root = resolve(keep);
    await mkdir(root, { recursive: true });
    const entries = await readdir(root);
    if (entries.length > 0) throw new UserError(`--keep ${keep}: the directory must be empty or new`);
  } else {
    root = await mkdtemp(join(tmpdir(), 'leviathan-demo-'));
  }
  const origin = join(root, 'origin.git');
  const clone = join(root, 'repo');
  const top = new Git(root);
  await top.run(['init', '--quiet', '--bare', '--initial-branch=main', origin]);
  await top.run(['clone', '--quiet', origin, clone]);
  await mkdir(join(clone, '.leviathan'), { recursive: true });
  await mkdir(join(clone, 'docs'), { recursive: true });
  await writeFile(join(clone, 'README.md'), DEMO_README);
  await writeFile(join(clone, 'docs', 'index.md'), '# Docs\n');
  const unsandboxed = await noSandboxReason();
  await writeFile(
    join(clone, '.leviathan', 'config.yaml'),
    unsandboxed === null ? DEMO_CONFIG : `${DEMO_CONFIG}${DEMO_UNSANDBOXED}`,
  );
  await writeFile(join(clone, '.leviathan', 'backlog.yaml'), DEMO_BACKLOG);
  const git = new Git(clone);
  await git.run(['checkout', '--quiet', '-B', 'main']);
  await git.run(['add', '-A']);
  await git.run([
    '-c',
    'user.name=Demo Maintainer',
    '-c',
    'user.email=maintainer@example.test',
    'commit',
    '--quiet',
    '-m',
    'Initial commit with a Leviathan backlog',
  ]);
  await git.run(['push', '--quiet', 'origin', 'main']);
  return { root, origin, clone, ...(unsandboxed !== null ? { unsandboxed } : {}) };
}
