/**
 * Fast decoding of event lines that are already in canonical form.
 *
 * `chainEvents` writes every event with its keys in RFC 8785 order (sorted at every level) and `hash` appended
 * as the last key, so a stored line is the canonical JSON the hash covers with `,"hash":"…"` spliced in before
 * the final `}`. For such a line `decodeCanonicalLine` returns
 *   - the event, as `EventSchema.safeParse(JSON.parse(line)).data` would (same keys, same order, same values),
 *   - the canonical JSON of the event without `hash` (a slice of the line),
 * without JSON.parse, zod or canonicalisation: one regular expression per event type recognises the line, and
 * a decoder generated for that type builds the event from the captures.
 *
 * Both are compiled from `EventSchema` itself, so they follow the schema; a construct the compiler does not
 * know (a refinement, a transform, another string format…) leaves that event type without a fast path. Every
 * string, number and literal is matched only in the exact form JSON.stringify writes it (no whitespace, no
 * needless escape, no exponent, no lone surrogate), every object only with its keys in canonical order.
 *
 * It only has to be sound, not complete: any line it does not recognise — hand-written, re-serialised, written
 * before lines were canonical, invalid — returns null and takes the general path (JSON.parse, EventSchema,
 * canonicalisation), which judges it exactly as the spec says. The one thing left to the caller: the formats
 * of `prev` and `hash` (DEFERRED_KEYS) are not tested here.
 */
import { EventSchema } from './events.js';

/** What `decodeCanonicalLine` yields: the event and the text its hash is the SHA-256 of. */
export interface CanonicalLine {
  event: Record<string, unknown>;
  canonical: string;
}

const HASH_KEY = 'hash';

/**
 * Envelope keys whose string formats (sha-256 hex) `decodeCanonicalLine` does not test: a verifier compares
 * them with values it knows to be well formed (the previous event's hash, the hash it computes) and must take
 * the general path for any line where they differ, so a malformed one is still reported as the schema does.
 */
export const DEFERRED_KEYS: ReadonlySet<string> = new Set(['prev', HASH_KEY]);

// --- the compiler ----------------------------------------------------------------------------------------

/** A zod schema as far as the compiler reads it (zod 4's `_zod.def`). */
interface Schema {
  _zod: { def: Def };
}
interface Def {
  type: string;
  checks?: Schema[];
  coerce?: boolean;
  format?: string;
  pattern?: RegExp;
  check?: string;
  minimum?: number;
  value?: unknown;
  inclusive?: boolean;
  shape?: Record<string, Schema>;
  innerType?: Schema;
  element?: Schema;
  values?: unknown[];
  entries?: Record<string, unknown>;
  options?: Schema[];
  discriminator?: string;
}

/** Returned by a decoder when a value fails a check: the line then takes the general path. */
const INVALID = Symbol('invalid');

/** Thrown inside the compiler for a construct it does not handle: that event type gets no fast path. */
class Unsupported extends Error {}

// The characters of a JSON string exactly as JSON.stringify writes them: no raw control characters, quotes or
// backslashes, no lone surrogates, and only the escapes JSON.stringify itself produces. Written as
// `plain* (special plain*)*` so that matching never backtracks more than linearly.
const PLAIN = String.raw`[^"\\\x00-\x1f\ud800-\udfff]*`;
const SPECIAL = String.raw`(?:[\ud800-\udbff][\udc00-\udfff]|\\(?:["\\bfnrt]|u00(?:0[0-7]|0b|0e|0f|1[0-9a-f])))`;
const STRING_CHARS = `${PLAIN}(?:${SPECIAL}${PLAIN})*`;
// Integers JSON.stringify writes as plain digits and that are exactly representable (at most 15 digits).
const INTEGER = String.raw`0|-?[1-9]\d{0,14}`;
// Before a key that only optional keys precede: no comma right after `{`, else one.
const KEY_PREFIX = String.raw`(?:(?<=\{)|(?<!\{),)`;

const STRING_FORMATS = new Set(['regex', 'datetime']);

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function unescapeString(raw: string): string {
  return JSON.parse(`"${raw}"`) as string;
}

/** Code points of a string, counted as zod's min_length check counts them. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The JSON text JSON.stringify writes for a literal value, or unsupported. */
function literalToken(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return JSON.stringify(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && Math.abs(value) < 1e15)
    return String(value);
  throw new Unsupported(`literal ${String(value)}`);
}

/** The statements of a generated decoder, and the values they refer to (as `C[i]`). */
class Emitter {
  readonly lines: string[] = [];
  readonly consts: unknown[] = [];
  private temps = 0;

  temp(): string {
    this.temps += 1;
    return `t${this.temps}`;
  }

  constant(value: unknown): string {
    this.consts.push(value);
    return `C[${this.consts.length - 1}]`;
  }
}

/**
 * A compiled schema node: its regular-expression source, a test for a decoded value (array elements are
 * decoded all at once), and `emit`, which writes the statements that read its value from the match `m` and
 * returns the expression holding it (statements `return INV` when a check fails).
 */
interface Node {
  src: string;
  check(value: unknown): boolean;
  emit(out: Emitter): string;
  /** The capture group that is defined exactly when the value is present (scalars and arrays). */
  group?: number;
  /** An object's fields. */
  fields?: Map<string, Node>;
}

class Compiler {
  /** Capture groups allocated so far (numbered in the order their `(` appears in the source). */
  private groups = 0;
  /** Set while compiling a field whose string formats are deferred to the caller. */
  private deferring = false;

  group(): number {
    this.groups += 1;
    return this.groups;
  }

  /** `capture: false` compiles a node that is matched only (array elements), with no capture groups. */
  value(schema: Schema, capture = true): Node {
    const def = schema._zod.def;
    if (def.coerce) throw new Unsupported('coercion');
    switch (def.type) {
      case 'string':
        return this.string(def, capture);
      case 'number':
        return this.number(def, capture);
      case 'boolean':
        return this.tokens([true, false], capture);
      case 'literal':
        return this.tokens(def.values ?? [], capture);
      case 'enum':
        return this.tokens(Object.values(def.entries ?? {}), capture);
      case 'nullable':
        return this.nullable(def, capture);
      case 'array':
        return this.array(def, capture);
      case 'object':
        if (!capture) throw new Unsupported('object inside an array');
        return this.object(def, null);
      default:
        throw new Unsupported(def.type);
    }
  }

  private string(def: Def, capture: boolean): Node {
    let min = 0;
    const patterns: RegExp[] = [];
    const format = (d: Def) => {
      if (d.format === undefined) return;
      if (!STRING_FORMATS.has(d.format) || !(d.pattern instanceof RegExp)) {
        throw new Unsupported(`string format ${d.format}`);
      }
      patterns.push(d.pattern);
    };
    format(def);
    for (const c of def.checks ?? []) {
      const cd = c._zod.def;
      if (cd.check === 'min_length' && typeof cd.minimum === 'number') min = Math.max(min, cd.minimum);
      else if (cd.check === 'string_format') format(cd);
      else throw new Unsupported(`string check ${cd.check}`);
    }
    const check = (value: unknown): boolean => {
      if (typeof value !== 'string') return false;
      if (value.length < min * 2 && (value.length < min || codePoints(value) < min)) return false;
      for (const p of patterns) {
        p.lastIndex = 0;
        if (!p.test(value)) return false;
      }
      return true;
    };
    const chars = STRING_CHARS;
    if (!capture) return { src: `"(?:${chars})"`, check, emit: unreachable };
    const g = this.group();
    const checked = (min > 0 || patterns.length > 0) && !this.deferring;
    return {
      src: `"(${chars})"`,
      group: g,
      check,
      emit: (out) => {
        const t = out.temp();
        out.lines.push(
          `let ${t} = m[${g}];`,
          // `ESC`: whether the line has a backslash at all (most have none: one search instead of one per string).
          `if (ESC && ${t}.indexOf('\\\\') >= 0) ${t} = ${out.constant(unescapeString)}(${t});`,
        );
        // Without a pattern only a short string can fail (min length): a longer one needs no call.
        if (checked && patterns.length === 0) {
          out.lines.push(`if (${t}.length < ${2 * min} && !${out.constant(check)}(${t})) return INV;`);
        } else if (checked) {
          out.lines.push(`if (!${out.constant(check)}(${t})) return INV;`);
        }
        return t;
      },
    };
  }

  private number(def: Def, capture: boolean): Node {
    // Each bound as zod tests it. The pattern admits only integers of at most 15 digits, all safe integers,
    // so a `safeint` format needs no test of its own.
    const bounds: Array<(v: number) => boolean> = [];
    // The same bounds as operators, for the generated decoder to test inline.
    const ops: Array<[string, number]> = [];
    for (const c of def.checks ?? []) {
      const { check, value: bound, inclusive, format } = c._zod.def;
      if (check === 'number_format' && format === 'safeint') continue;
      if (check === 'greater_than' && typeof bound === 'number') {
        bounds.push(inclusive ? (v) => v >= bound : (v) => v > bound);
        ops.push([inclusive ? '>=' : '>', bound]);
      } else if (check === 'less_than' && typeof bound === 'number') {
        bounds.push(inclusive ? (v) => v <= bound : (v) => v < bound);
        ops.push([inclusive ? '<=' : '<', bound]);
      } else {
        throw new Unsupported(`number check ${check}`);
      }
    }
    const check = (value: unknown): boolean => typeof value === 'number' && bounds.every((b) => b(value));
    if (!capture) return { src: `(?:${INTEGER})`, check, emit: unreachable };
    const g = this.group();
    return {
      src: `(${INTEGER})`,
      group: g,
      check,
      emit: (out) => {
        const t = out.temp();
        out.lines.push(`const ${t} = +m[${g}];`);
        if (ops.length > 0) {
          const tests = ops.map(([op, bound]) => `${t} ${op} ${out.constant(bound)}`);
          out.lines.push(`if (!(${tests.join(' && ')})) return INV;`);
        }
        return t;
      },
    };
  }

  /** One of a fixed set of values (a literal, an enum, a boolean), each written as one JSON token. */
  private tokens(values: unknown[], capture: boolean): Node {
    if (values.length === 0) throw new Unsupported('empty literal');
    const tokens = values.map(literalToken);
    const alternatives = tokens.map(escapeRegex).join('|');
    const check = (value: unknown): boolean => values.includes(value);
    // A single token needs no capture: the value is known.
    if (!capture || tokens.length === 1) {
      return { src: `(?:${alternatives})`, check, emit: () => tokens[0] as string };
    }
    const g = this.group();
    const byToken = new Map(tokens.map((t, i) => [t, values[i]]));
    return {
      src: `(${alternatives})`,
      group: g,
      check,
      // The tokens are JSON texts of strings, numbers, booleans or null: valid JavaScript literals as well.
      emit: (out) => `${out.constant(byToken)}.get(m[${g}])`,
    };
  }

  private nullable(def: Def, capture: boolean): Node {
    if (!def.innerType) throw new Unsupported('nullable without inner type');
    if (!capture) {
      const inner = this.value(def.innerType, false);
      return { src: `(?:null|${inner.src})`, check: (v) => v === null || inner.check(v), emit: unreachable };
    }
    const g = this.group();
    const inner = this.value(def.innerType);
    return {
      src: `(?:(null)|${inner.src})`,
      check: (v) => v === null || inner.check(v),
      emit: (out) => {
        const t = out.temp();
        out.lines.push(`let ${t} = null;`, `if (m[${g}] === undefined) {`);
        const value = inner.emit(out);
        out.lines.push(`${t} = ${value};`, '}');
        return t;
      },
    };
  }

  private array(def: Def, capture: boolean): Node {
    if (!capture || !def.element) throw new Unsupported('nested array');
    if ((def.checks ?? []).length > 0) throw new Unsupported('array checks');
    const element = this.value(def.element, false);
    const g = this.group();
    const check = (v: unknown): boolean => Array.isArray(v) && v.every((x) => element.check(x));
    return {
      src: `(\\[(?:${element.src}(?:,${element.src})*)?\\])`,
      group: g,
      check,
      emit: (out) => {
        // The array was matched as the canonical JSON of its elements; JSON.parse reads it exactly.
        const t = out.temp();
        out.lines.push(`const ${t} = JSON.parse(m[${g}]);`, `if (!${out.constant(check)}(${t})) return INV;`);
        return t;
      },
    };
  }

  /**
   * An object: keys in canonical (UTF-16 code unit) order, `last` (the event's `hash`) after all others.
   * Optional keys may be absent; keys with a default must be present (then zod's output is the input).
   * Unknown keys never match, so the object's catchall does not matter.
   */
  object(def: Def, last: string | null, deferred: ReadonlySet<string> = new Set()): Node {
    if (!def.shape || (def.checks ?? []).length > 0) throw new Unsupported('object refinement');
    const keys = Object.keys(def.shape);
    const order = keys.filter((k) => k !== last).sort();
    if (last !== null) {
      if (!keys.includes(last)) throw new Unsupported(`no ${last} key`);
      order.push(last);
    }
    const fields = new Map<string, Node>();
    const presence = new Map<string, number>();
    let src = '\\{';
    // Whether a key is known to precede: then every later key is preceded by a comma.
    let first = true;
    let required = false;
    for (const key of order) {
      // Integer-like keys would be enumerated first by JavaScript; `__proto__` would set the prototype.
      if (/^\d/.test(key) || key === '__proto__' || JSON.stringify(key) !== `"${key}"`) {
        throw new Unsupported(`key ${key}`);
      }
      let schema = def.shape[key] as Schema;
      let optional = false;
      const wrapper = schema._zod.def.type;
      if (wrapper === 'optional' || wrapper === 'default') {
        optional = wrapper === 'optional';
        schema = schema._zod.def.innerType as Schema;
        const inner = schema._zod.def.type;
        if (inner === 'optional' || inner === 'default') throw new Unsupported('nested optional');
      }
      if (optional && key === last) throw new Unsupported(`optional ${last}`);
      // An optional scalar is present exactly when its own group is; anything else gets a group around it
      // (allocated first: groups are numbered in source order).
      const wrapped = optional && !ownGroup(schema);
      const around = wrapped ? this.group() : null;
      this.deferring = deferred.has(key);
      const node = this.value(schema);
      this.deferring = false;
      if (optional) {
        const p = around ?? node.group;
        if (p === undefined) throw new Unsupported(`presence of ${key}`);
        presence.set(key, p);
      }
      const prefix = first ? '' : required ? ',' : KEY_PREFIX;
      const field = `${prefix}${escapeRegex(JSON.stringify(key))}:${node.src}`;
      src += wrapped ? `(${field})?` : optional ? `(?:${field})?` : field;
      first = false;
      required ||= !optional;
      fields.set(key, node);
    }
    src += '\\}';
    return {
      src,
      fields,
      check: () => false,
      // Keys in the schema's order, as zod builds its output: the leading required ones in one literal.
      emit: (out) => {
        const o = out.temp();
        let literal: string[] | null = [];
        for (const key of keys) {
          const node = fields.get(key) as Node;
          const name = JSON.stringify(key);
          const p = presence.get(key);
          if (p === undefined) {
            const value = node.emit(out);
            if (literal) literal.push(`${name}: ${value}`);
            else out.lines.push(`${o}[${name}] = ${value};`);
            continue;
          }
          if (literal) {
            out.lines.push(`const ${o} = {${literal.join(', ')}};`);
            literal = null;
          }
          out.lines.push(`if (m[${p}] !== undefined) {`);
          out.lines.push(`${o}[${name}] = ${node.emit(out)};`, '}');
        }
        if (literal) out.lines.push(`const ${o} = {${literal.join(', ')}};`);
        return o;
      },
    };
  }
}

/** Whether a schema compiles to a node with a capture group of its own (see `Node.group`). */
function ownGroup(schema: Schema): boolean {
  const def = schema._zod.def;
  if (def.type === 'literal') return (def.values ?? []).length > 1;
  if (def.type === 'enum') return Object.keys(def.entries ?? {}).length > 1;
  return ['string', 'number', 'boolean', 'array'].includes(def.type);
}

function unreachable(): never {
  throw new Error('array elements are not emitted');
}

interface Variant {
  re: RegExp;
  /** `esc`: whether the line may hold a backslash (then each string is checked for escapes). */
  decode(m: RegExpExecArray, esc: boolean): Record<string, unknown> | typeof INVALID;
  /** The capture group of the `hash` string's characters. */
  hashGroup: number;
  /** `re` matching from `lastIndex` (sticky, unanchored at the end): a line inside a day file's text. */
  at: RegExp;
}

/** One recogniser per event type (types the compiler cannot handle have none). */
function compileVariants(schema: Schema): Map<string, Variant> {
  const variants = new Map<string, Variant>();
  const def = schema._zod.def;
  const discriminator = def.discriminator;
  if (def.type !== 'union' || !discriminator || !def.options) return variants;
  for (const option of def.options) {
    const odef = option._zod.def;
    const tag = odef.shape?.[discriminator]?._zod.def;
    const type = tag?.type === 'literal' && tag.values?.length === 1 ? tag.values[0] : undefined;
    if (typeof type !== 'string' || variants.has(type)) continue;
    try {
      const node = new Compiler().object(odef, HASH_KEY, DEFERRED_KEYS);
      const hashGroup = node.fields?.get(HASH_KEY)?.group;
      if (hashGroup === undefined || odef.shape?.[HASH_KEY]?._zod.def.type !== 'string') {
        throw new Unsupported('hash is not a string');
      }
      const out = new Emitter();
      const result = node.emit(out);
      // The generated code reads captures, calls the compiled checks (C) and builds object literals; it
      // contains no text from any line. Where code generation is not allowed there is simply no fast path.
      const factory = new Function(
        'C',
        'INV',
        `return function decode(m, ESC) {\n${out.lines.join('\n')}\nreturn ${result};\n};`,
      );
      const decode = factory(out.consts, INVALID) as Variant['decode'];
      variants.set(type, {
        re: new RegExp(`^${node.src}$`),
        at: new RegExp(node.src, 'y'),
        decode,
        hashGroup,
      });
    } catch (error) {
      if (!(error instanceof Unsupported) && !(error instanceof EvalError)) throw error;
    }
  }
  return variants;
}

let compiled: Map<string, Variant> | null = null;
let guesses: Guesses | null = null;

function variants(): Map<string, Variant> {
  compiled ??= compileVariants(EventSchema as unknown as Schema);
  return compiled;
}

const TYPE_KEY = ',"type":"';
/**
 * How a line chainEvents writes ends after its type's value: `v` (the literal 1) and the 64 hex digits of
 * `hash` are the only keys after `type` in canonical order.
 */
const TAIL_LENGTH = '","v":1,"hash":"'.length + 64 + 2;

/**
 * The variant of a usual line told by up to three characters just before TAIL, at offsets chosen so that
 * they tell every type apart (as `,"type":"<name>` ends): no search through the line, no new string.
 */
interface Guesses {
  offsets: number[];
  byKey: Map<number, Variant>;
}

function guessTable(): Guesses {
  if (guesses !== null) return guesses;
  const types = [...variants().keys()];
  const key = (text: string, offsets: number[]) =>
    offsets.reduce((k, o) => k * 65536 + text.charCodeAt(text.length - o), 0);
  const unique = (offsets: number[]) =>
    new Set(types.map((t) => key(`${TYPE_KEY}${t}`, offsets))).size === types.length;
  let offsets: number[] = [];
  const longest = Math.max(0, ...types.map((t) => t.length)) + TYPE_KEY.length;
  // Greedily: the offset that tells the most types apart, until all are (at most three; else no table).
  while (!unique(offsets) && offsets.length < 3) {
    let best = 1;
    let bestCount = -1;
    for (let o = 1; o <= longest; o++) {
      const count = new Set(types.map((t) => key(`${TYPE_KEY}${t}`, [...offsets, o]))).size;
      if (count > bestCount) [best, bestCount] = [o, count];
    }
    offsets = [...offsets, best];
  }
  const byKey = new Map<number, Variant>();
  if (unique(offsets)) {
    for (const [t, v] of variants()) byKey.set(key(`${TYPE_KEY}${t}`, offsets), v);
  }
  guesses = { offsets, byKey };
  return guesses;
}

/**
 * The variant the line `text[start, end)` names as its type. A guess: a wrong one only fails the match that
 * follows, and the match includes the type, so a line is never decoded as a type it does not name.
 */
function pick(text: string, start: number, end: number): Variant | undefined {
  const tail = end - TAIL_LENGTH;
  if (tail > start && text.charCodeAt(tail) === 34 /* " */ && text.charCodeAt(tail + 1) === 44 /* , */) {
    const { offsets, byKey } = guessTable();
    let k = 0;
    for (let i = 0; i < offsets.length; i++) k = k * 65536 + text.charCodeAt(tail - (offsets[i] as number));
    const guess = byKey.get(k);
    if (guess !== undefined) return guess;
  }
  // The type key comes late in canonical order; `"type":"` cannot occur inside a canonical string (its quotes
  // would be escaped), so the last one is the event's.
  const at = text.lastIndexOf(TYPE_KEY, end - TYPE_KEY.length);
  if (at < start) return undefined;
  const from = at + TYPE_KEY.length;
  const close = text.indexOf('"', from);
  if (close < 0 || close >= end) return undefined;
  return variants().get(text.slice(from, close));
}

/** The event and the canonical text of the matched line `text[start, end)` (`m` its match). */
function decoded(
  variant: Variant,
  m: RegExpExecArray,
  text: string,
  start: number,
  end: number,
  esc: boolean,
): CanonicalLine | null {
  const event = variant.decode(m, esc);
  if (event === INVALID) return null;
  // Drop `,"hash":"…"` (the last member) and close the object: the canonical JSON without the hash.
  let cut = end - 1 - ((m[variant.hashGroup] as string).length + 2) - (HASH_KEY.length + 3);
  if (text.charCodeAt(cut - 1) === 44 /* , */) cut -= 1;
  return { event, canonical: `${text.slice(start, cut)}}` };
}

/**
 * The event and its canonical text if `line` is a canonical event line of a known type whose content the
 * schema accepts as is (but see DEFERRED_KEYS); null for anything else: the caller then takes the general path.
 */
export function decodeCanonicalLine(line: string): CanonicalLine | null {
  const variant = pick(line, 0, line.length);
  if (!variant) return null;
  const m = variant.re.exec(line);
  if (!m) return null;
  return decoded(variant, m, line, 0, line.length, line.indexOf('\\') >= 0);
}

/**
 * `decodeCanonicalLine` of the line `text[start, end)` (a day file's text, `end` at its newline or its end),
 * without the line as a string of its own. `esc`: false when the text has no backslash at all.
 */
export function decodeCanonicalAt(
  text: string,
  start: number,
  end: number,
  esc: boolean,
): CanonicalLine | null {
  const variant = pick(text, start, end);
  if (!variant) return null;
  const re = variant.at;
  re.lastIndex = start;
  const m = re.exec(text);
  if (!m || re.lastIndex !== end) return null;
  if (esc) {
    const slash = text.indexOf('\\', start);
    esc = slash >= 0 && slash < end;
  }
  return decoded(variant, m, text, start, end, esc);
}

/** Event types that have a fast path (every type of the current schema should). */
export function canonicalLineTypes(): string[] {
  return [...variants().keys()];
}
