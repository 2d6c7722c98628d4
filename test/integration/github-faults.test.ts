/**
 * Each fault the emulator can inject, at each GitHub call of a tick: retried where GitHub advises it (5xx,
 * rate limits with their waits, timeouts and dropped connections on reads), else the tick fails closed with
 * one line; a dispatch is never sent twice (a lost answer is recorded `unconfirmed`); no event lost or
 * duplicated (the chain verifies, seq gapless).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { UserError } from '../../src/core/errors.js';
import { tick } from '../../src/scheduler/tick.js';
import { FAULT_KINDS, type Fault } from '../harness/github/faults.js';
import { type GitHubBed, githubBed, githubTickOptions } from '../helpers/github.js';
import { eventsOf, ofType } from '../helpers/loop.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  max_attempts_per_task: 100
  circuit_breaker_failures: 100
  max_dispatches_per_hour: 100
  attempt_timeout_minutes: 1
`;
const BACKLOG = `version: 1
tasks:
  - id: chaos
    title: Survive the faults
    ready: true
    allowed_paths: [docs/chaos.md]
    run: ["echo chaos > docs/chaos.md"]
`;

let bed: GitHubBed;
beforeAll(async () => {
  bed = await githubBed('faults', { config: CONFIG, backlog: BACKLOG });
});
afterAll(() => bed?.stop());
afterEach(() => expect(bed.emu.violations).toEqual([]));

const retriedOnReads = (f: Fault) => f.kind !== 401;
const name = (f: Fault) => String(f.kind);

describe.each(['repos/get', 'pulls/list'])('a fault on %s', (operation) => {
  it.each(FAULT_KINDS.map((f) => [name(f), f] as const))('%s', async (_label, fault) => {
    bed.clock.minutes(10);
    const before = (await eventsOf(bed.target.dir)).length;
    bed.emu.resetCounts();
    bed.emu.fail(operation, fault);
    // A fresh forge each time: the default branch is cached per forge.
    const run = tick(githubTickOptions(bed));
    if (retriedOnReads(fault)) {
      const report = await run;
      expect(report.outcome).toBe('dispatched');
      expect(bed.emu.calls(operation)).toBe(2);
    } else {
      const error = await run.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message.split('\n')).toHaveLength(1);
      expect((error as Error).message).toMatch(/401/);
      expect(bed.emu.calls('actions/create-workflow-dispatch')).toBe(0);
      expect((await eventsOf(bed.target.dir)).length).toBe(before);
    }
  });
});

describe('a fault on the dispatch', () => {
  it.each(FAULT_KINDS.map((f) => [name(f), f] as const))('%s', async (_label, fault) => {
    bed.clock.minutes(10);
    const runs = bed.emu.runs.length;
    bed.emu.resetCounts();
    bed.emu.fail('actions/create-workflow-dispatch', fault);
    const report = await tick(githubTickOptions(bed));
    const kind = fault.kind;
    const throttled = kind === 'secondary' || kind === 429 || kind === 'primary';
    const lost = kind === 500 || kind === 502 || kind === 503 || kind === 'slow' || kind === 'drop';
    // Never sent twice except after a rate limit, which GitHub answers before doing anything.
    expect(bed.emu.calls('actions/create-workflow-dispatch')).toBe(throttled ? 2 : 1);
    const performed = bed.emu.runs.length - runs;
    expect(performed).toBe(kind === 401 || (typeof kind === 'number' && kind >= 500) ? 0 : 1);
    if (kind === 401) {
      expect(report.outcome).toBe('dispatch_failed');
      const failed = ofType(report.appended, 'attempt.failed')[0]!;
      expect(failed.data).toMatchObject({ reason: 'dispatch_error' });
      expect((failed.data as { detail: string }).detail).toMatch(/^GitHub rejected the token[^\n]*$/);
    } else {
      expect(report.outcome).toBe('dispatched');
      const data = ofType(report.appended, 'attempt.dispatched')[0]!.data;
      if (lost) expect(data).toEqual({ forge: 'github', unconfirmed: true });
      else expect(data).toMatchObject({ forge: 'github', run_id: String(bed.emu.runs.at(-1)!.id) });
    }
  });

  it('left a chain that verifies, with gapless seq and one attempt.created per dispatch call', async () => {
    const events = await eventsOf(bed.target.dir);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const created = ofType(events, 'attempt.created').length;
    expect(ofType(events, 'attempt.dispatched').length + ofType(events, 'attempt.failed').length).toBe(
      created,
    );
  });
});
