/**
 * The scheduler's limits over the real HTTP git server (SPEC §3.1 steps 4–6, §3.2 step 1): the hourly cap,
 * running attempts, the autonomy switch, a PR closed unmerged blocking its task until a retry, and a manual
 * `work --task` claiming under the same limits.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { retryTask } from '../../src/cli/commands/retry.js';
import { collectStatus, renderStatus } from '../../src/cli/commands/status.js';
import { runWork } from '../../src/cli/commands/work.js';
import { UserError } from '../../src/core/errors.js';
import { project } from '../../src/core/state.js';
import { LocalForge } from '../../src/forge/local.js';
import { tick } from '../../src/scheduler/tick.js';
import { EventLog } from '../../src/store/event-log.js';
import { runAttempt } from '../../src/worker/attempt.js';
import { GitServer } from '../harness/git-server.js';
import { commitFiles, removeDir } from '../harness/repo.js';
import {
  Clock,
  capture,
  eventsOf,
  ofType,
  originRefs,
  seedTarget,
  type Target,
  tickOptions,
  workerDeps,
} from '../helpers/loop.js';

function config(limits: Record<string, number>, extra = ''): string {
  const lines = Object.entries({ attempt_timeout_minutes: 1, ...limits }).map(([k, v]) => `  ${k}: ${v}`);
  return `version: 1\nscope:\n  allowed_paths: ["docs/**"]\nlimits:\n${lines.join('\n')}\n${extra}`;
}

const BACKLOG = `version: 1
tasks:
  - id: alpha
    title: Alpha page
    ready: true
    allowed_paths: [docs/alpha.md]
    run: ["echo alpha > docs/alpha.md"]
  - id: beta
    title: Beta page
    ready: true
    priority: high
    allowed_paths: [docs/beta.md]
    run: ["echo beta > docs/beta.md"]
  - id: gamma
    title: Not approved yet
    allowed_paths: [docs/gamma.md]
    run: ["echo gamma > docs/gamma.md"]
`;

let server: GitServer;
const targets: Target[] = [];

beforeAll(async () => {
  server = await GitServer.start();
});

afterAll(async () => {
  await server?.stop();
  for (const t of targets) await removeDir(t.root);
});

async function newTarget(name: string, cfg: string): Promise<Target> {
  const t = await seedTarget(server, name, { config: cfg, backlog: BACKLOG });
  targets.push(t);
  return t;
}

const reasonsOf = (rows: Array<{ task: string; reason: string }>) =>
  Object.fromEntries(rows.map((r) => [r.task, r.reason]));

describe('limits', () => {
  it('max_dispatches_per_hour: the second tick in the same UTC hour is limit_hourly; the next hour dispatches', async () => {
    const t = await newTarget(
      'hourly',
      config({ max_dispatches_per_hour: 1, max_running_attempts: 5, max_open_prs: 5 }),
    );
    const clock = new Clock('2026-11-26T10:58:00.000Z');
    const first = await tick(tickOptions(t.dir, clock.now));
    expect(first).toMatchObject({ outcome: 'dispatched', task: 'beta' });
    expect(first.limits.dispatched_this_hour).toBe(1);

    const second = await tick(tickOptions(t.dir, clock.set('2026-11-26T10:59:59.000Z').now));
    expect(second).toMatchObject({ outcome: 'idle', appended: [] });
    expect(reasonsOf(second.rows)).toEqual({ alpha: 'limit_hourly', beta: 'running', gamma: 'not_ready' });

    const third = await tick(tickOptions(t.dir, clock.set('2026-11-26T11:00:00.000Z').now));
    expect(third).toMatchObject({ outcome: 'dispatched', task: 'alpha' });
    expect(third.limits.dispatched_this_hour).toBe(1);
    expect(ofType(await eventsOf(t.dir), 'attempt.created').map((e) => [e.task, e.ts])).toEqual([
      ['beta', '2026-11-26T10:58:00.000Z'],
      ['alpha', '2026-11-26T11:00:00.000Z'],
    ]);
  });

  it('max_running_attempts: nothing more is dispatched until the running attempt ends', async () => {
    const t = await newTarget('running', config({ max_running_attempts: 1, max_open_prs: 5 }));
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const first = await tick(tickOptions(t.dir, clock.now));
    expect(first.task).toBe('beta');

    const second = await tick(tickOptions(t.dir, clock.advance(10_000).now));
    expect(second).toMatchObject({ outcome: 'idle', appended: [] });
    expect(reasonsOf(second.rows)).toMatchObject({ alpha: 'limit_running', beta: 'running' });
    expect(second.limits.running).toBe(1);

    const done = await runAttempt(await workerDeps(t, clock.now), 'beta', first.attempt!);
    expect(done.outcome.status).toBe('succeeded');
    const third = await tick(tickOptions(t.dir, clock.advance(10_000).now));
    expect(third).toMatchObject({ outcome: 'dispatched', task: 'alpha' });
    expect(reasonsOf(third.rows).beta).toBe('pr_open:#1');
  });

  // With room for several running attempts, each would open a PR: attempts in flight hold PR slots.
  it('max_open_prs also counts attempts still in flight (each will open a PR)', async () => {
    const t = await newTarget('open-prs', config({ max_open_prs: 1, max_running_attempts: 3 }));
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    expect((await tick(tickOptions(t.dir, clock.now))).task).toBe('beta');
    const second = await tick(tickOptions(t.dir, clock.advance(10_000).now));
    expect(reasonsOf(second.rows)).toMatchObject({ alpha: 'limit_open_prs', beta: 'running' });
    expect(second).toMatchObject({ outcome: 'idle', appended: [] });
  });

  it('autonomy.enabled: false appends no event at all and gives autonomy_disabled for every task', async () => {
    const t = await newTarget('autonomy', config({ max_running_attempts: 1 }));
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    expect((await tick(tickOptions(t.dir, clock.now))).task).toBe('beta');
    // A human switches autonomy off while beta's attempt is still open.
    await commitFiles(
      t.bare,
      'main',
      { '.leviathan/config.yaml': config({ max_running_attempts: 1 }, 'autonomy:\n  enabled: false\n') },
      'pause Leviathan',
    );
    const before = await originRefs(t);
    const seq = (await eventsOf(t.dir)).length;

    // Even with the attempt overdue, a paused tick only reports.
    const report = await tick(tickOptions(t.dir, clock.minutes(30).now));
    expect(report).toMatchObject({ outcome: 'idle', task: null, appended: [] });
    expect(reasonsOf(report.rows)).toEqual({
      alpha: 'autonomy_disabled',
      beta: 'autonomy_disabled',
      gamma: 'autonomy_disabled',
    });
    expect((await eventsOf(t.dir)).length).toBe(seq);
    expect(await originRefs(t)).toEqual(before);
  });

  it('a PR closed unmerged blocks the task (pr_closed) without feeding the breaker; retry revives it', async () => {
    const t = await newTarget(
      'closed-pr',
      config({
        max_running_attempts: 1,
        max_open_prs: 3,
        max_dispatches_per_hour: 10,
        max_attempts_per_task: 1,
      }),
    );
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const forge = new LocalForge({ dir: t.dir, now: clock.now });

    const first = await tick(tickOptions(t.dir, clock.now));
    expect(first.task).toBe('beta');
    const r1 = await runAttempt(await workerDeps(t, clock.now), 'beta', first.attempt!);
    expect(r1.outcome).toMatchObject({ status: 'succeeded', pr: 1 });
    // Status truth: the last attempt opened a PR, so the task is pr_open #1, not blocked at 1/1.
    const open = await collectStatus(t.dir, clock.now);
    expect(open.rows.find((r) => r.task === 'beta')).toMatchObject({ state: 'pr_open', pr: 1, attempts: 1 });
    await forge.close(1);

    const second = await tick(tickOptions(t.dir, clock.minutes(1).now));
    expect(second.appended.map((e) => [e.type, e.task])).toEqual([
      ['pr.closed', 'beta'],
      ['task.blocked', 'beta'],
      ['attempt.created', 'alpha'],
      ['attempt.dispatched', 'alpha'],
    ]);
    expect(second.appended[0]).toMatchObject({ attempt: first.attempt, data: { number: 1 } });
    expect(second.appended[1]!.data).toMatchObject({ reason: 'pr_closed', attempts: 1 });
    const state = (await new EventLog({ dir: t.dir }).read()).state;
    expect(state.tasks.beta).toMatchObject({ blocked: true, blocked_reason: 'pr_closed', failures: 1 });
    // A human's rejection is not a failing worker.
    expect(state.breaker).toMatchObject({ open: false, consecutive_failures: 0 });
    const { events } = await new EventLog({ dir: t.dir }).readAll();
    const closedAt = events.findIndex((e) => e.type === 'pr.closed');
    expect(project(events.slice(0, closedAt + 1)).attempts[first.attempt!]).toMatchObject({
      status: 'failed',
      reason: 'pr_closed',
    });
    const r2 = await runAttempt(await workerDeps(t, clock.now), 'alpha', second.attempt!);
    expect(r2.outcome).toMatchObject({ status: 'succeeded', pr: 2 });

    const blocked = await collectStatus(t.dir, clock.now);
    const row = blocked.rows.find((r) => r.task === 'beta');
    expect(row).toMatchObject({ state: 'blocked', pr: null, retry: 'leviathan retry beta' });
    expect(row?.why).toContain('pull request #1 was closed unmerged');
    expect(row?.entry_changed).toBeUndefined();
    expect(renderStatus(blocked)).toContain(
      "  beta: pull request #1 was closed unmerged; retry with 'leviathan retry beta'",
    );

    // Never re-created on its own: a later tick leaves beta blocked.
    const idle = await tick(tickOptions(t.dir, clock.minutes(1).now));
    expect(idle.rows.find((r) => r.task === 'beta')?.reason).toBe('blocked');
    expect(idle.appended.filter((e) => e.task === 'beta')).toEqual([]);

    // The backlog entry changes on the base branch: status offers the retry.
    await commitFiles(
      t.bare,
      'main',
      { '.leviathan/backlog.yaml': BACKLOG.replace('title: Beta page', 'title: Beta page, shorter') },
      'reword beta',
    );
    const changed = await collectStatus(t.dir, clock.now);
    expect(changed.rows.find((r) => r.task === 'beta')?.entry_changed).toBe(true);

    const retried = await retryTask(new EventLog({ dir: t.dir }), 'beta', {
      reason: 'reworded',
      now: clock.now,
    });
    expect(retried).toMatchObject({ task: 'beta', was_blocked: true, attempts_used: 1 });
    await expect(retryTask(new EventLog({ dir: t.dir }), 'nobody')).rejects.toThrow(
      'retry refused: task nobody has no attempts in the event log; there is nothing to retry',
    );
    const again = await tick(tickOptions(t.dir, clock.minutes(1).now));
    expect(again.task).toBe('beta');
    expect(again.appended.find((e) => e.type === 'attempt.created')?.data).toMatchObject({ number: 2 });
    const all = await eventsOf(t.dir);
    expect(ofType(all, 'task.retried')).toMatchObject([
      { task: 'beta', actor: { kind: 'human' }, data: { reason: 'reworded' } },
    ]);
  }, 300_000);

  it('a manual work --task claims under the same limits: refused with the reason, else attempt.created manual', async () => {
    const t = await newTarget('manual', config({ max_running_attempts: 1, max_open_prs: 3 }));
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const claimed = await tick(tickOptions(t.dir, clock.now));
    expect(claimed.task).toBe('beta');

    const refused = runWork({ dir: t.dir, task: 'alpha', now: clock.advance(5_000).now }, capture());
    await expect(refused).rejects.toThrow(new UserError('task alpha cannot be claimed now: limit_running'));
    await expect(runWork({ dir: t.dir, task: 'gamma', now: clock.now }, capture())).rejects.toThrow(
      'task gamma cannot be claimed now: not_ready',
    );
    expect(ofType(await eventsOf(t.dir), 'attempt.created').map((e) => e.task)).toEqual(['beta']);

    await runAttempt(await workerDeps(t, clock.now), 'beta', claimed.attempt!);
    // An attempt runs once, and only if it was claimed.
    await expect(runAttempt(await workerDeps(t, clock.now), 'beta', claimed.attempt!)).rejects.toThrow(
      /is already succeeded; refusing to run it twice/,
    );
    await expect(
      runWork({ dir: t.dir, task: 'alpha', attempt: claimed.attempt!, now: clock.now }, capture()),
    ).rejects.toThrow(`attempt ${claimed.attempt} of alpha was never claimed; refusing to run it`);
    expect(ofType(await eventsOf(t.dir), 'attempt.started')).toHaveLength(1);

    const out = capture(true);
    const manual = await runWork({ dir: t.dir, task: 'alpha', now: clock.advance(5_000).now }, out);
    expect(manual.outcome).toMatchObject({ status: 'succeeded', pr: 2 });
    expect(JSON.parse(out.lines[0]!)).toMatchObject({ task: 'alpha', status: 'succeeded', pr: 2 });

    const created = ofType(await eventsOf(t.dir), 'attempt.created', 'alpha');
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      attempt: manual.context.attempt,
      actor: { kind: 'cli' },
      data: { number: 1, manual: true },
    });
    const events = await eventsOf(t.dir);
    expect(events.filter((e) => e.attempt === manual.context.attempt).map((e) => e.type)).toEqual([
      'attempt.created',
      'attempt.started',
      'pr.created',
      'attempt.succeeded',
    ]);
  });
});
