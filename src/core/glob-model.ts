/**
 * The conservative glob model (SPEC §2.2): deciding containment and intersection of globs, and the witness
 * paths run through picomatch. Matching itself is always picomatch's (glob-match.ts).
 *
 * Pure: no I/O, no imports from other src/ folders.
 */
import picomatch from 'picomatch';
import { globError, remember } from './glob-match.js';
import { expandBraces, splitTop } from './paths.js';

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

export const GS = '**';
export type Alternative = string[];

export interface Model {
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

export function modelOf(glob: string): Model | null {
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
export function intersects(a: Alternative, b: Alternative): boolean {
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

export function contains(outer: Alternative, inner: Alternative): boolean {
  return embeds(inner, outer, GS);
}

/** The scope-relevant glob facts, for the property tests (not part of the module's contract). */
export const _model = { modelOf, intersects, contains, segmentsIntersect };

// ---------------------------------------------------------------------------------------------------------
// Witness paths
// ---------------------------------------------------------------------------------------------------------

/** Literal runs of a set of globs (`secret`, `.pem`, `docs`): the material witness paths are built from. */
export function fragmentsOf(globs: readonly string[]): string[] {
  const out = new Set<string>(['x', 'a.md']);
  for (const g of globs) {
    for (const f of g.split(/[*?[\](){}|"',/!@+]+/)) if (f !== '' && f !== '.') out.add(f);
  }
  return [...out].slice(0, 40);
}

/** Deterministic pseudo-random instantiations of one OVER alternative (pure: seeded by the inputs). */
export function witnesses(alt: Alternative, fragments: readonly string[], count: number): string[] {
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

/**
 * `docs/guide` for `docs/guide/**` (or its allow-list reading `docs/guide/**` + `/*`): a literal directory and
 * everything under it, the commonest task glob. null for any other glob.
 */
const DIRECTORY_GLOB = /^((?:[^*?[\](){}|"'!@+\\/]+\/)*[^*?[\](){}|"'!@+\\/]+)\/\*\*(?:\/\*)?$/;
export const directoryOf = (glob: string): string | null => DIRECTORY_GLOB.exec(glob)?.[1] ?? null;
