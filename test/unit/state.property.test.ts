import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { chainEvents } from '../../src/core/chain.js';
import {
  applyEvent,
  DISPATCH_WINDOW_HOURS,
  hourKey,
  initialState,
  openAttempts,
  project,
} from '../../src/core/state.js';
import { draftsArbitrary, jsonCopy } from '../helpers/events.js';

const RUNS = { numRuns: 300 };
const logArbitrary = draftsArbitrary({ maxLength: 60 }).map((d) => chainEvents(null, d));

describe('projection properties', () => {
  it('replaying the same events twice gives deep-equal states', () => {
    fc.assert(
      fc.property(logArbitrary, (events) => {
        const a = project(events);
        const b = project(jsonCopy(events));
        expect(a).toStrictEqual(b);
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      }),
      RUNS,
    );
  });

  it('the state survives a JSON round trip unchanged', () => {
    fc.assert(
      fc.property(logArbitrary, (events) => {
        const s = project(events);
        expect(jsonCopy(s)).toStrictEqual(s);
      }),
      RUNS,
    );
  });

  it('snapshot then replay equals a full replay, wherever the snapshot is taken', () => {
    fc.assert(
      fc.property(logArbitrary, fc.nat(), (events, cut) => {
        const k = events.length === 0 ? 0 : cut % (events.length + 1);
        const snapshot = jsonCopy(project(events.slice(0, k)));
        expect(project(events.slice(k), snapshot)).toStrictEqual(project(events));
      }),
      RUNS,
    );
  });

  it('applyEvent step by step equals project and never mutates its input', () => {
    fc.assert(
      fc.property(logArbitrary, (events) => {
        let s = initialState();
        for (const e of events) {
          const before = JSON.stringify(s);
          const next = applyEvent(s, e);
          expect(JSON.stringify(s)).toBe(before);
          s = next;
        }
        expect(s).toStrictEqual(project(events));
      }),
      { numRuns: 150 },
    );
  });

  it('keeps its invariants', () => {
    fc.assert(
      fc.property(logArbitrary, (events) => {
        const s = project(events);
        const last = events[events.length - 1];
        expect(s.seq).toBe(last?.seq ?? 0);
        expect(s.hash).toBe(last?.hash ?? null);
        let failures = 0;
        for (const [id, t] of Object.entries(s.tasks)) {
          expect(t.id).toBe(id);
          expect(new Set(t.attempts).size).toBe(t.attempts.length);
          for (const a of t.attempts) expect(s.attempts[a]?.task).toBe(id);
          failures += t.failures;
        }
        // Every attempt belongs to exactly one task list.
        const listed = Object.values(s.tasks).flatMap((t) => t.attempts);
        expect(listed.sort()).toEqual(Object.keys(s.attempts).sort());
        expect(s.breaker.consecutive_failures).toBeLessThanOrEqual(failures);
        expect(s.breaker.open).toBe(s.breaker.tripped_at !== undefined);
        for (const a of openAttempts(s)) expect(['created', 'dispatched', 'running']).toContain(a.status);
        if (s.ts !== null) {
          const oldest = hourKey(new Date(Date.parse(s.ts) - DISPATCH_WINDOW_HOURS * 3_600_000));
          for (const [key, n] of Object.entries(s.dispatches)) {
            expect(key >= oldest).toBe(true);
            expect(n).toBeGreaterThan(0);
          }
        }
      }),
      RUNS,
    );
  });
});
