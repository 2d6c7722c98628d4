/**
 * Building a ref store's commits: with plumbing in a temporary index (local mode), or as loose objects by
 * object-writer.ts (remote mode). Nothing is published here (see `RefStore.push`).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LEVIATHAN_IDENTITY } from './git.js';
import { commitBody, groupListing, type LooseObjectWriter, type TreeItems } from './object-writer.js';
import type { Mode, TipInfo } from './ref-store-mode.js';
import { checkStorePath, type FileChanges } from './ref-store-types.js';
import { parentOf, parseLsTree } from './ref-view.js';

/**
 * Builds a commit with `changes` applied to `parent`'s tree (an empty tree when `parent` is null), authored
 * and committed by Leviathan. Uses a temporary index file; no working tree, HEAD or branch is involved.
 * The commit is not published: pass it to `push`.
 */
export async function buildCommit(
  mode: Mode,
  changes: FileChanges,
  message: string | ((tree: string) => string),
  parent: string | null,
  dirsOf: Map<string, Map<string, TreeItems>>,
): Promise<TipInfo> {
  const { git } = mode;
  for (const path of changes.keys()) checkStorePath(path);
  if (mode.writer) return writeCommit(mode, mode.writer, changes, message, parent, dirsOf);
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
    return { commit, tree, message: text, filtered: false };
  } finally {
    await Promise.all([rm(index, { force: true }), rm(scratch, { recursive: true, force: true })]);
  }
}

/**
 * `commit` in remote mode: blobs, trees and the commit written as objects by object-writer.ts; git is asked
 * only for the parent's directories this instance has not listed (one ls-tree).
 */
async function writeCommit(
  mode: Mode,
  writer: LooseObjectWriter,
  changes: FileChanges,
  message: string | ((tree: string) => string),
  parent: string | null,
  dirsOf: Map<string, Map<string, TreeItems>>,
): Promise<TipInfo> {
  const needed = new Set<string>(['']);
  for (const path of changes.keys()) {
    for (let d = parentOf(path); d !== ''; d = parentOf(d)) needed.add(d);
  }
  const dirs =
    parent === null ? new Map<string, TreeItems>() : await parentDirs(mode, parent, needed, dirsOf);
  const oids = new Map<string, string | null>();
  // A text written at two paths (the log's newest day file and its root copy) is hashed once.
  const byText = new Map<string | Buffer, string>();
  for (const [path, content] of changes) {
    if (content === null) {
      oids.set(path, null);
      continue;
    }
    const oid = byText.get(content) ?? (await writer.write('blob', Buffer.from(content)));
    byText.set(content, oid);
    oids.set(path, oid);
  }
  const built = await writer.writeTree(dirs, oids);
  const text = (typeof message === 'function' ? message(built.tree) : message).replace(/\n+$/, '');
  const who = { name: LEVIATHAN_IDENTITY.name, email: LEVIATHAN_IDENTITY.email };
  const commit = await writer.write('commit', commitBody(built.tree, parent, who, new Date(), `${text}\n`));
  dirsOf.set(commit, new Map([...dirs, ...built.dirs]));
  return { commit, tree: built.tree, message: text, filtered: false };
}

/** The directories `needed` of `parent` (those absent there are empty), from what was listed or one ls-tree. */
async function parentDirs(
  mode: Mode,
  parent: string,
  needed: Set<string>,
  dirsOf: Map<string, Map<string, TreeItems>>,
): Promise<Map<string, TreeItems>> {
  const known = dirsOf.get(parent);
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
  dirsOf.set(parent, new Map([...(known ?? []), ...grouped]));
  return grouped;
}
