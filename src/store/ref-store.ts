/**
 * A small file store kept on one git ref, shared by concurrent writers through compare-and-swap.
 *
 * The files live in the commits of `ref` on the repository's remote (`origin` by default). Readers fetch only
 * that ref, shallow (`--depth=1`) and without blobs (`--filter=blob:none`; with `rootBlobs`, only the root's
 * blobs, `--filter=tree:2`), then fetch just the blobs they read and lack; so reading a few files costs the
 * same however large the history or the tree grows. Writers build a
 * commit with plumbing (hash-object, a temporary index, write-tree, commit-tree) and push it with
 * `--force-with-lease=<ref>:<parent>`: the push lands only if the ref still points at the parent the change
 * was computed from. That push is the compare-and-swap; `update()` wraps it in a retry loop.
 *
 * Nothing here touches the user's checkout: with a remote, all objects and the private tracking ref
 * (`refs/leviathan/remotes/<remote>/<ref without refs/>`) live in a private bare repository inside the git dir
 * (`.git/leviathan/<remote>.git`), so the user's HEAD, index, branches, config and shallow state stay exactly
 * as they were. A repository without the remote is its own store: the ref is read in place and moved with
 * `git update-ref <ref> <new> <old>`, which is the compare-and-swap there.
 *
 * Usage (a counter, refusing to go past 10):
 *
 *   const store = new RefStore({ dir: checkout, ref: 'refs/leviathan/pulls', token });
 *   const r = await store.update(async (view) => {
 *     const n = Number((await view.read('next')) ?? '1');
 *     if (n > 10) return { kind: 'refuse', reason: 'full' };
 *     return { kind: 'commit', changes: new Map([['next', `${n + 1}\n`]]), message: `next ${n + 1}`, value: n };
 *   });
 *   if (r.ok) console.log('took', r.value); else console.log('refused:', r.refused);
 *
 * `fn` may run several times (once per try) and must compute its result from the view alone. It sees either a
 * freshly fetched tip or, on the first try, the last tip this repository knew (`view.fresh === false`); a
 * commit computed from a stale view simply loses the compare-and-swap, and a `refuse` or `skip` decision is
 * only returned after it has been confirmed on a freshly fetched tip.
 */
import { join } from 'node:path';
import { backoffDelay, sleep } from './cas-backoff.js';
import type { TreeItems } from './object-writer.js';
import { buildCommit } from './ref-commit.js';
import { fetchTip } from './ref-fetch.js';
import { exclusive, readRefFile, writeRefFile } from './ref-files.js';
import {
  AUTH_FAILURE,
  authError,
  LOST_RACE,
  lastLines,
  type Mode,
  openMode,
  type TipInfo,
} from './ref-store-mode.js';
import {
  type FileChanges,
  RefStoreError,
  type RefStoreOptions,
  type RefView,
  type StorePublish,
  type UpdateDecision,
  type UpdateResult,
} from './ref-store-types.js';
import { commitInfo, emptyView, makeView } from './ref-view.js';
import { forgetRemoteTips, peekRemoteTip } from './remote-tips.js';

export class RefStore {
  readonly ref: string;
  private readonly remoteName: string;
  private readonly maxTries: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private mode: Promise<Mode> | null = null;
  /** The newest tip this instance has seen (fetched or pushed), so an update can start without git reads. */
  private memo: TipInfo | null = null;
  /** Tree and message of the last commit built, for the memo once it is pushed. */
  private built: TipInfo | null = null;
  /** Directories of commits listed completely or built here (commit → directory → entries), for `commit`. */
  private readonly dirsOf = new Map<string, Map<string, TreeItems>>();

  constructor(private readonly options: RefStoreOptions) {
    if (!/^refs\/[^\s~^:?*[\\]+$/.test(options.ref) || options.ref.includes('..')) {
      throw new RefStoreError('bad_input', `invalid ref name ${JSON.stringify(options.ref)}`);
    }
    this.ref = options.ref;
    this.remoteName = options.remote ?? 'origin';
    this.maxTries = Math.max(1, options.maxTries ?? 10);
    this.backoff = options.backoff ?? { baseMs: 25, maxMs: 2000 };
  }

  /** Where the data is read from, for messages: the remote URL (no credentials) or the local repository. */
  async location(): Promise<string> {
    return (await this.setup()).where;
  }

  /** True when the repository has the remote (reads fetch, writes push); false when it is its own store. */
  async isRemote(): Promise<boolean> {
    return (await this.setup()).remote !== null;
  }

  /**
   * Where a commit of this store can be pushed by someone else (`update`'s `publish`): the remote's URL and
   * the private repository's object directory holding the commits built here; null in local mode.
   */
  async pushSource(): Promise<{ url: string; objects: string } | null> {
    const mode = await this.setup();
    if (mode.remote === null || mode.url === null) return null;
    return { url: mode.url, objects: join(mode.lockKey, 'objects') };
  }

  /**
   * Fetches the ref's tip from the remote (nothing to fetch in local mode) and returns a view of it. `ask`:
   * from the remote itself, not skipped by this command's listing of it (which may be older than what the
   * caller saw since, e.g. an anchor another process wrote).
   */
  async fetch(ask = false): Promise<RefView> {
    const mode = await this.setup();
    if (ask && mode.url !== null) forgetRemoteTips(mode.url);
    const fetched =
      mode.remote !== null
        ? await fetchTip(mode, this.ref, this.remoteName, this.memo, this.options.rootBlobs)
        : { filtered: false };
    const filtered = fetched.filtered;
    // The listing showed the tip this instance already holds (or that the ref is absent): nothing to read.
    if (fetched.unchanged === null) {
      this.memo = null;
      return emptyView(true);
    }
    if (fetched.unchanged && this.memo?.commit === fetched.unchanged)
      return makeView(mode, this.ref, this.memo, true, this.dirsOf);
    const info = await commitInfo(mode, mode.trackingRef);
    this.memo = info ? { ...info, filtered } : null;
    return this.memo ? makeView(mode, this.ref, this.memo, true, this.dirsOf) : emptyView(true);
  }

  /** The last tip known locally, without network; null when it was never fetched (remote mode). */
  async cached(): Promise<RefView | null> {
    const mode = await this.setup();
    if (mode.remote === null) return this.fetch();
    if (this.memo) return makeView(mode, this.ref, this.memo, false, this.dirsOf);
    // Never fetched here (a new private repository): no git process to learn that. When this command's
    // listing of the origin saw the ref absent, start from nothing: the push's lease (absent) checks it.
    if ((await readRefFile(mode, mode.trackingRef)) === null)
      return mode.url !== null && peekRemoteTip(mode.url, this.ref) === null ? emptyView(false) : null;
    const info = await commitInfo(mode, mode.trackingRef);
    return info ? makeView(mode, this.ref, { ...info, filtered: true }, false, this.dirsOf) : null;
  }

  /** A view of any commit already present locally (e.g. one returned by `commit`). */
  async view(commit: string | null): Promise<RefView> {
    const mode = await this.setup();
    if (commit === null) return emptyView(true);
    const info = await commitInfo(mode, commit);
    if (!info) throw new RefStoreError('bad_repository', `commit ${commit} is not in the store`);
    return makeView(mode, this.ref, { ...info, filtered: true }, false, this.dirsOf);
  }

  /**
   * Builds a commit with `changes` applied to `parent`'s tree (an empty tree when `parent` is null), authored
   * and committed by Leviathan. Uses a temporary index file; no working tree, HEAD or branch is involved.
   * The commit is not published: pass it to `push`.
   */
  async commit(
    changes: FileChanges,
    message: string | ((tree: string) => string),
    parent: string | null,
  ): Promise<string> {
    const mode = await this.setup();
    this.built = await buildCommit(mode, changes, message, parent, this.dirsOf);
    return this.built.commit;
  }
  /**
   * Publishes `commit` as the ref's new tip if the ref is still at `parent` (null = must not exist yet).
   * Returns true when it landed, false when another writer moved the ref first (fetch and try again).
   * Throws `RefStoreError` (`push_failed`, `auth_failed`) for anything else; after a cut connection the
   * remote is asked whether the commit landed, so a push that succeeded is never reported as failed.
   */
  async push(commit: string, parent: string | null): Promise<boolean> {
    const mode = await this.setup();
    const { git } = mode;
    if (mode.remote === null) {
      const r = await git.run(['update-ref', '-m', 'leviathan store', this.ref, commit, parent ?? ''], {
        allowFailure: true,
      });
      if (r.exitCode === 0) {
        this.landed(commit);
        return true;
      }
      if (LOST_RACE.test(r.stderr)) return false;
      throw new RefStoreError('push_failed', `could not update ${this.ref}: ${lastLines(r.stderr)}`);
    }
    if (mode.url !== null) forgetRemoteTips(mode.url);
    const r = await git.run(
      [
        'push',
        '--porcelain',
        '--no-verify',
        '--no-signed',
        `--force-with-lease=${this.ref}:${parent ?? ''}`,
        mode.remote,
        `${commit}:${this.ref}`,
      ],
      { allowFailure: true },
    );
    const line = r.stdout.split('\n').find((l) => l.includes(`:${this.ref}\t`));
    // '=' (already up to date) means another writer published this very commit (same parent, tree, message
    // and second): it was not this push, so it counts as a lost race.
    if (r.exitCode === 0 && line && !line.startsWith('!') && !line.startsWith('=')) {
      await this.track(mode, commit);
      return true;
    }
    if (line?.startsWith('=')) return false;
    if (line?.startsWith('!')) {
      const summary = line.split('\t')[2] ?? '';
      if (summary.startsWith('[rejected]') || LOST_RACE.test(summary)) return false;
      throw new RefStoreError(
        'push_failed',
        `the remote rejected the push to ${this.ref} on ${mode.where}: ${summary}`,
      );
    }
    if (AUTH_FAILURE.test(r.stderr)) throw authError(mode, this.ref);
    // The connection failed mid-push: ask the remote where the ref is now.
    const now = await git.run(['ls-remote', mode.remote, this.ref], { allowFailure: true });
    if (now.exitCode === 0) {
      const oid = now.stdout.split('\t')[0]?.trim() || null;
      if (oid === commit) {
        await this.track(mode, commit);
        return true;
      }
      throw new RefStoreError(
        'push_failed',
        `push to ${this.ref} on ${mode.where} failed and did not land (${lastLines(r.stderr)}); the ref is unchanged by it`,
      );
    }
    throw new RefStoreError(
      'push_failed',
      `push to ${this.ref} on ${mode.where} failed and the remote cannot be asked whether it landed: ${lastLines(r.stderr)}`,
    );
  }

  /**
   * Read → decide → commit → push, retried on a lost race with jittered exponential backoff. See the module
   * comment for what `fn` may assume. Throws `RefStoreError('contention')` after `maxTries` lost races, and
   * whatever `fn` throws on a fresh view.
   */
  async update<T>(
    fn: (view: RefView, tryNumber: number) => Promise<UpdateDecision<T>> | UpdateDecision<T>,
    publish?: StorePublish,
  ): Promise<UpdateResult<T>> {
    let started = performance.now();
    let view = (await this.cached()) ?? (await this.fetch());
    for (let tries = 1; ; ) {
      let decision: UpdateDecision<T>;
      try {
        decision = await fn(view, tries);
      } catch (error) {
        if (view.fresh) throw error;
        view = await this.fetch();
        continue;
      }
      if (decision.kind !== 'commit') {
        // Only a decision taken on the real tip may be reported.
        if (!view.fresh) {
          view = await this.fetch();
          continue;
        }
        return decision.kind === 'skip'
          ? { ok: true, value: decision.value, commit: view.commit, committed: false, tries }
          : { ok: false, refused: decision.reason, commit: view.commit, tries };
      }
      const commit = await this.commit(decision.changes, decision.message, view.commit);
      const landed = publish
        ? await this.publishWith(publish, commit, view.commit)
        : await this.push(commit, view.commit);
      if (landed) {
        return { ok: true, value: decision.value, commit, committed: true, tries };
      }
      if (!view.fresh) {
        // Only the locally known tip was stale: not a race with anyone yet.
        started = performance.now();
        view = await this.fetch();
        continue;
      }
      if (tries >= this.maxTries) {
        throw new RefStoreError(
          'contention',
          `gave up updating ${this.ref} on ${await this.location()} after ${tries} tries: other writers kept moving it`,
        );
      }
      // The wait scales with what a try costs here (server latency, load), so contenders spread out
      // instead of burning the CPU and the server on tries that are bound to lose.
      const cost = performance.now() - started;
      await sleep(backoffDelay(tries, Math.max(this.backoff.baseMs, cost), this.backoff.maxMs));
      tries += 1;
      started = performance.now();
      view = await this.fetch();
    }
  }

  /** `push`, done by `publish` (one atomic push with other refs); remote mode only. */
  private async publishWith(publish: StorePublish, commit: string, parent: string | null): Promise<boolean> {
    const mode = await this.setup();
    if (mode.remote === null || mode.url === null) return this.push(commit, parent);
    forgetRemoteTips(mode.url);
    if (!(await publish({ ref: this.ref, commit, expected: parent }))) return false;
    await this.track(mode, commit);
    return true;
  }

  private landed(commit: string): void {
    this.memo = this.built?.commit === commit ? this.built : null;
  }

  /** Records a pushed commit as the known tip. Best effort: the next fetch corrects the tracking ref anyway. */
  private async track(mode: Mode, commit: string): Promise<void> {
    this.landed(commit);
    await exclusive(mode.lockKey, async () => {
      if (!(await writeRefFile(mode, mode.trackingRef, commit)))
        await mode.git.run(['update-ref', mode.trackingRef, commit], { allowFailure: true });
    });
  }

  // --- setup -------------------------------------------------------------------------------------------

  private setup(): Promise<Mode> {
    this.mode ??= openMode(this.options, this.ref, this.remoteName).catch((error) => {
      this.mode = null;
      throw error;
    });
    return this.mode;
  }
}
