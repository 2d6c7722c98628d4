import { checkChangedPath } from '../core/changed-path.js';
import type { Config } from '../core/config.js';
import { matchesAny } from '../core/glob-match.js';
import { normalizePath } from '../core/paths.js';
import type { ChangedEntry, ChangeStatus } from './changes.js';

/** What checkDiff needs of a change; `ChangedEntry` from collectChanges fits. */
export type DiffEntry = Pick<ChangedEntry, 'path' | 'status' | 'mode' | 'size'> &
  Partial<Pick<ChangedEntry, 'oldMode' | 'linkTarget'>> & {
    /** Why the entry cannot be stored as it is (a fifo, an unreadable name): always a scope violation. */
    unsupported?: string;
  };

export interface DiffGuardOptions {
  /** The task's `allowed_paths`. */
  taskGlobs: readonly string[];
  /** The config's `scope` (fence and protected paths). */
  scope: Config['scope'];
  /** `limits.max_files_changed`. */
  maxFiles: number;
  /** `limits.max_diff_bytes`: the total size of the new content (added and modified blobs). */
  maxBytes: number;
  /**
   * Every symlink of the candidate tree (path → target), changed or not. When given, a link is resolved
   * through the tree's own links, as the OS would on checkout (`docs/e -> d/../.github` with `docs/d -> .`
   * lands on `.github`); without it, lexically.
   */
  links?: ReadonlyMap<string, string>;
  /** What Leviathan adds to the push itself (the backlog write-back): counted in the caps. */
  extra?: { files: number; bytes: number };
}

export type DiffFailureReason = 'no_changes' | 'scope_violation' | 'limit_exceeded';

/** Same shape as core/pr-body's `GuardrailCheck`, so the report goes into the PR body as is. */
export interface GuardCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export type EntryKind = 'file' | 'executable' | 'symlink' | 'submodule' | 'deleted';

export interface GuardReport {
  files: number;
  bytes: number;
  maxFiles: number;
  maxBytes: number;
  added: number;
  modified: number;
  deleted: number;
  /** The first REPORT_MAX_ENTRIES changes; `omitted` says how many more there were. */
  entries: Array<{ path: string; status: ChangeStatus; kind: EntryKind; bytes: number }>;
  omitted: number;
  checks: GuardCheck[];
}

export type DiffCheckResult =
  | { ok: true; report: GuardReport }
  | { ok: false; reason: DiffFailureReason; violations: string[]; report: GuardReport };

export const REPORT_MAX_ENTRIES = 200;
/** Violations listed in full; a runaway agent can produce thousands. */
const MAX_VIOLATIONS = 50;

/** As the kernel's limit on nested links (ELOOP). */
const MAX_LINK_HOPS = 40;

export type LinkResolution = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Where a symlink at `linkPath` points, as a repository-relative path. The target is resolved against the
 * link's own directory, like the OS does; an absolute target, or one that climbs out of the repository or
 * lands on its root, is rejected. (Links through other, pre-existing symlinks are not followed: this is a
 * pure check on the diff.)
 */
export function resolveLinkTarget(
  linkPath: string,
  target: string,
  links?: ReadonlyMap<string, string>,
): LinkResolution {
  if (target === '') return { ok: false, reason: 'empty symlink target' };
  if (target.startsWith('/') || /^[A-Za-z]:/.test(target)) {
    return { ok: false, reason: `absolute symlink target ${JSON.stringify(target)}` };
  }
  if (target.includes('\\') || target.includes('\0') || target.includes('\uFFFD')) {
    return { ok: false, reason: `unsafe symlink target ${JSON.stringify(target)}` };
  }
  const parts = linkPath.split('/').slice(0, -1);
  const queue = target.split('/');
  let hops = 0;
  while (queue.length > 0) {
    const segment = queue.shift()!;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (parts.length === 0)
        return { ok: false, reason: `symlink target ${JSON.stringify(target)} leaves the repository` };
      parts.pop();
      continue;
    }
    parts.push(segment);
    const next = links?.get(parts.join('/'));
    if (next === undefined) continue;
    // A link on the way: continue from its own target, relative to its directory.
    if (++hops > MAX_LINK_HOPS) return { ok: false, reason: `symlink ${JSON.stringify(target)} loops` };
    if (next === '' || next.startsWith('/') || next.includes('\\') || next.includes('\0')) {
      return { ok: false, reason: `symlink target ${JSON.stringify(target)} goes through an unsafe link` };
    }
    parts.pop();
    queue.unshift(...next.split('/'));
  }
  if (parts.length === 0) return { ok: false, reason: 'symlink target is the repository root' };
  const normal = normalizePath(parts.join('/'));
  return normal.ok ? { ok: true, path: normal.path } : { ok: false, reason: normal.reason };
}

/** What checkChangedPath cannot see: lossy decoding, and spellings git never produces (`./a`) — refused too. */
function pathProblem(path: string, taskGlobs: readonly string[]): string | null {
  // Git hands us bytes; a name that is not UTF-8 was decoded lossily and cannot be checked faithfully.
  if (path.includes('\uFFFD')) return 'path is not valid UTF-8';
  // Invisible and bidirectional characters hide what a name is (`.e<ZWJ>nv` is `.env` on HFS+).
  if (/[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]/.test(path)) {
    return 'path contains invisible or bidirectional characters';
  }
  for (const segment of path.split('/')) {
    // What git refuses to store or check out (verify_path, with the NTFS and HFS+ spellings of `.git`).
    const bare = segment
      .toLowerCase()
      .replace(/[. ]+$/, '')
      .replace(/[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g, '');
    if (bare === '.git' || bare === 'git~1') return 'git refuses this path (a .git component)';
  }
  const name = (path.split('/').pop() ?? '').toLowerCase();
  if ((name === '.gitmodules' || name === '.gitattributes') && !taskGlobs.includes(path)) {
    // They change what git does with other paths (submodule URLs, filters, diff and merge drivers).
    return `${name} may be changed only by a task that names it in its allowed_paths`;
  }
  const normal = normalizePath(path);
  if (normal.ok && normal.path !== path)
    return `not a canonical path (git would write ${JSON.stringify(normal.path)})`;
  return null;
}

function kindOf(entry: DiffEntry): EntryKind {
  if (entry.status === 'D') return 'deleted';
  if (entry.mode === '120000') return 'symlink';
  if (entry.mode === '160000') return 'submodule';
  if (entry.mode === '100755') return 'executable';
  return 'file';
}

function summarise(items: string[]): string {
  return items.length <= 3
    ? items.join('; ')
    : `${items.slice(0, 3).join('; ')}; and ${items.length - 3} more`;
}

/**
 * Checks a diff against the guardrails (SPEC §2.2, §3.2 step 4). Pure: no I/O, so it is tested without git.
 * - not empty;
 * - every path (a rename arrives as its deletion and its addition, so both sides) passes `checkChangedPath`:
 *   inside the task's globs and the config fence, outside protected paths, normalised, valid UTF-8;
 * - a symlink only with a relative target that resolves inside the task's globs and passes the same check;
 *   no submodules (a gitlink points at code that is never reviewed here);
 * - at most `maxFiles` entries and `maxBytes` bytes of new content.
 * All checks always run, so the report is complete; the reason is the most serious failure.
 */
export function checkDiff(changes: readonly DiffEntry[], options: DiffGuardOptions): DiffCheckResult {
  const { taskGlobs, scope, maxFiles, maxBytes, links } = options;
  const pathViolations: string[] = [];
  const linkViolations: string[] = [];
  let bytes = 0;
  let linkCount = 0;

  for (const entry of changes) {
    bytes += entry.status === 'D' ? 0 : entry.size;
    const shown = JSON.stringify(entry.path);
    const why =
      entry.unsupported ??
      pathProblem(entry.path, taskGlobs) ??
      checkChangedPath(entry.path, taskGlobs, scope);
    if (why !== null) pathViolations.push(`${shown}: ${why}`);
    if (entry.status === 'D' || entry.unsupported !== undefined) continue;

    if (entry.mode === '160000') {
      linkViolations.push(`${shown}: submodules are not allowed`);
    } else if (entry.mode === '120000') {
      linkCount++;
      if (entry.linkTarget === undefined) {
        linkViolations.push(`${shown}: symlink target unknown`);
        continue;
      }
      const target = resolveLinkTarget(entry.path, entry.linkTarget, links);
      if (!target.ok) {
        linkViolations.push(`${shown}: ${target.reason}`);
        continue;
      }
      const targetWhy = matchesAny(target.path, taskGlobs)
        ? checkChangedPath(target.path, taskGlobs, scope)
        : "outside the task's allowed_paths";
      if (targetWhy !== null) {
        linkViolations.push(`${shown}: symlink to ${JSON.stringify(target.path)}: ${targetWhy}`);
      }
    }
  }

  const files = changes.length + (options.extra?.files ?? 0);
  bytes += options.extra?.bytes ?? 0;
  const limitViolations: string[] = [];
  if (files > maxFiles) limitViolations.push(`${files} files changed, limit ${maxFiles}`);
  if (bytes > maxBytes) limitViolations.push(`${bytes} bytes of new content, limit ${maxBytes}`);

  const count = (s: ChangeStatus): number => changes.filter((c) => c.status === s).length;
  const report: GuardReport = {
    files,
    bytes,
    maxFiles,
    maxBytes,
    added: count('A'),
    modified: count('M') + count('T'),
    deleted: count('D'),
    entries: changes.slice(0, REPORT_MAX_ENTRIES).map((c) => ({
      path: c.path,
      status: c.status,
      kind: kindOf(c),
      bytes: c.status === 'D' ? 0 : c.size,
    })),
    omitted: Math.max(0, files - REPORT_MAX_ENTRIES),
    checks: [
      {
        name: 'changes present',
        ok: changes.length > 0,
        detail: changes.length > 0 ? `${files} files` : 'the attempt changed nothing',
      },
      {
        name: 'paths in scope',
        ok: pathViolations.length === 0,
        detail: pathViolations.length === 0 ? `all ${files} paths allowed` : summarise(pathViolations),
      },
      {
        name: 'symlinks safe',
        ok: linkViolations.length === 0,
        detail:
          linkViolations.length === 0
            ? `${linkCount} symlinks, none leaving the allowed paths`
            : summarise(linkViolations),
      },
      { name: 'files changed', ok: files <= maxFiles, detail: `${files} of max ${maxFiles}` },
      { name: 'diff size', ok: bytes <= maxBytes, detail: `${bytes} of max ${maxBytes} bytes` },
    ],
  };

  if (changes.length === 0)
    return { ok: false, reason: 'no_changes', violations: ['the attempt changed nothing'], report };
  const scopeViolations = [...pathViolations, ...linkViolations];
  const all = [...scopeViolations, ...limitViolations];
  if (all.length === 0) return { ok: true, report };
  const violations =
    all.length > MAX_VIOLATIONS
      ? [...all.slice(0, MAX_VIOLATIONS), `… and ${all.length - MAX_VIOLATIONS} more`]
      : all;
  return {
    ok: false,
    reason: scopeViolations.length > 0 ? 'scope_violation' : 'limit_exceeded',
    violations,
    report,
  };
}

/** The report as Markdown for a job summary (the PR body renders `report.checks` itself). */
export function renderGuardReport(report: GuardReport): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/[\r\n]/g, ' ');
  const lines = ['| check | result | detail |', '|---|---|---|'];
  for (const c of report.checks)
    lines.push(`| ${esc(c.name)} | ${c.ok ? 'pass' : 'FAIL'} | ${esc(c.detail)} |`);
  lines.push(
    '',
    `${report.files} files (${report.added} added, ${report.modified} modified, ${report.deleted} deleted), ${report.bytes} bytes`,
  );
  if (report.entries.length > 0) {
    lines.push('', '| status | path | kind | bytes |', '|---|---|---|---|');
    for (const e of report.entries) {
      lines.push(`| ${e.status} | \`${esc(e.path).replace(/`/g, "'")}\` | ${e.kind} | ${e.bytes} |`);
    }
    if (report.omitted > 0) lines.push('', `… and ${report.omitted} more files`);
  }
  return `${lines.join('\n')}\n`;
}
