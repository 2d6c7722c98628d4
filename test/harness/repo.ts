/**
 * Repositories for integration tests: a bare origin with an initial commit, and clones of it.
 *
 *   const root = await makeTempDir('store');
 *   const bare = await createBareRepo(join(root, 'origin.git'), { files: { 'README.md': '# hi\n' } });
 *   const work = await cloneRepo(bare, join(root, 'work'));            // or cloneRepo(server.url('x'), …)
 *   await git(work, ['status', '--porcelain']);
 */
import { execFile } from 'node:child_process';
import { appendFile, chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface SeedOptions {
  /** Files of the initial commit (path → content); default a README. */
  files?: Record<string, string>;
  /** Branch of the initial commit; default `main`. */
  branch?: string;
  /** Create the repository without any commit. */
  empty?: boolean;
}

const TEST_ENV = {
  GIT_AUTHOR_NAME: 'Test User',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test User',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  LC_ALL: 'C',
};

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  /** Return stdout exactly as printed (by default the trailing newline is removed). */
  raw?: boolean;
}

/** Runs git in `cwd` and returns stdout without the trailing newline; throws with stderr on failure. */
export function git(cwd: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      { cwd, env: { ...process.env, ...TEST_ENV, ...options.env }, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`git ${args.join(' ')} failed in ${cwd}: ${stderr || error.message}`));
        else resolve(options.raw ? stdout : stdout.replace(/\n$/, ''));
      },
    );
    child.stdin?.end(options.input);
  });
}

export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `leviathan-${prefix}-`));
  // Searchable, not listable: run as root, the agent's sandbox runs as nobody and must reach what is in here.
  await chmod(dir, 0o711);
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface CommitOptions {
  /** Replace the tip instead of adding to it (like `git commit --amend`): same parents, tip's tree as base. */
  amend?: boolean;
}

/**
 * Writes one commit with `files` (path → content, or null to delete) onto `branch` of any repository (bare or
 * not) using plumbing only; the working tree and index are not touched.
 */
export async function commitFiles(
  repo: string,
  branch: string,
  files: Record<string, string | null>,
  message = 'initial commit',
  options: CommitOptions = {},
): Promise<string> {
  const index = join(tmpdir(), `leviathan-seed-index-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const env = { GIT_INDEX_FILE: index };
  try {
    const tip = await git(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]).catch(() => '');
    const parents =
      options.amend && tip
        ? (await git(repo, ['rev-parse', `${tip}^@`])).split('\n').filter(Boolean)
        : tip
          ? [tip]
          : [];
    if (tip) await git(repo, ['read-tree', tip], { env });
    // All blobs in one hash-object and every index entry in one update-index, whatever the number of files.
    const entries = Object.entries(files);
    const written = entries.filter((e): e is [string, string] => e[1] !== null);
    const oids =
      written.length > 0
        ? (
            await hashBlobs(
              repo,
              written.map(([, c]) => c),
            )
          ).values()
        : null;
    const zero = '0'.repeat(tip.length || 40);
    // Mode 0 removes an entry (works in a bare repository, unlike --force-remove).
    const info = entries.map(([path, content]) =>
      content === null ? `0 ${zero}\t${path}\n` : `100644 ${oids?.next().value}\t${path}\n`,
    );
    if (info.length > 0)
      await git(repo, ['update-index', '--add', '--index-info'], { env, input: info.join('') });
    const tree = await git(repo, ['write-tree'], { env });
    const commit = await git(repo, [
      'commit-tree',
      tree,
      ...parents.flatMap((p) => ['-p', p]),
      '-m',
      message,
    ]);
    await git(repo, ['update-ref', `refs/heads/${branch}`, commit]);
    return commit;
  } finally {
    await rm(index, { force: true });
  }
}

/** Writes each content as a blob of `repo` with one `git hash-object`; their ids, in order. */
async function hashBlobs(repo: string, contents: string[]): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'leviathan-blobs-'));
  try {
    const paths = contents.map((_, i) => join(dir, String(i)));
    await Promise.all(contents.map((c, i) => writeFile(paths[i] as string, c)));
    const out = await git(repo, ['hash-object', '-w', '--no-filters', '--stdin-paths'], {
      input: `${paths.join('\n')}\n`,
    });
    return out.split('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The text of `path` at the tip of `branch` (bare or not), or null when absent. */
export async function readFileAt(repo: string, branch: string, path: string): Promise<string | null> {
  return git(repo, ['cat-file', 'blob', `refs/heads/${branch}:${path}`], { raw: true }).catch(() => null);
}

/**
 * Creates a bare repository at `path` configured like a forge (partial fetches allowed, pushes over HTTP
 * accepted) and, unless `empty`, seeded with one commit on `main`.
 */
export async function createBareRepo(path: string, seed: SeedOptions = {}): Promise<string> {
  const branch = seed.branch ?? 'main';
  await git(tmpdir(), ['init', '--quiet', '--bare', `--initial-branch=${branch}`, path]);
  // What three `git config` calls would write, in one append.
  await appendFile(
    join(path, 'config'),
    '[uploadpack]\n\tallowFilter = true\n\tallowAnySHA1InWant = true\n[http]\n\treceivepack = true\n',
  );
  if (!seed.empty) await commitFiles(path, branch, seed.files ?? { 'README.md': '# target\n' });
  return path;
}

/** Installs a hook (e.g. `pre-receive`) in a repository; `script` is a shell script body. */
export async function installHook(repo: string, name: string, script: string): Promise<void> {
  const gitDir = await git(repo, ['rev-parse', '--absolute-git-dir']);
  await writeFile(join(gitDir, 'hooks', name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
}

export async function removeHook(repo: string, name: string): Promise<void> {
  const gitDir = await git(repo, ['rev-parse', '--absolute-git-dir']);
  await rm(join(gitDir, 'hooks', name), { force: true });
}

export interface CloneOptions {
  /** Token for an authenticated server, sent as a header and never stored in the remote URL. */
  token?: string;
  branch?: string;
  /** `--depth` for the clone (Actions' checkout uses 1). */
  depth?: number;
}

/** Clones `url` into `dir` and sets a test identity; returns `dir`. */
export async function cloneRepo(url: string, dir: string, options: CloneOptions = {}): Promise<string> {
  const auth = options.token
    ? [
        '-c',
        `http.extraheader=AUTHORIZATION: basic ${Buffer.from(`x-access-token:${options.token}`).toString('base64')}`,
      ]
    : [];
  const extra = [
    ...(options.branch ? ['--branch', options.branch] : []),
    ...(options.depth ? ['--depth', String(options.depth)] : []),
  ];
  // `clone --config` writes the identity into the new repository's config (`-c` before `clone` does not).
  const identity = ['--config', 'user.name=Test User', '--config', 'user.email=test@example.com'];
  await git(tmpdir(), [...auth, 'clone', '--quiet', ...identity, ...extra, url, dir]);
  return dir;
}

/** A non-bare repository with one commit and no remote. */
export async function initRepo(dir: string, seed: SeedOptions = {}): Promise<string> {
  const branch = seed.branch ?? 'main';
  await git(tmpdir(), ['init', '--quiet', `--initial-branch=${branch}`, dir]);
  await git(dir, ['config', 'user.name', 'Test User']);
  await git(dir, ['config', 'user.email', 'test@example.com']);
  if (seed.empty) return dir;
  for (const [path, content] of Object.entries(seed.files ?? { 'README.md': '# target\n' })) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  }
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '--quiet', '-m', 'initial commit']);
  return dir;
}
