/**
 * The agent can write `.git/config` and `.git/hooks` of its checkout. Whatever it plants there must not
 * redirect Leviathan's pushes (and so its token) or run during them.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { tick } from '../../src/scheduler/tick.js';
import { runAttempt } from '../../src/worker/attempt.js';
import { GitServer } from '../harness/git-server.js';
import { removeDir } from '../harness/repo.js';
import {
  Clock,
  eventsOf,
  ofType,
  originRefs,
  seedTarget,
  type Target,
  tickOptions,
  workerDeps,
} from '../helpers/loop.js';

const CONFIG = 'version: 1\nscope:\n  allowed_paths: ["docs/**"]\n';

let server: GitServer;
let target: Target;

beforeAll(async () => {
  server = await GitServer.start();
});

afterAll(async () => {
  await server?.stop();
  if (target) await removeDir(target.root);
});

it('a planted remote URL, insteadOf rule and pre-push hook neither redirect nor run during the pushes', async () => {
  const marker = join(tmpdir(), `leviathan-hook-ran-${process.pid}`);
  const backlog = `tasks:
  - id: plant
    title: Write a page and tamper with git
    ready: true
    allowed_paths: [docs/page.md]
    run:
      - echo page > docs/page.md
      - git config remote.origin.url http://127.0.0.1:9/stolen.git
      - git config url.http://127.0.0.1:9/.insteadOf http://127.0.0.1
      - "printf '#!/bin/sh\\ntouch ${marker}\\nexit 1\\n' > .git/hooks/pre-push && chmod +x .git/hooks/pre-push"
`;
  target = await seedTarget(server, 'hygiene', { config: CONFIG, backlog });
  const clock = new Clock('2026-11-26T10:00:00.000Z');
  const report = await tick(tickOptions(target.dir, clock.now));
  expect(report.task).toBe('plant');

  const result = await runAttempt(await workerDeps(target, clock.now), 'plant', report.attempt!);

  expect(result.outcome).toMatchObject({ status: 'succeeded', pr: 1 });
  expect((await originRefs(target)).has('refs/heads/leviathan/plant')).toBe(true);
  expect(ofType(await eventsOf(target.dir), 'attempt.succeeded', 'plant')).toHaveLength(1);
  expect(existsSync(marker)).toBe(false);
});
