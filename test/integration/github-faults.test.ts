/**
 * Each fault the emulator can inject, at each GitHub call of a tick (the default branch, the pulls, the run
 * of an attempt past its grace, the dispatch): retried where GitHub advises it (5xx, rate limits with their
 * waits, timeouts and dropped connections on reads), else the tick fails closed with one line; a dispatch is
 * never sent twice (a lost answer is recorded `unconfirmed`); no event lost or duplicated (the chain
 * verifies, seq gapless). The worker's calls: github-worker-faults.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { UserError } from '../../src/core/errors.js';
import { type TickReport, tick } from '../../src/scheduler/tick.js';
import { FAST_CLIENT, type GitHubBed, githubBed, githubTickOptions } from '../helpers/github.js';
import {
  CHAOS_BACKLOG,
  expectLogIntact,
  expectTokenRejected,
  FAULT_ROWS,
  retried,
} from '../helpers/github-faults.js';
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

let bed: GitHubBed;
beforeAll(async () => {
  bed = await githubBed('faults', { config: CONFIG, backlog: CHAOS_BACKLOG });
});
afterAll(() => bed?.stop());
afterEach(() => expect(bed.emu.violations).toEqual([]));

/** A tick that failed closed: one line naming the token, nothing dispatched, nothing written. */
async function expectRefused(ticked: Promise<TickReport>, eventsBefore: number): Promise<void> {
  const error = await ticked.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  expectTokenRejected((error as Error).message);
  expect(bed.emu.calls('actions/create-workflow-dispatch')).toBe(0);
  expect((await eventsOf(bed.target.dir)).length).toBe(eventsBefore);
}

/** A tick whose forge gives up on an answer after 1 s (the slow fault holds it for 3). */
const fastTick = () =>
  githubTickOptions(bed, { forge: bed.forge({ client: { ...FAST_CLIENT, timeoutMs: 1000 } }) });

describe.each(['repos/get', 'pulls/list'])('a fault on %s', (operation) => {
  it.each(FAULT_ROWS)('%s', async (_label, fault) => {
    bed.clock.minutes(10);
    // The log's length is only checked after a refusal (reading it costs a fetch).
    const before = retried(fault) ? 0 : (await eventsOf(bed.target.dir)).length;
    bed.emu.resetCounts();
    bed.emu.fail(operation, fault);
    // A fresh forge each time: the default branch is cached per forge.
    const run = tick(fastTick());
    if (retried(fault)) {
      const report = await run;
      expect(report.outcome).toBe('dispatched');
      expect(bed.emu.calls(operation)).toBe(2);
    } else {
      await expectRefused(run, before);
    }
  });
});

describe('a fault on the dispatch', () => {
  it.each(FAULT_ROWS)('%s', async (_label, fault) => {
    bed.clock.minutes(10);
    const runs = bed.emu.runs.length;
    bed.emu.resetCounts();
    bed.emu.fail('actions/create-workflow-dispatch', fault);
    const report = await tick(fastTick());
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
});

describe('a fault on the run lookup of an attempt past its grace', () => {
  /** The attempt in flight with a recorded run (each retried row's tick dispatches the next one). */
  let inFlight: { attempt: string; run: string } | null = null;
  const dispatched = (report: TickReport) => {
    const sent = ofType(report.appended, 'attempt.dispatched')[0];
    const run = (sent?.data as { run_id?: string } | undefined)?.run_id;
    return sent && run ? { attempt: sent.attempt!, run } : null;
  };

  it.each(FAULT_ROWS)('%s', async (_label, fault) => {
    if (!inFlight) {
      bed.clock.minutes(10);
      inFlight = dispatched(await tick(githubTickOptions(bed)));
    }
    const { attempt, run } = inFlight!;
    // The worker run was cancelled without a word; the attempt's deadline has not passed its grace.
    bed.emu.completeRun(Number(run), 'cancelled');
    bed.clock.minutes(3);
    const before = retried(fault) ? 0 : (await eventsOf(bed.target.dir)).length;
    bed.emu.resetCounts();
    bed.emu.fail('actions/get-workflow-run', fault);
    const ticked = tick(fastTick());
    if (retried(fault)) {
      const report = await ticked;
      expect(bed.emu.calls('actions/get-workflow-run')).toBe(2);
      const ended = ofType(report.appended, 'attempt.timed_out');
      expect(ended.map((e) => [e.attempt, e.data])).toEqual([
        [attempt, expect.objectContaining({ conclusion: 'cancelled' })],
      ]);
      inFlight = dispatched(report);
    } else {
      await expectRefused(ticked, before);
    }
  });
});

it('left a chain that verifies, seq gapless, one end per attempt (the last one still in flight)', async () => {
  await expectLogIntact(bed.target.dir, 1);
  const events = await eventsOf(bed.target.dir);
  const created = ofType(events, 'attempt.created').length;
  expect(ofType(events, 'attempt.dispatched').length + ofType(events, 'attempt.failed').length).toBe(created);
});
