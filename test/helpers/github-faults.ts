/**
 * What the fault tables of the GitHub forge share (test/integration/github-*-faults.test.ts): the rows (one
 * per fault of `FAULT_KINDS`), what GitHub advises for each, and the check that the event log lost and
 * duplicated nothing.
 */
import { expect } from '@jest/globals';
import { FAULT_KINDS, type Fault, faultName } from '../harness/github/faults.js';
import { eventsOf, ofType } from './loop.js';

/** The one task both tables work on (the fault tables use a single bed each). */
export const CHAOS_BACKLOG = `version: 1
tasks:
  - id: chaos
    title: Survive the faults
    ready: true
    allowed_paths: [docs/chaos.md]
    run: ["echo chaos > docs/chaos.md"]
`;

/** `[name, fault]` rows for `it.each`. */
export const FAULT_ROWS = FAULT_KINDS.map((f) => [faultName(f), f] as const);

/** GitHub advises retrying everything the emulator injects but a rejected token. */
export function retried(fault: Fault): boolean {
  return fault.kind !== 401;
}

/** The request was performed but its answer never arrived (a retry must not do it again blindly). */
export function lostAfterApplied(fault: Fault): boolean {
  return fault.kind === 'slow' || fault.kind === 'drop';
}

/** A reason recorded or thrown: exactly one line, naming the rejected token. */
export function expectTokenRejected(reason: string): void {
  expect(reason.split('\n')).toHaveLength(1);
  expect(reason).toMatch(/rejected the token[^\n]*401/);
}

/**
 * The log after a table: the chain verifies (`eventsOf` throws otherwise), seq is gapless, no event twice,
 * every attempt created ended at most once (all but `open` of them exactly once) and started at most once.
 */
export async function expectLogIntact(dir: string, open = 0): Promise<void> {
  const events = await eventsOf(dir);
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  const ends = new Map<string, number>();
  const starts = new Map<string, number>();
  for (const e of events) {
    if (!e.attempt) continue;
    if (e.type === 'attempt.started') starts.set(e.attempt, (starts.get(e.attempt) ?? 0) + 1);
    if (['attempt.succeeded', 'attempt.failed', 'attempt.timed_out'].includes(e.type))
      ends.set(e.attempt, (ends.get(e.attempt) ?? 0) + 1);
  }
  const created = ofType(events, 'attempt.created').map((e) => e.attempt!);
  expect(created.length).toBeGreaterThan(0);
  for (const id of created) {
    expect(ends.get(id) ?? 0).toBeLessThanOrEqual(1);
    expect(starts.get(id) ?? 0).toBeLessThanOrEqual(1);
  }
  expect(created.filter((id) => !ends.has(id))).toHaveLength(open);
}
