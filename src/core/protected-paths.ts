/**
 * The protected list of a scope (SPEC §2.2): the scope shape, the globs no task may change, the backlog
 * rule, and the verdict and reasons the scope decisions give.
 *
 * Pure: no I/O, no imports from other src/ folders.
 */
import { globError } from './glob-match.js';

/** The part of the config `taskScope` and `checkChangedPath` need (structurally `Config['scope']`). */
export interface PathScope {
  allowed_paths: readonly string[];
  protected_paths: readonly string[];
}

/** Writable only by a task that names this exact string in its own allowed_paths (SPEC §2.2). */
export const BACKLOG_PATH = '.leviathan/backlog.yaml';

/** The protected globs for this task: the config's, plus the backlog unless the task names it. */
/** Guardrails are never changed by a task, whatever a config's protected_paths list says (SPEC §2.2). */
export const ALWAYS_PROTECTED: readonly string[] = ['.git/**', '.leviathan/config.yaml'];

/**
 * A floating protected glob (one that starts with a double star and a slash, like the defaults for `.env*`,
 * `*.pem` or `*secret*` files) bans a kind of file anywhere. Read strictly, such a glob makes every wildcard
 * task glob "able to reach" it (a task's `docs` wildcard reaches `docs/.env`), so no task could ever use a
 * wildcard. These bans are therefore enforced on each changed path of the actual diff (checkChangedPath) and,
 * before dispatch, only against literal task paths. Protected globs anchored at a directory or a file
 * (`.github` and everything under it, `docs/secret*`) are checked against every task glob, soundly.
 */
export function isFloatingGlob(glob: string): boolean {
  return glob.startsWith('**/');
}

export function protectedList(scope: PathScope): string[] {
  return [...new Set([...ALWAYS_PROTECTED, ...scope.protected_paths])];
}

export function protectedFor(taskGlobs: readonly string[], scope: PathScope): string[] {
  const list = protectedList(scope);
  if (!taskGlobs.includes(BACKLOG_PATH) && !list.includes(BACKLOG_PATH)) list.push(BACKLOG_PATH);
  return list;
}

export function reachWhy(protectedGlob: string, scope: PathScope): string {
  if (protectedGlob === BACKLOG_PATH && !scope.protected_paths.includes(BACKLOG_PATH)) {
    return `can reach protected path ${BACKLOG_PATH} (a task may change it only by naming it in its allowed_paths)`;
  }
  return `can reach protected path ${protectedGlob}`;
}

export function malformedProtected(scope: PathScope): string | null {
  for (const p of scope.protected_paths) {
    const why = globError(p);
    if (why !== null) return `protected path ${JSON.stringify(p)} is malformed (${why}); failing closed`;
  }
  return null;
}

/**
 * In scope only if EVERY task glob lies inside the fence (`scope.allowed_paths`) and none can reach a
 * protected path (nor `.leviathan/backlog.yaml`, unless the task names it literally). Sound, conservative:
 * "in scope" guarantees that every path a task glob matches is matched by the fence and by no protected glob;
 * when that cannot be shown the task is out of scope. Returns the first offending glob and why.
 */
export type ScopeVerdict = { inScope: true } | { inScope: false; path: string; why: string };
