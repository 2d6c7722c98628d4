/**
 * "Say why, where the user looks", through the real CLI on the real git server: `work` and `run` print the
 * failing command's output (redacted), `tick` and `run` say when a tick trips the breaker or blocks a task,
 * `run` ends with its tally and exits 0 after failed attempts, and `events` shows a detail whole with
 * `--wide` and never cuts it in `--json`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GitServer } from '../harness/git-server.js';
import { removeDir } from '../harness/repo.js';
import { cli, lines, said } from '../helpers/cli.js';
import { seedTarget, type Target } from '../helpers/loop.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  max_attempts_per_task: 1
  circuit_breaker_failures: 1
  max_open_prs: 3
  max_dispatches_per_hour: 10
  attempt_timeout_minutes: 1
`;

/** Looks like a GitHub token: redacted by shape wherever it is printed. */
const TOKEN = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
/** A failing command whose cause is in its output, with more lines than the CLI shows. */
const FAILING = (word: string) =>
  `for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo noise $i; done; echo "${word}: config missing, token ${TOKEN}"; exit 2`;

const BACKLOG = `version: 1
tasks:
  - id: bad
    title: Fails with its cause in the output
    ready: true
    allowed_paths: [docs/bad.md]
    run: ['${FAILING('first-cause')}']
  - id: ok
    title: Succeeds
    ready: true
    priority: high
    allowed_paths: [docs/ok.md]
    run: ["echo ok > docs/ok.md"]
  - id: bad2
    title: Fails too
    ready: true
    priority: low
    allowed_paths: [docs/bad2.md]
    run: ['${FAILING('second-cause')}']
  - id: later
    title: Not approved yet
    allowed_paths: [docs/later.md]
`;

let server: GitServer;
let target: Target;

beforeAll(async () => {
  server = await GitServer.start();
  target = await seedTarget(server, 'say-why', { config: CONFIG, backlog: BACKLOG });
});

afterAll(async () => {
  await server?.stop();
  if (target) await removeDir(target.root);
});

describe('a failure says why', () => {
  it('work prints the failing output tail, redacted; tick says it tripped the breaker and blocked the task', async () => {
    const work = await cli('work', '--task', 'bad', '--dir', target.dir);
    expect(work.code).toBe(1);
    const out = lines(work.stdout);
    expect(out[0]).toMatch(/^bad attempt 1\/1 failed \(executor_error\): .* failed \(exit 2\)/);
    expect(out[1]).toBe('  output (last 12 lines):');
    expect(out).toHaveLength(14);
    expect(out.at(-1)).toBe('  | first-cause: config missing, token [REDACTED]');
    expect(out[2]).toBe('  | noise 5');
    expect(work.stdout + work.stderr).not.toContain(TOKEN);
    expect(said(work.stderr)).toEqual([expect.stringMatching(/^leviathan: attempt failed: executor_error/)]);

    const tick = await cli('tick', '--dir', target.dir);
    expect(tick.code).toBe(0);
    expect(lines(tick.stdout)[0]).toBe(
      "nothing to dispatch; circuit breaker tripped after 1 consecutive failure (threshold 1): nothing is dispatched until 'leviathan breaker reset'; blocked bad (1 attempt used): 'leviathan retry bad' gives it another chance",
    );
    expect((await cli('breaker', 'reset', '--dir', target.dir, '--reason', 'seen')).code).toBe(0);
  });

  it('run prints each failure with its output, the trip and the block, and ends with the tally (exit 0)', async () => {
    const run = await cli('run', '--dir', target.dir);
    expect(run.code).toBe(0);
    const out = lines(run.stdout);
    expect(out[0]).toMatch(/^tick 1: dispatched a worker: ok \(attempt \w+\)$/);
    expect(out[1]).toBe('  ok attempt 1/1 succeeded: pull request #1 opened');
    expect(out[2]).toMatch(/^tick 2: dispatched a worker: bad2 /);
    expect(out[3]).toMatch(/^ {2}bad2 attempt 1\/1 failed \(executor_error\)/);
    expect(out).toContain('    | second-cause: config missing, token [REDACTED]');
    expect(out.at(-2)).toMatch(
      /^tick 3: nothing to dispatch; circuit breaker tripped after 1 consecutive failure .*; blocked bad2 \(1 attempt used\)/,
    );
    expect(out.at(-1)).toBe(
      'run: 3 ticks, 1 succeeded, 1 failed, 2 blocked, 1 waiting (1 not_ready), 1 PR to review',
    );
    expect(run.stdout).not.toContain(TOKEN);

    const json = await cli('run', '--dir', target.dir, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).tally).toEqual({
      succeeded: 0,
      failed: 0,
      blocked: 2,
      waiting: 1,
      in_review: 1,
      why: { not_ready: 1 },
    });
  });

  it('run documents its exit status in --help', async () => {
    const help = await cli('run', '--help');
    expect(help.stdout).toContain('Exit status: 0 when the loop ran');
  });
});

describe('events shows the whole detail', () => {
  it('the table cuts a long detail, --wide and --json never do', async () => {
    const table = await cli('events', '--dir', target.dir, '--task', 'bad2');
    const failedRow = lines(table.stdout).find((l) => l.includes('attempt.failed'))!;
    expect(failedRow).toContain('…');
    expect(failedRow).not.toContain('second-cause');

    const wide = await cli('events', '--dir', target.dir, '--task', 'bad2', '--wide');
    expect(wide.code).toBe(0);
    const wideText = wide.stdout;
    expect(wideText).toContain('second-cause: config missing, token [REDACTED]');
    expect(wideText).toContain('noise 15');

    const json = await cli('events', '--dir', target.dir, '--task', 'bad2', '--json');
    const failed = lines(json.stdout)
      .map((l) => JSON.parse(l) as { type: string; data: { detail: string; output_tail?: string } })
      .find((e) => e.type === 'attempt.failed')!;
    expect(failed.data.detail).toMatch(/failed \(exit 2\)$/);
    expect(failed.data.output_tail).toContain('noise 1\n');
    expect(failed.data.output_tail).toContain('second-cause: config missing, token [REDACTED]');
  });
});
