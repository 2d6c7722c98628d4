/**
 * The circuit breaker end to end: consecutive failures trip it once, it stops every dispatch, and a non-zero
 * cooldown closes it again only after the cooldown has passed (SPEC §3.1 step 5).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { tick } from '../../src/scheduler/tick.js';
import { runAttempt } from '../../src/worker/attempt.js';
import { GitServer } from '../harness/git-server.js';
import { removeDir } from '../harness/repo.js';
import {
  Clock,
  eventsOf,
  ofType,
  seedTarget,
  type Target,
  tickOptions,
  workerDeps,
} from '../helpers/loop.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  circuit_breaker_failures: 1
  breaker_cooldown_minutes: 10
  max_attempts_per_task: 3
  max_dispatches_per_hour: 10
  attempt_timeout_minutes: 1
`;

const BACKLOG = `tasks:
  - id: flaky
    title: Never passes its check
    ready: true
    allowed_paths: [docs/flaky.md]
    run: ["echo flaky > docs/flaky.md"]
    verify: "false"
`;

let server: GitServer;
let target: Target;

beforeAll(async () => {
  server = await GitServer.start();
});

afterAll(async () => {
  await server?.stop();
  if (target) await removeDir(target.root);
});

it('trips once after the failure, blocks dispatch during the cooldown, and resets itself after it', async () => {
  target = await seedTarget(server, 'breaker', { config: CONFIG, backlog: BACKLOG });
  const clock = new Clock('2026-11-26T10:00:00.000Z');

  const first = await tick(tickOptions(target.dir, clock.now));
  expect(first.outcome).toBe('dispatched');
  const attempt = await runAttempt(await workerDeps(target, clock.now), 'flaky', first.attempt!);
  expect(attempt.outcome).toMatchObject({ status: 'failed', reason: 'verify_failed' });

  const tripped = await tick(tickOptions(target.dir, clock.minutes(1).now));
  expect(tripped).toMatchObject({ outcome: 'idle', breaker: 'trip' });
  expect(tripped.rows[0]?.reason).toBe('breaker_open');

  const during = await tick(tickOptions(target.dir, clock.minutes(8).now));
  expect(during).toMatchObject({ outcome: 'idle', breaker: 'open', appended: [] });

  const after = await tick(tickOptions(target.dir, clock.minutes(3).now));
  expect(after).toMatchObject({ outcome: 'dispatched', task: 'flaky', breaker: 'cooldown_reset' });

  const events = await eventsOf(target.dir);
  expect(ofType(events, 'breaker.tripped')).toHaveLength(1);
  expect(ofType(events, 'breaker.reset').map((e) => e.data)).toEqual([
    { reason: 'cooldown elapsed', by: 'cooldown' },
  ]);
  expect(ofType(events, 'attempt.created', 'flaky')).toHaveLength(2);
});
