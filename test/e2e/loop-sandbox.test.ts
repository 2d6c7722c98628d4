/**
 * The whole autonomy loop on a sandbox repository served over smart HTTP: ticks and worker attempts run
 * in-process on clones, with one injected clock, and everything is checked from what they left behind: the
 * event log, the refs on the origin and the local forge's pull records.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { resetBreaker } from '../../src/cli/commands/breaker.js';
import { runPrMerge } from '../../src/cli/commands/pr.js';
import { collectStatus } from '../../src/cli/commands/status.js';
import { runCli } from '../../src/cli/program.js';
import type { LeviathanEvent } from '../../src/core/events.js';
import { type TickReport, tick } from '../../src/scheduler/tick.js';
import { EventLog } from '../../src/store/event-log.js';
import { type AttemptResult, runAttempt } from '../../src/worker/attempt.js';
import { GitServer } from '../harness/git-server.js';
import { git, removeDir } from '../harness/repo.js';
import {
  Clock,
  capture,
  eventsOf,
  ofType,
  originRefs,
  pullsOf,
  pushedRefs,
  seedTarget,
  type Target,
  tickOptions,
  workerDeps,
} from '../helpers/loop.js';

const CONFIG = `version: 1
scope:
  allowed_paths: [".leviathan/**", "docs/**"]
limits:
  max_open_prs: 3
  max_running_attempts: 1
  max_attempts_per_task: 2
  circuit_breaker_failures: 2
  max_dispatches_per_hour: 20
  attempt_timeout_minutes: 1
`;

const BACKLOG = `# Sandbox backlog: every task shows one behaviour of the loop.
version: 1
tasks:
  # Low priority and first in the file: it still goes after the others.
  - id: docs-low
    title: Write the changelog page
    ready: true
    priority: low
    allowed_paths: [docs/changelog.md]
    run: ["echo changelog > docs/changelog.md"]

  - id: sneaky-workflow
    title: Update the notes (and sneak in a workflow)
    ready: true
    max_attempts: 1
    allowed_paths: [docs/notes.md]
    run:
      - echo notes > docs/notes.md
      - "mkdir -p .github/workflows && echo 'on: push' > .github/workflows/x.yml"

  - id: flaky-check
    title: Add a page whose check never passes
    ready: true
    allowed_paths: [docs/flaky.md]
    run: ["echo flaky > docs/flaky.md"]
    verify: test -f docs/never-there.md

  - id: deploy-script # outside the fence, never attempted
    title: Add a deploy script
    ready: true
    priority: high
    allowed_paths: [scripts/deploy.sh]
    run: ["echo deploy > scripts/deploy.sh"]

  - id: docs-intro
    title: Write the introduction
    ready: true
    priority: high # picked first
    allowed_paths: [docs/intro.md]
    run: ["echo intro > docs/intro.md"]

  - id: docs-usage
    title: Write the usage guide
    ready: true
    priority: high
    dependencies: [docs-intro] # waits for the merge
    allowed_paths: [docs/usage.md]
    run: ["echo usage > docs/usage.md"]

  - id: someday
    title: An idea nobody approved
    allowed_paths: [docs/someday.md]
`;

/**
 * The refs Leviathan may push (SPEC §1.2): its branches and, on the local forge, the pull records' ref. The
 * base branch only moves through the human's `pr merge`.
 */
const OWN_REF =
  /^refs\/(heads\/(leviathan\/[a-z0-9._-]+|leviathan-wip\/[a-z0-9._-]+\/[0-9A-Z]+|leviathan-events)|leviathan\/pulls)$/;

let server: GitServer;
let target: Target;
const clock = new Clock('2026-11-26T10:00:00.000Z');

beforeAll(async () => {
  server = await GitServer.start();
  target = await seedTarget(server, 'sandbox', { config: CONFIG, backlog: BACKLOG });
});

afterAll(async () => {
  await server?.stop();
  if (target) await removeDir(target.root);
});

async function doTick(): Promise<TickReport> {
  clock.minutes(1);
  return tick(tickOptions(target.dir, clock.now));
}

async function work(report: TickReport): Promise<AttemptResult> {
  expect(report.outcome).toBe('dispatched');
  clock.advance(5_000);
  return runAttempt(await workerDeps(target, clock.now), report.task!, report.attempt!);
}

function reasons(report: TickReport): Record<string, string> {
  return Object.fromEntries(report.rows.map((r) => [r.task, r.reason]));
}

async function seq(): Promise<number> {
  return (await new EventLog({ dir: target.dir }).read()).state.seq;
}

describe('the full loop on a sandbox repository', () => {
  let baseBefore: string;
  let introAttempt: string;
  let all: LeviathanEvent[] = [];

  it('dispatches in priority order: the high-priority task first, out-of-scope and unready tasks never', async () => {
    baseBefore = (await originRefs(target)).get('refs/heads/main')!;
    expect(baseBefore).toMatch(/^[0-9a-f]{40}$/);

    const t1 = await doTick();
    expect(t1.task).toBe('docs-intro');
    expect(reasons(t1)).toEqual({
      'docs-low': 'queued',
      'sneaky-workflow': 'queued',
      'flaky-check': 'queued',
      'deploy-script': 'out_of_scope:scripts/deploy.sh',
      'docs-intro': 'selected',
      'docs-usage': 'dependency_pending:docs-intro',
      someday: 'not_ready',
    });
    expect(t1.appended.map((e) => e.type)).toEqual(['attempt.created', 'attempt.dispatched']);
    introAttempt = t1.attempt!;
    const r1 = await work(t1);
    expect(r1.outcome).toMatchObject({ status: 'succeeded', pr: 1, created: true });
  });

  it('opens PR #1 with the work and a second commit setting status: done, comments preserved', async () => {
    const [pull] = await pullsOf(target.dir);
    expect(pull).toMatchObject({
      number: 1,
      head: 'leviathan/docs-intro',
      base: 'main',
      state: 'open',
      title: 'Write the introduction',
    });
    expect(pull!.labels).toContain('leviathan');
    const head = (await originRefs(target)).get('refs/heads/leviathan/docs-intro')!;
    // The marker names the commit Leviathan judged and pushed.
    expect(pull!.body).toContain(`<!-- leviathan:task=docs-intro attempt=${introAttempt} head=${head} -->`);

    const log = await git(target.bare, ['log', '--format=%s%x00%b%x01', `${baseBefore}..${head}`]);
    const commits = log
      .split('\x01')
      .map((c) => c.trim())
      .filter(Boolean);
    expect(commits).toHaveLength(2);
    expect(commits[1]).toContain('Write the introduction\0');
    expect(commits[1]).toContain(`Leviathan-Task: docs-intro\nLeviathan-Attempt: ${introAttempt}`);
    expect(commits[0]).toContain('Mark docs-intro done in the backlog\0');
    // The second commit changes the backlog only, and only by the status line: every comment survives.
    expect(await git(target.bare, ['diff', '--name-only', `${head}~1`, head])).toBe(
      '.leviathan/backlog.yaml',
    );
    const backlog = await git(target.bare, ['show', `${head}:.leviathan/backlog.yaml`]);
    expect(`${backlog}\n`).toBe(
      BACKLOG.replace('  - id: docs-intro\n', '  - id: docs-intro\n    status: done\n'),
    );
    expect(await git(target.bare, ['show', `${head}:docs/intro.md`])).toBe('intro');
  });

  it('stops a task writing .github/workflows as scope_violation: WIP branch only, no task branch, no PR', async () => {
    const t2 = await doTick();
    expect(t2.task).toBe('sneaky-workflow'); // medium, and first of the mediums in file order
    expect(reasons(t2)['docs-intro']).toBe('pr_open:#1');
    const r2 = await work(t2);
    const wip = `leviathan-wip/sneaky-workflow/${t2.attempt}`;
    expect(r2.outcome).toMatchObject({ status: 'failed', reason: 'scope_violation', wip_branch: wip });

    const refs = await originRefs(target);
    expect(refs.has(`refs/heads/${wip}`)).toBe(true);
    expect(refs.has('refs/heads/leviathan/sneaky-workflow')).toBe(false);
    // The allowed work is kept; the offending file only in the manifest (a workflow on any branch may run).
    const kept = await git(target.bare, ['ls-tree', '-r', '--name-only', `refs/heads/${wip}`]);
    expect(kept.split('\n')).toEqual(
      expect.arrayContaining(['LEVIATHAN-WIP-MANIFEST.json', 'docs/notes.md']),
    );
    expect(kept.split('\n')).not.toContain('.github/workflows/x.yml');
    const manifest = JSON.parse(
      await git(target.bare, ['show', `refs/heads/${wip}:LEVIATHAN-WIP-MANIFEST.json`]),
    ) as { rows: Array<{ path: string; withheld?: string }> };
    expect(manifest.rows.find((r) => r.path === '.github/workflows/x.yml')?.withheld).toMatch(/protected/);
    expect((await pullsOf(target.dir)).map((p) => p.head)).toEqual(['leviathan/docs-intro']);

    const failed = ofType(await eventsOf(target.dir), 'attempt.failed', 'sneaky-workflow');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data).toMatchObject({ reason: 'scope_violation', wip_branch: wip });
    expect(JSON.stringify(failed[0]!.data)).toContain('.github/workflows/x.yml');
  });

  it('blocks the exhausted task and runs the next: a failing verify', async () => {
    const t3 = await doTick();
    expect(t3.appended.map((e) => [e.type, e.task])).toEqual([
      ['task.blocked', 'sneaky-workflow'],
      ['attempt.created', 'flaky-check'],
      ['attempt.dispatched', 'flaky-check'],
    ]);
    const r3 = await work(t3);
    expect(r3.outcome).toMatchObject({ status: 'failed', reason: 'verify_failed' });
  });

  it('opens the breaker after two consecutive failures, once, and dispatches nothing while it is open', async () => {
    const t4 = await doTick();
    expect(t4.outcome).toBe('idle');
    expect(t4.breaker).toBe('trip');
    expect(t4.appended.map((e) => e.type)).toEqual(['breaker.tripped']);
    expect(t4.appended[0]!.data).toEqual({ consecutive_failures: 2, threshold: 2 });
    expect(reasons(t4)['flaky-check']).toBe('breaker_open');

    // An idle tick appends nothing: the breaker is not tripped twice.
    const before = await seq();
    const t5 = await doTick();
    expect(t5).toMatchObject({ outcome: 'idle', breaker: 'open', appended: [] });
    expect(await seq()).toBe(before);
    expect(ofType(await eventsOf(target.dir), 'breaker.tripped')).toHaveLength(1);
  });

  it('resumes after a breaker.reset: the failing task is retried once, then blocked', async () => {
    clock.minutes(1);
    const reset = await resetBreaker(new EventLog({ dir: target.dir }), {
      reason: 'failures reviewed',
      now: clock.now,
    });
    expect(reset).toMatchObject({ was_open: true, consecutive_failures: 2 });

    const t6 = await doTick();
    expect(t6.task).toBe('flaky-check'); // medium before low
    const r6 = await work(t6);
    expect(r6.outcome).toMatchObject({ status: 'failed', reason: 'verify_failed' });
    expect(r6.context.number).toBe(2);

    const t7 = await doTick();
    expect(t7.appended.map((e) => [e.type, e.task])).toEqual([
      ['task.blocked', 'flaky-check'],
      ['attempt.created', 'docs-low'],
      ['attempt.dispatched', 'docs-low'],
    ]);
    expect(t7.appended[0]!.data).toEqual({ reason: 'max_attempts', attempts: 2 });
    const r7 = await work(t7);
    expect(r7.outcome).toMatchObject({ status: 'succeeded', pr: 2 });

    const flaky = ofType(await eventsOf(target.dir), 'attempt.failed', 'flaky-check');
    expect(flaky.map((e) => e.data)).toEqual([
      expect.objectContaining({ reason: 'verify_failed' }),
      expect.objectContaining({ reason: 'verify_failed' }),
    ]);
  });

  it('waits for the dependency: nothing is eligible, the tick is idle and appends nothing', async () => {
    const before = await seq();
    const t8 = await doTick();
    expect(t8.outcome).toBe('idle');
    expect(t8.appended).toEqual([]);
    expect(reasons(t8)).toMatchObject({
      'docs-intro': 'pr_open:#1',
      'docs-low': 'pr_open:#2',
      'docs-usage': 'dependency_pending:docs-intro',
      'flaky-check': 'blocked',
      'sneaky-workflow': 'blocked',
      'deploy-script': 'out_of_scope:scripts/deploy.sh',
    });
    expect(await seq()).toBe(before);
  });

  it('never pushed to the base branch; pushed only its own refs', async () => {
    expect((await originRefs(target)).get('refs/heads/main')).toBe(baseBefore);
    const pushes = await pushedRefs(target);
    expect(pushes.length).toBeGreaterThan(0);
    for (const p of pushes) expect(p.ref).toMatch(OWN_REF);
  });

  it('records a human merge on the next tick (pr.merged + task.completed) and unlocks the dependent task', async () => {
    clock.minutes(1);
    const merged = await runPrMerge({ dir: target.dir, out: capture(), now: clock.now }, 1);
    const mainAfterMerge = (await originRefs(target)).get('refs/heads/main')!;
    expect(mainAfterMerge).toBe(merged.mergeCommit);
    // The merged backlog now says docs-intro is done, comments and all.
    expect(`${await git(target.bare, ['show', 'main:.leviathan/backlog.yaml'])}\n`).toContain(
      '  - id: docs-intro\n    status: done\n    title: Write the introduction\n',
    );

    const t9 = await doTick();
    expect(t9.appended.map((e) => [e.type, e.task])).toEqual([
      ['pr.merged', 'docs-intro'],
      ['task.completed', 'docs-intro'],
      ['attempt.created', 'docs-usage'],
      ['attempt.dispatched', 'docs-usage'],
    ]);
    expect(t9.appended[0]).toMatchObject({ attempt: introAttempt, data: { number: 1 } });
    expect(t9.appended[1]!.data).toEqual({ via: 'pr_merged', pr: 1 });
    const r9 = await work(t9);
    expect(r9.outcome).toMatchObject({ status: 'succeeded', pr: 3 });
    // Branched from the new base tip, which holds the merged introduction.
    expect(r9.context.baseSha).toBe(mainAfterMerge);

    const t10 = await doTick();
    expect(t10).toMatchObject({ outcome: 'idle', appended: [] });
    expect(reasons(t10)['docs-intro']).toBe('done');

    // Only the human's merge moved the base branch.
    expect((await originRefs(target)).get('refs/heads/main')).toBe(mainAfterMerge);
    const mainPushes = (await pushedRefs(target)).filter((p) => p.ref === 'refs/heads/main');
    expect(mainPushes).toEqual([{ old: baseBefore, new: mainAfterMerge, ref: 'refs/heads/main' }]);
    for (const p of await pushedRefs(target)) {
      if (p.ref !== 'refs/heads/main') expect(p.ref).toMatch(OWN_REF);
    }
  });

  it('leaves a chain that verifies, with every step recorded', async () => {
    all = await eventsOf(target.dir);
    expect(ofType(all, 'attempt.created', 'deploy-script')).toEqual([]);
    expect(ofType(all, 'attempt.created', 'someday')).toEqual([]);
    expect(ofType(all, 'attempt.created').map((e) => e.task)).toEqual([
      'docs-intro',
      'sneaky-workflow',
      'flaky-check',
      'flaky-check',
      'docs-low',
      'docs-usage',
    ]);
    expect(ofType(all, 'breaker.tripped')).toHaveLength(1);
    expect(ofType(all, 'breaker.reset')).toHaveLength(1);
    expect(ofType(all, 'task.blocked').map((e) => e.task)).toEqual(['sneaky-workflow', 'flaky-check']);
    expect(ofType(all, 'pr.created').map((e) => [e.task, (e.data as { number: number }).number])).toEqual([
      ['docs-intro', 1],
      ['docs-low', 2],
      ['docs-usage', 3],
    ]);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));

    const status = await collectStatus(target.dir, clock.now);
    expect(status.rows.map((r) => [r.task, r.state, r.attempts, r.pr])).toEqual([
      ['docs-low', 'pr_open', 1, 2],
      ['sneaky-workflow', 'blocked', 1, null],
      ['flaky-check', 'blocked', 2, null],
      ['deploy-script', 'out_of_scope', 0, null],
      ['docs-intro', 'done', 1, 1],
      ['docs-usage', 'pr_open', 1, 3],
      ['someday', 'not_ready', 0, null],
    ]);
    expect(status.breaker).toEqual({ open: false, consecutive_failures: 0 });
    expect(status.limits).toMatchObject({ open_prs: 2, running: 0 });

    const verified = await new EventLog({ dir: target.dir }).verify();
    expect(verified).toMatchObject({ ok: true, count: all.length, warnings: [] });
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await runCli(['verify', '--dir', target.dir, '--json'])).toBe(0);
      expect(JSON.parse(String(stdout.mock.calls.at(-1)?.[0]))).toMatchObject({
        ok: true,
        count: all.length,
      });
    } finally {
      stdout.mockRestore();
    }
  });
});
