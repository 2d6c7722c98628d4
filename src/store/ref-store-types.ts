/** The ref store's public types, its error and the rule for the paths it holds (see ref-store.ts). */
import type { Git } from './git.js';

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
  /**
   * A fetch of a tip not held here also brings the blobs at the root of the tree (and the trees right under
   * it, nothing deeper): `--filter=tree:2` instead of `blob:none`, so a store that keeps what a read needs at
   * its root (the event log's `newest.ndjson`) is read in that one session. Only for servers that allow tree
   * filters (GitHub allows only `tree:0`); a server that refuses it is fetched from as without the option.
   */
  rootBlobs?: boolean;
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
