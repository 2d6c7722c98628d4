/** Reading a ref store's files: a view of one commit, its tree listings and blobs (see ref-store.ts). */
import type { Git } from './git.js';
import { groupListing, type TreeItems } from './object-writer.js';
import { fetchMissing } from './ref-fetch.js';
import { lastLines, type Mode, type TipInfo } from './ref-store-mode.js';
import { checkStorePath, RefStoreError, type RefView, type TreeEntry } from './ref-store-types.js';

export async function commitInfo(
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

/** A view of the commit `tip`; `dirsOf` collects the directories it lists completely (see writeCommit). */
export function makeView(
  mode: Mode,
  ref: string,
  tip: TipInfo,
  fresh: boolean,
  dirsOf: Map<string, Map<string, TreeItems>>,
): RefView {
  const { commit, tree, message } = tip;
  // Entries seen by any listing of this commit, so reading a listed file needs no second ls-tree.
  const known = new Map<string, TreeEntry>();
  const listed = new Set<string>();
  const listings = new Map<string, TreeEntry[]>();
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
      await fetchMissing(mode, ref, commit, blobs);
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
      // A commit never changes: the same listing asked again (a replay after a read) needs no git call.
      const key = wanted.join('\0');
      const entries =
        listings.get(key) ?? (await lsTree([commit, '--', ...wanted.map((d) => (d === '' ? '.' : `${d}/`))]));
      listings.set(key, entries);
      for (const d of wanted) listed.add(d);
      // Whole directories: what an append on this commit builds its trees from (see writeCommit).
      if (mode.writer && entries.length > 0) {
        const dirs = dirsOf.get(commit) ?? new Map<string, TreeItems>();
        for (const [d, items] of groupListing(entries, wanted)) dirs.set(d, items);
        dirsOf.set(commit, dirs);
        if (dirsOf.size > 64) dirsOf.delete(dirsOf.keys().next().value as string);
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

/** `ls-tree -z` records as entries. */
export function parseLsTree(stdout: string): TreeEntry[] {
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
export function parentOf(path: string): string {
  return path.slice(0, Math.max(0, path.lastIndexOf('/')));
}

export function emptyView(fresh: boolean): RefView {
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
