/**
 * Issue 7 §2, delivery reads the result as data: hostile agents (real scripts in test/fixtures/hostile/) run
 * as tasks through the real CLI worker (`leviathan run`, the committed bundle) against the real smart-HTTP git
 * server, which wants a token (kept only in the maintainer's checkout config, as actions/checkout leaves it).
 * Each case must end in `attempt.failed` with its reason, no PR, nothing pushed but a bounded WIP branch,
 * no hook or filter run by Leviathan (a marker file every planted hook and filter touches), and the token
 * nowhere: no branch, event, output or PR body. An honest task before and after them still succeeds.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LeviathanEvent } from '../../src/core/events.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, git, installHook, makeTempDir, removeDir } from '../harness/repo.js';
import { type ChildResult, CLI, eventsOf, ofType, pullsOf, runNode } from '../helpers/loop.js';

const TOKEN = `tok-hostile-${process.pid}-a1b2c3d4e5`;
const AUTH = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
const FIXTURES = resolve('test/fixtures/hostile');

const CONFIG = `version: 1
scope:
  allowed_paths: [".leviathan/**", "docs/**"]
limits:
  max_open_prs: 20
  max_running_attempts: 1
  max_attempts_per_task: 1
  circuit_breaker_failures: 100
  max_dispatches_per_hour: 100
  attempt_timeout_minutes: 20
  max_files_changed: 50
`;

interface Hostile {
  id: string;
  script: string;
  reason: string;
  detail: RegExp;
}

const CASES: Hostile[] = [
  { id: 'plant-git', script: 'plant-git.sh', reason: 'scope_violation', detail: /docs\/\.gitattributes/ },
  {
    id: 'replace-base',
    script: 'replace-base.sh',
    reason: 'scope_violation',
    detail: /\.leviathan\/config\.yaml/,
  },
  {
    id: 'symlinks',
    script: 'symlinks.sh',
    reason: 'scope_violation',
    detail: /"docs\/e": symlink to "\.github"/,
  },
  {
    id: 'push-base',
    script: 'push-base.sh',
    reason: 'scope_violation',
    detail: /docs\/\.GIT\/config.*git refuses/,
  },
  { id: 'caps', script: 'caps.sh', reason: 'limit_exceeded', detail: /10002 files changed, limit 50/ },
  { id: 'protected-case', script: 'protected-case.sh', reason: 'scope_violation', detail: /docs\/\.ENV/ },
];

let server: GitServer;
let root: string;
let bare: string;
let url: string;
let dir: string;
let pushLog: string;
let marker: string;
let run: ChildResult;
let events: LeviathanEvent[];

function backlog(): string {
  const task = (id: string, run: string, extra = '') =>
    `  - id: ${id}\n    title: Task ${id}\n    ready: true\n${extra}    allowed_paths: ["docs/**"]\n    run: [${JSON.stringify(run)}]\n`;
  const hostile = CASES.map((c) =>
    task(c.id, `sh ${join(FIXTURES, c.script)} ${marker} ${root} ${url}`, '    priority: medium\n'),
  );
  return `version: 1\ntasks:\n${[
    task('honest-first', 'echo hello > docs/honest.md', '    priority: high\n'),
    ...hostile,
    task('honest-after', 'echo after > docs/after.md', '    priority: low\n'),
  ].join('')}`;
}

function cli(args: string[]): Promise<ChildResult> {
  return runNode([CLI, ...args], {
    env: {
      HOME: join(root, 'home'),
      TMPDIR: join(root, 'tmp'),
      GITHUB_TOKEN: TOKEN,
      LEVIATHAN_TOKEN: TOKEN,
      // The fixtures live in this checkout, which the sandbox hides like any other.
      LEVIATHAN_SANDBOX_SHOW: FIXTURES,
    },
    timeoutMs: 400_000,
  });
}

/** Every object the origin holds (blobs, trees, commits of every ref and pull record), as text. */
function originText(): Promise<string> {
  return git(bare, ['cat-file', '--batch-all-objects', '--batch']);
}

/** The origin's refs, read in the bare repository (the server wants the token). */
async function refsOf(): Promise<Map<string, string>> {
  const out = await git(bare, ['for-each-ref', '--format=%(objectname) %(refname)']);
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ').reverse() as [string, string]),
  );
}

/** The ref updates the origin received since the backlog was pushed. */
async function pushes(): Promise<Array<{ ref: string }>> {
  const text = await readFile(pushLog, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => ({ ref: line.split(' ')[2] ?? '' }));
}

beforeAll(async () => {
  server = await GitServer.start({ token: TOKEN });
  root = await makeTempDir('hostile');
  // Run as root, the sandbox runs as nobody, which must be able to reach the work trees made in here.
  await chmod(root, 0o711);
  await mkdir(join(root, 'home'), { recursive: true });
  await mkdir(join(root, 'tmp'), { recursive: true });
  marker = join(root, 'a-hook-or-filter-ran');
  url = server.url('hostile');
  bare = await server.createRepo('hostile', {
    files: {
      'README.md': '# hostile\n',
      'docs/index.md': '# Docs\n',
      '.leviathan/config.yaml': CONFIG,
      '.leviathan/backlog.yaml': 'version: 1\ntasks: []\n',
    },
  });
  pushLog = join(root, 'pushes.log');
  await installHook(bare, 'post-receive', `cat >> '${pushLog}'`);
  dir = await cloneRepo(url, join(root, 'maintainer'), { token: TOKEN });
  // As actions/checkout leaves it: the token only as a header in the checkout's own config.
  await git(dir, ['config', `http.${url}.extraheader`, `AUTHORIZATION: basic ${AUTH}`]);
  await git(dir, ['config', 'core.hooksPath', '/dev/null']);
  // The backlog names the fixtures by absolute path, so it is written once the paths are known.
  await writeFile(join(dir, '.leviathan/backlog.yaml'), backlog());
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-qm', 'hostile backlog']);
  await git(dir, ['push', '-q', 'origin', 'HEAD:main']);
  await writeFile(pushLog, '');

  run = await cli(['run', '--dir', dir, '--json', '--max-ticks', '20']);
  events = await eventsOf(dir);
}, 600_000);

afterAll(async () => {
  await server?.stop();
  if (root) await removeDir(root);
});

const failedOf = (task: string) => ofType(events, 'attempt.failed', task);

describe('hostile agents through the CLI worker', () => {
  it('runs the whole loop: every task attempted once, honest ones delivered, the loop never aborted', () => {
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      attempts: Array<{ task: string; status: string; reason?: string }>;
    };
    const byTask = Object.fromEntries(summary.attempts.map((a) => [a.task, a]));
    expect(Object.keys(byTask).sort()).toEqual(
      ['honest-after', 'honest-first', ...CASES.map((c) => c.id)].sort(),
    );
    expect(byTask['honest-first']).toMatchObject({ status: 'succeeded' });
    expect(byTask['honest-after']).toMatchObject({ status: 'succeeded' });
    for (const c of CASES) expect(byTask[c.id]).toMatchObject({ status: 'failed', reason: c.reason });
  });

  it.each(CASES)('$id ends in attempt.failed ($reason), no PR, only a bounded WIP pushed', async (c) => {
    const failed = failedOf(c.id);
    expect(failed).toHaveLength(1);
    const data = failed[0]!.data as { reason: string; detail: string; wip_branch?: string };
    expect(data).toMatchObject({ reason: c.reason, detail: expect.stringMatching(c.detail) });
    expect(ofType(events, 'attempt.succeeded', c.id)).toHaveLength(0);
    expect((await pullsOf(dir)).filter((p) => p.head.includes(c.id))).toEqual([]);

    const refs = await refsOf();
    expect(refs.has(`refs/heads/leviathan/${c.id}`)).toBe(false);
    const own = (await pushes()).map((p) => p.ref).filter((r) => r.includes(c.id));
    expect(own).toEqual([`refs/heads/leviathan-wip/${c.id}/${failed[0]!.attempt}`]);
    expect(data.wip_branch).toBe(`leviathan-wip/${c.id}/${failed[0]!.attempt}`);
    // The WIP holds only what the task could have shipped, plus the manifest of the rest.
    const kept = (await git(bare, ['ls-tree', '-r', '-l', `refs/heads/${data.wip_branch}`])).split('\n');
    for (const line of kept) {
      const [meta = '', path = ''] = line.split('\t');
      if (!path) continue;
      expect(path).not.toMatch(/^\.github\/|\.GIT\/|\.gitattributes$|\.ENV$|\.PEM$|Secret|^docs\/[epw]$/);
      expect(Number(meta.split(/\s+/)[3])).toBeLessThan(4 * 1024 * 1024);
    }
    expect(kept.some((l) => l.endsWith('\tLEVIATHAN-WIP-MANIFEST.json'))).toBe(true);
  });

  it('the base branch and the config never move: only a human merge writes main', async () => {
    const mainUpdates = (await pushes()).filter((p) => p.ref === 'refs/heads/main');
    expect(mainUpdates).toEqual([]);
    const config = await git(bare, ['show', 'main:.leviathan/config.yaml']);
    expect(config).toBe(CONFIG.trimEnd());
    expect(await git(bare, ['ls-tree', '-r', '--name-only', 'main'])).not.toMatch(/\.github/);
  });

  it('no branch on the origin carries the replaced base or a workflow', async () => {
    for (const [ref, sha] of await refsOf()) {
      if (!ref.startsWith('refs/heads/leviathan')) continue;
      const names = await git(bare, ['ls-tree', '-r', '--name-only', sha]);
      expect(names).not.toMatch(/^\.github\//m);
    }
    const refs = await git(bare, ['for-each-ref', '--format=%(refname)']);
    expect(refs).not.toMatch(/refs\/replace|refs\/hostile/);
  });

  it('the caps case is read no further than needed and kept as a manifest, not content', async () => {
    const wip = (failedOf('caps')[0]!.data as { wip_branch: string }).wip_branch;
    const names = (await git(bare, ['ls-tree', '-r', '--name-only', `refs/heads/${wip}`])).split('\n');
    expect(names).not.toContain('docs/big.bin');
    expect(names.filter((n) => n.startsWith('docs/many/'))).toHaveLength(0);
    const manifest = JSON.parse(
      await git(bare, ['show', `refs/heads/${wip}:LEVIATHAN-WIP-MANIFEST.json`]),
    ) as {
      changes: number;
      rows: Array<{ path: string; size: number; oid: string | null; withheld?: string }>;
    };
    expect(manifest.changes).toBe(10_001);
    const big = manifest.rows.find((r) => r.path === 'docs/big.bin');
    expect(big).toMatchObject({ size: 10 * 1024 ** 3, oid: null, withheld: 'over the caps' });
    expect(manifest.rows.find((r) => r.path === 'docs/many/f7.md')?.oid).toMatch(/^[0-9a-f]{40}$/);
  });

  it('no hook, filter or fsmonitor that the agents planted ever ran', async () => {
    // Each planted hook and filter writes what it is and where it ran.
    expect(existsSync(marker) ? await readFile(marker, 'utf8') : '').toBe('');
  });

  it('the token is nowhere: no object on the origin, event, output or PR body', async () => {
    const haystacks = [
      await originText(),
      JSON.stringify(events),
      run.stdout,
      run.stderr,
      JSON.stringify(await pullsOf(dir)),
    ];
    for (const text of haystacks) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(AUTH);
    }
  });

  it('the PR of an honest task names the commit it pushed, and pr.created records it', async () => {
    const created = ofType(events, 'pr.created', 'honest-first')[0]!;
    const head = (await refsOf()).get('refs/heads/leviathan/honest-first');
    expect(created.data).toMatchObject({ head_sha: head });
    const pull = (await pullsOf(dir)).find((p) => p.head === 'leviathan/honest-first')!;
    expect(pull.body).toContain(`head=${head} -->`);
  });

  it('pr merge refuses a PR whose branch moved after Leviathan judged it, and merges the judged commit', async () => {
    const pull = (await pullsOf(dir)).find((p) => p.head === 'leviathan/honest-after')!;
    const pusher = await cloneRepo(url, join(root, 'pusher'), { token: TOKEN });
    await git(pusher, ['config', `http.${url}.extraheader`, `AUTHORIZATION: basic ${AUTH}`]);
    await new Promise<void>((ok, ko) =>
      execFile('sh', [join(FIXTURES, 'late-pusher.sh'), pusher, pull.head], (e) => (e ? ko(e) : ok())),
    );
    const before = (await refsOf()).get('refs/heads/main');
    const refused = await cli(['pr', 'merge', String(pull.number), '--dir', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/moved from [0-9a-f]{12} \(the commit Leviathan checked\)/);
    expect((await refsOf()).get('refs/heads/main')).toBe(before);

    const first = (await pullsOf(dir)).find((p) => p.head === 'leviathan/honest-first')!;
    const merged = await cli(['pr', 'merge', String(first.number), '--dir', dir]);
    expect(merged.code).toBe(0);
    const judged = ofType(events, 'pr.created', 'honest-first')[0]!.data as { head_sha: string };
    await git(bare, ['merge-base', '--is-ancestor', judged.head_sha, 'main']);
  });
});
