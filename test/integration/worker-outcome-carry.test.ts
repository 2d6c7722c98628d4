/**
 * Issue 10 (four origin sessions per attempt): on the local forge the attempt's outcome rides in the atomic
 * push of its PR branch and pull record, leased on the log's tip. These tests race that push: the scheduler
 * timing the attempt out after the worker's last read, another writer moving the log, another pull taking
 * the next number. Whatever happens, the branch, the pull and the outcome land together or not at all.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { tick } from '../../src/scheduler/tick.js';
import { finishAttempt } from '../../src/worker/attempt.js';
import { GitServer, type RequestInfo } from '../harness/git-server.js';
import { removeDir } from '../harness/repo.js';
import { dispatchAndRun } from '../helpers/attempt-run.js';
import {
  Clock,
  eventsOf,
  ofType,
  originRefs,
  pullsOf,
  seedTarget,
  type Target,
  tickOptions,
} from '../helpers/loop.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  attempt_timeout_minutes: 5
  max_running_attempts: 2
  max_open_prs: 5
  max_dispatches_per_hour: 10
  max_attempts_per_task: 3
  circuit_breaker_failures: 10
`;
const task = (id: string) => `  - id: ${id}
    title: Page ${id}
    ready: true
    allowed_paths: [docs/${id}.md]
    run: ["echo ${id} > docs/${id}.md"]
`;
const BACKLOG = `version: 1\ntasks:\n${['one', 'two', 'three', 'four'].map(task).join('')}`;

let server: GitServer;
const targets: Target[] = [];

beforeAll(async () => {
  server = await GitServer.start();
});

afterAll(async () => {
  await server?.stop();
  for (const t of targets) await removeDir(t.root);
});

async function newTarget(name: string) {
  const target = await seedTarget(server, name, { config: CONFIG, backlog: BACKLOG });
  targets.push(target);
  return target;
}

/** One tick's dispatch, started and run in a worker clone of its own (as in Actions). */
async function started(target: Target, clock: Clock) {
  const run = await dispatchAndRun(target, clock);
  expect(run.executed.status).toBe('ok');
  return run;
}

const pushesSince = (from: number) =>
  server.requests
    .slice(from)
    .filter((r: RequestInfo) => r.method === 'GET' && r.path.endsWith('/info/refs'))
    .filter((r) => r.service === 'git-receive-pack').length;

it('lands the branch, the pull record and the outcome in one push', async () => {
  const target = await newTarget('carry-one');
  const clock = new Clock('2026-11-26T10:00:00.000Z');
  const { deps, ctx, executed } = await started(target, clock);
  const from = server.requests.length;
  const outcome = await finishAttempt(deps, ctx, executed);
  expect(outcome).toMatchObject({ status: 'succeeded', pr: 1 });
  expect(pushesSince(from)).toBe(1);
  const events = await eventsOf(target.dir);
  expect(ofType(events, 'pr.created').map((e) => e.data)).toEqual([
    expect.objectContaining({ number: 1, branch: 'leviathan/one' }),
  ]);
  expect(ofType(events, 'attempt.succeeded').map((e) => e.attempt)).toEqual([ctx.attempt]);
  expect((await pullsOf(target.dir)).map((p) => [p.number, p.head])).toEqual([[1, 'leviathan/one']]);
});

it('a timeout the scheduler recorded after the worker last read the log: nothing of the PR lands', async () => {
  const target = await newTarget('carry-timed-out');
  const clock = new Clock('2026-11-26T10:00:00.000Z');
  const { deps, ctx, executed } = await started(target, clock);
  // The scheduler's clock is far ahead of the worker's: it times the attempt out while the worker, by its
  // own clock, is still within the deadline and has no reason to read the log again before pushing.
  const ahead = new Clock('2026-11-26T10:30:00.000Z');
  await tick(tickOptions(target.dir, ahead.now));
  expect(ofType(await eventsOf(target.dir), 'attempt.timed_out').map((e) => e.attempt)).toEqual([
    ctx.attempt,
  ]);

  const outcome = await finishAttempt(deps, ctx, executed);
  expect(outcome).toMatchObject({
    status: 'failed',
    reason: 'timeout',
    detail: expect.stringMatching(/late/),
  });
  const events = await eventsOf(target.dir);
  expect(events.filter((e) => e.attempt === ctx.attempt).map((e) => e.type)).toEqual([
    'attempt.created',
    'attempt.dispatched',
    'attempt.started',
    'attempt.timed_out',
    'attempt.failed',
  ]);
  expect(ofType(events, 'pr.created')).toHaveLength(0);
  expect(await pullsOf(target.dir)).toEqual([]);
  expect((await originRefs(target)).has('refs/heads/leviathan/one')).toBe(false);
});

it('the log and the pulls moved meanwhile: the outcome is chained on the new tip and names the number its pull got', async () => {
  const target = await newTarget('carry-raced');
  const clock = new Clock('2026-11-26T10:00:00.000Z');
  const first = await started(target, clock);
  clock.minutes(1);
  const second = await started(target, clock);
  // The second attempt delivers first: it takes pull #1 and moves both the log and the pulls ref.
  expect(await finishAttempt(second.deps, second.ctx, second.executed)).toMatchObject({
    status: 'succeeded',
    pr: 1,
  });
  const outcome = await finishAttempt(first.deps, first.ctx, first.executed);
  expect(outcome).toMatchObject({ status: 'succeeded', pr: 2 });

  const events = await eventsOf(target.dir);
  const created = ofType(events, 'pr.created').map((e) => [e.task, (e.data as { number: number }).number]);
  expect(created).toEqual([
    [second.ctx.task.id, 1],
    [first.ctx.task.id, 2],
  ]);
  expect(ofType(events, 'attempt.succeeded')).toHaveLength(2);
  const pulls = (await pullsOf(target.dir)).map((p) => [p.number, p.head]);
  expect(pulls).toEqual([
    [1, `leviathan/${second.ctx.task.id}`],
    [2, `leviathan/${first.ctx.task.id}`],
  ]);
  const refs = await originRefs(target);
  expect(refs.has(`refs/heads/leviathan/${first.ctx.task.id}`)).toBe(true);
});
