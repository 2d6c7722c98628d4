import type { WorkTreeScan } from '../executor/work-tree.js';
import { blobId, readRegularFile } from '../executor/work-tree.js';

/**
 * What a failed attempt leaves on its WIP branch when its content may not or cannot be pushed (over the caps,
 * paths git refuses, protected or out-of-scope files): a manifest of what was there — paths, modes, sizes and
 * blob ids — never the content. Bounded: at most MAX_ENTRIES rows and MAX_HASHED_BYTES read to hash them.
 */
export const WIP_MANIFEST = 'LEVIATHAN-WIP-MANIFEST.json';
const MAX_ENTRIES = 20_000;
const MAX_HASHED_BYTES = 64 * 1024 * 1024;
const MAX_HASHED_FILE = 1024 * 1024;

export interface ManifestRow {
  path: string;
  status: string;
  mode: string;
  size: number;
  /** Git blob id of the content; null when not hashed (too big, unreadable, over the hashing budget). */
  oid: string | null;
  /** Why the content is not on the branch. */
  withheld?: string;
}

export async function buildManifest(
  scan: WorkTreeScan,
  format: 'sha1' | 'sha256',
  withheld: (path: string) => string | undefined,
  note: string,
): Promise<string> {
  let hashed = 0;
  const rows: ManifestRow[] = [];
  for (const c of scan.changes.slice(0, MAX_ENTRIES)) {
    let oid = c.oid;
    if (oid === null && c.source && c.size <= MAX_HASHED_FILE && hashed + c.size <= MAX_HASHED_BYTES) {
      const content = await readRegularFile(c.source, MAX_HASHED_FILE);
      if (content !== null) {
        hashed += content.length;
        oid = blobId(content, format);
      }
    }
    const why = withheld(c.path);
    rows.push({
      path: c.path,
      status: c.status,
      mode: c.mode,
      size: c.size,
      oid,
      ...(why ? { withheld: why } : {}),
    });
  }
  const manifest = {
    note,
    entries_seen: scan.entries,
    walk_truncated: scan.truncated,
    changes: scan.changes.length,
    listed: rows.length,
    rows,
  };
  return `${JSON.stringify(manifest, null, 1)}\n`;
}
