/**
 * Repository paths and globs (SPEC §2.2): normalisation, glob validation and matching, and the two scope
 * decisions — may a task run at all (`taskScope`), may it change this file (`checkChangedPath`).
 *
 * Pure: no I/O, no imports from other src/ folders. Matching is always picomatch's; the small "glob model"
 * below is used only to *decide* containment and intersection of globs, conservatively.
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

/** The part of the config `taskScope` and `checkChangedPath` need (structurally `Config['scope']`). */
export interface PathScope {
  allowed_paths: readonly string[];
  protected_paths: readonly string[];
}

/** Writable only by a task that names this exact string in its own allowed_paths (SPEC §2.2). */
export const BACKLOG_PATH = '.leviathan/backlog.yaml';

// `windows: false`: picomatch would otherwise follow the host OS; paths here are always POSIX.
// `dot: true`: dotfiles are ordinary files to a guardrail (`docs/**` covers `docs/.env`).
// `fastpaths: false`: picomatch's shortcuts for a few globs differ from its parser (`*.*` would not match
// `a.`); one reading keeps matching and the scope model in agreement.
const PM_OPTIONS = { dot: true, windows: false, nocase: false, fastpaths: false } as const;

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
function splitTop(text: string): string[] {
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
function expandBraces(glob: string): string[] | null {
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

/** A plain glob without a star: one literal path. */
const PLAIN_PATH = /^[A-Za-z0-9._\-/]+$/;

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
function generalGlobError(glob: string): string | null {
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

// ---------------------------------------------------------------------------------------------------------
// Matching (picomatch only)
// ---------------------------------------------------------------------------------------------------------

/** Compiled regexes are heavy; verdicts and models are small, and a big backlog names every glob several times. */
const CACHE_LIMIT = 2000;
const SMALL_CACHE_LIMIT = 50_000;
const matchers = new Map<string, (path: string) => boolean>();
const validity = new Map<string, string | null>();

function remember<V>(cache: Map<string, V>, key: string, make: () => V, limit = SMALL_CACHE_LIMIT): V {
  const hit = cache.get(key);
  if (hit !== undefined || cache.has(key)) return hit as V;
  if (cache.size >= limit) cache.clear();
  const value = make();
  cache.set(key, value);
  return value;
}

/** validateGlob, remembered for the globs that need the general check (plain ones are cheaper to re-check). */
const globError = (glob: string): string | null =>
  isValidPlainGlob(glob)
    ? null
    : PLAIN_GLOB.test(glob)
      ? plainGlobError(glob)
      : remember(validity, glob, () => validateGlob(glob));

/**
 * picomatch's verdict for an already normalised path and a valid glob. Its regex alone: `picomatch()` would
 * also match a path that merely equals the glob text (a file named `{a,b}`), which no glob reader expects.
 */
function pmMatch(glob: string, normalPath: string): boolean {
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

const literalRuns = new Map<string, string[] | null>();

/**
 * The lower-cased literal runs of a glob made of literal characters, `*` and `/` only (the floating `.env*` ban
 * gives `.env`): every path it matches, in any case, contains each of them, so a path lacking one needs no regex.
 * null for any other glob (classes, braces, `?`, extglobs).
 */
function runsOf(glob: string): string[] | null {
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
function protectedMatch(glob: string, normalPath: string): boolean {
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

// ---------------------------------------------------------------------------------------------------------
// The glob model: deciding containment and intersection, conservatively
// ---------------------------------------------------------------------------------------------------------
//
// A glob is modelled as a union of *alternatives* (its brace expansions), each a sequence of items over path
// segments: GS ("**", any number ≥ 0 of segments) or a segment pattern whose characters are literal except
// "*" (any run of non-"/" characters) and "?" (one non-"/" UTF-16 unit, as in picomatch's non-unicode regex).
// Escapes cannot occur (backslashes are refused), so a segment pattern is just its text.
//
// A glob gets two models: OVER ⊇ what picomatch matches, and UNDER ⊆ it (both on normalised paths). Where the
// model cannot follow picomatch it approximates in the safe direction (each case below was found by
// differential testing against picomatch, see test/unit/paths.property.test.ts):
//   - a segment with [ ] ( ) { } | " ' (classes, extglobs, quotes, literal braces) is opaque: GS in OVER
//     (a simple class like [a-z] is "*" there), and its alternative is dropped from UNDER;
//   - a trailing "/**" matches zero segments, except right after a segment ending in "*" (`a*/**` does not
//     match `ab`): UNDER always reads it as ≥ 1 segment, OVER only when the glob text ends so;
//   - a "**" produced by braces (`{a,**}`, `{a,*}{b,*}`) is GS in OVER and a single "*" segment in UNDER;
//     a "*" segment of a braced glob is GS in OVER (`a/**/{*,b}` matches `a`);
// The scope rule, sound because of those directions:
//   - task T lies inside the fence if every OVER alternative of T is contained, by the structural embedding
//     `embeds` below, in one UNDER alternative of one fence glob;
//   - T can reach protected P if some OVER alternative of T intersects some OVER alternative of P (an exact
//     product search on the models);
//   - a literal T (no glob syntax at all) is its single path, and a literal P likewise: those cases are
//     decided by picomatch itself, exactly;
//   - finally witness paths generated from T (its literals, plus fragments of the fence and protected globs)
//     are run through picomatch; any that escapes the fence or hits a protected glob rejects T.

const GS = '**';
type Alternative = string[];

interface Model {
  /** A plain path: no glob syntax at all, so picomatch matches exactly this string. */
  literal: boolean;
  over: Alternative[];
  under: Alternative[];
}

const OPAQUE = /[[\](){}|"']/;
/** Stands for a "**" segment written outside braces (control characters never survive validateGlob). */
const MARK = '\u0001';
/** Stands for a "*" segment written outside braces. */
const STAR_MARK = '\u0002';
const models = new Map<string, Model | null>();

function modelOf(glob: string): Model | null {
  return remember(models, glob, () => {
    if (globError(glob) !== null) return null;
    // Mark the "**" segments written outside braces: only those are sure to be picomatch globstars.
    // So is a "*" segment outside braces: a plain star, never an empty segment, even in a braced glob.
    const expansion = expandBraces(
      splitTop(glob)
        .map((s) => (s === GS ? MARK : s === '*' ? STAR_MARK : s))
        .join('/'),
    );
    if (!expansion) return null;
    const literal = !/[*?[\](){}|"']/.test(glob) && !picomatch.scan(glob).isGlob;
    const ctx: GlobContext = { exactTrailing: endsWithStarGlobstar(glob), braced: glob.includes('{') };
    const over = expansion.map((a) => alternativeModel(a, 'over', ctx)!);
    const under = expansion
      .map((a) => alternativeModel(a, 'under', ctx))
      .filter((a): a is Alternative => a !== null);
    return { literal, over, under };
  });
}

/** Glob text like `a*` + `/**`: a segment ending in a single "*", then only "/**" segments. */
function endsWithStarGlobstar(glob: string): boolean {
  let text = glob;
  while (text.endsWith('/**')) text = text.slice(0, -3);
  if (text === glob || !text.endsWith('*')) return false;
  const last = text.slice(text.lastIndexOf('/') + 1);
  return last !== GS && !last.endsWith('**');
}

/**
 * A bracket class picomatch can only read as one of a few non-"/" characters, or as its own literal text (with
 * no regex characters inside, picomatch matches `[ab]` both ways): so "*" over-approximates it. Not when
 * a "+" or "?" follows: picomatch emits those as regex quantifiers there.
 */
const SIMPLE_CLASS = /\[\^?(?:[A-Za-z0-9]-[A-Za-z0-9]|[A-Za-z0-9._])+\](?![+?])/g;

interface GlobContext {
  /** The glob text ends like `a*` + `/**` (see below). */
  exactTrailing: boolean;
  /** The glob has braces: a "*" from inside a brace may match an empty segment, which picomatch can drop. */
  braced: boolean;
}

function alternativeModel(alt: string, mode: 'over' | 'under', ctx: GlobContext): Alternative | null {
  const items: Alternative = [];
  for (const segment of splitTop(alt)) {
    let item = mode === 'over' ? segment.replace(SIMPLE_CLASS, '*') : segment;
    // A "**" made by braces (`{a,**}`, `{a,*}{b,*}`) may be a plain "*" or a globstar to picomatch.
    if (item === MARK) item = GS;
    else if (item === STAR_MARK) {
      items.push('*');
      continue;
    } else if (item === GS && mode === 'under') item = '*';
    else if (OPAQUE.test(item) && item !== GS) {
      if (mode === 'under') return null;
      item = GS;
    } else if (item !== GS) item = item.replace(/\*+/g, '*');
    if (mode === 'over' && ctx.braced && item === '*') item = GS; // `a/**/{*,b}` matches `a`
    if (item === GS && items[items.length - 1] === GS) continue; // `a/**/**` is `a/**`
    items.push(item);
  }
  // picomatch lets a trailing "/**" match zero segments, except right after a "*" (`a*/**` does not match
  // `ab`). UNDER always takes the narrower reading; OVER only when the glob text itself ends in `*/**` (after
  // a brace, `{a*,b}/**`, picomatch does allow zero).
  const n = items.length;
  const beforeLast = items[n - 2];
  if (items[n - 1] === GS && beforeLast !== undefined && beforeLast !== GS && beforeLast.endsWith('*')) {
    if (mode === 'under' || ctx.exactTrailing) items.splice(n - 1, 0, '*');
  }
  return items;
}

/** Is there a non-empty string matching both segment patterns? (Exact: product of the two patterns.) */
function segmentsIntersect(a: string, b: string): boolean {
  const seen = new Set<number>();
  const stack: Array<[number, number, number]> = [[0, 0, 0]];
  const push = (i: number, j: number, nonEmpty: number) => {
    const key = (i * (b.length + 1) + j) * 2 + nonEmpty;
    if (!seen.has(key)) {
      seen.add(key);
      stack.push([i, j, nonEmpty]);
    }
  };
  while (stack.length > 0) {
    const [i, j, nonEmpty] = stack.pop()!;
    if (i === a.length && j === b.length && nonEmpty) return true;
    const ca = a[i];
    const cb = b[j];
    if (ca === '*') push(i + 1, j, nonEmpty);
    if (cb === '*') push(i, j + 1, nonEmpty);
    if (ca === undefined || cb === undefined) continue;
    // consume one character that both sides accept
    const compatible = ca === '*' || cb === '*' || ca === '?' || cb === '?' || ca === cb;
    if (compatible) push(ca === '*' ? i : i + 1, cb === '*' ? j : j + 1, 1);
  }
  return false;
}

/** Is there a path matching both alternatives? (Exact on the models: product search over segments.) */
function intersects(a: Alternative, b: Alternative): boolean {
  const seen = new Set<number>();
  const stack: Array<[number, number]> = [[0, 0]];
  const push = (i: number, j: number) => {
    const key = i * (b.length + 1) + j;
    if (!seen.has(key)) {
      seen.add(key);
      stack.push([i, j]);
    }
  };
  while (stack.length > 0) {
    const [i, j] = stack.pop()!;
    if (i === a.length && j === b.length) return true;
    const x = a[i];
    const y = b[j];
    if (x === GS) push(i + 1, j);
    if (y === GS) push(i, j + 1);
    if (x === undefined || y === undefined) continue;
    // a "**" on one side eats the other side's segment
    if (x === GS && y !== GS) push(i, j + 1);
    else if (y === GS && x !== GS) push(i + 1, j);
    else if (x !== GS && y !== GS && segmentsIntersect(x, y)) push(i + 1, j + 1);
  }
  return false;
}

/**
 * L(inner) ⊆ L(outer) by a structural embedding, at either level (`wildcard` is "*" over the UTF-16 units of
 * a segment, "**" over the segments of a path): each inner item is absorbed by an outer wildcard or matched
 * by an outer item that contains it. Sound; incomplete only for contrived pairs such as `?*` ⊆ `*?`, or an inner
 * "**" that outer single segments would together cover.
 */
function embeds(inner: readonly string[], outer: readonly string[], wildcard: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (t: number, f: number): boolean => {
    const key = t * (outer.length + 1) + f;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let result: boolean;
    if (t === inner.length) result = outer.slice(f).every((o) => o === wildcard);
    else if (f === outer.length) result = false;
    else {
      const o = outer[f]!;
      const x = inner[t]!;
      if (o === wildcard) result = go(t, f + 1) || go(t + 1, f);
      else if (x === wildcard) result = false;
      else if (wildcard === '*') result = (o === '?' || o === x) && go(t + 1, f + 1);
      else result = embeds(x.split(''), o.split(''), '*') && go(t + 1, f + 1);
    }
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

function contains(outer: Alternative, inner: Alternative): boolean {
  return embeds(inner, outer, GS);
}

/** The scope-relevant glob facts, for the property tests (not part of the module's contract). */
export const _model = { modelOf, intersects, contains, segmentsIntersect };

// ---------------------------------------------------------------------------------------------------------
// Witness paths
// ---------------------------------------------------------------------------------------------------------

/** Literal runs of a set of globs (`secret`, `.pem`, `docs`): the material witness paths are built from. */
function fragmentsOf(globs: readonly string[]): string[] {
  const out = new Set<string>(['x', 'a.md']);
  for (const g of globs) {
    for (const f of g.split(/[*?[\](){}|"',/!@+]+/)) if (f !== '' && f !== '.') out.add(f);
  }
  return [...out].slice(0, 40);
}

/** Deterministic pseudo-random instantiations of one OVER alternative (pure: seeded by the inputs). */
function witnesses(alt: Alternative, fragments: readonly string[], count: number): string[] {
  const out = new Set<string>();
  const stars = ['', ...fragments];
  const chars = ['x', '.', ...fragments.map((f) => f[0]!)];
  for (let k = 0; k < count; k++) {
    let seed = (k * 2654435761 + alt.length * 40503 + 1) >>> 0;
    const pick = <T>(list: readonly T[]): T => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      seed >>>= 0;
      return list[seed % list.length]!;
    };
    const segments: string[] = [];
    for (const item of alt) {
      if (item === GS) {
        const n = k === 0 ? 0 : pick([0, 1, 1, 2]);
        for (let s = 0; s < n; s++) segments.push(pick(fragments));
      } else {
        let s = '';
        for (const ch of item) s += ch === '*' ? (k === 0 ? '' : pick(stars)) : ch === '?' ? pick(chars) : ch;
        segments.push(s === '' ? pick(fragments) : s);
      }
    }
    if (segments.length > 0) out.add(segments.join('/'));
  }
  return [...out];
}

// ---------------------------------------------------------------------------------------------------------
// Scope decisions
// ---------------------------------------------------------------------------------------------------------

/**
 * `docs/guide` for `docs/guide/**` (or its allow-list reading `docs/guide/**` + `/*`): a literal directory and
 * everything under it, the commonest task glob. null for any other glob.
 */
const DIRECTORY_GLOB = /^((?:[^*?[\](){}|"'!@+\\/]+\/)*[^*?[\](){}|"'!@+\\/]+)\/\*\*(?:\/\*)?$/;
const directoryOf = (glob: string): string | null => DIRECTORY_GLOB.exec(glob)?.[1] ?? null;

function insideFence(glob: string, model: Model, fence: readonly string[]): boolean {
  if (model.literal) return matchesAny(glob, fence);
  const fences = fence.map(modelOf).filter((m): m is Model => m !== null);
  return model.over.every((alt) => fences.some((f) => f.under.some((outer) => contains(outer, alt))));
}

function canReach(glob: string, model: Model, protectedGlob: string): boolean {
  const p = modelOf(protectedGlob);
  if (!p) return true; // unknown: fail closed
  if (model.literal) return protectedMatch(protectedGlob, glob);
  if (p.literal) {
    // No regex to compile for the commonest task glob; counting the directory itself errs on the safe side.
    const dir = directoryOf(glob);
    if (dir !== null) return protectedGlob === dir || protectedGlob.startsWith(`${dir}/`);
    return pmMatch(glob, protectedGlob);
  }
  return model.over.some((a) => p.over.some((b) => intersects(a, b)));
}

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

function protectedList(scope: PathScope): string[] {
  return [...new Set([...ALWAYS_PROTECTED, ...scope.protected_paths])];
}

function protectedFor(taskGlobs: readonly string[], scope: PathScope): string[] {
  const list = protectedList(scope);
  if (!taskGlobs.includes(BACKLOG_PATH) && !list.includes(BACKLOG_PATH)) list.push(BACKLOG_PATH);
  return list;
}

function reachWhy(protectedGlob: string, scope: PathScope): string {
  if (protectedGlob === BACKLOG_PATH && !scope.protected_paths.includes(BACKLOG_PATH)) {
    return `can reach protected path ${BACKLOG_PATH} (a task may change it only by naming it in its allowed_paths)`;
  }
  return `can reach protected path ${protectedGlob}`;
}

function malformedProtected(scope: PathScope): string | null {
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

/** Verdicts per scope object: validate, select and the summaries ask about the same task several times. */
const verdicts = new WeakMap<PathScope, Map<string, ScopeVerdict>>();

export function taskScope(taskGlobs: readonly string[], scope: PathScope): ScopeVerdict {
  const quick = quickScope(taskGlobs, scope);
  if (quick !== undefined) return quick;
  let known = verdicts.get(scope);
  if (!known) {
    known = new Map();
    verdicts.set(scope, known);
  }
  const key = taskGlobs.join('\0');
  const hit = known.get(key);
  if (hit) return hit;
  const verdict = decideScope(taskGlobs, scope);
  if (known.size >= SMALL_CACHE_LIMIT) known.clear();
  known.set(key, verdict);
  return verdict;
}

// ---------------------------------------------------------------------------------------------------------
// The scope decision without models, for the commonest task globs
// ---------------------------------------------------------------------------------------------------------
//
// Most task globs are a plain file path or a literal directory and everything under it (`docs/a.md`,
// `docs/images/**`). For those, and a scope whose protected globs are literal paths, literal directories or
// floating bans, `decideScope` comes down to picomatch's verdict on one path and prefix comparisons of
// directories: `quickScope` gives that verdict from a scope compiled once, with no model, cache or witness.
// When any glob or protected glob has another shape it answers undefined and `decideScope` decides.

/** One protected glob, with what the quick decision needs to know about it. */
interface ProtectedEntry {
  glob: string;
  floating: boolean;
  /** The lower-cased literal runs every match contains (`runsOf`), or null. */
  runs: string[] | null;
  /** How a directory task glob meets it: `literal` (one path), `dir` (`P/**`), or null (use the models). */
  shape: 'literal' | 'dir' | null;
  /** The literal path, or the directory of `P/**`. */
  at: string;
}

interface CompiledScope {
  /** Copies of the lists it was compiled from (a scope object changed in place is compiled again). */
  allowed: readonly string[];
  protectedPaths: readonly string[];
  malformed: string | null;
  /** The valid fence globs, in their allow-list reading. */
  fence: RegExp[];
  /** The directories of the fence globs that are a literal directory and everything under it. */
  fenceDirs: string[];
  /** `protectedFor` a task that names the backlog, and one that does not. */
  named: ProtectedList;
  unnamed: ProtectedList;
}

interface ProtectedList {
  all: ProtectedEntry[];
  /** The entries that are not floating bans (what a directory task glob is checked against). */
  anchored: ProtectedEntry[];
  /**
   * Matches (case-insensitively) a plain path that contains a literal run of some entry; null when an entry
   * has no runs. A path it does not match can hit no entry, so most paths need no loop over the list.
   */
  anyRun: RegExp | null;
}

function protectedListOf(entries: ProtectedEntry[]): ProtectedList {
  const runs = entries.flatMap((e) => e.runs ?? []);
  const everyEntryHasRuns = entries.every((e) => e.runs !== null && e.runs.length > 0);
  const literally = (run: string) => run.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return {
    all: entries,
    anchored: entries.filter((e) => !e.floating),
    anyRun: everyEntryHasRuns ? new RegExp(runs.map(literally).join('|') || '(?!)', 'i') : null,
  };
}

const compiledScopes = new WeakMap<PathScope, CompiledScope>();

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

let lastScope: PathScope | null = null;
let lastCompiled: CompiledScope | null = null;

function compiledScope(scope: PathScope): CompiledScope {
  const hit = scope === lastScope ? lastCompiled : compiledScopes.get(scope);
  if (
    hit &&
    sameList(hit.allowed, scope.allowed_paths) &&
    sameList(hit.protectedPaths, scope.protected_paths)
  ) {
    lastScope = scope;
    lastCompiled = hit;
    return hit;
  }
  const malformed = malformedProtected(scope);
  const fence: RegExp[] = [];
  const fenceDirs: string[] = [];
  let named: ProtectedList = protectedListOf([]);
  let unnamed: ProtectedList = named;
  if (malformed === null) {
    for (const g of scope.allowed_paths.map(allowGlob)) {
      if (globError(g) !== null) continue;
      fence.push(picomatch.makeRe(allowGlob(g), PM_OPTIONS));
      const dir = directoryOf(g);
      if (dir !== null && modelOf(g) !== null) fenceDirs.push(dir);
    }
    const entry = (glob: string): ProtectedEntry => {
      const model = modelOf(glob);
      const dir = glob.endsWith('/**') ? directoryOf(glob) : null;
      const shape = model === null ? null : model.literal ? 'literal' : dir !== null ? 'dir' : null;
      const runs = remember(literalRuns, glob, () => runsOf(glob));
      return { glob, floating: isFloatingGlob(glob), runs, shape, at: shape === 'dir' ? dir! : glob };
    };
    named = protectedListOf(protectedFor([BACKLOG_PATH], scope).map(entry));
    unnamed = protectedListOf(protectedFor([], scope).map(entry));
  }
  const compiled: CompiledScope = {
    allowed: [...scope.allowed_paths],
    protectedPaths: [...scope.protected_paths],
    malformed,
    fence,
    fenceDirs,
    named,
    unnamed,
  };
  compiledScopes.set(scope, compiled);
  lastScope = scope;
  lastCompiled = compiled;
  return compiled;
}

/**
 * The first protected glob the literal plain `path` matches (protectedMatch; no regex for a path lacking a
 * run). For a plain (ASCII) path, the case-insensitive `anyRun` finds what lower-casing and `includes` find.
 */
function firstProtectedHit(list: ProtectedList, path: string): ProtectedEntry | undefined {
  if (list.anyRun !== null && !list.anyRun.test(path)) return undefined;
  const lower = path.toLowerCase();
  const all = list.all;
  next: for (let k = 0; k < all.length; k++) {
    const entry = all[k]!;
    const runs = entry.runs;
    if (runs) for (let i = 0; i < runs.length; i++) if (!lower.includes(runs[i]!)) continue next;
    if (protectedMatch(entry.glob, path)) return entry;
  }
  return undefined;
}

function matchesOne(res: readonly RegExp[], path: string): boolean {
  for (let i = 0; i < res.length; i++) if (res[i]!.test(path)) return true;
  return false;
}

/** `dir` is `under` or below it. */
const within = (dir: string, under: string) =>
  dir.startsWith(under) && (dir.length === under.length || dir.charCodeAt(under.length) === 47);

/** `path` is strictly below one of `dirs`. */
function underOneOf(dirs: readonly string[], path: string): boolean {
  for (let i = 0; i < dirs.length; i++) {
    const d = dirs[i]!;
    if (path.length > d.length + 1 && path.charCodeAt(d.length) === 47 && path.startsWith(d)) return true;
  }
  return false;
}

function insideOneOf(dirs: readonly string[], dir: string): boolean {
  for (let i = 0; i < dirs.length; i++) if (within(dir, dirs[i]!)) return true;
  return false;
}

const IN_SCOPE: ScopeVerdict = { inScope: true };

/** decideScope's verdict when every task glob is a plain path or `dir/**` and it is decidable so; else undefined. */
function quickScope(taskGlobs: readonly string[], scope: PathScope): ScopeVerdict | undefined {
  if (taskGlobs.length === 0) return undefined;
  const c = compiledScope(scope);
  if (c.malformed !== null) return undefined;
  const list = taskGlobs.includes(BACKLOG_PATH) ? c.named : c.unnamed;
  for (let g = 0; g < taskGlobs.length; g++) {
    const written = taskGlobs[g]!;
    if (typeof written !== 'string' || !isValidPlainGlob(written)) return undefined;
    const star = written.indexOf('*');
    if (star < 0) {
      // A valid plain path is its own normal form, and its own allow-list reading; under a fence directory it
      // is one more segment at least, which `dir/**` grants (dot: true), so no regex is needed for it.
      if (!underOneOf(c.fenceDirs, written) && !matchesOne(c.fence, written)) {
        return { inScope: false, path: written, why: 'not inside scope.allowed_paths' };
      }
      const hit = firstProtectedHit(list, written);
      if (hit !== undefined) return { inScope: false, path: written, why: reachWhy(hit.glob, scope) };
      continue;
    }
    // A valid plain glob whose only star is a final "/**": a literal directory and everything under it.
    if (star !== written.length - 2 || !written.endsWith('/**')) return undefined;
    const dir = written.slice(0, -3);
    // Inside a fence directory: the models' embedding holds (when not, let them look further).
    if (!insideOneOf(c.fenceDirs, dir)) return undefined;
    for (let k = 0; k < list.anchored.length; k++) {
      const e = list.anchored[k]!;
      if (e.shape === null) return undefined;
      // `dir/**` (read as at least one segment under dir) meets a literal path under dir, and `P/**` exactly
      // when one of the two directories holds the other: what `intersects` finds on these models.
      const reaches = e.shape === 'literal' ? within(e.at, dir) : within(dir, e.at) || within(e.at, dir);
      if (reaches) return { inScope: false, path: written, why: reachWhy(e.glob, scope) };
    }
  }
  return IN_SCOPE;
}

function decideScope(taskGlobs: readonly string[], scope: PathScope): ScopeVerdict {
  const out = (path: string, why: string) => ({ inScope: false as const, path, why });
  if (taskGlobs.length === 0) return out('', 'the task has no allowed_paths');
  const malformed = malformedProtected(scope);
  if (malformed) return out(taskGlobs[0]!, malformed);
  const protectedGlobs = protectedFor(taskGlobs, scope);
  // Task globs and the fence are allow-lists: modelled as matched (`allowGlob`), reported as written.
  const fence = scope.allowed_paths.map(allowGlob);
  let fragments: string[] | undefined;
  for (const written of taskGlobs) {
    const glob = allowGlob(written);
    // A plain file path (the commonest task glob) needs no model: picomatch's verdicts on it are the answer.
    if (PLAIN_PATH.test(glob) && globError(written) === null) {
      if (!matchesAny(glob, fence)) return out(written, 'not inside scope.allowed_paths');
      const reached = protectedGlobs.find((p) => protectedMatch(p, glob));
      if (reached !== undefined) return out(written, reachWhy(reached, scope));
      continue;
    }
    const model = modelOf(glob);
    if (globError(written) !== null || !model) {
      return out(written, `malformed glob: ${globError(written) ?? 'unsupported'}`);
    }
    if (!insideFence(glob, model, fence)) return out(written, 'not inside scope.allowed_paths');
    const applicable = model.literal ? protectedGlobs : protectedGlobs.filter((p) => !isFloatingGlob(p));
    const reached = applicable.find((p) => canReach(glob, model, p));
    if (reached !== undefined) return out(written, reachWhy(reached, scope));
    // Belt and braces: concrete paths through picomatch itself, in case the model ever disagrees with it
    // (not needed for a literal path or a literal directory and everything under it, where it cannot).
    for (const alt of model.literal || directoryOf(glob) !== null ? [] : model.over) {
      fragments ??= fragmentsOf([...taskGlobs, ...scope.allowed_paths, ...protectedGlobs]);
      for (const w of witnesses(alt, fragments, 64)) {
        const n = normalizePath(w);
        if (!n.ok || !pmMatch(glob, n.path)) continue;
        if (!matchesAny(n.path, scope.allowed_paths)) return out(written, 'not inside scope.allowed_paths');
        const hit = applicable.find((p) => pmMatch(p, n.path));
        if (hit !== undefined) return out(written, reachWhy(hit, scope));
      }
    }
  }
  return { inScope: true };
}

/** The two scope decisions and the general glob check, for the tests that hold the shortcuts to them. */
export const _scope = { quickScope, decideScope, generalGlobError };

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
