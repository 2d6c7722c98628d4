import { BranchPushError, type CarriedPush, type LeasedRef } from '../forge/forge.js';
import type { Git } from '../store/git.js';
import { AtomicUnsupportedError } from '../store/leased-push.js';
import type { PrivateRepo, PushTarget } from '../store/private-repo.js';

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

/** A branch push of an attempt is to one of Leviathan's own branches and a ref name git accepts. */
export async function checkOwnBranch(
  repo: PrivateRepo,
  branch: string,
  prefix: string,
  base: string,
): Promise<void> {
  assertOwnBranch(branch, prefix, base);
  const valid = await repo.git.run(['check-ref-format', `refs/heads/${branch}`], { allowFailure: true });
  if (valid.exitCode !== 0) throw new Error(`${branch} is not a valid branch name for git; nothing pushed`);
}

/**
 * The PR branch's push for the forge to carry (`PullInput.carry`): checked as every push of an attempt is,
 * then pushed from `repo` by SHA with its lease (`expected`, null: absent), with the refs the forge adds
 * (each leased) in the same atomic push. A stale branch lease or a failed push is a `BranchPushError`.
 */
export async function carriedPush(
  repo: PrivateRepo,
  target: PushTarget,
  push: {
    branch: string;
    commit: string;
    expected: string | null;
    prefix: string;
    base: string;
    token?: string;
  },
): Promise<CarriedPush> {
  await checkOwnBranch(repo, push.branch, push.prefix, push.base);
  const branch: LeasedRef = {
    ref: `refs/heads/${push.branch}`,
    commit: push.commit,
    expected: push.expected,
  };
  return {
    url: target.url,
    push: async (refs, objects, _pull, atomicOnly) => {
      let stale: string[];
      try {
        ({ stale } = await repo.pushLeased(target, [branch, ...refs], objects, push.token, atomicOnly));
      } catch (error) {
        if (error instanceof AtomicUnsupportedError) throw error;
        throw new BranchPushError(`pushing ${push.branch} failed: ${(error as Error).message}`);
      }
      if (stale.includes(branch.ref))
        throw new BranchPushError(
          `${push.branch} moved on the origin since this attempt looked (its lease was lost); nothing was pushed`,
        );
      return { landed: stale.length === 0, stale };
    },
  };
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
