/**
 * `checkLog` reads state.json only after the events are verified, and not at all when it is byte for byte
 * the replay's. Its verdicts on a snapshot — exact, stale, re-serialised, edited, beyond the log, not a state,
 * missing — are held here to a reference that parses state.json first and records the hash at its seq while
 * walking the events (how `checkLog` worked before).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { canonicalJson, chainEvents } from '../../src/core/chain.js';
import type { LeviathanEvent } from '../../src/core/events.js';
import { project } from '../../src/core/state.js';
import type { State } from '../../src/core/state-types.js';
import { checkLog } from '../../src/store/log-check.js';
import { serializeState } from '../../src/store/log-format.js';
import { draftsArbitrary } from '../helpers/events.js';

interface Problem {
  seq: number;
  reason: string;
  detail: string;
}

/** The snapshot verdict as `checkLog` gave it when it parsed state.json up front (v3 snapshots). */
function reference(events: LeviathanEvent[], stateText: string | null) {
  let snapshot: State | null = null;
  let snapshotError: string | null = null;
  if (stateText !== null) {
    try {
      snapshot = JSON.parse(stateText) as State;
      if (typeof snapshot?.seq !== 'number') throw new Error('no seq');
    } catch (error) {
      snapshot = null;
      snapshotError = `state.json is not a state: ${(error as Error).message}`;
    }
  }
  const state = project(events);
  const lastSeq = events.length > 0 ? (events[events.length - 1] as LeviathanEvent).seq : 0;
  let hashAtSnapshot: string | null = null;
  for (const e of events) if (snapshot && e.seq === snapshot.seq) hashAtSnapshot = e.hash;
  let fatal: Problem | null = null;
  let snapshotProblem: Problem | null = null;
  if (snapshot) {
    if (snapshot.seq > lastSeq) {
      fatal = {
        seq: lastSeq + 1,
        reason: 'truncated',
        detail: `state.json covers seq ${snapshot.seq} but the files end at seq ${lastSeq}: events were removed`,
      };
    } else if (snapshot.seq > 0 && snapshot.hash !== hashAtSnapshot) {
      fatal = {
        seq: snapshot.seq,
        reason: 'snapshot_mismatch',
        detail: `state.json records hash ${String(snapshot.hash).slice(0, 12)} at seq ${snapshot.seq}, the chain has ${String(hashAtSnapshot).slice(0, 12)}: events were rewritten or state.json edited`,
      };
    } else if (stateText !== serializeState(state) && canonicalJson(snapshot) !== canonicalJson(state)) {
      snapshotProblem = {
        seq: snapshot.seq === lastSeq ? lastSeq : snapshot.seq + 1,
        reason: 'snapshot_mismatch',
        detail:
          snapshot.seq === lastSeq
            ? `state.json differs from the replay of seq 1..${lastSeq}`
            : `state.json is at seq ${snapshot.seq}, the log at seq ${lastSeq}`,
      };
    }
  } else if (lastSeq > 0) {
    snapshotProblem = {
      seq: lastSeq,
      reason: 'snapshot_mismatch',
      detail: snapshotError ?? 'state.json is missing',
    };
  }
  return { fatal, snapshotProblem };
}

/** Day files as Leviathan writes them. */
function dayFiles(events: readonly LeviathanEvent[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const e of events) {
    const path = `events/${e.ts.slice(0, 10)}.ndjson`;
    files.set(path, `${files.get(path) ?? ''}${JSON.stringify(e)}\n`);
  }
  return files;
}

const VARIANTS = [
  'exact',
  'stale',
  'reserialised',
  'keys-reordered',
  'hash-edited',
  'hash-of-other-seq',
  'content-edited',
  'beyond',
  'seq-fraction',
  'seq-zero',
  'seq-twice',
  'no-seq',
  'not-json',
  'missing',
] as const;

function stateTextFor(
  events: LeviathanEvent[],
  variant: (typeof VARIANTS)[number],
  k: number,
): string | null {
  const state = project(events);
  const text = serializeState(state);
  const edited = (edit: (s: Record<string, unknown>) => void) => {
    const s = JSON.parse(text) as Record<string, unknown>;
    edit(s);
    return serializeState(s as unknown as State);
  };
  const at = events.length === 0 ? 0 : k % events.length;
  switch (variant) {
    case 'exact':
      return text;
    case 'stale':
      return serializeState(project(events.slice(0, at)));
    case 'reserialised':
      return JSON.stringify(state, null, 1);
    case 'keys-reordered':
      return JSON.stringify(Object.fromEntries(Object.entries(state).reverse()));
    case 'hash-edited':
      return edited((s) => {
        s.hash = 'f'.repeat(64);
      });
    case 'hash-of-other-seq':
      return edited((s) => {
        s.hash = events[at]?.hash ?? null;
      });
    case 'content-edited':
      return edited((s) => {
        (s.breaker as { open: boolean }).open = !(s.breaker as { open: boolean }).open;
      });
    case 'beyond':
      return edited((s) => {
        s.seq = (s.seq as number) + 1 + at;
      });
    case 'seq-fraction':
      return edited((s) => {
        s.seq = (s.seq as number) - 0.5;
      });
    case 'seq-zero':
      return edited((s) => {
        s.seq = 0;
      });
    case 'seq-twice':
      return text.replace('"seq":', `"seq":${at + 1},"seq":`);
    case 'no-seq':
      return edited((s) => {
        delete s.seq;
      });
    case 'not-json':
      return `${text.slice(0, -3)}`;
    case 'missing':
      return null;
  }
}

describe('checkLog and state.json', () => {
  it('reports exactly what parsing state.json first and recording the hash at its seq reported', () => {
    fc.assert(
      fc.property(
        draftsArbitrary({ maxLength: 25 }),
        fc.constantFrom(...VARIANTS),
        fc.nat(),
        fc.boolean(),
        (drafts, variant, k, keepEvents) => {
          const events = chainEvents(null, drafts);
          const stateText = stateTextFor(events, variant, k);
          const actual = checkLog({ files: dayFiles(events), stateText, keepEvents });
          expect(actual.ok).toBe(true);
          if (!actual.ok) return;
          expect({ fatal: actual.fatal, snapshotProblem: actual.snapshotProblem }).toEqual(
            reference(events, stateText),
          );
          expect(actual.state).toStrictEqual(project(events));
        },
      ),
      { numRuns: 600 },
    );
  });

  it('finds the hash at a stale snapshot’s seq in any day file, on the line that holds it', () => {
    const drafts = fc.sample(draftsArbitrary({ minLength: 20, maxLength: 30 }), { numRuns: 1, seed: 7 })[0];
    const events = chainEvents(null, drafts ?? []);
    const files = dayFiles(events);
    for (let seq = 1; seq <= events.length; seq++) {
      const stale = serializeState(project(events.slice(0, seq)));
      const r = checkLog({ files, stateText: stale });
      expect(r).toMatchObject({ ok: true, fatal: null });
      // The same snapshot with another event's hash is caught as rewritten, whichever seq it names.
      const other = (events[seq % events.length] as LeviathanEvent).hash;
      const lying = stale.replace(/"hash":"[0-9a-f]{64}"/, `"hash":"${other}"`);
      if (lying !== stale && seq !== events.length) {
        expect(checkLog({ files, stateText: lying })).toMatchObject({
          ok: true,
          fatal: { seq, reason: 'snapshot_mismatch' },
        });
      }
    }
  });
});
