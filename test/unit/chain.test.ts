import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import canonicalizeLib from 'canonicalize';
import {
  canonicalJson,
  chainEvents,
  hashEvent,
  parseEventLines,
  toEventLines,
  UnparsedLine,
  verifyChain,
} from '../../src/core/chain.js';
import type { EventDraft, LeviathanEvent } from '../../src/core/events.js';
import { EventBuilder, jsonCopy } from '../helpers/events.js';

const canonicalize = canonicalizeLib as unknown as (v: unknown) => string;

/** Five events of one delivered attempt plus a second attempt's creation. */
function sample(): { b: EventBuilder; events: LeviathanEvent[] } {
  const b = new EventBuilder();
  const a1 = b.attempt('docs-guide');
  const a2 = b.attempt('docs-faq');
  const events = b.chain([...b.delivered(a1, 7), b.created(a2)]);
  return { b, events };
}

/** Recomputes an edited event's hash, as a forger would. */
function rehash(e: Record<string, unknown>): Record<string, unknown> {
  return { ...e, hash: hashEvent(e) };
}

describe('canonicalJson', () => {
  it('matches the canonicalize package on awkward values', () => {
    const values: unknown[] = [
      { b: 1, a: [3, { z: null, y: 'é\u2028"\\' }], c: 1e21, d: 0.1, e: -0, f: true },
      { 10: 'x', 9: 'y', a: 'z', '': 0 },
      JSON.parse('{"__proto__":{"x":1},"a":2}'),
      ['\ud800', 5e-7, { nested: { deeper: [] } }],
      { when: new Date('2026-01-01T00:00:00Z') },
      { skip: undefined, keep: 1 },
      'plain',
      42,
      null,
    ];
    for (const v of values) expect(canonicalJson(v)).toBe(canonicalize(v));
  });

  it('sorts keys by UTF-16 code units', () => {
    expect(canonicalJson({ b: 1, B: 2, é: 3, a: 4 })).toBe('{"B":2,"a":4,"b":1,"é":3}');
  });

  it('rejects values JSON cannot represent', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow();
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow();
    expect(() => canonicalJson(undefined)).toThrow();
  });
});

describe('hashEvent', () => {
  it('is the sha256 hex of the canonical JSON without hash', () => {
    const { events } = sample();
    const e = events[0]!;
    const { hash, ...rest } = e;
    const expected = createHash('sha256').update(canonicalize(rest)).digest('hex');
    expect(hashEvent(rest)).toBe(expected);
    expect(hash).toBe(expected);
  });

  it('ignores the hash field and key order', () => {
    const { events } = sample();
    const e = events[1]!;
    const reversed = Object.fromEntries(Object.entries(e).reverse());
    expect(hashEvent(e)).toBe(e.hash);
    expect(hashEvent(reversed)).toBe(e.hash);
    expect(hashEvent({ ...e, hash: 'f'.repeat(64) })).toBe(e.hash);
  });

  it('changes when any field changes', () => {
    const { events } = sample();
    const e = events[0] as LeviathanEvent & { type: 'attempt.created' };
    expect(hashEvent({ ...e, ts: '2026-01-01T10:00:00.001Z' })).not.toBe(e.hash);
    expect(hashEvent({ ...e, data: { ...e.data, number: 2 } })).not.toBe(e.hash);
  });
});

describe('chainEvents', () => {
  it('starts a genesis chain at seq 1 with prev null', () => {
    const { events } = sample();
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events[0]!.prev).toBeNull();
    for (const e of events) {
      expect(e.v).toBe(1);
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(hashEvent(e)).toBe(e.hash);
    }
  });

  it('links each event to the previous hash', () => {
    const { events } = sample();
    for (let i = 1; i < events.length; i++) expect(events[i]!.prev).toBe(events[i - 1]!.hash);
  });

  it('continues after a tip', () => {
    const { b, events } = sample();
    const tip = { seq: events.length, hash: events[events.length - 1]!.hash };
    const more = chainEvents(tip, [b.configInvalid(), b.reset()]);
    expect(more.map((e) => e.seq)).toEqual([7, 8]);
    expect(more[0]!.prev).toBe(tip.hash);
    expect(verifyChain([...events, ...more]).ok).toBe(true);
  });

  it('applies schema defaults before hashing', () => {
    const b = new EventBuilder();
    const a = b.attempt('t');
    const [created, failed, pr] = b.chain([b.created(a), b.failed(a), b.prCreated(a, 3)]);
    expect(created!.data).toEqual(expect.objectContaining({ manual: false }));
    expect(failed!.data).toEqual({ reason: 'verify_failed', detail: '' });
    expect(pr!.data).toEqual({ number: 3, branch: 'leviathan/t', url: '', updated: false });
    // The stored form (with defaults) is what verifies.
    expect(verifyChain(jsonCopy([created, failed, pr])).ok).toBe(true);
  });

  it('writes keys in canonical order with the hash last, and never an undefined key', () => {
    const { b, events } = sample();
    expect(Object.keys(events[0]!)).toEqual([
      'actor',
      'attempt',
      'data',
      'id',
      'prev',
      'seq',
      'task',
      'ts',
      'type',
      'v',
      'hash',
    ]);
    const [reset] = chainEvents(null, [b.reset()]);
    expect(Object.keys(reset!)).toEqual(['actor', 'data', 'id', 'prev', 'seq', 'ts', 'type', 'v', 'hash']);
    expect(Object.keys(reset!.data)).toEqual(['by', 'reason']);
    expect(jsonCopy(events)).toStrictEqual(events);
  });

  it('stores each event as its canonical JSON with the hash spliced in before the final brace', () => {
    const { events } = sample();
    for (const e of events) {
      const { hash, ...rest } = e;
      expect(JSON.stringify(e)).toBe(`${canonicalize(rest).slice(0, -1)},"hash":"${hash}"}`);
    }
  });

  it('returns nothing for no drafts and does not touch the drafts', () => {
    const b = new EventBuilder();
    expect(chainEvents(null, [])).toEqual([]);
    const drafts = [b.reset(), b.configInvalid()];
    const before = jsonCopy(drafts);
    chainEvents(null, drafts);
    expect(drafts).toStrictEqual(before);
  });

  it('throws on a draft the schema rejects', () => {
    const b = new EventBuilder();
    const bad = { ...b.reset(), ts: 'yesterday' } as EventDraft;
    expect(() => chainEvents(null, [bad])).toThrow(/ts/);
    const extra = { ...b.reset(), extra: 1 } as unknown as EventDraft;
    expect(() => chainEvents(null, [extra])).toThrow(/invalid/);
    const wrongData = { ...b.reset(), data: { by: 'robot' } } as unknown as EventDraft;
    expect(() => chainEvents(null, [wrongData])).toThrow(/data\.by/);
  });

  it('throws on duplicate ids inside one batch', () => {
    const b = new EventBuilder();
    const d = b.reset();
    expect(() => chainEvents(null, [d, { ...d }])).toThrow(/duplicate event id/);
  });

  it('refuses attempt and task events without the ids the projection needs', () => {
    const b = new EventBuilder();
    const a = b.attempt('t');
    const { attempt: _a, ...noAttempt } = b.started(a);
    expect(() => chainEvents(null, [noAttempt as EventDraft])).toThrow(/needs an attempt/);
    const { task: _t, ...noTask } = b.completed('t');
    expect(() => chainEvents(null, [noTask as EventDraft])).toThrow(/needs a task/);
  });

  it('throws on a malformed tip', () => {
    const b = new EventBuilder();
    expect(() => chainEvents({ seq: 0, hash: 'a'.repeat(64) }, [b.reset()])).toThrow(/tip/);
    expect(() => chainEvents({ seq: 3, hash: 'nothex' }, [b.reset()])).toThrow(/tip/);
  });
});

describe('verifyChain', () => {
  it('accepts a valid chain and returns the parsed events and tip', () => {
    const { events } = sample();
    const r = verifyChain(jsonCopy(events));
    expect(r).toEqual({
      ok: true,
      count: 6,
      last: { seq: 6, hash: events[5]!.hash },
      events,
    });
  });

  it('accepts an empty chain; the tip stays where it started', () => {
    expect(verifyChain([])).toEqual({ ok: true, count: 0, last: null, events: [] });
    const from = { seq: 4, hash: 'a'.repeat(64) };
    expect(verifyChain([], from)).toEqual({ ok: true, count: 0, last: from, events: [] });
  });

  it('verifies a segment that continues from a known tip', () => {
    const { events } = sample();
    const from = { seq: 3, hash: events[2]!.hash };
    const r = verifyChain(events.slice(3), from);
    expect(r).toMatchObject({ ok: true, count: 3, last: { seq: 6, hash: events[5]!.hash } });
  });

  it('reports a segment without its tip as a gap at seq 1', () => {
    const { events } = sample();
    expect(verifyChain(events.slice(2))).toMatchObject({ ok: false, seq: 1, reason: 'gap' });
  });

  it('reports a wrong starting tip as a broken link', () => {
    const { events } = sample();
    const r = verifyChain(events.slice(3), { seq: 3, hash: events[1]!.hash });
    expect(r).toMatchObject({ ok: false, seq: 4, reason: 'broken_link' });
  });

  it.each([
    ['a number', 5],
    ['null', null],
    ['a string', 'event'],
    ['an array', []],
  ])('reports %s as invalid', (_name, value) => {
    const { events } = sample();
    const list: unknown[] = jsonCopy(events);
    list[2] = value;
    expect(verifyChain(list)).toMatchObject({ ok: false, seq: 3, reason: 'invalid' });
  });

  it('reports schema violations as invalid at their seq', () => {
    const { events } = sample();
    const cases: Array<(e: Record<string, unknown>) => void> = [
      (e) => {
        e.type = 'attempt.exploded';
      },
      (e) => {
        e.extra = true;
      },
      (e) => {
        e.ts = 'not a time';
      },
      (e) => {
        e.v = 2;
      },
      (e) => {
        delete e.hash;
      },
      (e) => {
        (e.data as Record<string, unknown>).number = 0;
      },
    ];
    for (const mutate of cases) {
      const list = jsonCopy(events) as unknown as Record<string, unknown>[];
      mutate(list[3]!);
      const r = verifyChain(list);
      expect(r).toMatchObject({ ok: false, seq: 4, reason: 'invalid' });
    }
  });

  it('reports a line that is not JSON as invalid, naming the line', () => {
    const { events } = sample();
    const lines = toEventLines(events).split('\n');
    lines[1] = '{"v":1,';
    const r = verifyChain(parseEventLines(lines.join('\n')));
    expect(r).toMatchObject({ ok: false, seq: 2, reason: 'invalid' });
    if (!r.ok) expect(r.detail).toMatch(/line 2 is not JSON/);
  });

  it('reports an edited field as hash_mismatch at that seq', () => {
    const { events } = sample();
    const list = jsonCopy(events) as unknown as Array<{ data: Record<string, unknown> }>;
    list[3]!.data.number = 99; // pr.created number
    expect(verifyChain(list)).toMatchObject({ ok: false, seq: 4, reason: 'hash_mismatch' });
  });

  it('reports an edited hash as hash_mismatch at that seq', () => {
    const { events } = sample();
    const list = jsonCopy(events);
    list[1]!.hash = '0'.repeat(64);
    expect(verifyChain(list)).toMatchObject({ ok: false, seq: 2, reason: 'hash_mismatch' });
  });

  it('catches the removal of a field that has a schema default', () => {
    const { events } = sample();
    const list = jsonCopy(events) as unknown as Array<{ data: Record<string, unknown> }>;
    delete list[0]!.data.manual; // still schema-valid (the default fills it in), but not what was hashed
    expect(verifyChain(list)).toMatchObject({ ok: false, seq: 1, reason: 'hash_mismatch' });
  });

  it('reports a forged event (edited and rehashed) as a broken link at the next seq', () => {
    const { events } = sample();
    const list = jsonCopy(events) as unknown as Record<string, unknown>[];
    list[2] = rehash({ ...list[2]!, ts: '2030-01-01T00:00:00.000Z' });
    expect(verifyChain(list)).toMatchObject({ ok: false, seq: 4, reason: 'broken_link' });
  });

  it('reports a rewritten prev as broken_link at that seq', () => {
    const { events } = sample();
    const list = jsonCopy(events) as unknown as Record<string, unknown>[];
    list[4] = rehash({ ...list[4]!, prev: events[1]!.hash });
    const r = verifyChain(list);
    expect(r).toMatchObject({ ok: false, seq: 5, reason: 'broken_link' });
    list[0] = rehash({ ...list[0]!, prev: 'a'.repeat(64) });
    expect(verifyChain(list)).toMatchObject({ ok: false, seq: 1, reason: 'broken_link' });
  });

  it('reports a deleted event as a gap at the missing seq', () => {
    const { events } = sample();
    const list = jsonCopy(events);
    list.splice(2, 1);
    const r = verifyChain(list);
    expect(r).toMatchObject({ ok: false, seq: 3, reason: 'gap' });
    if (!r.ok) expect(r.detail).toMatch(/seq 3 missing/);
    const two = jsonCopy(events);
    two.splice(1, 2);
    const r2 = verifyChain(two);
    expect(r2).toMatchObject({ ok: false, seq: 2, reason: 'gap' });
    if (!r2.ok) expect(r2.detail).toMatch(/seq 2\.\.3 missing/);
  });

  it('reports swapped events as a reorder at the first moved position', () => {
    const { events } = sample();
    const list = jsonCopy(events);
    [list[1], list[4]] = [list[4]!, list[1]!];
    expect(verifyChain(list)).toMatchObject({ ok: false, seq: 2, reason: 'reorder' });
    const adjacent = jsonCopy(events);
    [adjacent[3], adjacent[4]] = [adjacent[4]!, adjacent[3]!];
    expect(verifyChain(adjacent)).toMatchObject({ ok: false, seq: 4, reason: 'reorder' });
  });

  it('reports a seq that goes backwards as a reorder', () => {
    const { events } = sample();
    const list = jsonCopy(events) as unknown as Record<string, unknown>[];
    list[3] = rehash({ ...list[3]!, seq: 2 });
    expect(verifyChain(list)).toMatchObject({ ok: false, seq: 4, reason: 'reorder' });
  });

  it('reports a line written twice as duplicate_id', () => {
    const { events } = sample();
    const list = jsonCopy(events);
    list.splice(3, 0, jsonCopy(list[2]!));
    expect(verifyChain(list)).toMatchObject({ ok: false, seq: 4, reason: 'duplicate_id' });
  });

  it('reports an id reused by a properly chained event as duplicate_id', () => {
    const { b, events } = sample();
    const again = { ...b.reset(), id: events[0]!.id };
    const more = chainEvents({ seq: 6, hash: events[5]!.hash }, [again]);
    expect(verifyChain([...events, ...more])).toMatchObject({ ok: false, seq: 7, reason: 'duplicate_id' });
  });

  it('names only the first problem', () => {
    const { events } = sample();
    const list = jsonCopy(events) as unknown as Record<string, unknown>[];
    list[4]!.ts = '2030-01-01T00:00:00.000Z';
    list[1]!.ts = '2030-01-01T00:00:00.000Z';
    expect(verifyChain(list)).toMatchObject({ ok: false, seq: 2, reason: 'hash_mismatch' });
  });

  it('does not modify its input', () => {
    const { events } = sample();
    const list = jsonCopy(events);
    const before = jsonCopy(list);
    verifyChain(list);
    expect(list).toStrictEqual(before);
  });
});

describe('parseEventLines', () => {
  it('round-trips through toEventLines', () => {
    const { events } = sample();
    const text = toEventLines(events);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(events.length + 1);
    expect(parseEventLines(text)).toStrictEqual(events);
    expect(verifyChain(parseEventLines(text)).ok).toBe(true);
  });

  it('tolerates a missing trailing newline and CRLF line ends', () => {
    const { events } = sample();
    const text = toEventLines(events);
    expect(parseEventLines(text.trimEnd())).toStrictEqual(events);
    expect(parseEventLines(text.replaceAll('\n', '\r\n'))).toStrictEqual(events);
  });

  it('returns nothing for an empty file', () => {
    expect(parseEventLines('')).toEqual([]);
  });

  it('turns a blank or broken line into an UnparsedLine', () => {
    const out = parseEventLines('{"a":1}\n\n{oops\n');
    expect(out).toHaveLength(3);
    expect(out[0]).toEqual({ a: 1 });
    expect(out[1]).toBeInstanceOf(UnparsedLine);
    expect(out[2]).toMatchObject({ line: 3, text: '{oops' });
  });

  it('makes a blank line in the middle of a log fail verification', () => {
    const { events } = sample();
    const lines = toEventLines(events).split('\n');
    lines.splice(2, 0, '');
    expect(verifyChain(parseEventLines(lines.join('\n')))).toMatchObject({
      ok: false,
      seq: 3,
      reason: 'invalid',
    });
  });
});
