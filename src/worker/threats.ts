import { type ScannedFile, scanForThreats, type ThreatScanResult } from '../core/threat-scan.js';
import { MODE_SYMLINK } from '../executor/changes.js';
import { readRegularFile, type WorkTreeScan } from '../executor/work-tree.js';

/**
 * The threat scan of a candidate (issue 11) read from the agent's work tree as data: every changed path, the
 * target of every changed link and the content of every changed file while the total stays within
 * `maxBytes` (beyond it the attempt fails on its caps and no content leaves anyway). Binary files (a NUL in
 * their first 8000 bytes, git's rule) are searched for token shapes and known values only.
 */
export async function scanCandidate(
  scan: WorkTreeScan,
  secrets: readonly string[],
  maxBytes: number,
): Promise<ThreatScanResult> {
  const files: ScannedFile[] = [];
  let budget = maxBytes;
  for (const c of scan.changes) {
    if (c.status === 'D') continue;
    if (c.mode === MODE_SYMLINK) {
      files.push({ path: c.path, content: c.linkTarget ?? '' });
      continue;
    }
    const content = c.source && c.size <= budget ? await readRegularFile(c.source, budget) : null;
    if (content === null) {
      files.push({ path: c.path, content: '' });
      continue;
    }
    budget -= content.length;
    const binary = content.subarray(0, 8000).includes(0);
    files.push({ path: c.path, content: content.toString(binary ? 'latin1' : 'utf8'), binary });
  }
  return scanForThreats(files, { secrets });
}
