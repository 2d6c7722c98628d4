/** A task without `run` on a repository without `executor.command` fails as an attempt, never as a crash. */
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

let server: GitServer;
let target: Target;

beforeAll(async () => {
  server = await GitServer.start();
});

afterAll(async () => {
  await server?.stop();
  if (target) await removeDir(target.root);
});

it('records executor_error with the reason and counts the failure', async () => {
  target = await seedTarget(server, 'no-executor', {
    config: 'version: 1\nscope:\n  allowed_paths: ["docs/**"]\n',
    backlog:
      'tasks:\n  - id: agentic\n    title: Needs an agent\n    ready: true\n    allowed_paths: [docs/a.md]\n',
  });
  const clock = new Clock('2026-11-26T10:00:00.000Z');
  const report = await tick(tickOptions(target.dir, clock.now));
  const result = await runAttempt(await workerDeps(target, clock.now), 'agentic', report.attempt!);

  expect(result.outcome).toMatchObject({ status: 'failed', reason: 'executor_error' });
  const failed = ofType(await eventsOf(target.dir), 'attempt.failed', 'agentic');
  expect(failed).toHaveLength(1);
  expect(failed[0]?.data).toMatchObject({ reason: 'executor_error' });
  expect(JSON.stringify(failed[0]?.data)).toContain('executor.command is empty');
});
