import * as crypto from 'node:crypto';
import canonicalize from 'canonicalize';
import { type EventDraft, EventSchema, type EventType, type LeviathanEvent } from './events.js';

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
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

/** SHA-256 hex of the canonical JSON of the event without its `hash` field (SPEC §4). */
export function hashEvent(e: Omit<LeviathanEvent, 'hash'> | Record<string, unknown>): string {
  return sha256Hex(canonicalWithout(e, 'hash'));
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
    // Fixed key order keeps the NDJSON lines readable; the hash itself is order-independent.
    const ordered: Record<string, unknown> = { v: 1, seq, id: e.id, ts: e.ts, type: e.type };
    if (e.task !== undefined) ordered.task = e.task;
    if (e.attempt !== undefined) ordered.attempt = e.attempt;
    ordered.actor = e.actor;
    ordered.data = e.data;
    ordered.prev = prev;
    const hash = hashEvent(ordered);
    ordered.hash = hash;
    out.push(ordered as LeviathanEvent);
    prev = hash;
  }
  return out;
}

function describe(value: unknown): string {
  if (value instanceof UnparsedLine) return `line ${value.line} is not JSON: ${value.error}`;
  return '';
}

/**
 * Verifies events in log order, continuing from `from` (genesis when absent). Reports the first bad position
 * by the seq that position should have, so a deleted or moved event is named where the chain first breaks.
 * Checks per event, first failing wins: invalid → duplicate_id → gap/reorder → broken_link → hash_mismatch.
 * Duplicate ids are only detected among the events given (ids before `from` are not known here).
 * The hash is computed over the raw value, so deleting a field that has a schema default is still caught.
 */
export function verifyChain(events: readonly unknown[], from?: ChainTip | null): VerifyResult {
  const start = from ?? null;
  let prev: string | null = start?.hash ?? null;
  let expected = (start?.seq ?? 0) + 1;
  const ids = new Set<string>();
  const parsedEvents: LeviathanEvent[] = new Array(events.length);
  for (let i = 0; i < events.length; i++, expected++) {
    const raw = events[i];
    if (raw instanceof UnparsedLine) return failure(expected, 'invalid', describe(raw));
    const parsed = EventSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || '(event)';
      return failure(
        expected,
        'invalid',
        `event at position ${i + 1}: ${where}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const e = parsed.data;
    // Before the seq check, so a line written twice is named for what it is rather than as a reorder.
    if (ids.has(e.id)) {
      return failure(expected, 'duplicate_id', `event id ${e.id} already used (found with seq ${e.seq})`);
    }
    ids.add(e.id);
    if (e.seq !== expected) return seqFailure(events, i, e.seq, expected);
    if (e.prev !== prev) {
      return failure(expected, 'broken_link', `prev is ${e.prev} but the previous hash is ${prev}`);
    }
    const actual = hashEvent(raw as Record<string, unknown>);
    if (actual !== e.hash)
      return failure(expected, 'hash_mismatch', `stored hash ${e.hash}, computed ${actual}`);
    parsedEvents[i] = e;
    prev = e.hash;
  }
  const count = events.length;
  const last = count > 0 ? { seq: expected - 1, hash: prev as string } : start;
  return { ok: true, count, last, events: parsedEvents };
}

function failure(seq: number, reason: VerifyFailure, detail: string): VerifyResult {
  return { ok: false, seq, reason, detail };
}

function seqFailure(events: readonly unknown[], i: number, found: number, expected: number): VerifyResult {
  if (found < expected)
    return failure(expected, 'reorder', `found seq ${found} where seq ${expected} belongs`);
  // A forward jump is a reorder when the missing seq shows up later, otherwise events are missing.
  for (let j = i + 1; j < events.length; j++) {
    const x = events[j];
    if (typeof x === 'object' && x !== null && (x as { seq?: unknown }).seq === expected) {
      return failure(expected, 'reorder', `found seq ${found} before seq ${expected}`);
    }
  }
  const missing = found - 1 === expected ? `seq ${expected}` : `seq ${expected}..${found - 1}`;
  return failure(expected, 'gap', `found seq ${found}; ${missing} missing`);
}

/**
 * Splits NDJSON into values. Tolerates one trailing newline and CRLF line ends; any other line that is not
 * JSON (including a blank line) becomes an `UnparsedLine` so `verifyChain` reports it as `invalid`.
 */
export function parseEventLines(ndjson: string): unknown[] {
  if (ndjson === '') return [];
  const lines = ndjson.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: unknown[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    try {
      out[i] = JSON.parse(line);
    } catch (err) {
      out[i] = new UnparsedLine(i + 1, line, err instanceof Error ? err.message : String(err));
    }
  }
  return out;
}

/** Serialises chained events as NDJSON lines (each ending in a newline) in their stored key order. */
export function toEventLines(events: readonly LeviathanEvent[]): string {
  let out = '';
  for (const e of events) out += `${JSON.stringify(e)}\n`;
  return out;
}
