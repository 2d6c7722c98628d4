/**
 * A worker killed with SIGKILL mid-attempt leaves no terminal event. The scheduler notices once the attempt's
 * deadline plus five minutes has passed (moved clock, no real waiting): `attempt.timed_out`, naming the WIP
 * branch the worker had pushed, which stays on the origin; the attempt counts toward the task's maximum and
 * toward the breaker.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { project } from '../../src/core/state.js';
import { tick } from '../../src/scheduler/tick.js';
import { EventLog } from '../../src/store/event-log.js';
import { GitServer } from '../harness/git-server.js';
import { commitFiles, git, makeTempDir, removeDir } from '../harness/repo.js';
import {
  CLI,
  cloneTarget,
  eventsOf,
  ofType,
  originRefs,
  seedTarget,
  type Target,
  tickOptions,
  waitFor,
} from '../helpers/loop.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  max_attempts_per_task: 2
  circuit_breaker_failures: 2
  attempt_timeout_minutes: 1
# The test kills the worker's command from outside through the process group it writes to the scratch dir,
# which a sandbox would (rightly) hide.
executor:
  sandbox: none
`;

let server: GitServer;
let target: Target;
let scratch: string;

beforeAll(async () => {
  server = await GitServer.start();
  scratch = await makeTempDir('loop-kill');
  const backlog = `version: 1
tasks:
  - id: slow
    title: A task whose command never ends in time
    ready: true
    allowed_paths: [docs/slow.md]
    run:
      - echo started > docs/slow.md
      - "echo $$ > '${scratch}/pgid' && exec sleep 30"
`;
  target = await seedTarget(server, 'killed', { config: CONFIG, backlog });
});

afterAll(async () => {
  // The killed worker's command group, if it is still sleeping.
  const pgid = Number(await readFile(join(scratch, 'pgid'), 'utf8').catch(() => '0'));
  if (pgid > 0) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {}
  }
  await server?.stop();
  if (target) await removeDir(target.root);
  await removeDir(scratch);
});

describe('a worker killed mid-attempt', () => {
  it('is timed out after deadline + 5 min, counts as a failed attempt and keeps its WIP branch', async () => {
    // The scheduler runs at (roughly) real time, so the worker process's own clock agrees with it.
    const start = Date.now();
    const at = (ms: number) => () => new Date(start + ms);
    const claim = await tick(tickOptions(target.dir, at(0)));
    expect(claim).toMatchObject({ outcome: 'dispatched', task: 'slow' });
    const attempt = claim.attempt!;
    const deadline = Date.parse(
      (ofType(claim.appended, 'attempt.created')[0]!.data as { deadline: string }).deadline,
    );
    expect(deadline).toBe(start + 60_000);

    // The worker: `leviathan work` in its own process group, its scratch clone under our temp dir.
    const tmp = join(scratch, 'tmp');
    await mkdir(tmp);
    const child = spawn(
      process.execPath,
      [CLI, 'work', '--dir', target.dir, '--task', 'slow', '--attempt', attempt, '--json'],
      { env: { ...process.env, NODE_OPTIONS: '', TMPDIR: tmp }, stdio: 'ignore', detached: true },
    );
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.on('exit', (code, signal) => resolve(signal ?? code)),
    );
    await waitFor('the task command to be running', async () =>
      readFile(join(scratch, 'pgid'), 'utf8').then(
        (t) => (t.trim() ? t : null),
        () => null,
      ),
    );
    // What a worker that pushed its work in progress would have left: leviathan-wip/<task>/<attempt>.
    const wip = `leviathan-wip/slow/${attempt}`;
    const pusher = await cloneTarget(target, 'pusher');
    await git(pusher, ['update-ref', 'refs/heads/wip', 'origin/main']);
    await commitFiles(pusher, 'wip', { 'docs/slow.md': 'half done\n' }, 'WIP: slow');
    await git(pusher, ['push', '--quiet', 'origin', `wip:refs/heads/${wip}`]);
    const wipSha = (await originRefs(target)).get(`refs/heads/${wip}`);
    expect(wipSha).toBeDefined();

    process.kill(child.pid!, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const pgid = Number(await readFile(join(scratch, 'pgid'), 'utf8'));
    process.kill(-pgid, 'SIGKILL');

    const before = await eventsOf(target.dir);
    expect(before.map((e) => e.type)).toEqual(['attempt.created', 'attempt.dispatched', 'attempt.started']);

    // Past the deadline but inside the grace: still running, nothing recorded.
    const early = await tick(tickOptions(target.dir, () => new Date(deadline + 5 * 60_000 - 1_000)));
    expect(early).toMatchObject({ outcome: 'idle', appended: [] });
    expect(early.rows[0]!.reason).toBe('running');

    // Deadline + 5 min: timed out, with the WIP branch named; the task gets its second (last) attempt.
    const late = await tick(tickOptions(target.dir, () => new Date(deadline + 5 * 60_000)));
    expect(late.appended.map((e) => e.type)).toEqual([
      'attempt.timed_out',
      'attempt.created',
      'attempt.dispatched',
    ]);
    expect(late.appended[0]).toMatchObject({
      task: 'slow',
      attempt,
      data: { deadline: new Date(deadline).toISOString(), wip_branch: wip },
    });
    expect(late.appended[1]!.data).toMatchObject({ number: 2 });
    const log = new EventLog({ dir: target.dir });
    const state = (await log.read()).state;
    // Right after the timeout the attempt records it; attempt 2 then supersedes it in the compact state.
    const { events } = await log.readAll();
    const timedOutAt = events.findIndex((e) => e.type === 'attempt.timed_out');
    expect(project(events.slice(0, timedOutAt + 1)).attempts[attempt]).toMatchObject({
      status: 'timed_out',
      reason: 'timeout',
      wip_branch: wip,
    });
    expect(state.attempts[attempt]).toBeUndefined();
    expect(state.tasks.slow).toMatchObject({ attempts: 2, last_attempt: late.attempt, failures: 1 });
    expect(state.breaker.consecutive_failures).toBe(1);
    expect((await originRefs(target)).get(`refs/heads/${wip}`)).toBe(wipSha);

    // The second attempt is never worked either: it times out (no WIP to name), the task is blocked at 2 of 2
    // and the two failures in a row open the breaker.
    const second = late.attempt!;
    const secondDeadline = Date.parse(
      (ofType(late.appended, 'attempt.created')[0]!.data as { deadline: string }).deadline,
    );
    const last = await tick(tickOptions(target.dir, () => new Date(secondDeadline + 5 * 60_000)));
    expect(last.appended.map((e) => e.type)).toEqual([
      'attempt.timed_out',
      'breaker.tripped',
      'task.blocked',
    ]);
    expect(last.appended[0]).toMatchObject({
      attempt: second,
      data: { deadline: new Date(secondDeadline).toISOString() },
    });
    expect(last.appended[0]!.data).not.toHaveProperty('wip_branch');
    expect(last.appended[2]!.data).toMatchObject({ reason: 'max_attempts', attempts: 2 });
    expect(last.rows[0]).toMatchObject({ state: 'blocked', attempts: 2, max_attempts: 2 });
    expect((await originRefs(target)).get(`refs/heads/${wip}`)).toBe(wipSha);
    expect(ofType(await eventsOf(target.dir), 'attempt.timed_out')).toHaveLength(2);
  });
});
