/**
 * The CLI end to end: `leviathan run` works every attempt in a scratch clone and leaves the user's checkout
 * (working tree, index, HEAD, branches) byte-identical; `leviathan demo` runs the narrated offline loop as a
 * real process and ends with a verified chain.
 */
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runLoop } from '../../src/cli/commands/run.js';
import { runWork } from '../../src/cli/commands/work.js';
import { GitServer } from '../harness/git-server.js';
import { git, removeDir } from '../harness/repo.js';
import {
  CLI,
  Clock,
  capture,
  checkoutFingerprint,
  eventsOf,
  ofType,
  originRefs,
  pullsOf,
  runNode,
  seedTarget,
  type Target,
} from '../helpers/loop.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  max_open_prs: 2
  attempt_timeout_minutes: 1
`;

const BACKLOG = `version: 1
tasks:
  - id: guide
    title: Write the guide
    ready: true
    allowed_paths: [docs/guide.md]
    run: ["echo guide > docs/guide.md"]
  - id: faq
    title: Write the FAQ
    ready: true
    allowed_paths: [docs/faq.md]
    run: ["echo faq > docs/faq.md"]
`;

let server: GitServer;
let target: Target;

beforeAll(async () => {
  server = await GitServer.start();
  target = await seedTarget(server, 'run', { config: CONFIG, backlog: BACKLOG });
});

afterAll(async () => {
  await server?.stop();
  if (target) await removeDir(target.root);
});

describe('leviathan run', () => {
  it("delivers the backlog without touching the user's working tree, index or HEAD", async () => {
    const dir = target.dir;
    // The user is mid-work: another branch checked out, a staged change, an unstaged one, an untracked file.
    await git(dir, ['checkout', '--quiet', '-b', 'my-feature']);
    await writeFile(join(dir, 'README.md'), '# run\n\nstaged edit\n');
    await git(dir, ['add', 'README.md']);
    await writeFile(join(dir, 'README.md'), '# run\n\nstaged edit\nand an unstaged one\n');
    await writeFile(join(dir, 'notes.txt'), 'untracked\n');
    const status = await git(dir, ['status', '--porcelain=v2', '--branch']);
    const before = await checkoutFingerprint(dir);
    const mainBefore = (await originRefs(target)).get('refs/heads/main');

    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const summary = await runLoop({ dir, maxTicks: 5, now: clock.now }, capture());
    expect(summary.attempts.map((a) => [a.task, a.status, a.pr])).toEqual([
      ['guide', 'succeeded', 1],
      ['faq', 'succeeded', 2],
    ]);
    expect(summary.last?.outcome).toBe('idle');

    expect(await checkoutFingerprint(dir)).toEqual(before);
    expect(await git(dir, ['status', '--porcelain=v2', '--branch'])).toBe(status);
    // Delivered as pull requests only.
    expect((await pullsOf(dir)).map((p) => [p.number, p.head, p.state])).toEqual([
      [1, 'leviathan/guide', 'open'],
      [2, 'leviathan/faq', 'open'],
    ]);
    expect((await originRefs(target)).get('refs/heads/main')).toBe(mainBefore);
    expect(ofType(await eventsOf(dir), 'attempt.succeeded')).toHaveLength(2);
  });
});

describe('leviathan work', () => {
  it('works from a checkout whose origin is a relative path (resolved against the checkout, not the scratch dir)', async () => {
    const other = await seedTarget(server, 'relative', { config: CONFIG, backlog: BACKLOG });
    try {
      await git(other.dir, ['remote', 'set-url', 'origin', relative(other.dir, other.bare)]);
      const result = await runWork(
        { dir: other.dir, task: 'guide', now: new Clock('2026-11-26T10:00:00.000Z').now },
        capture(),
      );
      expect(result.outcome).toMatchObject({ status: 'succeeded', pr: 1 });
      expect(await git(other.bare, ['rev-parse', '--verify', 'refs/heads/leviathan/guide'])).toMatch(
        /^[0-9a-f]{40}$/,
      );
    } finally {
      await removeDir(other.root);
    }
  });
});

describe('leviathan demo', () => {
  it('runs the whole offline loop as a process and ends with a verified chain', async () => {
    const r = await runNode([CLI, 'demo'], { timeoutMs: 140_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/chain ok: \d+ events/);
    // bwrap and unshare are installed here: the sample tasks run sandboxed, and the narration says so.
    expect(r.stdout).toContain('Every task command runs in a sandbox');
    // stderr carries the commands' progress lines; never an error.
    expect(r.stderr).not.toMatch(/leviathan:|error|Error/);
    expect(r.stdout).not.toContain('✘');
  }, 150_000);
});
