import type { Git } from '../store/git.js';

/**
 * Branch work for an attempt, kept apart from pull-request work (as peter-evans/create-pull-request does).
 * Leviathan pushes only its own branches (SPEC §1.2); `assertOwnBranch` enforces that at the one place
 * where pushes happen.
 */

const OWN_BRANCH = /^(leviathan-wip\/[^\s]+|leviathan-events)$/;
/**
 * What task ids, attempt ids and branch prefixes are made of. Anything else (`:`, whitespace, `~^?*[\\`, `@{`)
 * could turn the `<commit>:refs/heads/<branch>` refspec into something other than one of our branches.
 */
const SAFE_NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export class ForbiddenPushError extends Error {
  override readonly name = 'ForbiddenPushError';
}

export function assertOwnBranch(branch: string, prefix: string, base: string): void {
  const own = (branch.startsWith(prefix) && branch.length > prefix.length) || OWN_BRANCH.test(branch);
  const safe = SAFE_NAME.test(branch) && !branch.includes('..') && !branch.startsWith('-');
  if (!own || !safe || branch === base) {
    throw new ForbiddenPushError(`refusing to push to ${branch}: Leviathan pushes only its own branches`);
  }
}

/** Creates a commit of `tree` on `parent` without touching any ref, index or working tree. */
export async function commitTree(git: Git, tree: string, parent: string, message: string): Promise<string> {
  return git.output(['commit-tree', tree, '-p', parent, '-F', '-'], { input: message });
}

/** A commit on top of `parent` that replaces one file's content, built in a throwaway index. */
export async function commitFileChange(
  git: Git,
  parent: string,
  path: string,
  content: string,
  message: string,
  tmpIndex: string,
): Promise<string> {
  const env = { GIT_INDEX_FILE: tmpIndex };
  await git.run(['read-tree', parent], { env });
  const blob = await git.output(['hash-object', '-w', '--stdin'], { input: content });
  await git.run(['update-index', '--add', '--cacheinfo', `100644,${blob},${path}`], { env });
  const tree = await git.output(['write-tree'], { env });
  return commitTree(git, tree, parent, message);
}

/** Pushes a commit to one of Leviathan's own branches on origin, replacing what an earlier attempt left. */
export async function pushBranch(git: Git, commit: string, branch: string, prefix: string, base: string) {
  assertOwnBranch(branch, prefix, base);
  await git.run(['push', '--quiet', '--force', 'origin', `${commit}:refs/heads/${branch}`]);
}

export function commitMessage(title: string, task: string, attempt: string): string {
  return `${title}\n\nLeviathan-Task: ${task}\nLeviathan-Attempt: ${attempt}\n`;
}
