import { BACKLOG_FILE, CONFIG_FILE } from '../core/documents.js';
import type { Git } from '../store/git.js';
import { readRepoFile } from './repo-files.js';

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

/** The documents whose text in `dir` differs from the text at `rev`. */
export async function documentsDiffer(git: Git, dir: string, rev: string): Promise<string[]> {
  const differs: string[] = [];
  for (const file of [BACKLOG_FILE, CONFIG_FILE]) {
    const [worktree, committed] = await Promise.all([readRepoFile(dir, file), git.readFile(rev, file)]);
    if (worktree !== committed) differs.push(file);
  }
  return differs;
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
