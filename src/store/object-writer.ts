/**
 * Git objects written by Leviathan itself into its own private store repository (ref-store.ts, remote mode):
 * blobs, trees and commits hashed and stored as loose objects without a git process, so an append costs no
 * hash-object / read-tree / update-index / write-tree / commit-tree. Only for the store's own files, whose
 * paths `checkStorePath` already limits to plain names; an agent's paths always go through git's own checks
 * (private-repo.ts).
 *
 * A loose object is `<type> <size>\0<body>`, zlib-deflated, at `objects/<2 hex>/<rest>`, named by the hash
 * of the undeflated bytes. Trees list `<mode> <name>\0<raw id>` in git's order (a tree's name compares as if
 * it ended in `/`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';

export type ObjectFormat = 'sha1' | 'sha256';

export interface TreeItem {
  /** `100644`, `100755`, `120000`, `040000` (tree) or `160000` (gitlink), as ls-tree prints it. */
  mode: string;
  oid: string;
}

/** A directory's entries, name → item. */
export type TreeItems = Map<string, TreeItem>;

export function objectId(format: ObjectFormat, type: string, body: Buffer): string {
  const hash = createHash(format === 'sha256' ? 'sha256' : 'sha1');
  hash.update(`${type} ${body.length}\0`);
  hash.update(body);
  return hash.digest('hex');
}

const isTree = (mode: string) => mode === '040000' || mode === '40000';

/** The body of a tree object with `items`, in git's entry order. */
export function treeBody(items: TreeItems): Buffer {
  const key = (name: string, item: TreeItem) => Buffer.from(isTree(item.mode) ? `${name}/` : name);
  const sorted = [...items].sort(([a, x], [b, y]) => Buffer.compare(key(a, x), key(b, y)));
  return Buffer.concat(
    sorted.flatMap(([name, item]) => [
      Buffer.from(`${isTree(item.mode) ? '40000' : item.mode} ${name}\0`),
      Buffer.from(item.oid, 'hex'),
    ]),
  );
}

/** The body of a commit object (message kept byte for byte). */
export function commitBody(
  tree: string,
  parent: string | null,
  who: { name: string; email: string },
  when: Date,
  message: string,
): Buffer {
  const stamp = `${who.name} <${who.email}> ${Math.floor(when.getTime() / 1000)} +0000`;
  return Buffer.from(
    `tree ${tree}\n${parent ? `parent ${parent}\n` : ''}author ${stamp}\ncommitter ${stamp}\n\n${message}`,
  );
}

/** Writes objects into one repository's `objects/` directory as loose objects. */
export class LooseObjectWriter {
  constructor(
    private readonly objectsDir: string,
    readonly format: ObjectFormat,
    /** zlib level (the private repository's `core.looseCompression`). */
    private readonly level = 1,
  ) {}

  /** Stores an object (a no-op when it exists) and returns its id. */
  async write(type: 'blob' | 'tree' | 'commit', body: Buffer): Promise<string> {
    const oid = objectId(this.format, type, body);
    const dir = join(this.objectsDir, oid.slice(0, 2));
    const file = join(dir, oid.slice(2));
    if (await stat(file).catch(() => null)) return oid;
    await mkdir(dir, { recursive: true });
    const data = deflateSync(Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]), {
      level: this.level,
    });
    // Written aside and linked in place: a reader never sees half an object, and a concurrent writer of the
    // same object (same bytes) simply wins.
    const tmp = join(dir, `tmp_obj_${process.pid}_${randomBytes(6).toString('hex')}`);
    await writeFile(tmp, data, { mode: 0o444 });
    try {
      await link(tmp, file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(tmp, { force: true });
    }
    return oid;
  }

  /**
   * Writes the tree of `parent` (directory → items, '' = root; directories not given are read as empty)
   * with `changes` applied (null deletes; a directory left empty disappears, as in git) and returns the new
   * root tree's id and every new directory's items.
   */
  async writeTree(
    parent: ReadonlyMap<string, TreeItems>,
    changes: ReadonlyMap<string, string | null>,
  ): Promise<{ tree: string; dirs: Map<string, TreeItems> }> {
    const dirs = new Map<string, TreeItems>();
    const itemsOf = (dir: string): TreeItems => {
      let items = dirs.get(dir);
      if (!items) {
        items = new Map(parent.get(dir) ?? []);
        dirs.set(dir, items);
      }
      return items;
    };
    const parentDir = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')));
    const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
    for (const [path, oid] of changes) {
      const items = itemsOf(parentDir(path));
      if (oid === null) items.delete(baseName(path));
      else items.set(baseName(path), { mode: '100644', oid });
      // Every ancestor is rewritten.
      for (let d = parentDir(path); d !== ''; d = parentDir(d)) itemsOf(parentDir(d));
    }
    // Deepest first, so a directory's new id is known before its parent is written.
    const order = [...dirs.keys()].sort((a, b) => depth(b) - depth(a));
    let root = '';
    for (const dir of order) {
      const items = dirs.get(dir) as TreeItems;
      if (dir === '') {
        root = await this.write('tree', treeBody(items));
        continue;
      }
      const up = itemsOf(parentDir(dir));
      if (items.size === 0) up.delete(baseName(dir));
      else up.set(baseName(dir), { mode: '040000', oid: await this.write('tree', treeBody(items)) });
    }
    if (root === '') root = await this.write('tree', treeBody(itemsOf('')));
    return { tree: root, dirs };
  }
}

function depth(dir: string): number {
  return dir === '' ? 0 : dir.split('/').length;
}

/** ls-tree `-z` records (non-recursive) grouped by directory; only directories listed completely are kept. */
export function groupListing(
  records: ReadonlyArray<{ path: string; mode: string; oid: string }>,
  complete: readonly string[],
): Map<string, TreeItems> {
  const out = new Map<string, TreeItems>(complete.map((d) => [d, new Map()]));
  for (const r of records) {
    const slash = r.path.lastIndexOf('/');
    const dir = slash < 0 ? '' : r.path.slice(0, slash);
    out.get(dir)?.set(r.path.slice(slash + 1), { mode: r.mode, oid: r.oid });
  }
  return out;
}
