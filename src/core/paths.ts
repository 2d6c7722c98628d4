/**
 * Repository paths and globs (SPEC §2.2): normalisation and glob syntax validation. Matching is in
 * glob-match.ts, the glob model in glob-model.ts, the scope decisions in task-scope.ts, quick-scope.ts
 * and changed-path.ts.
 *
 * Pure: no I/O, no imports from other src/ folders.
 */
import picomatch from 'picomatch';
import {
  ABSOLUTE,
  DOT_SEGMENT,
  DOTDOT_SEGMENT,
  EMPTY_SEGMENT,
  GLUED_GLOBSTAR,
  isValidPlainGlob,
  MAX_GLOB_LENGTH,
  PLAIN_GLOB,
  plainGlobError,
} from './glob-plain.js';

export type PathResult = { ok: true; path: string } | { ok: false; reason: string };

// `windows: false`: picomatch would otherwise follow the host OS; paths here are always POSIX.
// `dot: true`: dotfiles are ordinary files to a guardrail (`docs/**` covers `docs/.env`).
// `fastpaths: false`: picomatch's shortcuts for a few globs differ from its parser (`*.*` would not match
// `a.`); one reading keeps matching and the scope model in agreement.
export const PM_OPTIONS = { dot: true, windows: false, nocase: false, fastpaths: false } as const;

const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const DRIVE_LETTER = /^[A-Za-z]:/;
const MAX_ALTERNATIVES = 256;

const fail = (reason: string): PathResult => ({ ok: false, reason });

// ---------------------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------------------

/** Why `text` (a path or a glob) is unsafe before any splitting, or null. Shared so both reject the same. */
function unsafeText(text: string): string | null {
  if (text.includes('\0')) return 'NUL bytes are not allowed';
  if (CONTROL_CHARS.test(text)) return 'control characters are not allowed';
  // A backslash is a separator on Windows and an escape in globs: either reading can escape the fence.
  if (text.includes('\\')) return 'backslashes are not allowed (use "/")';
  if (text.startsWith('/')) return ABSOLUTE;
  if (DRIVE_LETTER.test(text)) return 'drive letters are not allowed';
  return null;
}

/**
 * A repository-relative POSIX path, or why not. Rejected: empty, NUL/control characters, backslashes, a
 * leading "/", a drive letter, empty segments (`a//b`, a trailing "/") and ".." segments anywhere (even
 * `a/../a`: a guardrail does not resolve, it refuses). Normalised: "." segments are dropped (`./docs/a.md`
 * and `docs/./a.md` → `docs/a.md`), since they name the same file. The result is idempotent.
 */
export function normalizePath(input: string): PathResult {
  if (typeof input !== 'string' || input === '') return fail('empty path');
  const unsafe = unsafeText(input);
  if (unsafe) return fail(unsafe);
  const kept: string[] = [];
  for (const segment of input.split('/')) {
    if (segment === '') return fail('empty path segments are not allowed ("a//b" or a trailing "/")');
    if (segment === '..') return fail('".." segments are not allowed');
    if (segment !== '.') kept.push(segment);
  }
  if (kept.length === 0) return fail('the path names the repository root, not a file');
  // `./C:/x` only shows its drive letter once the "." is gone.
  if (DRIVE_LETTER.test(kept[0]!)) return fail('drive letters are not allowed');
  return { ok: true, path: kept.join('/') };
}

// ---------------------------------------------------------------------------------------------------------
// Glob syntax
// ---------------------------------------------------------------------------------------------------------

const OPENERS: Record<string, string> = { ']': '[', '}': '{', ')': '(' };

function balanceError(glob: string): string | null {
  const stack: string[] = [];
  for (const ch of glob) {
    if (ch === '[' || ch === '{' || ch === '(') stack.push(ch);
    else if (ch in OPENERS && stack.pop() !== OPENERS[ch]) return `unbalanced "${ch}"`;
    // Outside a group picomatch passes "|" to the regex as is: `docs/a|b` would match `b`.
    else if (ch === '|' && !stack.includes('('))
      return '"|" is only allowed inside an extglob, as in "@(a|b)"';
  }
  return stack.length > 0 ? `unclosed "${stack[stack.length - 1]}"` : null;
}

/** Splits on "/" outside brackets, braces and parens (`[/]`, `{a/b}` are not separators there). */
export function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '[' || ch === '{' || ch === '(') depth++;
    else if (ch === ']' || ch === '}' || ch === ')') depth--;
    else if (ch === '/' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

interface BraceGroup {
  open: number;
  close: number;
  alternatives: string[];
}

/**
 * The first `{a,b}` group picomatch treats as an alternation: a direct comma, and not followed by "+" (after a
 * brace picomatch emits "+" as a regex quantifier, which is not alternation). Groups without a comma are
 * literal text to picomatch and stay in the text (our model then treats their segment as opaque).
 */
function firstBraceGroup(text: string): BraceGroup | null {
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '{' || depthAt(text, i) !== 0) {
      i++;
      continue;
    }
    const stack: string[] = [];
    const commas: number[] = [];
    let close = -1;
    for (let j = i; j < text.length; j++) {
      const ch = text[j]!;
      if (ch === '[' || ch === '{' || ch === '(') stack.push(ch);
      else if (ch === ']' || ch === '}' || ch === ')') {
        stack.pop();
        if (stack.length === 0) {
          close = j;
          break;
        }
      } else if (ch === ',' && stack.length === 1) commas.push(j);
    }
    if (close < 0) return null; // unbalanced: validateGlob has already refused it
    if (commas.length > 0 && text[close + 1] !== '+') {
      const bounds = [i, ...commas, close];
      const alternatives = bounds.slice(1).map((end, k) => text.slice(bounds[k]! + 1, end));
      return { open: i, close, alternatives };
    }
    i = close + 1;
  }
  return null;
}

function depthAt(text: string, index: number): number {
  let depth = 0;
  for (let i = 0; i < index; i++) {
    const ch = text[i];
    if (ch === '[' || ch === '{' || ch === '(') depth++;
    else if (ch === ']' || ch === '}' || ch === ')') depth--;
  }
  return depth;
}

/** Brace alternation expanded into plain globs; null when it would exceed MAX_ALTERNATIVES. */
export function expandBraces(glob: string): string[] | null {
  const out: string[] = [];
  const walk = (text: string): boolean => {
    const group = firstBraceGroup(text);
    if (!group) {
      out.push(text);
      return out.length <= MAX_ALTERNATIVES;
    }
    const before = text.slice(0, group.open);
    const after = text.slice(group.close + 1);
    for (const alt of group.alternatives) {
      if (!walk(before + alt + after)) return false;
    }
    return true;
  };
  return walk(glob) ? out : null;
}

/** Why one brace-free alternative is unsafe, or null. Same rules as normalizePath, applied to glob text. */
function alternativeError(alt: string): string | null {
  if (alt === '') return 'a brace alternative expands to an empty glob';
  if (alt.startsWith('!')) return 'negations are not supported';
  const unsafe = unsafeText(alt);
  if (unsafe) return unsafe;
  for (const segment of splitTop(alt)) {
    if (segment === '') return EMPTY_SEGMENT;
    if (segment === '..') return DOTDOT_SEGMENT;
    if (segment === '.') return DOT_SEGMENT;
    // picomatch reads `a**`, `**.md` differently depending on context (sometimes crossing "/", sometimes not).
    if (segment !== '**' && segment.includes('**')) return GLUED_GLOBSTAR;
  }
  return null;
}

/**
 * Null if `glob` is a usable glob, else why not. Besides normalizePath's unsafe forms (applied to the glob text
 * and to every brace alternative) this rejects: empty globs; unbalanced [ ] { } ( ); "." segments (one
 * canonical spelling); brace ranges `{1..3}`; "**" glued to other characters; and negations.
 *
 * Negations (`!x`, `!(x)`) are refused because every glob list here is a plain union: a negation would mean
 * "everything except x", which in allowed_paths silently widens a task or the fence to the whole repository,
 * and in protected_paths protects almost everything — never the gitignore-style "exclude" a user expects.
 */
export function validateGlob(glob: string): string | null {
  if (typeof glob !== 'string' || glob === '') return 'empty glob';
  // The commonest globs: the same verdict from a few segment rules (src/core/glob-plain.ts).
  if (isValidPlainGlob(glob)) return null;
  if (PLAIN_GLOB.test(glob)) return plainGlobError(glob);
  return generalGlobError(glob);
}

/** validateGlob's rules for any glob (exported, through `_glob`, so tests can hold the plain path to it). */
export function generalGlobError(glob: string): string | null {
  if (typeof glob !== 'string' || glob === '') return 'empty glob';
  if (glob.length > MAX_GLOB_LENGTH) return `longer than ${MAX_GLOB_LENGTH} characters`;
  const unsafe = unsafeText(glob);
  if (unsafe) return unsafe;
  if (glob.startsWith('!') || glob.includes('!(')) return 'negations are not supported';
  const unbalanced = balanceError(glob);
  if (unbalanced) return unbalanced;
  // picomatch reads `[]` as an unterminated class that swallows the rest of the glob as raw regex.
  if (/\[[!^]?\]/.test(glob)) return 'empty bracket expression "[]"';
  if (glob.split(/[/{},()|]/).includes('..')) return DOTDOT_SEGMENT;
  if (/\{[^{}]*\.\.[^{}]*\}/.test(glob)) return 'brace ranges ({a..b}) are not supported';
  const expansion = expandBraces(glob);
  if (!expansion) return `more than ${MAX_ALTERNATIVES} brace alternatives`;
  for (const alt of expansion) {
    const why = alternativeError(alt);
    if (why) return why;
  }
  // Literal characters, "*" and "/" only: nothing picomatch could misread or refuse, so no need to compile.
  if (PLAIN_GLOB.test(glob)) return null;
  try {
    // When picomatch "backtracks" (POSIX classes, risky repeated extglobs) it rebuilds the regex from raw
    // token text, where a "." matches any character, "/" included: such a glob means something else.
    if (picomatch.parse(glob, { maxLength: MAX_GLOB_LENGTH, ...PM_OPTIONS }).backtrack) {
      return 'not supported: POSIX classes like [[:alpha:]] and repeated extglobs like +(a|aa)';
    }
    picomatch.makeRe(glob, PM_OPTIONS);
  } catch (e) {
    return `not a valid glob (${e instanceof Error ? e.message : String(e)})`;
  }
  return null;
}
