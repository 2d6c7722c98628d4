/**
 * A small file store kept on one git ref, shared by concurrent writers through compare-and-swap.
 *
 * The files live in the commits of `ref` on the repository's remote (`origin` by default). Readers fetch only
 * that ref, shallow (`--depth=1`) and without blobs (`--filter=blob:none`), then fetch just the blobs they
 * read; so reading a few files costs the same however large the history or the tree grows. Writers build a
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
import { randomBytes } from 'node:crypto';
import { mkdir, open as openFile, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { notARepository } from '../core/hints.js';
import { Git, gitMessage, LEVIATHAN_IDENTITY } from './git.js';
import { commitBody, groupListing, LooseObjectWriter, type TreeItems } from './object-writer.js';
import { companionsOf, forgetRemoteTips, peekRemoteTip, takeRemoteTip } from './remote-tips.js';

/** File path (POSIX, relative to the ref's root tree) → new content, or `null` to delete the file. */
export type FileChanges = ReadonlyMap<string, string | Buffer | null>;

export interface TreeEntry {
  /** Full path from the root, e.g. `events/2026-11-26.ndjson`. */
  path: string;
  /** Last path segment. */
  name: string;
  type: 'blob' | 'tree' | 'commit';
  oid: string;
  mode: string;
}

/** A read-only view of the files at one commit of the ref. */
export interface RefView {
  /** The commit shown; null when the ref does not exist (an empty store). */
  readonly commit: string | null;
  /** Its root tree; null for an empty store. */
  readonly tree: string | null;
  /** Its full commit message ('' for an empty store). */
  readonly message: string;
  /** True when the tip was fetched from the remote for this view; false for the last tip known locally. */
  readonly fresh: boolean;
  /** One file's text, or null when it does not exist. */
  read(path: string): Promise<string | null>;
  /** Several files' texts, fetched together; missing files map to null. */
  readMany(paths: readonly string[]): Promise<Map<string, string | null>>;
  /**
   * The entries directly inside each of `dirs` ('' = the root; none given = the root), sorted by path, in one
   * git call (a directory that is itself listed shows as its entries). Files listed here are then read
   * without another lookup.
   */
  list(...dirs: string[]): Promise<TreeEntry[]>;
  /** Every file under `dir` ('' = all files), recursively, with its text, in path order. */
  readAll(dir?: string): Promise<Map<string, string>>;
}

export type UpdateDecision<T> =
  /** Write these changes on top of the view's commit. `message` may depend on the new root tree's id. */
  | { kind: 'commit'; changes: FileChanges; message: string | ((tree: string) => string); value: T }
  /** Nothing to write (already done); `value` is returned as is. */
  | { kind: 'skip'; value: T }
  /** Do not write; the refusal is returned to the caller. */
  | { kind: 'refuse'; reason: string };

export type UpdateResult<T> =
  | {
      ok: true;
      value: T;
      /** The ref's tip afterwards (the new commit, or the tip a `skip` was decided on). */
      commit: string | null;
      /** False for a `skip`. */
      committed: boolean;
      /** Compare-and-swap attempts made (1 when the first push landed). */
      tries: number;
    }
  | { ok: false; refused: string; commit: string | null; tries: number };

/**
 * Pushes a commit of the store to its ref with a lease on `expected`, in place of `RefStore.push` (e.g. in one
 * atomic push with another ref, its objects taken from `pushSource().objects`): true when it landed, false
 * when the lease was stale (another writer moved the ref); throws for anything else.
 */
export type StorePublish = (lease: {
  ref: string;
  commit: string;
  expected: string | null;
}) => Promise<boolean>;

export interface RefStoreOptions {
  /** A directory inside the repository that owns the data: a checkout, or a bare repository. */
  dir: string;
  /** A Git in `dir` whose `probe` answers (git dir, config) are shared with the other stores of one command. */
  probe?: Git;
  /** The ref, in full: `refs/heads/leviathan-events`, `refs/leviathan/pulls`. */
  ref: string;
  /** Token for HTTPS remotes, sent as `http.extraheader`; never in a URL, on disk or in an error. */
  token?: string;
  /** Remote name (default `origin`). When the repository has no such remote it is its own store. */
  remote?: string;
  /** Compare-and-swap attempts before `update()` gives up with a `contention` error (default 10). */
  maxTries?: number;
  /**
   * Backoff after a lost race: full jitter over `min(maxMs, base * 2^(try-1))`, where `base` is the larger of
   * `baseMs` and how long the lost try took (default 25 ms, 2 s).
   */
  backoff?: { baseMs: number; maxMs: number };
}

export type RefStoreErrorCode =
  /** Every compare-and-swap attempt lost to another writer. */
  | 'contention'
  /** Reading the remote failed (network, missing repository, …). */
  | 'fetch_failed'
  /** The push failed for another reason than losing the race (connection cut, hook declined, …); the ref
   *  was verified unchanged, or its state is unknown (said in the message). */
  | 'push_failed'
  /** The remote refused the credentials. */
  | 'auth_failed'
  /** The directory is not a usable git repository, or the ref is checked out there. */
  | 'bad_repository'
  /** A ref name or file path the store cannot hold (a programming error). */
  | 'bad_input';

/** A store operation failed. Messages name the ref and remote but never carry credentials. */
export class RefStoreError extends Error {
  override readonly name = 'RefStoreError';
  constructor(
    readonly code: RefStoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Full jitter: a random wait in [0, min(max, base·2^(try−1))). */
export function backoffDelay(tryNumber: number, baseMs: number, maxMs: number, random = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** Math.max(0, tryNumber - 1)));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Rejects paths git would store oddly or that could escape the tree. */
export function checkStorePath(path: string): void {
  const bad =
    path === '' ||
    path.startsWith('/') ||
    path.endsWith('/') ||
    path.includes('\\') ||
    /[\x00-\x1f\x7f]/.test(path) ||
    path.split('/').some((s) => s === '' || s === '.' || s === '..' || s.toLowerCase() === '.git');
  if (bad) throw new RefStoreError('bad_input', `invalid store path ${JSON.stringify(path)}`);
}

function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

function isRemoteUrl(url: string): boolean {
  // scheme://… or scp-like user@host:path; anything else is a local path.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/:]+:/.test(url);
}

const AUTH_FAILURE =
  /Authentication failed|could not read Username|could not read Password|terminal prompts disabled|returned error: 40[13]|HTTP 40[13]/i;
// Another process of this machine working in the same private repository at the same moment.
const LOCK_FAILURE =
  /\.lock'?: File exists|Unable to create '.*\.lock'|cannot lock ref|unable to lock|shallow\.lock|shallow file has changed/i;
const MISSING_REF = /couldn't find remote ref|no such ref was fetched/i;
const LOST_RACE =
  /stale info|fetch first|non-fast-forward|cannot lock ref|failed to update ref|incorrect old value|but expected|failed to lock/i;

/**
 * Runs `fn` after every earlier task queued under `key` in this process. Fetches into one private repository
 * are serialised this way (they share its shallow file and tracking refs); other processes are handled by
 * retrying on git's lock errors.
 */
const queues = new Map<string, Promise<unknown>>();
function exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(key) ?? Promise.resolve()).then(fn, fn);
  const tail = run.then(
    () => {},
    () => {},
  );
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

/** Loose objects in the private repository above which it is packed (see `open`). */
const AUX_LOOSE_LIMIT_KIB = 64 * 1024;
/** Loose-object fan-out directories (of 256) from which their size is worth asking git for. */
const AUX_LOOSE_DIRS_CHECK = 128;

interface TipInfo {
  commit: string;
  tree: string;
  message: string;
  /** Fetched without blobs: check for missing blobs before reading (else cat-file fetches them lazily). */
  filtered: boolean;
}

interface Mode {
  git: Git;
  /** The repository whose fetches must not overlap (see `exclusive`). */
  lockKey: string;
  /** Null in local mode (the repository is its own store). */
  remote: string | null;
  /** Where the tip is tracked: a private ref in remote mode, the ref itself in local mode. */
  trackingRef: string;
  /** For messages. */
  where: string;
  /** The remote's URL (null in local mode): the key of the tips an `ls-remote` saw (see remote-tips.ts). */
  url: string | null;
  /** Remote mode: objects are written into the private repository without git (object-writer.ts). */
  writer: LooseObjectWriter | null;
}

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

  /** Fetches the ref's tip from the remote (nothing to fetch in local mode) and returns a view of it. */
  async fetch(): Promise<RefView> {
    const mode = await this.setup();
    const fetched = mode.remote !== null ? await this.fetchTip(mode) : { filtered: false };
    const filtered = fetched.filtered;
    // The listing showed the tip this instance already holds (or that the ref is absent): nothing to read.
    if (fetched.unchanged === null) {
      this.memo = null;
      return emptyView(true);
    }
    if (fetched.unchanged && this.memo?.commit === fetched.unchanged)
      return this.makeView(mode, this.memo, true);
    const info = await this.commitInfo(mode, mode.trackingRef);
    this.memo = info ? { ...info, filtered } : null;
    return this.memo ? this.makeView(mode, this.memo, true) : emptyView(true);
  }

  /** The last tip known locally, without network; null when it was never fetched (remote mode). */
  async cached(): Promise<RefView | null> {
    const mode = await this.setup();
    if (mode.remote === null) return this.fetch();
    if (this.memo) return this.makeView(mode, this.memo, false);
    // Never fetched here (a new private repository): no git process to learn that.
    if ((await readRefFile(mode, mode.trackingRef)) === null) return null;
    const info = await this.commitInfo(mode, mode.trackingRef);
    return info ? this.makeView(mode, { ...info, filtered: true }, false) : null;
  }

  /** A view of any commit already present locally (e.g. one returned by `commit`). */
  async view(commit: string | null): Promise<RefView> {
    const mode = await this.setup();
    if (commit === null) return emptyView(true);
    const info = await this.commitInfo(mode, commit);
    if (!info) throw new RefStoreError('bad_repository', `commit ${commit} is not in the store`);
    return this.makeView(mode, { ...info, filtered: true }, false);
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
    const { git } = mode;
    for (const path of changes.keys()) checkStorePath(path);
    if (mode.writer) return this.writeCommit(mode, mode.writer, changes, message, parent);
    const writes = [...changes].filter((c): c is [string, string | Buffer] => c[1] !== null);
    const scratch = join(tmpdir(), `leviathan-store-${process.pid}-${randomBytes(6).toString('hex')}`);
    const index = `${scratch}.index`;
    const env = { GIT_INDEX_FILE: index };
    try {
      let oids: string[] = [];
      if (writes.length === 1) {
        oids = [await git.output(['hash-object', '-w', '--stdin'], { input: writes[0]?.[1] })];
      } else if (writes.length > 1) {
        // One process for all blobs: the contents go through scratch files named on stdin.
        await mkdir(scratch);
        const files = await Promise.all(
          writes.map(async ([, content], i) => {
            const file = join(scratch, String(i));
            await writeFile(file, content);
            return file;
          }),
        );
        oids = (
          await git.output(['hash-object', '-w', '--no-filters', '--stdin-paths'], {
            input: `${files.join('\n')}\n`,
          })
        ).split('\n');
      }
      await git.run(parent ? ['read-tree', parent] : ['read-tree', '--empty'], { env });
      const lines: string[] = writes.map(([path], i) => `100644 ${oids[i]}\t${path}`);
      const zero = '0'.repeat(parent?.length ?? 40);
      for (const [path, content] of changes) if (content === null) lines.push(`0 ${zero}\t${path}`);
      if (lines.length > 0) {
        await git.run(['update-index', '-z', '--index-info'], { env, input: `${lines.join('\0')}\0` });
      }
      // --missing-ok: blobs of unchanged files were never fetched (partial clone) and need not be.
      const tree = await git.output(['write-tree', '--missing-ok'], { env });
      const text = (typeof message === 'function' ? message(tree) : message).replace(/\n+$/, '');
      const commit = await git.output(
        ['commit-tree', '--no-gpg-sign', tree, ...(parent ? ['-p', parent] : []), '-F', '-'],
        { input: `${text}\n` },
      );
      this.built = { commit, tree, message: text, filtered: false };
      return commit;
    } finally {
      await Promise.all([rm(index, { force: true }), rm(scratch, { recursive: true, force: true })]);
    }
  }

  /**
   * `commit` in remote mode: blobs, trees and the commit written as objects by object-writer.ts; git is asked
   * only for the parent's directories this instance has not listed (one ls-tree).
   */
  private async writeCommit(
    mode: Mode,
    writer: LooseObjectWriter,
    changes: FileChanges,
    message: string | ((tree: string) => string),
    parent: string | null,
  ): Promise<string> {
    const needed = new Set<string>(['']);
    for (const path of changes.keys()) {
      for (let d = parentOf(path); d !== ''; d = parentOf(d)) needed.add(d);
    }
    const dirs = parent === null ? new Map<string, TreeItems>() : await this.parentDirs(mode, parent, needed);
    const oids = new Map<string, string | null>();
    for (const [path, content] of changes) {
      oids.set(path, content === null ? null : await writer.write('blob', Buffer.from(content)));
    }
    const built = await writer.writeTree(dirs, oids);
    const text = (typeof message === 'function' ? message(built.tree) : message).replace(/\n+$/, '');
    const who = { name: LEVIATHAN_IDENTITY.name, email: LEVIATHAN_IDENTITY.email };
    const commit = await writer.write('commit', commitBody(built.tree, parent, who, new Date(), `${text}\n`));
    this.built = { commit, tree: built.tree, message: text, filtered: false };
    this.dirsOf.set(commit, new Map([...dirs, ...built.dirs]));
    return commit;
  }

  /** The directories `needed` of `parent` (those absent there are empty), from what was listed or one ls-tree. */
  private async parentDirs(mode: Mode, parent: string, needed: Set<string>): Promise<Map<string, TreeItems>> {
    const known = this.dirsOf.get(parent);
    const resolved = (d: string): boolean => {
      if (known?.has(d)) return true;
      if (d === '') return false;
      // Absent from a listed parent directory: it does not exist there (and reads as empty).
      const up = known?.get(parentOf(d));
      return up !== undefined && !up.has(d.slice(d.lastIndexOf('/') + 1));
    };
    if (known && [...needed].every(resolved)) return known;
    const specs = [...needed].map((d) => (d === '' ? '.' : `${d}/`));
    const out = await mode.git.output(['ls-tree', '-z', parent, '--', ...specs]);
    const grouped = groupListing(parseLsTree(out), [...needed]);
    this.dirsOf.set(parent, new Map([...(known ?? []), ...grouped]));
    return grouped;
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
    if (AUTH_FAILURE.test(r.stderr)) throw this.authError(mode);
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
    this.mode ??= this.open().catch((error) => {
      this.mode = null;
      throw error;
    });
    return this.mode;
  }

  private async open(): Promise<Mode> {
    const shared = this.options.probe;
    const user = shared?.cwd === this.options.dir ? shared : new Git(this.options.dir, this.options.token);
    const layout = await user.layout();
    if (layout === null) {
      throw new RefStoreError('bad_repository', notARepository(this.options.dir));
    }
    const { commonDir, objectFormat } = layout;
    const cfg = await user.localConfig(this.remoteName);
    let url = cfg.url;
    const headers = cfg.headers;
    if (url === null) {
      const git = new Git(this.options.dir, this.options.token);
      const head = await git.run(['symbolic-ref', '-q', 'HEAD'], { allowFailure: true });
      if (head.stdout.trim() === this.ref) {
        throw new RefStoreError(
          'bad_repository',
          `${this.ref} is checked out in ${this.options.dir}; switch away from it`,
        );
      }
      return {
        git,
        lockKey: commonDir,
        remote: null,
        trackingRef: this.ref,
        where: `the local repository ${this.options.dir}`,
        url: null,
        writer: null,
      };
    }
    if (!isRemoteUrl(url) && !isAbsolute(url)) {
      // git resolves a relative remote path against the top level (a bare repository: its git dir); the
      // private repository lives elsewhere, so it gets the absolute path.
      const top = await user.probe(['rev-parse', '--show-toplevel']);
      url = resolve(top.exitCode === 0 ? top.stdout.trim() : commonDir, url);
    }

    const aux = join(commonDir, 'leviathan', `${this.remoteName.replace(/[^A-Za-z0-9._-]/g, '_')}.git`);
    await ensureAuxRepo(aux, objectFormat, url);
    // The checkout's own credentials (actions/checkout keeps an extraheader in .git/config) still apply when
    // no token was given; with a token, only the token is sent.
    const git = new Git(aux, this.options.token, { GIT_DIR: aux }, this.options.token ? [] : headers);
    // The private repository's own config and object directories are read as files: no git process for
    // what is nearly always "unchanged" (a tick opens two stores).
    if ((await auxRemoteUrl(aux)) !== url) await git.run(['config', 'remote.origin.url', url]);
    // Every append leaves loose objects (a snapshot blob each time); in a long-lived checkout, pack them now
    // and then. Unreachable ones older than an hour go: nothing in flight is that old.
    if ((await looseObjectDirs(aux)) >= AUX_LOOSE_DIRS_CHECK) {
      const objects = await git.run(['count-objects', '-v'], { allowFailure: true });
      const looseKiB = Number(/^size: (\d+)$/m.exec(objects.stdout)?.[1] ?? 0);
      if (looseKiB > AUX_LOOSE_LIMIT_KIB)
        await git.run(['gc', '--quiet', '--prune=1.hour.ago'], { allowFailure: true });
    }
    return {
      git,
      lockKey: aux,
      remote: 'origin',
      trackingRef: `refs/leviathan/remotes/${this.remoteName}/${this.ref.slice('refs/'.length)}`,
      where: redactUrl(url),
      url,
      writer:
        objectFormat === 'sha1' || objectFormat === 'sha256'
          ? new LooseObjectWriter(join(aux, 'objects'), objectFormat)
          : null,
    };
  }

  private authError(mode: Mode): RefStoreError {
    return new RefStoreError(
      'auth_failed',
      `authentication to ${mode.where} failed: the token is missing, wrong or lacks access to ${this.ref}`,
    );
  }

  // --- reading -----------------------------------------------------------------------------------------

  /**
   * Fetches the tip into the tracking ref; `filtered` when it was fetched without blobs. `unchanged` when
   * the fetch was skipped because the listing showed the tip held here: that commit, or null for a ref
   * that is absent on both sides.
   */
  private async fetchTip(mode: Mode): Promise<{ filtered: boolean; unchanged?: string | null }> {
    const { git } = mode;
    const onDisk = this.memo ? undefined : await readRefFile(mode, mode.trackingRef);
    const known = this.memo?.commit ?? (onDisk === undefined ? await git.revParse(mode.trackingRef) : onDisk);
    // This tick's `ls-remote` already saw the remote's tip: nothing to fetch when it is the one held here.
    const seen = mode.url === null ? undefined : takeRemoteTip(mode.url, this.ref);
    if (seen !== undefined && seen === (known ?? null))
      return { filtered: this.memo?.filtered ?? false, unchanged: seen };
    const args = [
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      '--no-recurse-submodules',
      '--depth=1',
      // With a known tip the server sends only what changed since (the new files' blobs included); without
      // one, trees only, and the blobs that are read are fetched afterwards.
      known ? '--no-filter' : '--filter=blob:none',
      mode.remote as string,
      `+${this.ref}:${mode.trackingRef}`,
    ];
    let along = await this.companionRefspecs(mode, known !== null);
    for (let attempt = 1; ; attempt++) {
      const r = await exclusive(mode.lockKey, () => git.run([...args, ...along], { allowFailure: true }));
      if (r.exitCode === 0) return { filtered: !known };
      if (along.length > 0) {
        // A companion ref gone since the listing must not fail (or empty) this store: fetch it alone.
        along = [];
        continue;
      }
      if (MISSING_REF.test(r.stderr)) {
        // The ref does not exist (any more) on the remote: the store is empty.
        if (known) await git.run(['update-ref', '-d', mode.trackingRef], { allowFailure: true });
        return { filtered: false };
      }
      if (AUTH_FAILURE.test(r.stderr)) throw this.authError(mode);
      // Another process fetching into the same private repository, or a network blip: try again briefly.
      const locked = LOCK_FAILURE.test(r.stderr);
      if (attempt < (locked ? 10 : 4)) {
        await sleep(locked ? 20 + Math.random() * 80 : 50 * 2 ** attempt);
        continue;
      }
      throw new RefStoreError(
        'fetch_failed',
        `could not fetch ${this.ref} from ${mode.where}: ${lastLines(r.stderr)}`,
      );
    }
  }

  /**
   * Refspecs for the companion refs (remote-tips.ts `fetchAlong`) the listing shows at a tip this repository
   * lacks, fetched in this store's session: only those held here already when this store's own tip is (an
   * incremental fetch sends their new blobs too), only new ones when it is not (trees only, as here).
   */
  private async companionRefspecs(mode: Mode, ownKnown: boolean): Promise<string[]> {
    if (mode.url === null) return [];
    const specs: string[] = [];
    for (const ref of companionsOf(mode.url, this.ref)) {
      const seen = peekRemoteTip(mode.url, ref);
      if (typeof seen !== 'string') continue;
      const tracking = `refs/leviathan/remotes/${this.remoteName}/${ref.slice('refs/'.length)}`;
      const held = await readRefFile(mode, tracking);
      // Unknown here (reftable), or already this tip: nothing to take along.
      if (held === undefined || held === seen) continue;
      if ((held !== null) !== ownKnown) continue;
      specs.push(`+${ref}:${tracking}`);
    }
    return specs;
  }

  private async commitInfo(
    mode: Mode,
    rev: string,
  ): Promise<{ commit: string; tree: string; message: string } | null> {
    const r = await mode.git.run(['log', '-1', '--no-walk', '--format=%H%x00%T%x00%B', rev, '--'], {
      allowFailure: true,
    });
    if (r.exitCode !== 0) return null;
    const [commit = '', tree = '', ...rest] = r.stdout.split('\0');
    return { commit, tree, message: rest.join('\0').replace(/\n+$/, '') };
  }

  private makeView(mode: Mode, tip: TipInfo, fresh: boolean): RefView {
    const { commit, tree, message } = tip;
    // Entries seen by any listing of this commit, so reading a listed file needs no second ls-tree.
    const known = new Map<string, TreeEntry>();
    const listed = new Set<string>();
    const lsTree = async (args: string[]): Promise<TreeEntry[]> => {
      const r = await mode.git.run(['ls-tree', '-z', ...args], { allowFailure: true });
      if (r.exitCode !== 0) return [];
      const entries = parseLsTree(r.stdout);
      for (const e of entries) known.set(e.path, e);
      return entries;
    };
    const readBlobs = async (entries: TreeEntry[]): Promise<Map<string, string>> => {
      const blobs = entries.filter((e) => e.type === 'blob');
      if (blobs.length === 0) return new Map();
      // A few blobs missing after an incremental fetch are cheaper to fetch lazily than to look for.
      if (mode.remote !== null && (tip.filtered || blobs.length > 2))
        await this.fetchMissing(mode, commit, blobs);
      const contents = await catBlobs(
        mode.git,
        blobs.map((b) => b.oid),
      );
      const out = new Map<string, string>();
      for (const b of blobs) out.set(b.path, contents.get(b.oid) ?? '');
      return out;
    };
    const view: RefView = {
      commit,
      tree,
      message,
      fresh,
      read: async (path) => (await view.readMany([path])).get(path) ?? null,
      readMany: async (paths) => {
        for (const p of paths) checkStorePath(p);
        // A path in a directory already listed is known to exist or not without another ls-tree.
        const unknown = paths.filter(
          (p) => !known.has(p) && !listed.has(p.slice(0, Math.max(0, p.lastIndexOf('/')))),
        );
        if (unknown.length > 0) await lsTree([commit, '--', ...unknown]);
        const found = await readBlobs(paths.flatMap((p) => known.get(p) ?? []));
        return new Map(paths.map((p) => [p, found.get(p) ?? null]));
      },
      list: async (...dirs) => {
        const wanted = dirs.length === 0 ? [''] : dirs;
        for (const d of wanted) if (d !== '') checkStorePath(d);
        const entries = await lsTree([commit, '--', ...wanted.map((d) => (d === '' ? '.' : `${d}/`))]);
        for (const d of wanted) listed.add(d);
        // Whole directories: what an append on this commit builds its trees from (see writeCommit).
        if (mode.writer && entries.length > 0) {
          const dirs = this.dirsOf.get(commit) ?? new Map<string, TreeItems>();
          for (const [d, items] of groupListing(entries, wanted)) dirs.set(d, items);
          this.dirsOf.set(commit, dirs);
          if (this.dirsOf.size > 64) this.dirsOf.delete(this.dirsOf.keys().next().value as string);
        }
        return entries;
      },
      readAll: async (dir = '') => {
        if (dir !== '') checkStorePath(dir);
        return readBlobs(await lsTree(['-r', ...(dir === '' ? [commit] : [commit, '--', `${dir}/`])]));
      },
    };
    return view;
  }

  /** Fetches, in one request, the blobs among `blobs` that the partial clone does not have yet. */
  private async fetchMissing(mode: Mode, commit: string, blobs: TreeEntry[]): Promise<void> {
    // rev-list --missing=print never fetches lazily; it only reports what is absent.
    const paths = blobs.length <= 64 ? ['--', ...blobs.map((b) => b.path)] : [];
    const r = await mode.git.run(
      ['rev-list', '--objects', '--no-walk', '--missing=print', commit, ...paths],
      {
        allowFailure: true,
      },
    );
    const missing = new Set(
      r.stdout
        .split('\n')
        .filter((l) => l.startsWith('?'))
        .map((l) => l.slice(1).trim()),
    );
    const want = [...new Set(blobs.map((b) => b.oid).filter((oid) => missing.has(oid)))];
    if (want.length === 0) return;
    const f = await exclusive(mode.lockKey, () =>
      mode.git.run(
        [
          '-c',
          'fetch.negotiationAlgorithm=noop',
          'fetch',
          '--quiet',
          '--no-tags',
          '--no-write-fetch-head',
          '--no-recurse-submodules',
          '--filter=blob:none',
          '--stdin',
          mode.remote as string,
        ],
        { allowFailure: true, input: `${want.join('\n')}\n` },
      ),
    );
    if (f.exitCode !== 0) {
      if (AUTH_FAILURE.test(f.stderr)) throw this.authError(mode);
      // cat-file will fetch what is still missing one object at a time, or fail clearly.
    }
  }
}

/** `ls-tree -z` records as entries. */
function parseLsTree(stdout: string): TreeEntry[] {
  return stdout
    .split('\0')
    .filter(Boolean)
    .map((rec) => {
      const tab = rec.indexOf('\t');
      const [m = '', type = '', oid = ''] = rec.slice(0, tab).split(' ');
      const path = rec.slice(tab + 1);
      return {
        path,
        name: path.slice(path.lastIndexOf('/') + 1),
        type: type as TreeEntry['type'],
        oid,
        mode: m,
      };
    });
}

/** The directory holding `path` ('' = the root). */
function parentOf(path: string): string {
  return path.slice(0, Math.max(0, path.lastIndexOf('/')));
}

function emptyView(fresh: boolean): RefView {
  return {
    commit: null,
    tree: null,
    message: '',
    fresh,
    read: async () => null,
    readMany: async (paths) => new Map(paths.map((p) => [p, null])),
    list: async (..._dirs: string[]) => [],
    readAll: async () => new Map(),
  };
}

/** Reads blobs with one `cat-file --batch`; sizes are bytes, so the output is parsed as a Buffer. */
async function catBlobs(git: Git, oids: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(oids)];
  const r = await git.runBuffer(['cat-file', '--batch'], {
    input: `${unique.join('\n')}\n`,
    allowFailure: true,
  });
  const out = new Map<string, string>();
  const buf = r.stdoutBytes;
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) break;
    const header = buf.subarray(pos, nl).toString('utf8').split(' ');
    pos = nl + 1;
    if (header[1] === 'missing' || header.length < 3) continue;
    const size = Number(header[2]);
    out.set(header[0] ?? '', buf.subarray(pos, pos + size).toString('utf8'));
    pos += size + 1;
  }
  const absent = unique.filter((o) => !out.has(o));
  if (absent.length > 0) {
    throw new RefStoreError(
      'fetch_failed',
      `could not read ${absent.length} object(s), e.g. ${absent[0]}: ${lastLines(r.stderr)}`,
    );
  }
  return out;
}

function lastLines(text: string): string {
  return gitMessage(text);
}

/** `remote.origin.url` as written in the private repository's config (see `ensureAuxRepo`), or null. */
async function auxRemoteUrl(aux: string): Promise<string | null> {
  const text = await readFile(join(aux, 'config'), 'utf8').catch(() => '');
  const section = /^\[remote "origin"\]\n((?:\t.*\n)*)/m.exec(text)?.[1] ?? '';
  const quoted = /^\turl = "((?:[^"\\]|\\.)*)"$/m.exec(section)?.[1];
  return quoted === undefined ? null : quoted.replace(/\\(.)/g, '$1');
}

/** How many of the 256 loose-object directories exist (a cheap proxy for how many loose objects there are). */
async function looseObjectDirs(aux: string): Promise<number> {
  const names = await readdir(join(aux, 'objects')).catch(() => [] as string[]);
  return names.filter((n) => /^[0-9a-f]{2}$/.test(n)).length;
}

/**
 * A ref of the private repository read as a file (loose, else packed), null when it is not there, undefined
 * when the files cannot tell (another ref format): then the caller asks git.
 */
async function readRefFile(mode: Mode, ref: string): Promise<string | null | undefined> {
  const dir = mode.lockKey;
  if (mode.remote === null || (await stat(join(dir, 'reftable')).catch(() => null))) return undefined;
  const loose = await readFile(join(dir, ref), 'utf8').catch(() => null);
  if (loose !== null) return /^[0-9a-f]{40,64}$/.test(loose.trim()) ? loose.trim() : undefined;
  const packed = await readFile(join(dir, 'packed-refs'), 'utf8').catch(() => '');
  for (const line of packed.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0 && line.slice(sp + 1) === ref && /^[0-9a-f]{40,64}$/.test(line.slice(0, sp)))
      return line.slice(0, sp);
  }
  return null;
}

/**
 * Moves a ref of the private repository by git's own file protocol (create `<ref>.lock` exclusively, write,
 * rename over the ref), without a process. False when it cannot (another ref format, a lock held by a git
 * of another process): then the caller asks git.
 */
async function writeRefFile(mode: Mode, ref: string, oid: string): Promise<boolean> {
  const dir = mode.lockKey;
  if (mode.remote === null || (await stat(join(dir, 'reftable')).catch(() => null))) return false;
  const file = join(dir, ref);
  const lock = `${file}.lock`;
  try {
    await mkdir(dirname(file), { recursive: true });
  } catch {
    return false;
  }
  const handle = await openFile(lock, 'wx').catch(() => null);
  if (handle === null) return false;
  try {
    try {
      await handle.writeFile(`${oid}\n`);
    } finally {
      await handle.close();
    }
    await rename(lock, file);
    return true;
  } catch {
    await rm(lock, { force: true }).catch(() => {});
    return false;
  }
}

/** Creates the private bare repository once, atomically (concurrent processes may race to create it). */
async function ensureAuxRepo(aux: string, objectFormat: string, url: string): Promise<void> {
  if (await stat(join(aux, 'HEAD')).catch(() => null)) return;
  await mkdir(join(aux, '..'), { recursive: true });
  const tmp = `${aux}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const git = new Git(join(aux, '..'));
  await git.run(['init', '--quiet', '--bare', `--object-format=${objectFormat}`, tmp]);
  const quoted = url.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  // A partial clone of one remote; maintenance off (it would have to understand promisor packs, and this
  // repository only ever holds a few small trees and blobs).
  await writeFile(
    join(tmp, 'config'),
    [
      '[core]',
      '\trepositoryformatversion = 1',
      '\tbare = true',
      '\tlogallrefupdates = false',
      '\tlooseCompression = 1',
      '[extensions]',
      '\tpartialclone = origin',
      ...(objectFormat === 'sha1' ? [] : [`\tobjectformat = ${objectFormat}`]),
      '[remote "origin"]',
      `\turl = "${quoted}"`,
      '\tpromisor = true',
      '\tpartialclonefilter = blob:none',
      '[gc]',
      '\tauto = 0',
      '[maintenance]',
      '\tauto = false',
      '[fetch]',
      '\twriteCommitGraph = false',
      '',
    ].join('\n'),
  );
  try {
    await rename(tmp, aux);
  } catch {
    // Another process created it first.
    await rm(tmp, { recursive: true, force: true });
  }
}
