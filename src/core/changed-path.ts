/**
 * May a task change this file (SPEC §2.2): `checkChangedPath`, the check on each path of an actual diff.
 *
 * Pure: no I/O, no imports from other src/ folders.
 */
import { matchesAny, protectedMatch } from './glob-match.js';
import { normalizePath } from './paths.js';
import { BACKLOG_PATH, malformedProtected, type PathScope, protectedList } from './protected-paths.js';

/**
 * For one path of an actual diff: null if the task may change it, else why not. The path must normalise,
 * match no protected glob (a malformed protected list fails closed), be the backlog only if the task names it,
 * and match both the task's globs and the fence.
 */
/**
 * The name a Windows checkout gives the path: each segment loses its trailing dots and spaces, so
 * `docs/server.pem.` is `docs/server.pem` there, and a protected glob must see that name too.
 */
function windowsName(path: string): string {
  return path
    .split('/')
    .map((segment) => segment.replace(/[. ]+$/, '') || segment)
    .join('/');
}

export function checkChangedPath(
  path: string,
  taskGlobs: readonly string[],
  scope: PathScope,
): string | null {
  const n = normalizePath(path);
  if (!n.ok) return `invalid path ${JSON.stringify(path)}: ${n.reason}`;
  const p = n.path;
  const malformed = malformedProtected(scope);
  if (malformed) return malformed;
  const seen = [...new Set([p, windowsName(p)])];
  for (const name of seen) {
    const hit = protectedList(scope).find((g) => protectedMatch(g, name));
    if (hit !== undefined)
      return `${p} is a protected path (${hit}${name === p ? '' : `: it is ${name} on Windows`})`;
  }
  if (seen.some((name) => name.toLowerCase() === BACKLOG_PATH) && !taskGlobs.includes(BACKLOG_PATH)) {
    return `${p} may be changed only by a task that names it in its allowed_paths`;
  }
  if (!matchesAny(p, taskGlobs)) return `${p} is not in the task's allowed_paths`;
  if (!matchesAny(p, scope.allowed_paths)) return `${p} is not inside scope.allowed_paths`;
  return null;
}
