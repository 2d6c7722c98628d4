/**
 * What the emulator does to the real bare repository behind a pull: resolve a branch, test mergeability and
 * merge (merge commit, squash or rebase) with plumbing only, compare-and-swap on the base branch.
 */
import { git } from '../repo.js';

export type MergeMethod = 'merge' | 'squash' | 'rebase';

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Octo Human',
  GIT_AUTHOR_EMAIL: 'human@example.com',
  GIT_COMMITTER_NAME: 'GitHub',
  GIT_COMMITTER_EMAIL: 'noreply@github.com',
};

export async function branchSha(bare: string, branch: string): Promise<string | null> {
  try {
    return await git(bare, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]);
  } catch {
    return null;
  }
}

export async function fileAt(bare: string, branch: string, path: string): Promise<string | null> {
  try {
    return await git(bare, ['show', `refs/heads/${branch}:${path}`], { raw: true });
  } catch {
    return null;
  }
}

/** The tree of merging `theirs` into `ours`, or null on conflicts. */
async function mergeTree(bare: string, ours: string, theirs: string, base?: string): Promise<string | null> {
  const args = ['merge-tree', '--write-tree', ...(base ? [`--merge-base=${base}`] : []), ours, theirs];
  try {
    return (await git(bare, args)).split('\n')[0]!;
  } catch {
    return null;
  }
}

export async function mergeable(bare: string, base: string, head: string): Promise<boolean> {
  const [b, h] = [await branchSha(bare, base), await branchSha(bare, head)];
  return b !== null && h !== null && (await mergeTree(bare, b, h)) !== null;
}

async function commit(bare: string, tree: string, parents: string[], message: string): Promise<string> {
  return git(bare, ['commit-tree', tree, ...parents.flatMap((p) => ['-p', p]), '-F', '-'], {
    input: message,
    env: IDENTITY,
  });
}

/**
 * Merges `head` into `base` as GitHub's merge button does; returns the new base tip, or a reason it could
 * not (`conflict`, `moved` when `expectHead` is not the head's sha, `missing`).
 */
export async function mergeBranches(
  bare: string,
  input: {
    base: string;
    head: string;
    method: MergeMethod;
    title: string;
    message: string;
    expectHead?: string;
  },
): Promise<{ ok: true; sha: string } | { ok: false; why: 'conflict' | 'moved' | 'missing' }> {
  const base = await branchSha(bare, input.base);
  const head = await branchSha(bare, input.head);
  if (!base || !head) return { ok: false, why: 'missing' };
  if (input.expectHead && input.expectHead !== head) return { ok: false, why: 'moved' };
  let tip: string;
  if (input.method === 'rebase') {
    tip = base;
    const commits = (await git(bare, ['rev-list', '--reverse', '--no-merges', `${base}..${head}`]))
      .split('\n')
      .filter(Boolean);
    for (const c of commits) {
      const tree = await mergeTree(bare, tip, c, `${c}^`);
      if (!tree) return { ok: false, why: 'conflict' };
      tip = await commit(bare, tree, [tip], await git(bare, ['log', '-1', '--format=%B', c]));
    }
  } else {
    const tree = await mergeTree(bare, base, head);
    if (!tree) return { ok: false, why: 'conflict' };
    const parents = input.method === 'merge' ? [base, head] : [base];
    tip = await commit(bare, tree, parents, `${input.title}\n\n${input.message}`);
  }
  await git(bare, ['update-ref', `refs/heads/${input.base}`, tip, base]);
  return { ok: true, sha: tip };
}

export async function deleteBranch(bare: string, branch: string): Promise<void> {
  await git(bare, ['update-ref', '-d', `refs/heads/${branch}`]);
}
