/**
 * Glob matching (SPEC §2.2): picomatch only, with its caches; the case-insensitive reading of protected
 * globs and the allow-list reading (`allowGlob`) of task globs and the fence.
 *
 * Pure: no I/O, no imports from other src/ folders.
 */
import picomatch from 'picomatch';
import { isValidPlainGlob, PLAIN_GLOB, plainGlobError } from './glob-plain.js';
import { normalizePath, PM_OPTIONS, validateGlob } from './paths.js';

/** Compiled regexes are heavy; verdicts and models are small, and a big backlog names every glob several times. */
export const CACHE_LIMIT = 2000;
export const SMALL_CACHE_LIMIT = 50_000;
export const matchers = new Map<string, (path: string) => boolean>();
const validity = new Map<string, string | null>();

export function remember<V>(cache: Map<string, V>, key: string, make: () => V, limit = SMALL_CACHE_LIMIT): V {
  const hit = cache.get(key);
  if (hit !== undefined || cache.has(key)) return hit as V;
  if (cache.size >= limit) cache.clear();
  const value = make();
  cache.set(key, value);
  return value;
}

/** validateGlob, remembered for the globs that need the general check (plain ones are cheaper to re-check). */
export const globError = (glob: string): string | null =>
  isValidPlainGlob(glob)
    ? null
    : PLAIN_GLOB.test(glob)
      ? plainGlobError(glob)
      : remember(validity, glob, () => validateGlob(glob));

/**
 * picomatch's verdict for an already normalised path and a valid glob. Its regex alone: `picomatch()` would
 * also match a path that merely equals the glob text (a file named `{a,b}`), which no glob reader expects.
 */
export function pmMatch(glob: string, normalPath: string): boolean {
  return remember(
    matchers,
    glob,
    () => {
      const re = picomatch.makeRe(glob, PM_OPTIONS);
      return (path: string) => re.test(path);
    },
    CACHE_LIMIT,
  )(normalPath);
}

export const literalRuns = new Map<string, string[] | null>();

/**
 * The lower-cased literal runs of a glob made of literal characters, `*` and `/` only (the floating `.env*` ban
 * gives `.env`): every path it matches, in any case, contains each of them, so a path lacking one needs no regex.
 * null for any other glob (classes, braces, `?`, extglobs).
 */
export function runsOf(glob: string): string[] | null {
  if (/[?[\](){}|"'!@+\\]/.test(glob)) return null;
  return glob
    .toLowerCase()
    .split(/[*/]+/)
    .filter((run) => run !== '');
}

/**
 * A protected glob bans a kind of file whatever its case: `docs/.ENV` is a `.env` file to a case-insensitive
 * checkout (macOS, Windows) and to every tool that reads it. Allow-lists stay case-sensitive.
 */
export function protectedMatch(glob: string, normalPath: string): boolean {
  const runs = remember(literalRuns, glob, () => runsOf(glob));
  if (runs) {
    const lower = normalPath.toLowerCase();
    if (!runs.every((run) => lower.includes(run))) return false;
  }
  if (pmMatch(glob, normalPath)) return true;
  return remember(
    matchers,
    `\0nocase:${glob}`,
    () => {
      const re = picomatch.makeRe(glob, { ...PM_OPTIONS, nocase: true });
      return (path: string) => re.test(path);
    },
    CACHE_LIMIT,
  )(normalPath);
}

/**
 * An allow-list glob as its author means it: `docs/**` grants what is under `docs/`, not a file named `docs`
 * (picomatch lets a trailing "/**" match zero segments, so `docs/**` alone would match `docs`). Protected
 * globs keep picomatch's wider reading: `.github/**` bans a file named `.github` too (the safe direction).
 */
export function allowGlob(glob: string): string {
  return glob.endsWith('/**') ? `${glob}/*` : glob;
}

/**
 * True if the normalised `path` matches one of the allow-list `globs` (picomatch, `dot: true`,
 * case-sensitive, a trailing "/**" needing at least one segment: `allowGlob`). A path that does not normalise
 * matches nothing; a malformed glob matches nothing (callers that must fail closed on a malformed list —
 * protected paths — check validity themselves).
 */
export function matchesAny(path: string, globs: readonly string[]): boolean {
  const n = normalizePath(path);
  if (!n.ok) return false;
  return globs.some((g) => globError(g) === null && pmMatch(allowGlob(g), n.path));
}
