/**
 * One atomic push of several refs, each with its lease, and the reading of its answer: which leases were
 * stale (decide again and retry), what landed after a cut connection, and what the origin refused.
 */
import { backoffDelay, sleep } from './cas-backoff.js';
import { type Git, gitMessage } from './git.js';
import { noteRemoteTip, parseListing } from './remote-tips.js';

/** A ref pushed with a lease: it lands only if the ref is still at `expected` (null: absent). */
export interface LeasedRef {
  ref: string;
  commit: string;
  expected: string | null;
}

/** The origin cannot push several refs atomically (`pushLeased` with `atomicOnly`): nothing was pushed. */
export class AtomicUnsupportedError extends Error {
  override readonly name = 'AtomicUnsupportedError';
  constructor(where: string) {
    super(`${where} does not support atomic pushes; nothing was pushed`);
  }
}

/**
 * How often a ref transaction that failed with nothing moved is pushed again: another writer held a ref's
 * lock (its own push in progress), so a moment later the lease is either good or plainly stale.
 */
const TRANSIENT_TRIES = 4;
const TRANSIENT_BASE_MS = 40;

/**
 * The refs of `leases` a porcelain push output reports as stale: lease lost, or (a store ref, every one
 * after the first unless `firstIsStore`) already at that commit.
 */
function pushedStale(stdout: string, leases: readonly LeasedRef[], firstIsStore = false): string[] {
  const stale: string[] = [];
  for (const [i, l] of leases.entries()) {
    const line = stdout.split('\n').find((x) => x.includes(`:${l.ref}\t`));
    if (!line) continue;
    const summary = line.split('\t')[2] ?? '';
    if (line.startsWith('!') && /stale info|fetch first|non-fast-forward|already exists/i.test(summary))
      stale.push(l.ref);
    // A store ref already at this very commit was published by another writer (see RefStore.push).
    else if (line.startsWith('=') && (i > 0 || firstIsStore)) stale.push(l.ref);
  }
  return stale;
}

/**
 * One atomic push of `leases` to `url` with `git` (which finds the commits), each ref only if it is still at
 * its `expected` tip (null: absent). Returns the refs whose lease was stale (then nothing landed; empty:
 * everything landed); throws for any other failure. After a cut connection the origin is asked where the
 * refs are, so a push that landed is never reported as failed; a ref transaction that failed with nothing
 * moved (a lock held by a concurrent push) is pushed again. An origin without atomic pushes gets them one
 * by one, in order, unless `atomicOnly` (then `AtomicUnsupportedError`, nothing pushed).
 */
export async function pushLeased(
  git: Git,
  url: string,
  leases: readonly LeasedRef[],
  atomicOnly = false,
): Promise<{ stale: string[] }> {
  const push = async (some: readonly LeasedRef[], atomic: boolean) =>
    git.run(
      [
        'push',
        '--porcelain',
        '--no-verify',
        '--no-signed',
        ...(atomic ? ['--atomic'] : []),
        ...some.map((l) => `--force-with-lease=${l.ref}:${l.expected ?? ''}`),
        url,
        ...some.map((l) => `${l.commit}:${l.ref}`),
      ],
      { allowFailure: true },
    );
  for (let tries = 1; ; tries += 1) {
    let r = await push(leases, leases.length > 1);
    let pending = leases;
    if (r.exitCode !== 0 && /does not support --atomic/i.test(r.stderr)) {
      if (atomicOnly) throw new AtomicUnsupportedError('the origin');
      // One by one: the first (the branch) decides; a later stale lease leaves the earlier refs pushed.
      for (const lease of leases) {
        pending = [lease];
        r = await push(pending, false);
        if (r.exitCode !== 0 || pushedStale(r.stdout, pending, lease !== leases[0]).length > 0) break;
      }
    }
    const stale = pushedStale(r.stdout, pending, pending[0] !== leases[0]);
    if (stale.length > 0) return { stale };
    if (r.exitCode === 0) {
      for (const l of leases) noteRemoteTip(url, l.ref, l.commit);
      return { stale: [] };
    }
    // The ref that was refused for a reason of its own (a hook, a protection), not one an atomic push
    // dragged down with it (the client's "atomic push failed", the server's "atomic push failure" and
    // "atomic transaction failed").
    const rejections = r.stdout.split('\n').filter((l) => l.startsWith('!'));
    const rejected = rejections.find((l) => !/atomic (push|transaction) fail/i.test(l.split('\t')[2] ?? ''));
    if (rejected) throw new Error(`the origin rejected the push: ${rejected.split('\t').slice(1).join(' ')}`);
    const now = await git.run(['ls-remote', url, ...leases.map((l) => l.ref)], { allowFailure: true });
    const at = parseListing(now.stdout, ['refs/']);
    if (now.exitCode === 0 && leases.every((l) => at.get(l.ref) === l.commit)) {
      for (const l of leases) noteRemoteTip(url, l.ref, l.commit);
      return { stale: [] };
    }
    // The server's ref transaction failed as a whole (another writer moved a ref between its lease check and
    // its locks, which git reports only on stderr): the refs no longer where their lease said are stale.
    if (now.exitCode === 0 && rejections.length > 0) {
      const moved = pending.filter((l) => (at.get(l.ref) ?? null) !== l.expected).map((l) => l.ref);
      if (moved.length > 0) return { stale: moved };
      if (tries < TRANSIENT_TRIES) {
        await sleep(TRANSIENT_BASE_MS + backoffDelay(tries, TRANSIENT_BASE_MS, 1000));
        continue;
      }
    }
    throw new Error(
      `the push to ${leases.map((l) => l.ref).join(' and ')} failed${now.exitCode === 0 ? ' and did not land' : ''}: ${gitMessage(r.stderr)}`,
    );
  }
}
