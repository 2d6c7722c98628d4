import { createHash } from 'node:crypto';
import { BACKLOG_FILE, CONFIG_FILE } from '../core/documents.js';
import type { Git } from '../store/git.js';
import { readRepoBytes } from './repo-files.js';

/**
 * Where the working tree and the base branch disagree. `validate` reads the working tree while `tick` and
 * `run` act on the base branch, so a user who has not committed and pushed `.leviathan/` must be told.
 */
export interface Drift {
  /** The revision compared against, as a user would name it (`origin/main`), or null when there is none. */
  ref: string | null;
  /** The documents whose working-tree text differs from the ref's (absent on one side counts). */
  differs: string[];
}

/**
 * The documents whose bytes in `dir` differ from the file at `rev` (absent on one side counts). Compared by
 * blob id: one `ls-tree` for both, and each working-tree file hashed as git would, so a big backlog is not
 * copied out of git to be compared.
 */
export async function documentsDiffer(
  git: Git,
  dir: string,
  rev: string,
  /** The documents' blob ids at `rev` when already known (every present one): then no git process runs. */
  known?: ReadonlyMap<string, string>,
): Promise<string[]> {
  const files = [BACKLOG_FILE, CONFIG_FILE];
  const [committed, ...worktree] = await Promise.all([
    known ?? blobIds(git, rev, files),
    ...files.map((file) => readRepoBytes(dir, file)),
  ]);
  return files.filter((file, i) => {
    const id = committed.get(file);
    const bytes = worktree[i] ?? null;
    if (id === undefined || bytes === null) return id !== undefined || bytes !== null;
    return blobId(bytes, id.length === 64 ? 'sha256' : 'sha1') !== id;
  });
}

/** The blob ids of `files` (repository-relative) at `rev`; a file that is absent or not a blob is left out. */
async function blobIds(git: Git, rev: string, files: string[]): Promise<Map<string, string>> {
  const r = await git.run(['ls-tree', '-z', '--full-tree', rev, '--', ...files], { allowFailure: true });
  const ids = new Map<string, string>();
  if (r.exitCode !== 0) return ids;
  for (const entry of r.stdout.split('\0')) {
    // <mode> SP <type> SP <object> TAB <path>
    const m = /^\d+ blob ([0-9a-f]+)\t(.*)$/s.exec(entry);
    if (m) ids.set(m[2] as string, m[1] as string);
  }
  return ids;
}

/** The id git gives a blob of these bytes. */
function blobId(bytes: Buffer, format: 'sha1' | 'sha256'): string {
  return createHash(format).update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/**
 * The base branch as this clone last saw it, without touching the network: `origin/<base>` (origin's HEAD
 * when no base is configured), or the local branch in a repository without a remote.
 */
export async function localBaseRef(git: Git, baseBranch: string): Promise<string | null> {
  const hasOrigin = (await git.originUrl()) !== null;
  const candidates: string[] = [];
  if (hasOrigin) {
    if (baseBranch) candidates.push(`origin/${baseBranch}`);
    const head = await git.run(['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD'], {
      allowFailure: true,
    });
    if (head.exitCode === 0) candidates.push(head.stdout.trim());
    candidates.push('origin/main', 'origin/master');
  } else {
    if (baseBranch) candidates.push(baseBranch);
    const head = await git.run(['symbolic-ref', '--quiet', '--short', 'HEAD'], { allowFailure: true });
    if (head.exitCode === 0) candidates.push(head.stdout.trim());
  }
  for (const ref of candidates) {
    const ok = await git.run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowFailure: true });
    if (ok.exitCode === 0) return ref;
  }
  return null;
}

/** The drift of the working tree in `dir` from the base branch as last fetched (null ref: none to compare). */
export async function workingTreeDrift(git: Git, dir: string, baseBranch: string): Promise<Drift> {
  const ref = await localBaseRef(git, baseBranch);
  if (ref === null) return { ref: null, differs: [] };
  return { ref, differs: await documentsDiffer(git, dir, ref) };
}
