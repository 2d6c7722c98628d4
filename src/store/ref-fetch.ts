/** Fetching a ref store's tip, its companion refs and the blobs a read needs from the remote (see ref-store.ts). */
import { sleep } from './cas-backoff.js';
import { exclusive, readRefFile } from './ref-files.js';
import {
  AUTH_FAILURE,
  authError,
  LOCK_FAILURE,
  lastLines,
  MISSING_REF,
  type Mode,
  type TipInfo,
} from './ref-store-mode.js';
import { RefStoreError, type TreeEntry } from './ref-store-types.js';
import { companionsOf, peekRemoteTip, takeRemoteTip } from './remote-tips.js';

/**
 * How git's upload-pack refuses a tree filter (`uploadpackfilter.tree.maxDepth`, `uploadpackfilter.allow`);
 * other servers' wordings go through the fallback for any failure (see fetchTip).
 */
const FILTER_REFUSED =
  /filter '?tree'? not supported|tree filter allows max depth|(?:unsupported|invalid) filter/i;
/** Remotes (URLs) that refused the tree filter in this process: not asked with it again. */
const treeFilterRefused = new Set<string>();

/**
 * Fetches the tip into the tracking ref; `filtered` when it was fetched without blobs. `unchanged` when
 * the fetch was skipped because the listing showed the tip held here: that commit, or null for a ref
 * that is absent on both sides.
 */
export async function fetchTip(
  mode: Mode,
  ref: string,
  remoteName: string,
  memo: TipInfo | null,
  rootBlobs = false,
): Promise<{ filtered: boolean; unchanged?: string | null }> {
  const { git } = mode;
  const onDisk = memo ? undefined : await readRefFile(mode, mode.trackingRef);
  const known = memo?.commit ?? (onDisk === undefined ? await git.revParse(mode.trackingRef) : onDisk);
  // This tick's `ls-remote` already saw the remote's tip: nothing to fetch when it is the one held here.
  const seen = mode.url === null ? undefined : takeRemoteTip(mode.url, ref);
  if (seen !== undefined && seen === (known ?? null))
    return { filtered: memo?.filtered ?? false, unchanged: seen };
  // Depth 2 holds the root tree (0), its blobs and the trees right under it (1); nothing under those.
  let rootFilter = rootBlobs && !known && !(mode.url !== null && treeFilterRefused.has(mode.url));
  const args = () => [
    'fetch',
    '--quiet',
    '--no-tags',
    '--no-write-fetch-head',
    '--no-recurse-submodules',
    '--depth=1',
    // With a known tip the server sends only what changed since (the new files' blobs included); without
    // one, trees only (or the root's files too, see RefStoreOptions.rootBlobs), and the blobs that are read
    // and not there yet are fetched afterwards.
    known ? '--no-filter' : rootFilter ? '--filter=tree:2' : '--filter=blob:none',
    mode.remote as string,
    `+${ref}:${mode.trackingRef}`,
  ];
  let along = await companionRefspecs(mode, ref, remoteName, known !== null);
  for (let attempt = 1; ; attempt++) {
    const r = await exclusive(mode.lockKey, () => git.run([...args(), ...along], { allowFailure: true }));
    if (r.exitCode === 0) return { filtered: !known };
    if (rootFilter && FILTER_REFUSED.test(r.stderr)) {
      // The server does not allow this tree filter: blob-less, as without the option, here and from now on.
      if (mode.url !== null) treeFilterRefused.add(mode.url);
      rootFilter = false;
      continue;
    }
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
    if (AUTH_FAILURE.test(r.stderr)) throw authError(mode, ref);
    // Another process fetching into the same private repository, or a network blip: try again briefly.
    const locked = LOCK_FAILURE.test(r.stderr);
    // A refusal worded otherwise than git's own is not told from a blip: the next try goes without the filter.
    if (!locked) rootFilter = false;
    if (attempt < (locked ? 10 : 4)) {
      await sleep(locked ? 20 + Math.random() * 80 : 50 * 2 ** attempt);
      continue;
    }
    throw new RefStoreError(
      'fetch_failed',
      `could not fetch ${ref} from ${mode.where}: ${lastLines(r.stderr)}`,
    );
  }
}

/**
 * Refspecs for the companion refs (remote-tips.ts `fetchAlong`) the listing shows at a tip this repository
 * lacks, fetched in this store's session: only those held here already when this store's own tip is (an
 * incremental fetch sends their new blobs too), only new ones when it is not (trees only, as here).
 */
async function companionRefspecs(
  mode: Mode,
  ref: string,
  remoteName: string,
  ownKnown: boolean,
): Promise<string[]> {
  if (mode.url === null) return [];
  const specs: string[] = [];
  for (const companion of companionsOf(mode.url, ref)) {
    const seen = peekRemoteTip(mode.url, companion);
    if (typeof seen !== 'string') continue;
    const tracking = `refs/leviathan/remotes/${remoteName}/${companion.slice('refs/'.length)}`;
    const held = await readRefFile(mode, tracking);
    // Unknown here (reftable), or already this tip: nothing to take along.
    if (held === undefined || held === seen) continue;
    if ((held !== null) !== ownKnown) continue;
    specs.push(`+${companion}:${tracking}`);
  }
  return specs;
}

/** Fetches, in one request, the blobs among `blobs` that the partial clone does not have yet. */
export async function fetchMissing(
  mode: Mode,
  ref: string,
  commit: string,
  blobs: TreeEntry[],
): Promise<void> {
  // rev-list --missing=print never fetches lazily; it only reports what is absent.
  const paths = blobs.length <= 64 ? ['--', ...blobs.map((b) => b.path)] : [];
  const r = await mode.git.run(['rev-list', '--objects', '--no-walk', '--missing=print', commit, ...paths], {
    allowFailure: true,
  });
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
    if (AUTH_FAILURE.test(f.stderr)) throw authError(mode, ref);
    // cat-file will fetch what is still missing one object at a time, or fail clearly.
  }
}
