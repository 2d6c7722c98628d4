/**
 * The commonest globs in a backlog are plain: letters, digits, `.`, `_`, `-`, `/` and `*` only
 * (`docs/guide/page-1.md`, `docs/guide/images/1/**`). For them `validateGlob`'s verdict comes down to a few
 * segment rules, checked here in one pass with no regex, split or brace expansion, so a 10,000-task backlog
 * does not pay the general check 20,000 times. Same messages, same order as `validateGlob` (its tests and
 * `test/unit/glob-plain.test.ts` hold the two together).
 */

/** Letters, digits, `.`, `_`, `-`, `/` and `*`: nothing a glob reader could take as syntax beyond `*`. */
export const PLAIN_GLOB = /^[A-Za-z0-9._\-/*]+$/;

export const MAX_GLOB_LENGTH = 1000;

/**
 * A plain glob with nothing to refuse: segments of those characters, none of them "." or "..", and "**" only
 * as a whole segment (a star never follows a star otherwise). One native test, so the commonest case costs no
 * JavaScript loop at all (a cold command runs these loops in the interpreter, 10,000 times).
 */
const VALID_PLAIN =
  /^(?:\*\*|(?!\.\.?(?:\/|$))(?:[A-Za-z0-9._-]|\*(?!\*))+)(?:\/(?:\*\*|(?!\.\.?(?:\/|$))(?:[A-Za-z0-9._-]|\*(?!\*))+))*$/;

export const EMPTY_SEGMENT = 'empty path segments are not allowed ("a//b" or a trailing "/")';
export const DOTDOT_SEGMENT = '".." segments are not allowed';
export const DOT_SEGMENT = '"." segments are not allowed (write "docs/**", not "./docs/**")';
export const GLUED_GLOBSTAR = '"**" must be a whole path segment, as in "**/*.md"';
export const ABSOLUTE = 'absolute paths are not allowed (paths are relative to the repo root)';

const SLASH = 47;
const DOT = 46;

/**
 * `validateGlob(glob)` for a glob that matches PLAIN_GLOB: null if usable, else why not. The order of the
 * general check is kept: length, a leading "/", any ".." segment, then the first bad segment (empty, ".", or
 * "**" glued to other characters).
 */
/** A plain glob with nothing to refuse (implies PLAIN_GLOB): `plainGlobError(glob) === null` in one test. */
export function isValidPlainGlob(glob: string): boolean {
  return glob.length <= MAX_GLOB_LENGTH && VALID_PLAIN.test(glob);
}

export function plainGlobError(glob: string): string | null {
  if (glob.length > MAX_GLOB_LENGTH) return `longer than ${MAX_GLOB_LENGTH} characters`;
  if (VALID_PLAIN.test(glob)) return null;
  if (glob.charCodeAt(0) === SLASH) return ABSOLUTE;
  let first: string | null = null;
  let start = 0;
  for (let i = 0; i <= glob.length; i++) {
    if (i < glob.length && glob.charCodeAt(i) !== SLASH) continue;
    const len = i - start;
    const c0 = glob.charCodeAt(start);
    if (len === 2 && c0 === DOT && glob.charCodeAt(start + 1) === DOT) return DOTDOT_SEGMENT;
    if (first === null) {
      if (len === 0) first = EMPTY_SEGMENT;
      else if (len === 1 && c0 === DOT) first = DOT_SEGMENT;
      else if (len > 2) {
        // A two-character segment holding "**" is "**" itself; a longer one must not hold it at all.
        const glued = glob.indexOf('**', start);
        if (glued >= 0 && glued < i - 1) first = GLUED_GLOBSTAR;
      }
    }
    start = i + 1;
  }
  return first;
}
