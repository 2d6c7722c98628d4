/**
 * Issue 7 §2, time: one deadline bounds the agent and Leviathan's own work after it, and the worker's terminal
 * events and the scheduler's `attempt.timed_out` carry preconditions so that exactly one counts. A result that
 * comes too late is recorded as such and never opens a PR.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { tick } from '../../src/scheduler/tick.js';
import { executeAttempt, finishAttempt, startAttempt } from '../../src/worker/attempt.js';
import { GitServer } from '../harness/git-server.js';
import { removeDir } from '../harness/repo.js';
import {
  Clock,
  eventsOf,
  ofType,
  originRefs,
  pullsOf,
  seedTarget,
  type Target,
  tickOptions,
  workerDeps,
} from '../helpers/loop.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  attempt_timeout_minutes: 1
  max_attempts_per_task: 3
  circuit_breaker_failures: 10
`;
const BACKLOG = `version: 1
tasks:
  - id: slow
    title: A page delivered too late
    ready: true
    allowed_paths: [docs/slow.md]
    run: ["echo slow > docs/slow.md"]
`;

let server: GitServer;
let target: Target;
const clock = new Clock('2026-11-26T10:00:00.000Z');

beforeAll(async () => {
  server = await GitServer.start();
  target = await seedTarget(server, 'late', { config: CONFIG, backlog: BACKLOG });
});

afterAll(async () => {
  await server?.stop();
  if (target) await removeDir(target.root);
});

async function startSlow() {
  clock.minutes(1);
  const report = await tick(tickOptions(target.dir, clock.now));
  expect(report).toMatchObject({ outcome: 'dispatched', task: 'slow' });
  const deps = await workerDeps(target, clock.now);
  const ctx = await startAttempt(deps, 'slow', report.attempt!);
  return { deps, ctx, executed: await executeAttempt(deps, ctx) };
}

it('past the deadline, Leviathan delivers nothing: attempt.failed timeout, no push of the PR branch, no PR', async () => {
  const { deps, ctx, executed } = await startSlow();
  expect(executed.status).toBe('ok');
  clock.minutes(2); // the agent was done in time; Leviathan's own work is not
  const outcome = await finishAttempt(deps, ctx, executed);
  expect(outcome).toMatchObject({ status: 'failed', reason: 'timeout' });
  const failed = ofType(await eventsOf(target.dir), 'attempt.failed', 'slow');
  expect(failed.map((e) => e.attempt)).toEqual([ctx.attempt]);
  expect((await originRefs(target)).has('refs/heads/leviathan/slow')).toBe(false);
  expect(await pullsOf(target.dir)).toEqual([]);
});

it('a result finished after the scheduler timed the attempt out is recorded as late, no PR', async () => {
  const { deps, ctx, executed } = await startSlow();
  clock.minutes(10); // beyond deadline + grace: the scheduler times it out
  await tick(tickOptions(target.dir, clock.now));
  expect(ofType(await eventsOf(target.dir), 'attempt.timed_out').map((e) => e.attempt)).toEqual([
    ctx.attempt,
  ]);

  const outcome = await finishAttempt(deps, ctx, executed);
  expect(outcome).toMatchObject({
    status: 'failed',
    reason: 'timeout',
    detail: expect.stringMatching(/^late result/),
  });
  const events = await eventsOf(target.dir);
  const mine = events.filter((e) => e.attempt === ctx.attempt).map((e) => e.type);
  // Exactly one terminal event counted (the scheduler's); the late result is on record after it.
  expect(mine).toEqual([
    'attempt.created',
    'attempt.dispatched',
    'attempt.started',
    'attempt.timed_out',
    'attempt.failed',
  ]);
  expect(ofType(events, 'pr.created')).toHaveLength(0);
  expect(ofType(events, 'attempt.succeeded')).toHaveLength(0);
  expect(await pullsOf(target.dir)).toEqual([]);
  expect((await originRefs(target)).has('refs/heads/leviathan/slow')).toBe(false);
});
