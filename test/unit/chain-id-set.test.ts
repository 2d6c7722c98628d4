import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { IdSet, idHash } from '../../src/core/id-set.js';

describe('IdSet', () => {
  it('answers as a Set does, through growth', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 4 }), { maxLength: 3000 }), fc.nat(64), (ids, capacity) => {
        const set = new IdSet(capacity);
        const reference = new Set<string>();
        for (const id of ids) {
          expect(set.has(id)).toBe(reference.has(id));
          const added = !reference.has(id);
          reference.add(id);
          expect(set.add(id)).toBe(added);
          expect(set.size).toBe(reference.size);
        }
        for (const id of ids) expect(set.has(id)).toBe(true);
        expect(set.has('not among them, too long')).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps ids of any code units (long, non-ASCII, lone surrogates) exactly, through growth of its store', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 800 }),
        fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 50 }),
        (ids, others) => {
          const set = new IdSet(1);
          const reference = new Set<string>();
          for (const id of ids) {
            expect(set.add(id)).toBe(!reference.has(id));
            reference.add(id);
          }
          for (const id of [...ids, ...others]) expect(set.has(id)).toBe(reference.has(id));
          // A prefix or an extension of a kept id is another id.
          for (const id of ids) {
            expect(set.has(`${id}x`)).toBe(reference.has(`${id}x`));
            expect(set.has(id.slice(0, -1))).toBe(reference.has(id.slice(0, -1)));
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('tells apart different ids whose hashes are equal', () => {
    // Found by a birthday search over `01J${i.toString(36)}`.
    const pair: [string, string] = ['01J11pvu', '01J1g3ea'];
    const [a, b] = pair;
    expect(idHash(a)).toBe(idHash(b));
    const set = new IdSet(4);
    expect(set.add(a)).toBe(true);
    expect(set.has(b)).toBe(false);
    expect(set.add(b)).toBe(true);
    expect(set.add(a)).toBe(false);
    expect(set.add(b)).toBe(false);
    for (let i = 0; i < 100; i++) set.add(`x${i}`);
    expect(set.has(a) && set.has(b)).toBe(true);
    expect(set.size).toBe(102);
  });
});
