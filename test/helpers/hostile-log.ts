/**
 * Shared by the event-log attack tests (hostile-agents-log, hostile-log-rollback, hostile-names): the honest
 * loop in-process (sealed when given a key), the attack script run from a clone of its own, and the one-line
 * failure a closed tick or verify must print.
 */
import { resolve } from 'node:path';
import { expect } from '@jest/globals';
import { tick } from '../../src/scheduler/tick.js';
import { EventLog } from '../../src/store/event-log.js';
import { sealerFromSecret } from '../../src/store/log-seal.js';
import { runAttempt } from '../../src/worker/attempt.js';
import {
  type ChildResult,
  Clock,
  cloneTarget,
  runNode,
  type Target,
  tickOptions,
  workerDeps,
} from './loop.js';

export const LOG_ATTACK = resolve('test/fixtures/hostile/log-attack.mjs');
export const EVENTS_REF = 'refs/heads/leviathan-events';

/** A config with room for the histories the attacks need, naming the public key when there is one. */
export const logConfig = (publicKey = '') => `version: 1
limits:
  max_open_prs: 3
  max_attempts_per_task: 1
  circuit_breaker_failures: 5
  max_dispatches_per_hour: 50
${publicKey ? `events:\n  public_key: "${publicKey}"\n` : ''}`;

/** The honest side in-process on `target`: ticks and worker attempts at one clock, sealed with `secret`. */
export function honestLoop(target: Target, secret?: string) {
  const clock = new Clock('2026-12-01T10:00:00.000Z');
  const sealer = secret ? sealerFromSecret(secret) : null;
  const events = (dir: string) => new EventLog({ dir, sealer });
  return {
    clock,
    tick: () => tick(tickOptions(target.dir, clock.now, { events: events(target.dir) })),
    async work(task: string, attempt: string) {
      const deps = await workerDeps(target, clock.now);
      return runAttempt({ ...deps, events: events(deps.dir) }, task, attempt);
    },
  };
}

/** Runs the attack script (`mode`, then its arguments) in a clone of its own, without the signing key. */
export async function logAttack(target: Target, mode: string, ...args: string[]): Promise<void> {
  const clone = await cloneTarget(target, 'attacker');
  const r = await runNode([LOG_ATTACK, mode, clone, ...args], { env: { LEVIATHAN_SIGNING_KEY: undefined } });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

/** The lines of a CLI's stderr that are not progress lines. */
export const failureLines = (stderr: string) =>
  stderr
    .trim()
    .split('\n')
    .filter((l) => l !== '' && !/^\[\d\d:\d\d:\d\d\] /.test(l));

/** Exit 1 with one line (returned) that matches `reason`, and no stack trace. */
export function expectOneLineFailure(r: ChildResult, reason: RegExp): string {
  expect(r.code).toBe(1);
  const lines = failureLines(r.stderr);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(reason);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0] as string;
}

/** `verify --json` through `cli`: its exit code and the result object. */
export async function verifyJson(cli: (args: string[]) => Promise<ChildResult>) {
  const r = await cli(['verify', '--json']);
  return { code: r.code, result: JSON.parse(r.stdout.trim().split('\n')[0] as string) };
}
