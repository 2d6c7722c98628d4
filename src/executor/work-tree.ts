import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChangedEntry } from './changes.js';
import { MODE_EXECUTABLE, MODE_FILE, MODE_NONE, MODE_SUBMODULE, MODE_SYMLINK } from './changes.js';

/**
 * The agent's work tree read as data (issue 7 §2): Leviathan walks it itself with `lstat`, never following a
 * link, and compares every entry with the base tree, so no git command ever runs in a directory the agent
 * wrote (no hooks, filters, attributes or config of its making). The work tree's own top-level `.git` (the
 * agent's disposable repository) is ignored. Nothing here writes anything.
 */

/** One entry of the base tree as `git ls-tree -r -l` lists it. */
export interface BaseEntry {
  mode: string;
  oid: string;
  /** -1 for a gitlink. */
  size: number;
}

/** A changed path, with where its content is (for a file) or what it says (for a link). */
export interface ScannedChange extends ChangedEntry {
  /** Absolute path of the file in the work tree; absent for deletions and links. */
  source?: string;
  /** Why git could not store it as is (a fifo, a socket, an unreadable name): a scope violation. */
  unsupported?: string;
}

export interface WorkTreeScan {
  changes: ScannedChange[];
  /** Every symlink of the candidate tree (changed or not): path → target. */
  links: Map<string, string>;
  /** Entries the walk saw (files, links, others); the walk stops at `maxEntries`. */
  entries: number;
  /** True when the walk stopped early: the work tree is far beyond any cap. */
  truncated: boolean;
}

export interface ScanOptions {
  /** Entries beyond which the walk stops (bounds Leviathan's own work after a runaway agent). */
  maxEntries: number;
  /** Object format of the private repository (how blob ids are computed). */
  objectFormat: 'sha1' | 'sha256';
  /** Files above this size are never read (they cannot be delivered); they still count. */
  maxReadBytes: number;
}

/** Git's id of a blob with this content. */
export function blobId(content: Buffer, format: 'sha1' | 'sha256'): string {
  return createHash(format).update(`blob ${content.length}\0`).update(content).digest('hex');
}

/** Reads a regular file without following a link; null when it is not (any longer) a regular file. */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer | null> {
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = await handle.stat();
    if (!st.isFile() || st.size > maxBytes) return null;
    const content = await handle.readFile();
    return content.length > maxBytes ? null : content;
  } catch {
    return null;
  } finally {
    await handle?.close();
  }
}

/** Walks `root` and lists what differs from `base`; every link of the work tree is read, changed or not. */
export async function scanWorkTree(
  root: string,
  base: ReadonlyMap<string, BaseEntry>,
  options: ScanOptions,
): Promise<WorkTreeScan> {
  const changes: ScannedChange[] = [];
  const links = new Map<string, string>();
  const seen = new Set<string>();
  let entries = 0;
  let truncated = false;

  const change = (path: string, mode: string, oid: string | null, size: number, extra = {}) => {
    const before = base.get(path);
    const oldMode = before?.mode ?? MODE_NONE;
    const kind = (m: string) => (m === MODE_SYMLINK ? 'l' : m === MODE_SUBMODULE ? 'g' : 'f');
    const status = !before ? 'A' : kind(before.mode) !== kind(mode) ? 'T' : 'M';
    changes.push({ path, status, oldMode, mode, oid, size, ...extra });
  };

  const walk = async (dir: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (error) {
      change(rel, MODE_FILE, null, 0, { unsupported: `unreadable directory (${(error as Error).message})` });
      return;
    }
    for (const name of names) {
      if (truncated) return;
      const path = rel ? `${rel}/${name}` : name;
      if (path === '.git') continue; // the agent's own disposable repository
      entries += 1;
      if (entries > options.maxEntries) {
        truncated = true;
        return;
      }
      const abs = join(dir, name);
      const st = await lstat(abs).catch(() => null);
      if (!st) {
        change(path, MODE_FILE, null, 0, { unsupported: 'vanished or unreadable while being read' });
        continue;
      }
      const before = base.get(path);
      if (st.isDirectory()) {
        // A gitlink of the base shows as a directory: left as it is (no submodule content is ever read).
        if (before?.mode === MODE_SUBMODULE) {
          seen.add(path);
          continue;
        }
        await walk(abs, path);
        continue;
      }
      seen.add(path);
      if (st.isSymbolicLink()) {
        const target = await readlink(abs).catch(() => null);
        if (target === null) {
          change(path, MODE_SYMLINK, null, 0, { unsupported: 'unreadable symlink' });
          continue;
        }
        links.set(path, target);
        const content = Buffer.from(target);
        const oid = blobId(content, options.objectFormat);
        if (before?.mode === MODE_SYMLINK && before.oid === oid) continue;
        change(path, MODE_SYMLINK, oid, content.length, { linkTarget: target });
        continue;
      }
      if (!st.isFile()) {
        change(path, MODE_FILE, null, 0, { unsupported: 'not a regular file, directory or symlink' });
        continue;
      }
      const mode = st.mode & 0o100 ? MODE_EXECUTABLE : MODE_FILE;
      const sameSize = before !== undefined && before.mode !== MODE_SYMLINK && before.size === st.size;
      if (sameSize && st.size <= options.maxReadBytes) {
        const content = await readRegularFile(abs, options.maxReadBytes);
        if (content !== null) {
          const oid = blobId(content, options.objectFormat);
          if (oid === before.oid && mode === before.mode) continue;
          change(path, mode, oid, st.size, { source: abs });
          continue;
        }
      }
      // Content not read here (new, resized or too big): its id is computed when it is written, if ever.
      change(path, mode, null, st.size, { source: abs });
    }
  };

  await walk(root, '');
  if (!truncated) {
    for (const [path, entry] of base) {
      if (seen.has(path)) continue;
      changes.push({ path, status: 'D', oldMode: entry.mode, mode: MODE_NONE, oid: null, size: 0 });
    }
  }
  changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { changes, links, entries, truncated };
}
