/**
 * One whole attempt as the loop runs it, for tests of what an attempt does: a tick that must dispatch, then
 * the worker in its own clone with extra environment, its live output kept. `dispatchAndRun` stops before
 * the delivery, for tests that race it.
 */
import { expect } from '@jest/globals';
import { tick } from '../../src/scheduler/tick.js';
import { executeAttempt, runAttempt, startAttempt } from '../../src/worker/attempt.js';
import { Clock, eventsOf, type Target, tickOptions, workerDeps } from './loop.js';

export interface AttemptRunOptions {
  /** Added to the worker's environment (a secret, `LEVIATHAN_SANDBOX_SHOW`, a PATH without bwrap, …). */
  env?: Record<string, string>;
  clock?: Clock;
}

export async function dispatchAndWork(target: Target, options: AttemptRunOptions = {}) {
  const clock = options.clock ?? new Clock('2026-11-26T10:00:00.000Z');
  const report = await tick(tickOptions(target.dir, clock.now));
  expect(report.outcome).toBe('dispatched');
  const deps = await workerDeps(target, clock.now);
  const live: string[] = [];
  const result = await runAttempt(
    { ...deps, env: { ...deps.env, ...options.env }, onOutput: (chunk) => live.push(chunk) },
    report.task as string,
    report.attempt as string,
  );
  return { report, deps, result, live: live.join(''), events: await eventsOf(target.dir) };
}

/** A tick that must dispatch, then the attempt started and its commands run in a worker clone; not delivered. */
export async function dispatchAndRun(target: Target, clock: Clock) {
  const report = await tick(tickOptions(target.dir, clock.now));
  expect(report.outcome).toBe('dispatched');
  const deps = await workerDeps(target, clock.now);
  const ctx = await startAttempt(deps, report.task as string, report.attempt as string);
  const executed = await executeAttempt(deps, ctx);
  return { deps, ctx, executed };
}
