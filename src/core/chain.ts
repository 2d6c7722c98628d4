import * as crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import { type CanonicalLine, decodeCanonicalAt, decodeCanonicalLine } from './event-line.js';
import { type EventDraft, EventSchema, type EventType, type LeviathanEvent } from './events.js';
import { IdDigests } from './id-digests.js';
import { IdSet } from './id-set.js';

/** The point a chain continues from: the last event's seq and hash. `null` = genesis. */
export interface ChainTip {
  seq: number;
  hash: string;
}

export type VerifyFailure = 'invalid' | 'hash_mismatch' | 'broken_link' | 'gap' | 'reorder' | 'duplicate_id';

export type VerifyResult =
  | {
      ok: true;
      count: number;
      /** The tip after the verified events (`from` when there were none). */
      last: ChainTip | null;
      /** The events as parsed by `EventSchema`, so callers never parse twice. */
      events: LeviathanEvent[];
    }
  | { ok: false; seq: number; reason: VerifyFailure; detail: string };

/** What `parseEventLines` yields for a line that is not JSON; `verifyChain` reports it as `invalid`. */
export class UnparsedLine {
  constructor(
    readonly line: number,
    readonly text: string,
    readonly error: string,
  ) {}
}

const SHA_HEX = /^[0-9a-f]{64}$/;

// The `canonicalize` package ships CJS typings with `export default`; under NodeNext the default import is
// typed as the module namespace, so pin its call signature once here.
const toCanonical = canonicalize as unknown as (input: unknown) => string | undefined;

/** RFC 8785 canonical JSON of a value. Throws on values JSON cannot represent (NaN, Infinity, undefined). */
export function canonicalJson(value: unknown): string {
  return canonicalWithout(value, undefined);
}

const NO_FAST_PATH = Symbol('no-fast-path');

/**
 * Verification hashes every event, so this is the hot path. Copying the value with keys inserted in sorted
 * order and letting the native JSON.stringify serialise it is about 1.5× faster than `canonicalize`, and gives
 * the same text: JCS formats strings and numbers exactly as JSON.stringify does. Objects whose key order
 * JavaScript would not keep (integer-like keys), `toJSON` values and non-finite numbers go to `canonicalize`.
 */
function canonicalWithout(value: unknown, skipTopKey: string | undefined): string {
  const copy = sortedCopy(value, skipTopKey);
  if (copy !== NO_FAST_PATH) {
    const text = JSON.stringify(copy);
    if (text !== undefined) return text;
  } else {
    const text = toCanonical(
      skipTopKey === undefined ? value : { ...(value as object), [skipTopKey]: undefined },
    );
    if (text !== undefined) return text;
  }
  throw new TypeError('value has no JSON representation');
}

function sortedCopy(v: unknown, skip: string | undefined): unknown {
  if (typeof v !== 'object' || v === null) {
    return typeof v === 'number' && !Number.isFinite(v) ? NO_FAST_PATH : v;
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return NO_FAST_PATH;
  if (Array.isArray(v)) {
    const out: unknown[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = sortedCopy(v[i], undefined);
      if (x === NO_FAST_PATH) return NO_FAST_PATH;
      out[i] = x;
    }
    return out;
  }
  const keys = Object.keys(v).sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const c = k.charCodeAt(0);
    // Integer-like keys are enumerated numerically by JavaScript, not in insertion order; `__proto__` would
    // set the prototype instead of a key.
    if ((c >= 48 && c <= 57) || k === '__proto__') return NO_FAST_PATH;
    if (k === skip) continue;
    const x = sortedCopy((v as Record<string, unknown>)[k], undefined);
    if (x === NO_FAST_PATH) return NO_FAST_PATH;
    out[k] = x;
  }
  return out;
}

// One-shot `crypto.hash` (Node ≥ 20.12) is about twice as fast as createHash for short inputs.
export const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

/** SHA-256 hex of the canonical JSON of the event without its `hash` field (SPEC §4). */
export function hashEvent(e: Omit<LeviathanEvent, 'hash'> | Record<string, unknown>): string {
  return sha256Hex(canonicalWithout(e, 'hash'));
}

/**
 * The stored form of a validated event given without its hash: keys in canonical order at every level and the
 * hash appended last. Its JSON.stringify (the stored line) is then the canonical JSON the hash covers with
 * `,"hash":"…"` spliced in before the final brace, which verification reads without parsing
 * (core/event-line.ts). The hash itself does not depend on the order.
 */
export function sealEvent(body: Record<string, unknown>): LeviathanEvent {
  const sorted = sortedCopy(body, 'hash');
  if (sorted === NO_FAST_PATH) return { ...body, hash: hashEvent(body) } as LeviathanEvent;
  const event = sorted as Record<string, unknown>;
  event.hash = sha256Hex(JSON.stringify(sorted));
  return event as LeviathanEvent;
}

/** Event types whose projection needs a task id, and those that also need an attempt id. */
const NEEDS_TASK: ReadonlySet<EventType> = new Set<EventType>([
  'attempt.created',
  'attempt.dispatched',
  'attempt.started',
  'attempt.succeeded',
  'attempt.failed',
  'attempt.timed_out',
  'pr.created',
  'pr.merged',
  'pr.closed',
  'task.completed',
  'task.blocked',
  'task.retried',
]);
const NEEDS_ATTEMPT: ReadonlySet<EventType> = new Set<EventType>([
  'attempt.created',
  'attempt.dispatched',
  'attempt.started',
  'attempt.succeeded',
  'attempt.failed',
  'attempt.timed_out',
]);

function checkTip(tip: ChainTip | null): void {
  if (tip === null) return;
  if (!Number.isInteger(tip.seq) || tip.seq < 1 || !SHA_HEX.test(tip.hash)) {
    throw new TypeError(`invalid chain tip ${JSON.stringify(tip)}`);
  }
}

/**
 * Turns drafts into chained events after `tip`: assigns `v`, `seq`, `prev` and `hash`. Each event is validated
 * (and schema defaults applied) before it is hashed, so what is stored is exactly what was hashed.
 * Throws on an invalid draft: writing an event the verifier would reject is a programming error.
 */
export function chainEvents(tip: ChainTip | null, drafts: readonly EventDraft[]): LeviathanEvent[] {
  checkTip(tip);
  let seq = tip?.seq ?? 0;
  let prev: string | null = tip?.hash ?? null;
  const ids = new Set<string>();
  const out: LeviathanEvent[] = [];
  for (const draft of drafts) {
    seq += 1;
    if (ids.has(draft.id)) throw new Error(`draft ${seq}: duplicate event id ${draft.id}`);
    ids.add(draft.id);
    if (NEEDS_TASK.has(draft.type) && !draft.task)
      throw new Error(`draft ${seq}: ${draft.type} needs a task`);
    if (NEEDS_ATTEMPT.has(draft.type) && !draft.attempt) {
      throw new Error(`draft ${seq}: ${draft.type} needs an attempt`);
    }
    // A placeholder hash lets the full schema (including `hash`) run once; it is replaced below.
    const candidate = { ...draft, v: 1, seq, prev, hash: '0'.repeat(64) };
    const parsed = EventSchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || '(event)';
      throw new Error(`draft ${seq} (${draft.type}) is invalid: ${where}: ${issue?.message ?? 'unknown'}`);
    }
    const e = parsed.data;
    const body: Record<string, unknown> = { v: 1, seq, id: e.id, ts: e.ts, type: e.type };
    if (e.task !== undefined) body.task = e.task;
    if (e.attempt !== undefined) body.attempt = e.attempt;
    body.actor = e.actor;
    body.data = e.data;
    body.prev = prev;
    const event = sealEvent(body);
    out.push(event);
    prev = event.hash;
  }
  return out;
}

function describe(value: unknown): string {
  if (value instanceof UnparsedLine) return `line ${value.line} is not JSON: ${value.error}`;
  return '';
}

/** Where a segment's chain breaks: the seq that position should have, why, and the position (0-based). */
export interface ChainFailure {
  seq: number;
  reason: VerifyFailure;
  detail: string;
  index: number;
}

/** What `ChainVerifier` yields for a segment. */
export interface SegmentResult {
  /** The events accepted, in order. */
  events: LeviathanEvent[];
  /** Where the segment's chain breaks (after `events`), if it does. */
  failure: ChainFailure | null;
  /** The index in `events` of the first event whose id an earlier segment used, or -1. */
  reused: number;
}

/**
 * Verifies a chain one segment at a time (the day files of a log, in order), continuing from `from` (genesis
 * when null). Reports the first bad position by the seq that position should have, so a deleted or moved
 * event is named where the chain first breaks. Checks per event, first failing wins:
 * invalid → duplicate_id → gap/reorder → broken_link → hash_mismatch.
 * The hash is computed over the value as stored, so deleting a field that has a schema default is caught.
 *
 * Ids: an id used twice within a segment is a `duplicate_id`; an id an earlier segment used is only noted
 * (`SegmentResult.reused`): the caller decides (`checkLog` reports it).
 *
 * Lines take a fast path when they are canonical (see core/event-line.ts): no JSON.parse, schema or
 * canonicalisation, the hash taken over a slice of the line. Only an event that passes every check is accepted
 * that way; anything else (a non-canonical line, any failing check) is judged again by the general path, so
 * results, failures and their details are exactly those of the general path.
 */
export class ChainVerifier {
  /** Every accepted event's id. */
  private readonly ids: IdSet;
  private readonly start: ChainTip | null;
  private prev: string | null;
  private next: number;
  private accepted = 0;
  /** Whether `prev` is known to be well formed (null or sha-256 hex), so a line may take the fast path. */
  private prevFormed: boolean;
  /**
   * The task and attempt ids of the last event accepted on the fast path. Events of one task come in runs;
   * giving each event of a run the same string object lets the fold look its records up by a key it has
   * seen (property lookups with a string never used as a key before cost a search of V8's string table).
   */
  private lastTask: string | undefined;
  private lastAttempt: string | undefined;
  /** Set in deferred mode (see the constructor): every accepted id's digest, for `settled`. */
  private readonly digests: IdDigests | null;
  /** Deferred mode only: a line needed the general path, so this pass stopped there. */
  private gaveUp = false;
  /** Set by `acceptFast`: the event it accepted reuses an id of an earlier segment. */
  private reusedAt = false;

  /**
   * `deferIds` makes a pass that is only good when everything is in order, for a caller that then redoes
   * the check with a verifier of its own: ids are not checked as they come (only recorded, see
   * `IdDigests`), and the first line that does not pass the fast path ends the pass (every later segment
   * yields nothing). `settled()` says whether the pass stands: then its results are exactly those of a
   * verifier without `deferIds` (every id was new, so no check on ids could have failed).
   */
  constructor(from: ChainTip | null = null, options: { deferIds?: boolean } = {}) {
    // (Not sized up front: a table that grows with the log stays small, in cache, for most of the walk.)
    this.ids = new IdSet();
    this.digests = options.deferIds ? new IdDigests() : null;
    this.start = from;
    this.prev = from?.hash ?? null;
    this.next = (from?.seq ?? 0) + 1;
    this.prevFormed = this.prev === null || SHA_HEX.test(this.prev);
  }

  /** Whether the pass so far stands (always, without `deferIds`); in deferred mode it sorts the digests. */
  settled(): boolean {
    if (this.digests === null) return true;
    return !this.gaveUp && this.digests.distinct();
  }

  /** Deferred mode: whether the pass stopped at a line the fast path did not accept. */
  get stopped(): boolean {
    return this.gaveUp;
  }

  /** The tip after the events accepted so far (`from` when none). */
  get tip(): ChainTip | null {
    return this.accepted > 0 ? { seq: this.next - 1, hash: this.prev as string } : this.start;
  }

  /** Verifies the next segment given as NDJSON lines (see `splitEventLines`). */
  lines(lines: readonly string[]): SegmentResult {
    return this.segment(lines, true);
  }

  /** Verifies the next segment given as parsed values (`UnparsedLine` for a line that was not JSON). */
  values(values: readonly unknown[]): SegmentResult {
    return this.segment(values, false);
  }

  private segment(items: readonly unknown[], lines: boolean): SegmentResult {
    const events: LeviathanEvent[] = [];
    let reused = -1;
    const digests = this.digests;
    if (this.gaveUp) return { events, failure: null, reused };
    for (let i = 0; i < items.length; i++) {
      let e: LeviathanEvent | null = null;
      if (lines && this.prevFormed) {
        const fast = decodeCanonicalLine(items[i] as string);
        if (fast !== null) {
          e = this.acceptFast(fast, events);
          if (e !== null && reused < 0 && this.reusedAt) reused = events.length;
        }
      }
      if (e === null && digests !== null) {
        this.gaveUp = true;
        return { events, failure: null, reused };
      }
      if (e === null) {
        const raw = lines ? parseLine(items[i] as string, i) : items[i];
        const judged = this.judge(raw, items, i, lines, events);
        if ('reason' in judged) return { events, failure: judged, reused };
        e = judged;
        if (!this.ids.add(e.id) && reused < 0) reused = events.length;
      }
      events.push(e);
      this.prev = e.hash;
      this.prevFormed = true;
      this.next += 1;
      this.accepted += 1;
    }
    return { events, failure: null, reused };
  }

  /**
   * The next event if the canonical line `fast` continues the chain and its id is new (or, outside deferred
   * mode, used only by an earlier segment: then `reusedAt` is set); null for the general path.
   */
  private acceptFast(fast: CanonicalLine, events: readonly LeviathanEvent[]): LeviathanEvent | null {
    this.reusedAt = false;
    const candidate = fast.event as LeviathanEvent;
    // `prev` equal to a well-formed hash and `hash` equal to a computed one are well formed (DEFERRED_KEYS).
    if (
      candidate.seq !== this.next ||
      candidate.prev !== this.prev ||
      sha256Hex(fast.canonical) !== candidate.hash
    ) {
      return null;
    }
    // The one string object for the link from here on: the fold's own link check (and any later
    // comparison) is then a comparison of references, not of 64 characters.
    candidate.prev = this.prev;
    const { task, attempt } = candidate;
    if (task !== undefined) {
      if (task === this.lastTask) candidate.task = this.lastTask;
      else this.lastTask = task;
    }
    if (attempt !== undefined) {
      if (attempt === this.lastAttempt) candidate.attempt = this.lastAttempt;
      else this.lastAttempt = attempt;
    }
    // One set operation for a new id; an id seen before is looked up in this segment (rare).
    if (this.digests !== null) {
      this.digests.add(candidate.id);
      return candidate;
    }
    if (this.ids.add(candidate.id)) return candidate;
    if (usedIn(events, candidate.id)) return null;
    this.reusedAt = true;
    return candidate;
  }

  /**
   * `lines(splitEventLines(ndjson))`. In deferred mode the lines are read in place, with no string per line:
   * a line the fast path does not accept ends the pass anyway (see the constructor).
   */
  text(ndjson: string): SegmentResult {
    if (this.digests === null || !this.prevFormed) return this.lines(splitEventLines(ndjson));
    const events: LeviathanEvent[] = [];
    const none = { events, failure: null, reused: -1 };
    if (this.gaveUp) return none;
    const esc = ndjson.indexOf('\\') >= 0;
    // As splitEventLines: one trailing newline ends the text, and a line's `\r` before its end is dropped.
    if (ndjson === '') return none;
    const stop = ndjson.length - (ndjson.charCodeAt(ndjson.length - 1) === 10 ? 1 : 0);
    for (let start = 0; ; ) {
      let end = ndjson.indexOf('\n', start);
      if (end < 0 || end > stop) end = stop;
      const last = end > start && ndjson.charCodeAt(end - 1) === 13 /* \r */ ? end - 1 : end;
      const fast = decodeCanonicalAt(ndjson, start, last, esc);
      const e = fast === null ? null : this.acceptFast(fast, events);
      if (e === null) {
        this.gaveUp = true;
        return none;
      }
      events.push(e);
      this.prev = e.hash;
      this.next += 1;
      this.accepted += 1;
      if (end >= stop) break;
      start = end + 1;
    }
    return none;
  }

  /** The general path for one value: schema, ids, seq, link and hash, as SPEC §4 states them. */
  private judge(
    raw: unknown,
    items: readonly unknown[],
    i: number,
    lines: boolean,
    accepted: readonly LeviathanEvent[],
  ): LeviathanEvent | ChainFailure {
    const expected = this.next;
    if (raw instanceof UnparsedLine) return failAt(i, expected, 'invalid', describe(raw));
    const parsed = EventSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || '(event)';
      return failAt(
        i,
        expected,
        'invalid',
        `event at position ${i + 1}: ${where}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const e = parsed.data;
    // Before the seq check, so a line written twice is named for what it is rather than as a reorder.
    if (this.ids.has(e.id) && usedIn(accepted, e.id)) {
      return failAt(i, expected, 'duplicate_id', `event id ${e.id} already used (found with seq ${e.seq})`);
    }
    if (e.seq !== expected) return seqFailure(items, lines, i, e.seq, expected);
    if (e.prev !== this.prev) {
      return failAt(i, expected, 'broken_link', `prev is ${e.prev} but the previous hash is ${this.prev}`);
    }
    const actual = hashEvent(raw as Record<string, unknown>);
    if (actual !== e.hash) {
      return failAt(i, expected, 'hash_mismatch', `stored hash ${e.hash}, computed ${actual}`);
    }
    return e;
  }
}

/**
 * Verifies events in log order, continuing from `from` (genesis when absent); see `ChainVerifier`.
 * Duplicate ids are only detected among the events given (ids before `from` are not known here).
 */
export function verifyChain(events: readonly unknown[], from?: ChainTip | null): VerifyResult {
  return result(new ChainVerifier(from ?? null), (v) => v.values(events));
}

/** `verifyChain(parseEventLines(ndjson), from)`, with the fast path for canonical lines. */
export function verifyEventLines(ndjson: string, from?: ChainTip | null): VerifyResult {
  return result(new ChainVerifier(from ?? null), (v) => v.lines(splitEventLines(ndjson)));
}

function result(verifier: ChainVerifier, run: (v: ChainVerifier) => SegmentResult): VerifyResult {
  const { events, failure } = run(verifier);
  if (failure) return { ok: false, seq: failure.seq, reason: failure.reason, detail: failure.detail };
  return { ok: true, count: events.length, last: verifier.tip, events };
}

function usedIn(events: readonly LeviathanEvent[], id: string): boolean {
  for (const e of events) if (e.id === id) return true;
  return false;
}

function failAt(index: number, seq: number, reason: VerifyFailure, detail: string): ChainFailure {
  return { seq, reason, detail, index };
}

function seqFailure(
  items: readonly unknown[],
  lines: boolean,
  i: number,
  found: number,
  expected: number,
): ChainFailure {
  if (found < expected)
    return failAt(i, expected, 'reorder', `found seq ${found} where seq ${expected} belongs`);
  // A forward jump is a reorder when the missing seq shows up later, otherwise events are missing.
  for (let j = i + 1; j < items.length; j++) {
    const x = lines ? parseLine(items[j] as string, j) : items[j];
    if (typeof x === 'object' && x !== null && (x as { seq?: unknown }).seq === expected) {
      return failAt(i, expected, 'reorder', `found seq ${found} before seq ${expected}`);
    }
  }
  const missing = found - 1 === expected ? `seq ${expected}` : `seq ${expected}..${found - 1}`;
  return failAt(i, expected, 'gap', `found seq ${found}; ${missing} missing`);
}

/** One NDJSON line (at 0-based `index`) as a value, or an `UnparsedLine`. */
function parseLine(line: string, index: number): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    return new UnparsedLine(index + 1, line, err instanceof Error ? err.message : String(err));
  }
}

/**
 * Splits NDJSON into lines as `parseEventLines` does: one trailing newline tolerated, CRLF line ends
 * accepted (the `\r` is dropped); any other empty line stays, to be reported as `invalid`.
 */
export function splitEventLines(ndjson: string): string[] {
  if (ndjson === '') return [];
  const lines = ndjson.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.charCodeAt(line.length - 1) === 13 /* \r */) lines[i] = line.slice(0, -1);
  }
  return lines;
}

/**
 * Splits NDJSON into values. Tolerates one trailing newline and CRLF line ends; any other line that is not
 * JSON (including a blank line) becomes an `UnparsedLine` so `verifyChain` reports it as `invalid`.
 */
export function parseEventLines(ndjson: string): unknown[] {
  const lines = splitEventLines(ndjson);
  const out: unknown[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) out[i] = parseLine(lines[i] as string, i);
  return out;
}

/**
 * Serialises chained events as NDJSON lines (each ending in a newline) in their key order: for events from
 * `chainEvents`, canonical order with the hash last.
 */
export function toEventLines(events: readonly LeviathanEvent[]): string {
  let out = '';
  for (const e of events) out += `${JSON.stringify(e)}\n`;
  return out;
}
