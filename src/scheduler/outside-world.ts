/**
 * What the origin shows of attempts, for the log's cross-check (core/log-freshness.ts): the WIP branches
 * `leviathan-wip/<task>/<attempt>`, listed with one `ls-remote` (no objects fetched).
 */
import { UserError } from '../core/errors.js';
import { logBehindOutside } from '../core/log-freshness.js';
import type { ObservedPull } from '../core/reconcile.js';
import type { State } from '../core/state-types.js';
import type { Git } from '../store/git.js';

/** The WIP branches on the origin (or in the repository itself when it has no origin), without `refs/heads/`. */
export async function originWipBranches(git: Git): Promise<Set<string>> {
  const remote = (await git.originUrl()) ? 'origin' : '.';
  const r = await git.run(['ls-remote', '--heads', remote, 'refs/heads/leviathan-wip/*'], {
    allowFailure: true,
  });
  if (r.exitCode !== 0) {
    const why = r.stderr.trim().split('\n').pop() ?? `exit ${r.exitCode}`;
    throw new UserError(`cannot list the WIP branches on the origin: ${why}`);
  }
  return new Set(
    r.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => (line.split('\t')[1] ?? '').replace(/^refs\/heads\//, ''))
      .filter(Boolean),
  );
}

/**
 * Fails closed (one line) when the log is behind what the forge and the origin name. A writer may have moved
 * the log on between the read and the listing (its attempt and then its branch or PR): so a finding is read
 * again from the log's new tip before it counts: 'ok' when it passed, 'moved' when only the re-read passed
 * (decide again from a fresh read).
 */
export async function assertLogNotBehind(
  state: State,
  pulls: readonly ObservedPull[],
  wipBranches: ReadonlySet<string> | null,
  branchPrefix: string,
  reread: () => Promise<State>,
): Promise<'ok' | 'moved'> {
  if (!logBehindOutside(state, pulls, wipBranches, branchPrefix)) return 'ok';
  const again = await reread();
  const still = logBehindOutside(again, pulls, wipBranches, branchPrefix);
  if (still) throw new UserError(`event log rolled back: ${still}`);
  return 'moved';
}
