/**
 * Fail closed (SPEC §1.5), and ticks that must write nothing: a broken event chain, an unreachable forge and
 * an invalid backlog stop the tick with exit 1 and a one-line reason before anything is dispatched; an idle
 * tick appends no event; `--dry-run` writes nothing and explains every task.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { tick } from '../../src/scheduler/tick.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, commitFiles, git, makeTempDir, removeDir } from '../harness/repo.js';
import { lines, PROGRESS, cli as runCli } from '../helpers/cli.js';
import {
  Clock,
  cloneTarget,
  eventsOf,
  originRefs,
  seedTarget,
  type Target,
  tickOptions,
} from '../helpers/loop.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  max_open_prs: 2
  max_running_attempts: 2
  attempt_timeout_minutes: 1
`;

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
    title: Gamma page, not approved
    allowed_paths: [docs/gamma.md]
`;

let server: GitServer;
const targets: Target[] = [];
const clock = new Clock('2026-11-26T10:00:00.000Z');

beforeAll(async () => {
  server = await GitServer.start();
});

afterAll(async () => {
  await server?.stop();
  for (const t of targets) await removeDir(t.root);
});

async function newTarget(name: string, backlog = BACKLOG): Promise<Target> {
  const t = await seedTarget(server, name, { config: CONFIG, backlog });
  targets.push(t);
  return t;
}

/** Runs the CLI in-process and returns its exit code with the lines it printed. */
async function cli(args: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const r = await runCli(...args);
  return { code: r.code, stdout: lines(r.stdout), stderr: lines(r.stderr) };
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('fail closed', () => {
  it('a broken event chain: exit 1, one line naming the seq, no event and no dispatch', async () => {
    const t = await newTarget('broken-chain');
    const first = await tick(tickOptions(t.dir, clock.minutes(1).now));
    expect(first.outcome).toBe('dispatched'); // seq 1 attempt.created (beta), seq 2 attempt.dispatched

    // A human edits the first event in place on the events branch (a hand commit, valid JSON).
    const file = (await git(t.bare, ['ls-tree', '-r', '--name-only', 'leviathan-events']))
      .split('\n')
      .find((p) => p.startsWith('events/'))!;
    const lines = (await git(t.bare, ['show', `leviathan-events:${file}`])).split('\n');
    const edited = JSON.parse(lines[0]!);
    expect(edited).toMatchObject({ seq: 1, type: 'attempt.created', task: 'beta' });
    edited.task = 'alpha';
    lines[0] = JSON.stringify(edited);
    await commitFiles(t.bare, 'leviathan-events', { [file]: `${lines.join('\n')}\n` }, 'fix a typo');
    const before = await originRefs(t);

    const run = await cli(['tick', '--dir', t.dir]);
    expect(run.code).toBe(1);
    const said = run.stderr.filter((l) => !PROGRESS.test(l));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^leviathan: event chain broken at seq 1: hash_mismatch: .*dispatching nothing/);
    expect(run.stdout).toEqual([]);

    // --json turns progress off: then stderr is exactly that one line.
    const json = await cli(['tick', '--dir', t.dir, '--json']);
    expect(json.code).toBe(1);
    expect(json.stderr).toEqual([said[0]]);
    // With --json the error is one JSON object on stdout, the same line on stderr.
    expect(json.stdout.map((l) => typeof (JSON.parse(l) as { error?: unknown }).error)).toEqual(['string']);

    // Nothing was written anywhere on the origin: no event, no claim, no branch, no pull.
    expect(await originRefs(t)).toEqual(before);
    await expect(eventsOf(t.dir)).rejects.toThrow(/seq 1/);
  });

  it('an unreachable forge: exit 1 with a one-line reason, nothing dispatched', async () => {
    const t = await newTarget('unreachable');
    // A port nobody listens on any more.
    const dead = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const clone = await cloneTarget(t, 'offline');
    await git(clone, ['remote', 'set-url', 'origin', `http://127.0.0.1:${dead}/unreachable.git`]);
    const before = await originRefs(t);

    const run = await cli(['tick', '--dir', clone, '--json']);
    expect(run.code).toBe(1);
    expect(run.stderr).toHaveLength(1);
    expect(run.stderr[0]).toMatch(/^leviathan: the local forge is unreachable: .*127\.0\.0\.1/);
    // With --json the error is one JSON object on stdout, the same line on stderr.
    expect(run.stdout.map((l) => typeof (JSON.parse(l) as { error?: unknown }).error)).toEqual(['string']);
    expect(await originRefs(t)).toEqual(before);
    expect([...before.keys()].filter((r) => r.includes('leviathan'))).toEqual([]);

    // The same with the in-process API: it throws before anything is appended.
    await expect(tick(tickOptions(clone, clock.now))).rejects.toThrow(/unreachable/);
  });

  it('a server that stops between ticks: exit 1, and nothing was claimed', async () => {
    const other = await GitServer.start();
    const root = await makeTempDir('loop-stopped');
    try {
      await other.createRepo('stopped', {
        files: { '.leviathan/config.yaml': CONFIG, '.leviathan/backlog.yaml': BACKLOG },
      });
      const clone = await cloneRepo(other.url('stopped'), join(root, 'clone'));
      expect((await tick({ ...tickOptions(clone, clock.now), dryRun: true })).outcome).toBe('dry_run');
      const bare = join(root, 'kept.git');
      await git(root, ['clone', '--quiet', '--mirror', other.path('stopped'), bare]);
      await other.stop();

      const run = await cli(['tick', '--dir', clone, '--json']);
      expect(run.code).toBe(1);
      expect(run.stderr).toHaveLength(1);
      expect(run.stderr[0]).toMatch(/^leviathan: the local forge is unreachable/);
      // With --json the error is one JSON object on stdout, the same line on stderr.
      expect(run.stdout.map((l) => typeof (JSON.parse(l) as { error?: unknown }).error)).toEqual(['string']);
      // Before it stopped, the repository held only main: the dry run had written nothing.
      expect(await git(bare, ['for-each-ref', '--format=%(refname)'])).toBe('refs/heads/main');
    } finally {
      await other.stop().catch(() => {});
      await removeDir(root);
    }
  });

  it('an invalid backlog on the base branch: exit 1 with file:line:col lines, nothing dispatched', async () => {
    const t = await newTarget('invalid-backlog');
    await commitFiles(
      t.bare,
      'main',
      {
        '.leviathan/backlog.yaml': `${BACKLOG}  - id: alpha\n    title: Twice\n    colour: red\n    allowed_paths: [docs/x.md]\n`,
      },
      'a human breaks the backlog',
    );
    const before = await originRefs(t);

    const run = await cli(['tick', '--dir', t.dir, '--json']);
    expect(run.code).toBe(1);
    const diagnostics = run.stderr.filter((l) => !l.startsWith('leviathan: '));
    expect(diagnostics.length).toBeGreaterThanOrEqual(2);
    for (const line of diagnostics) expect(line).toMatch(/^\.leviathan\/backlog\.yaml:\d+:\d+: /);
    expect(diagnostics.join('\n')).toMatch(/alpha/);
    expect(diagnostics.join('\n')).toMatch(/colour/);
    expect(run.stderr.at(-1)).toBe('leviathan: .leviathan/backlog.yaml is invalid');
    // With --json the error is one JSON object on stdout, the same line on stderr.
    expect(run.stdout.map((l) => typeof (JSON.parse(l) as { error?: unknown }).error)).toEqual(['string']);
    expect(await originRefs(t)).toEqual(before);
    expect(before.has('refs/heads/leviathan-events')).toBe(false);
  });
});

describe('ticks that write nothing', () => {
  it('an idle tick appends no event (seq unchanged, events branch untouched)', async () => {
    const t = await newTarget(
      'idle',
      `version: 1
tasks:
  - id: gamma
    title: Not approved
    allowed_paths: [docs/gamma.md]
`,
    );
    const before = await originRefs(t);
    const report = await tick(tickOptions(t.dir, clock.minutes(1).now));
    expect(report).toMatchObject({ outcome: 'idle', task: null, appended: [] });
    expect(report.rows.map((r) => [r.task, r.reason])).toEqual([['gamma', 'not_ready']]);
    expect(await originRefs(t)).toEqual(before);

    // Also once the log exists: a tick with nothing to do leaves its seq where it was.
    const busy = await newTarget('idle-after-work');
    await tick(tickOptions(busy.dir, clock.minutes(1).now)); // claims beta
    await tick(tickOptions(busy.dir, clock.minutes(1).now)); // claims alpha (2 running allowed)
    const seq = (await eventsOf(busy.dir)).length;
    const refs = await originRefs(busy);
    const idle = await tick(tickOptions(busy.dir, clock.minutes(1).now));
    expect(idle).toMatchObject({ outcome: 'idle', appended: [] });
    expect(idle.rows.map((r) => r.reason)).toEqual(['running', 'running', 'not_ready']);
    expect((await eventsOf(busy.dir)).length).toBe(seq);
    expect(await originRefs(busy)).toEqual(refs);
  });

  it('--dry-run writes nothing and gives a reason for every task, from the base branch only', async () => {
    const t = await newTarget('dry-run');
    // The maintainer's clone has an unpushed commit making gamma ready: the scheduler never reads it.
    await commitFiles(
      t.dir,
      'main',
      {
        '.leviathan/backlog.yaml': BACKLOG.replace(
          'title: Gamma page, not approved',
          'title: G\n    ready: true',
        ),
      },
      'local only',
    );
    await git(t.dir, ['reset', '--quiet', '--hard', 'main']);
    const before = await originRefs(t);

    const report = await tick({ ...tickOptions(t.dir, clock.minutes(1).now), dryRun: true });
    expect(report).toMatchObject({ outcome: 'dry_run', task: null, attempt: null, appended: [] });
    expect(report.rows.map((r) => [r.task, r.reason])).toEqual([
      ['alpha', 'queued'],
      ['beta', 'selected'],
      ['gamma', 'not_ready'],
    ]);
    // Nothing was claimed, so no row counts an attempt.
    expect(report.rows.map((r) => r.attempts)).toEqual([0, 0, 0]);

    const run = await cli(['tick', '--dir', t.dir, '--dry-run', '--json']);
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout.join(''));
    expect(printed.outcome).toBe('dry_run');
    expect(printed.rows.map((r: { task: string; reason: string }) => [r.task, r.reason])).toEqual([
      ['alpha', 'queued'],
      ['beta', 'selected'],
      ['gamma', 'not_ready'],
    ]);
    expect(await originRefs(t)).toEqual(before);
    expect([...before.keys()].filter((r) => r.includes('leviathan'))).toEqual([]);
  });
});
