import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ChainVerifier, chainEvents, sealEvent, splitEventLines } from '../../src/core/chain.js';
import { IdDigests } from '../../src/core/id-digests.js';
import { checkLog } from '../../src/store/log-check.js';
import { EventBuilder, jsonCopy } from '../helpers/events.js';

type Json = Record<string, unknown>;

describe('IdDigests', () => {
  it('says distinct exactly when a Set has every id once (ids of any code units)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { maxLength: 3000 }), (ids) => {
        const digests = new IdDigests();
        for (const id of ids) digests.add(id);
        expect(digests.size).toBe(ids.length);
        expect(digests.distinct()).toBe(new Set(ids).size === ids.length);
      }),
      { numRuns: 200 },
    );
  });

  it('finds one duplicate among many ids, wherever it is (through growth and every radix pass)', () => {
    const ids = Array.from({ length: 50_000 }, (_, i) => `ev-${i}`);
    const digests = new IdDigests();
    for (const id of ids) digests.add(id);
    expect(digests.distinct()).toBe(true);
    for (const at of [0, 777, 49_999]) {
      const again = new IdDigests();
      for (const id of ids) again.add(id);
      again.add(ids[at] as string);
      expect(again.distinct()).toBe(false);
    }
  });
});

describe('ChainVerifier with deferIds', () => {
  const b = new EventBuilder();
  const events = b.chain([b.reset(), b.reset(), b.reset()]);
  const lines = events.map((e) => JSON.stringify(e));

  it('accepts a clean chain as the exact verifier does, and the pass stands', () => {
    const v = new ChainVerifier(null, { deferIds: true });
    const r = v.lines(lines);
    expect(r).toEqual(new ChainVerifier().lines(lines));
    expect(v.stopped).toBe(false);
    expect(v.settled()).toBe(true);
  });

  it('does not stand when an id comes back in a later segment (the exact verifier notes it)', () => {
    const [one, two, three] = events;
    const again = sealEvent({ ...jsonCopy(three!), id: one!.id, hash: undefined } as unknown as Json);
    const v = new ChainVerifier(null, { deferIds: true });
    v.lines([JSON.stringify(one), JSON.stringify(two)]);
    expect(v.settled()).toBe(true);
    expect(v.lines([JSON.stringify(again)]).reused).toBe(-1);
    expect(v.settled()).toBe(false);
  });

  it('stops at the first line off the fast path, and yields nothing after it', () => {
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(jsonCopy(events[1]!)).reverse()));
    const v = new ChainVerifier(null, { deferIds: true });
    const r = v.lines([lines[0] as string, reordered, lines[2] as string]);
    expect(r).toEqual({ events: [events[0]], failure: null, reused: -1 });
    expect(v.stopped).toBe(true);
    expect(v.settled()).toBe(false);
    expect(v.lines([lines[2] as string]).events).toEqual([]);
    // The exact verifier accepts the same lines (a reordered line is the same event).
    expect(
      new ChainVerifier().lines([lines[0] as string, reordered, lines[2] as string]).events,
    ).toHaveLength(3);
  });
});

describe('ChainVerifier.text in deferred mode', () => {
  const b = new EventBuilder();
  const events = b.chain([b.reset(), b.reset(), b.reset()]);
  const [l1, l2, l3] = events.map((e) => JSON.stringify(e)) as [string, string, string];
  /** What the deferred pass over the lines gives, and whether it stopped: the reference for `text`. */
  const viaLines = (ndjson: string) => {
    const v = new ChainVerifier(null, { deferIds: true });
    return { r: v.lines(splitEventLines(ndjson)), stopped: v.stopped };
  };

  it.each([
    ['an empty text', ''],
    ['one trailing newline', `${l1}\n${l2}\n${l3}\n`],
    ['no trailing newline', `${l1}\n${l2}\n${l3}`],
    ['a blank last line', `${l1}\n${l2}\n\n`],
    ['a blank line inside', `${l1}\n\n${l2}\n`],
    ['only a newline', '\n'],
    ['a CRLF line end', `${l1}\r\n${l2}\n`],
    ['a line of another shape', `${l1}\n{"seq":2}\n${l3}\n`],
  ])('reads %s in place as lines(splitEventLines(text)) does', (_name, ndjson) => {
    const v = new ChainVerifier(null, { deferIds: true });
    const r = v.text(ndjson);
    const ref = viaLines(ndjson);
    expect(r).toEqual(ref.r);
    expect(v.stopped).toBe(ref.stopped);
  });

  it('accepts every event of a clean text and continues across texts', () => {
    const v = new ChainVerifier(null, { deferIds: true });
    expect(v.text(`${l1}\n${l2}\n`).events).toEqual(events.slice(0, 2));
    expect(v.text(`${l3}\n`).events).toEqual(events.slice(2));
    expect(v.settled()).toBe(true);
  });
});

describe('checkLog after a deferred pass that does not stand', () => {
  it('reports an id reused in a later day file, from the exact check', () => {
    const b = new EventBuilder();
    const [one, two] = chainEvents(null, [b.reset(), b.reset()]);
    const body = { ...jsonCopy(two!), id: one!.id, hash: undefined } as unknown as Json;
    const reused = sealEvent(body);
    const files = new Map([
      [`events/${one!.ts.slice(0, 10)}.ndjson`, `${JSON.stringify(one)}\n`],
      ['events/2999-01-01.ndjson', `${JSON.stringify(reused)}\n`],
    ]);
    expect(checkLog({ files, stateText: null })).toEqual({
      ok: false,
      seq: 2,
      reason: 'duplicate_id',
      detail: `event id ${one!.id} is used twice`,
    });
  });
});
