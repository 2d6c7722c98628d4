/**
 * The verification as it was before lines took a fast path (parse every line, EventSchema, canonicalise and
 * hash every event), kept as the oracle the fast path is tested against: for any log, tampered or not, the
 * verifier must report exactly what this reports (ok, count and tip, or the seq, reason and detail).
 */
import { type ChainTip, hashEvent, parseEventLines, UnparsedLine } from '../../src/core/chain.js';
import { EventSchema, type LeviathanEvent } from '../../src/core/events.js';

export type ReferenceResult =
  | { ok: true; count: number; last: ChainTip | null; events: LeviathanEvent[] }
  | { ok: false; seq: number; reason: string; detail: string };

export function referenceVerifyChain(events: readonly unknown[], from?: ChainTip | null): ReferenceResult {
  const start = from ?? null;
  let prev: string | null = start?.hash ?? null;
  let expected = (start?.seq ?? 0) + 1;
  const ids = new Set<string>();
  const parsedEvents: LeviathanEvent[] = new Array(events.length);
  const failure = (seq: number, reason: string, detail: string): ReferenceResult => ({
    ok: false,
    seq,
    reason,
    detail,
  });
  for (let i = 0; i < events.length; i++, expected++) {
    const raw = events[i];
    if (raw instanceof UnparsedLine) {
      return failure(expected, 'invalid', `line ${raw.line} is not JSON: ${raw.error}`);
    }
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
    if (ids.has(e.id)) {
      return failure(expected, 'duplicate_id', `event id ${e.id} already used (found with seq ${e.seq})`);
    }
    ids.add(e.id);
    if (e.seq !== expected) {
      if (e.seq < expected)
        return failure(expected, 'reorder', `found seq ${e.seq} where seq ${expected} belongs`);
      for (let j = i + 1; j < events.length; j++) {
        const x = events[j];
        if (typeof x === 'object' && x !== null && (x as { seq?: unknown }).seq === expected) {
          return failure(expected, 'reorder', `found seq ${e.seq} before seq ${expected}`);
        }
      }
      const missing = e.seq - 1 === expected ? `seq ${expected}` : `seq ${expected}..${e.seq - 1}`;
      return failure(expected, 'gap', `found seq ${e.seq}; ${missing} missing`);
    }
    if (e.prev !== prev)
      return failure(expected, 'broken_link', `prev is ${e.prev} but the previous hash is ${prev}`);
    const actual = hashEvent(raw as Record<string, unknown>);
    if (actual !== e.hash)
      return failure(expected, 'hash_mismatch', `stored hash ${e.hash}, computed ${actual}`);
    parsedEvents[i] = e;
    prev = e.hash;
  }
  const count = events.length;
  return {
    ok: true,
    count,
    last: count > 0 ? { seq: expected - 1, hash: prev as string } : start,
    events: parsedEvents,
  };
}

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.ndjson$/;

/** The chain part of `checkLog` (names, chain across files, ids over the whole log, day placement). */
export function referenceCheckFiles(
  files: ReadonlyMap<string, string>,
):
  | { ok: true; count: number; last: ChainTip | null }
  | { ok: false; seq: number; reason: string; detail: string } {
  let tip: ChainTip | null = null;
  let count = 0;
  const ids = new Set<string>();
  for (const path of [...files.keys()].sort()) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const day = DAY_FILE.exec(name)?.[1];
    if (path !== `events/${name}` || !day) {
      return { ok: false, seq: (tip?.seq ?? 0) + 1, reason: 'bad_file', detail: `unexpected file ${path}` };
    }
    const raw = parseEventLines(files.get(path) as string);
    const result = referenceVerifyChain(raw, tip);
    const good = result.ok ? raw.length : result.seq - (tip?.seq ?? 0) - 1;
    for (let i = 0; i < good; i++) {
      const e = raw[i] as LeviathanEvent;
      if (ids.has(e.id))
        return { ok: false, seq: e.seq, reason: 'duplicate_id', detail: `event id ${e.id} is used twice` };
      ids.add(e.id);
      if (e.ts.slice(0, 10) > day) {
        return { ok: false, seq: e.seq, reason: 'misplaced', detail: `event of ${e.ts} in ${path}` };
      }
    }
    if (!result.ok)
      return { ok: false, seq: result.seq, reason: result.reason, detail: `${path}: ${result.detail}` };
    count += result.count;
    tip = result.last;
  }
  return { ok: true, count, last: tip };
}
