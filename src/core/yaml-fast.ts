/**
 * A fast reader for the plain YAML that backlogs and configs are written in: block mappings and sequences,
 * one-line flow sequences of scalars, plain, quoted and literal (`|`) scalars, comments. It builds the value
 * directly, with no document tree and no source ranges, so a 10,000-task backlog reads in a few milliseconds.
 *
 * It returns the value `yaml`'s `parse` would return (YAML 1.2 core schema), or `null` for anything outside
 * that subset or anything doubtful (anchors, tags, folded scalars, floats, multi-line plain scalars, tabs,
 * duplicate keys, …): the caller then parses with the full library, which also reports errors with
 * positions. So this is only ever a shortcut, never a second opinion; the property tests in
 * `test/unit/yaml-fast.test.ts` hold it to the library.
 */

/** Thrown inside the reader to give up; never escapes `parseFastYaml`. */
class Bail extends Error {}

const bail = (): never => {
  throw new Bail();
};

/**
 * Where the colon of a `key:` starting at `from` in `src` is (a key of letters, digits, "_" and "-" not
 * starting with a digit or "-", then ":" and a space or the end of the line), or -1: what
 * `/^([A-Za-z_][A-Za-z0-9_-]*):(?: |$)/` finds in the line's text.
 */
function keyColon(src: string, from: number): number {
  // Native calls only (no match array): cold code would run a character loop in the interpreter.
  KEY.lastIndex = from;
  return KEY.test(src) ? KEY.lastIndex - 1 : -1;
}
const KEY = /[A-Za-z_][A-Za-z0-9_-]*:(?=[ \n]|$)/y;
const INT = /^-?(?:0|[1-9][0-9]{0,14})$/;
const NULLS = new Set(['null', 'Null', 'NULL', '~']);
const BOOLS: Record<string, boolean> = {
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false,
};
/** Plain scalars that would resolve to something other than a string or a simple integer: leave to yaml. */
const NUMBERISH = /^[-+]?(?:\.|[0-9])|^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$/;
/** Characters a plain scalar may not start with (indicators), and sequences it may not contain. */
const BAD_START = /^[[\]{}#&*!|>'"%@`,?:-]/;
const KEYS_TO_AVOID = new Set(['__proto__', 'constructor', 'prototype']);

/** The value of `text` (`{ value }`), or null when it is not in the subset this reader handles exactly. */
export function parseFastYaml(text: string): { value: unknown } | null {
  try {
    return { value: new Reader(text).document() };
  } catch (error) {
    if (error instanceof Bail) return null;
    throw error;
  }
}

class Reader {
  private readonly src: string;
  /** Where each line starts in `src` (the lines of `src.split('\n')`, without copying them out). */
  private readonly starts: Int32Array;
  private readonly lines: number;
  private readonly finalNewline: boolean;
  private pos = 0;
  // The line the last `peek` found, as offsets into `src`: no object and no copy of its text per line.
  /** Its index into the lines, or -1 when there was none. */
  private at = -1;
  /** Its leading spaces. */
  private indent = 0;
  /** Where its text (after the indentation, comments still in) starts. */
  private from = 0;
  /** The position `peek` was last asked at (a line is looked at several times). */
  private peekedFrom = -1;

  constructor(text: string) {
    if (text.charCodeAt(0) === 0xfeff || text.includes('\r') || text.includes('\t')) bail();
    this.src = text;
    // One pass over the text: a guess at the line count (backlog lines are some 40 characters), doubled if short.
    let starts = new Int32Array((text.length >> 5) + 16);
    let count = 1;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
      if (count === starts.length) {
        const more = new Int32Array(starts.length * 2);
        more.set(starts);
        starts = more;
      }
      starts[count++] = i + 1;
    }
    this.starts = starts;
    this.lines = count;
    this.finalNewline = text.endsWith('\n');
  }

  /** Where line `n` ends (its "\n", or the end of the text). */
  private lineEnd(n: number): number {
    return n + 1 < this.lines ? (this.starts[n + 1] as number) - 1 : this.src.length;
  }

  /** Line `n`'s text from `from` is a sequence item: "-" alone or followed by a space. */
  private isSeqItem(n: number, from: number): boolean {
    if (this.src.charCodeAt(from) !== 45 /* - */) return false;
    return from + 1 === this.lineEnd(n) || this.src.charCodeAt(from + 1) === 32;
  }

  document(): unknown {
    if (!this.peek()) return null;
    if (this.indent !== 0) bail();
    const value = this.block(0);
    if (this.peek()) bail();
    return value;
  }

  /**
   * Moves to the next line with content (skipping blank and comment-only lines) and describes it in `at`,
   * `indent` and `from`, without consuming it; false at the end of the text.
   */
  private peek(): boolean {
    if (this.pos === this.peekedFrom || (this.at >= 0 && this.pos === this.at)) {
      this.pos = this.at >= 0 ? this.at : this.lines;
      return this.at >= 0;
    }
    this.peekedFrom = this.pos;
    return this.scan();
  }

  private scan(): boolean {
    const src = this.src;
    while (this.pos < this.lines) {
      const start = this.starts[this.pos] as number;
      const end = this.lineEnd(this.pos);
      let indent = 0;
      while (start + indent < end && src.charCodeAt(start + indent) === 32) indent++;
      const from = start + indent;
      if (from === end || src.charCodeAt(from) === 35 /* # */) {
        this.pos++;
        continue;
      }
      if (
        indent === 0 &&
        (src.startsWith('---', from) || src.startsWith('...', from) || src.startsWith('%', from))
      ) {
        bail();
      }
      this.at = this.pos;
      this.indent = indent;
      this.from = from;
      return true;
    }
    this.at = -1;
    return false;
  }

  /** A mapping or sequence starting at the next line, at exactly `indent`. */
  private block(indent: number): unknown {
    if (!this.peek() || this.indent !== indent) return bail();
    if (this.isSeqItem(this.at, this.from)) return this.sequence(indent);
    if (keyColon(this.src, this.from) >= 0) return this.mapping(indent);
    return bail();
  }

  /**
   * The next line of a block at `indent`: the current line from `first` (an inline first text, >= 0), else
   * the next line (its text from `this.from`); false at the block's end.
   */
  private blockLine(indent: number, first: number): boolean {
    if (first >= 0) return true;
    if (!this.peek() || this.indent < indent) return false;
    if (this.indent > indent) return bail();
    return true;
  }

  private mapping(indent: number, first = -1): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const src = this.src;
    for (; ; first = -1) {
      const inline = first >= 0;
      if (!this.blockLine(indent, first)) return out;
      const at = inline ? this.pos : this.at;
      const from = inline ? first : this.from;
      const colon = keyColon(src, from);
      if (colon < 0) return bail();
      const known = knownKey(src, from, colon);
      const key = known ?? src.slice(from, colon);
      if (key.length > 1000) bail();
      if (Object.hasOwn(out, key)) bail();
      // A known key is none of the names to avoid; any other is checked.
      if (known === undefined && (KEYS_TO_AVOID.has(key) || key in BOOLS || NULLS.has(key))) bail();
      this.pos = at + 1;
      out[key] = this.value(this.afterColon(at, colon), indent);
    }
  }

  private sequence(indent: number, first = -1): unknown[] {
    const out: unknown[] = [];
    const src = this.src;
    for (; ; first = -1) {
      const inline = first >= 0;
      if (!this.blockLine(indent, first)) return out;
      const at = inline ? this.pos : this.at;
      const from = inline ? first : this.from;
      // A later line that is not an item ends the sequence; an inline first text must be one.
      if (!this.isSeqItem(at, from)) return inline ? bail() : out;
      this.pos = at + 1;
      // "-" then spaces: the item's content starts at a column of its own.
      const end = this.lineEnd(at);
      let k = from + 1;
      while (k < end && src.charCodeAt(k) === 32) k++;
      if (k === end || src.charCodeAt(k) === 35 /* # */) {
        if (k !== end && src.charCodeAt(k - 1) !== 32) bail();
        out.push(this.nested(indent, false));
      } else if (keyColon(src, k) >= 0) {
        this.pos = at;
        out.push(this.mapping(indent + (k - from), k));
      } else if (this.isSeqItem(at, k)) {
        this.pos = at;
        out.push(this.sequence(indent + (k - from), k));
      } else {
        out.push(this.inline(src.slice(k, end), indent));
      }
    }
  }

  /** The text of line `at` after a key's colon with its leading white space trimmed. */
  private afterColon(at: number, colon: number): string {
    const src = this.src;
    const end = this.lineEnd(at);
    let j = colon + 1;
    while (j < end && src.charCodeAt(j) === 32) j++;
    if (j === end) return '';
    const c = src.charCodeAt(j);
    // Any other white space: let trimStart decide what it trims.
    return c > 32 && c < 127 ? src.slice(j, end) : src.slice(colon + 1, end).trimStart();
  }

  /**
   * The value after `key:` (its text with the leading white space trimmed): inline, a block scalar, or (when
   * empty) the nested block on the lines below; `parent` is the key's column.
   */
  private value(trimmed: string, parent: number): unknown {
    if (trimmed === '' || trimmed.startsWith('#')) return this.nested(parent, true);
    return this.inline(trimmed, parent);
  }

  /** The block under a key with nothing after its colon, or null when there is none. */
  private nested(parent: number, inMapping: boolean): unknown {
    if (!this.peek() || this.indent < parent) return null;
    if (this.indent === parent) {
      // "key:\n- a" (a sequence at the key's own column) is a value; anything else is the next key.
      return inMapping && this.isSeqItem(this.at, this.from) ? this.sequence(parent) : null;
    }
    return this.block(this.indent);
  }

  /** A value written on the line itself: `|` block, flow sequence, quoted or plain scalar. */
  private inline(rest: string, parent: number): unknown {
    const c = rest.charCodeAt(0);
    if (c === 124 /* | */) return this.literal(rest, parent);
    if (c === 91 /* [ */) {
      const list = flowSequence(rest);
      this.noContinuation(parent);
      return list;
    }
    if (c === 34 /* " */ || c === 39 /* ' */) {
      const value = quoted(rest, 0);
      if (!onlyCommentFrom(rest, quotedEnd)) bail();
      this.noContinuation(parent);
      return value;
    }
    const plain = stripComment(rest);
    this.noContinuation(parent);
    return plainScalar(plain, false);
  }

  /** A scalar cannot go on over more-indented lines in this subset (yaml would join them). */
  private noContinuation(parent: number): void {
    if (this.peek() && this.indent > parent) bail();
  }

  /** `|`, `|-` or `|+` with its lines (the indentation is that of the first non-blank line). */
  private literal(header: string, parent: number): string {
    // The header is nearly always a bare "|": no match array for it.
    const m = header === '|' ? null : /^\|([-+]?)(?: +#.*)? *$/.exec(header);
    if (m === null && header !== '|') return bail();
    const chomp = m === null ? '' : m[1];
    const lines: string[] = [];
    let contentIndent = -1;
    let maxBlankLead = 0;
    const src = this.src;
    while (this.pos < this.lines) {
      const start = this.starts[this.pos] as number;
      const end = this.lineEnd(this.pos);
      let indent = 0;
      while (start + indent < end && src.charCodeAt(start + indent) === 32) indent++;
      if (start + indent === end) {
        // A blank line (maybe spaces only) is part of the scalar.
        if (contentIndent < 0) maxBlankLead = Math.max(maxBlankLead, indent);
        lines.push(contentIndent >= 0 && indent > contentIndent ? src.slice(start + contentIndent, end) : '');
        this.pos++;
        continue;
      }
      if (contentIndent < 0) {
        if (indent <= parent) break;
        contentIndent = indent;
        if (maxBlankLead > contentIndent) bail();
      } else if (indent < contentIndent) break;
      lines.push(src.slice(start + contentIndent, end));
      this.pos++;
    }
    // The trailing blank lines were consumed too; the keep chomping needs them, the others drop them.
    let end = lines.length;
    while (end > 0 && lines[end - 1] === '') end--;
    // At the end of the file the final line break decides what clip and keep keep: leave that to yaml.
    if (this.pos >= this.lines && (chomp === '+' || !this.finalNewline)) bail();
    const body = end === lines.length ? lines : lines.slice(0, end);
    if (body.length === 0) return chomp === '+' && lines.length > 0 ? bail() : '';
    const text = body.join('\n');
    if (chomp === '-') return text;
    if (chomp === '+') return `${text}\n${'\n'.repeat(lines.length - end)}`;
    return `${text}\n`;
  }
}

/** From `from` on, nothing but spaces, or spaces then a comment: `/^(?: *| +#.*)$/` on the rest. */
function onlyCommentFrom(text: string, from: number): boolean {
  let j = from;
  while (text.charCodeAt(j) === 32) j++;
  if (j === text.length) return true;
  if (j === from || text.charCodeAt(j) !== 35 /* # */) return false;
  // "." in the pattern stops at the line terminators U+2028 and U+2029.
  return text.indexOf('\u2028', j) < 0 && text.indexOf('\u2029', j) < 0;
}

/** The keys backlogs and configs are made of, by length: a key read from the text is one of these strings. */
const KNOWN_KEYS: string[][] = [];
for (const k of [
  'id',
  'title',
  'description',
  'ready',
  'status',
  'priority',
  'dependencies',
  'allowed_paths',
  'acceptance_criteria',
  'labels',
  'run',
  'verify',
  'max_attempts',
  'timeout_minutes',
  'executor',
  'command',
  'version',
  'tasks',
]) {
  const same = KNOWN_KEYS[k.length] ?? [];
  same.push(k);
  KNOWN_KEYS[k.length] = same;
}

/** `src.slice(from, colon)` when it is a known key, without the copy; undefined otherwise. */
function knownKey(src: string, from: number, colon: number): string | undefined {
  const candidates = KNOWN_KEYS[colon - from];
  if (candidates === undefined) return undefined;
  // Indexed loops in the hot paths: a cold for-of steps an iterator object per element.
  for (let i = 0; i < candidates.length; i++) if (src.startsWith(candidates[i]!, from)) return candidates[i];
  return undefined;
}

/** The text before a ` #` comment, trimmed (only for text with no quotes to care about). */
function stripComment(text: string): string {
  const hash = text.startsWith('#') ? 0 : text.indexOf(' #');
  return (hash < 0 ? text : text.slice(0, hash)).trim();
}

/** A plain scalar's value under the core schema, limited to strings, null, booleans and simple integers. */
function plainScalar(s: string, flow: boolean): unknown {
  if (s === '') return null;
  if (s.length <= 5) {
    if (NULLS.has(s)) return null;
    const b = BOOLS[s];
    if (b !== undefined) return b;
  }
  // The number and indicator rules below all need a first character other than a letter, "_" or "/".
  const c = s.charCodeAt(0);
  if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 47)) {
    if (INT.test(s)) return Number(s);
    if (NUMBERISH.test(s) || /^0[xo]/.test(s)) return bail();
    if (BAD_START.test(s) && !/^-[^ ]/.test(s)) return bail();
    if (/^-[0-9.]/.test(s)) return bail();
  }
  if (s.includes(': ') || s.endsWith(':') || s.includes(' #')) return bail();
  if (flow && /[[\]{},]/.test(s)) return bail();
  return s;
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', n: '\n', t: '\t', r: '\r' };

/** Where the last `quoted` scalar ended (the index after its closing quote). */
let quotedEnd = 0;

/** A quoted scalar starting at `start`: its value (and `quotedEnd`, the index after the closing quote). */
function quoted(text: string, start: number): string {
  // Runs between quotes and escapes are sliced whole, not built a character at a time.
  let out = '';
  let from = start + 1;
  if (text.charCodeAt(start) === 39 /* ' */) {
    for (;;) {
      const i = text.indexOf("'", from);
      if (i < 0) return bail();
      if (text.charCodeAt(i + 1) !== 39) {
        quotedEnd = i + 1;
        return out + text.slice(from, i);
      }
      out += text.slice(from, i + 1); // '' is one quote
      from = i + 2;
    }
  }
  for (;;) {
    const close = text.indexOf('"', from);
    if (close < 0) return bail();
    const backslash = text.indexOf('\\', from);
    const i = backslash >= 0 && backslash < close ? backslash : close;
    out += text.slice(from, i);
    if (text.charCodeAt(i) === 34) {
      quotedEnd = i + 1;
      return out;
    }
    const e = text[i + 1];
    const mapped = e === undefined ? undefined : ESCAPES[e];
    if (mapped !== undefined) {
      out += mapped;
      from = i + 2;
      continue;
    }
    if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
      const code = Number.parseInt(text.slice(i + 2, i + 6), 16);
      if (code >= 0xd800 && code <= 0xdfff) bail();
      out += String.fromCharCode(code);
      from = i + 6;
      continue;
    }
    return bail();
  }
}

/** `[a, "b", 'c']` on one line. */
function flowSequence(text: string): unknown[] {
  const out: unknown[] = [];
  // Character codes, not one-character strings: this runs cold, in the interpreter, for most of a backlog.
  let i = 1;
  while (text.charCodeAt(i) === 32) i++;
  if (text.charCodeAt(i) === 93 /* ] */) {
    if (!onlyCommentFrom(text, i + 1)) bail();
    return out;
  }
  for (;;) {
    while (text.charCodeAt(i) === 32) i++;
    const ch = text.charCodeAt(i);
    if (ch === 34 /* " */ || ch === 39 /* ' */) {
      out.push(quoted(text, i));
      i = quotedEnd;
    } else {
      let j = i;
      for (let c = text.charCodeAt(j); j < text.length && c !== 44 && c !== 93; c = text.charCodeAt(++j));
      const item = text.slice(i, j).trim();
      if (item === '' || item.includes('#')) bail();
      out.push(plainScalar(item, true));
      i = j;
    }
    while (text.charCodeAt(i) === 32) i++;
    const next = text.charCodeAt(i);
    if (next === 44 /* , */) {
      i++;
      while (text.charCodeAt(i) === 32) i++;
      if (text.charCodeAt(i) === 93) bail(); // trailing comma: leave it to yaml
      continue;
    }
    if (next === 93 /* ] */) {
      if (!onlyCommentFrom(text, i + 1)) bail();
      return out;
    }
    return bail();
  }
}
