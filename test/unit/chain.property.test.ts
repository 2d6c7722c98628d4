import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { chainEvents, hashEvent, parseEventLines, toEventLines, verifyChain } from '../../src/core/chain.js';
import { draftsArbitrary, jsonCopy } from '../helpers/events.js';

const RUNS = { numRuns: 300 };

/** A chained log of at least `min` events. */
const chainArbitrary = (min: number) =>
  draftsArbitrary({ minLength: min, maxLength: 30 }).map((d) => chainEvents(null, d));

type Json = Record<string, unknown>;

function editHash(e: Json): void {
  const h = e.hash as string;
  e.hash = (h[0] === '0' ? '1' : '0') + h.slice(1);
}

/** Changes one field of an event to a different value (never the same value). */
const EDITS: Array<(e: Json) => void> = [
  (e) => {
    e.seq = (e.seq as number) + 1;
  },
  (e) => {
    e.seq = (e.seq as number) - 1;
  },
  (e) => {
    e.id = `${e.id}-x`;
  },
  (e) => {
    e.ts = new Date(Date.parse(e.ts as string) + 1).toISOString();
  },
  (e) => {
    e.type = e.type === 'config.invalid' ? 'breaker.reset' : 'config.invalid';
  },
  (e) => {
    e.task = e.task === undefined ? 'zeta' : `${e.task}x`;
  },
  (e) => {
    if (e.task === undefined) e.attempt = 'att-9';
    else delete e.task;
  },
  (e) => {
    e.actor = { kind: (e.actor as Json).kind === 'human' ? 'cli' : 'human' };
  },
  (e) => {
    e.prev = e.prev === null ? 'a'.repeat(64) : null;
  },
  editHash,
  (e) => {
    e.v = 2;
  },
  (e) => {
    const data = e.data as Json;
    const keys = Object.keys(data);
    const k = keys[0];
    if (k === undefined) data.extra = 1;
    else if (typeof data[k] === 'number') data[k] = (data[k] as number) + 1;
    else if (typeof data[k] === 'boolean') data[k] = !data[k];
    else if (Array.isArray(data[k])) data[k] = [...(data[k] as unknown[]), 'x'];
    else data[k] = `${data[k]}x`;
  },
  (e) => {
    (e.data as Json).unexpected = true;
  },
];

describe('chain properties', () => {
  it('a chained log verifies, also after NDJSON round trip and in two segments', () => {
    fc.assert(
      fc.property(chainArbitrary(0), fc.nat(), (events, cut) => {
        const r = verifyChain(parseEventLines(toEventLines(events)));
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(r.count).toBe(events.length);
          expect(r.events).toStrictEqual(events);
        }
        const k = events.length === 0 ? 0 : cut % events.length;
        const head = verifyChain(events.slice(0, k));
        expect(head.ok).toBe(true);
        if (head.ok) expect(verifyChain(events.slice(k), head.last).ok).toBe(true);
      }),
      RUNS,
    );
  });

  it('any swap of two events is caught at or before the first swapped position', () => {
    fc.assert(
      fc.property(chainArbitrary(2), fc.nat(), fc.nat(), (events, x, y) => {
        const i = x % events.length;
        let j = y % events.length;
        if (i === j) j = (j + 1) % events.length;
        const [lo, hi] = i < j ? [i, j] : [j, i];
        const list = jsonCopy(events);
        [list[lo], list[hi]] = [list[hi]!, list[lo]!];
        const r = verifyChain(list);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.seq).toBeLessThanOrEqual(lo + 1);
      }),
      RUNS,
    );
  });

  it('any deletion that is not the tail is caught at or before the deleted position', () => {
    // Dropping the newest event leaves a shorter valid chain: that is caught by the store comparing the tip
    // commit's recorded last hash, not by the chain itself.
    fc.assert(
      fc.property(chainArbitrary(2), fc.nat(), (events, x) => {
        const i = x % (events.length - 1);
        const list = jsonCopy(events);
        list.splice(i, 1);
        const r = verifyChain(list);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.seq).toBeLessThanOrEqual(i + 1);
      }),
      RUNS,
    );
  });

  it('any edit of one field of one event is caught at or before that event', () => {
    fc.assert(
      fc.property(chainArbitrary(1), fc.nat(), fc.nat(EDITS.length - 1), (events, x, which) => {
        const i = x % events.length;
        const list = jsonCopy(events) as unknown as Json[];
        const before = JSON.stringify(list[i]);
        EDITS[which]!(list[i]!);
        expect(JSON.stringify(list[i])).not.toBe(before);
        const r = verifyChain(list);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.seq).toBeLessThanOrEqual(i + 1);
      }),
      RUNS,
    );
  });

  it('an edited event with a recomputed hash is caught by the next link', () => {
    fc.assert(
      fc.property(chainArbitrary(2), fc.nat(), fc.nat(EDITS.length - 1), (events, x, which) => {
        fc.pre(EDITS[which] !== editHash); // rehashing would undo that edit
        const i = x % (events.length - 1);
        const list = jsonCopy(events) as unknown as Json[];
        EDITS[which]!(list[i]!);
        list[i]!.hash = hashEvent(list[i]!);
        const r = verifyChain(list);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.seq).toBeLessThanOrEqual(i + 2);
      }),
      RUNS,
    );
  });

  it('hashing does not depend on key order', () => {
    fc.assert(
      fc.property(chainArbitrary(1), (events) => {
        for (const e of events) {
          const shuffled = Object.fromEntries(Object.entries(e).reverse());
          expect(hashEvent(shuffled)).toBe(e.hash);
        }
      }),
      { numRuns: 100 },
    );
  });
});
