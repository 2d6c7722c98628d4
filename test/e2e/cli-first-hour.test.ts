/**
 * A maintainer's first hour through the real CLI on the real git server: `tick --dry-run` says when the
 * working tree's backlog is not the one it acted on; `pr show N` and `pr diff N` review a pull request from a
 * fresh clone; every environment error is one clear line with one wording; validate works from a subdirectory.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, git, initRepo, makeTempDir, removeDir } from '../harness/repo.js';
import { cli, lines, said } from '../helpers/cli.js';
import { cloneTarget, seedTarget, type Target } from '../helpers/loop.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  attempt_timeout_minutes: 1
`;

const BACKLOG = `version: 1
tasks:
  - id: guide
    title: Write the guide
    ready: true
    allowed_paths: [docs/guide.md]
    run: ["printf '# Guide\\\\n\\\\nRead me.\\\\n' > docs/guide.md"]
`;

let server: GitServer;
let target: Target;
let root: string;

beforeAll(async () => {
  server = await GitServer.start();
  target = await seedTarget(server, 'first-hour', { config: CONFIG, backlog: BACKLOG });
  root = await makeTempDir('first-hour');
});

afterAll(async () => {
  await server?.stop();
  if (target) await removeDir(target.root);
  if (root) await removeDir(root);
});

describe('tick --dry-run and the working tree', () => {
  it('says nothing when they agree, and names the documents when the working tree differs', async () => {
    const clean = await cli('tick', '--dry-run', '--dir', target.dir);
    expect(clean.code).toBe(0);
    expect(said(clean.stderr)).toEqual([]);

    await appendFile(
      join(target.dir, '.leviathan/backlog.yaml'),
      '  - id: more\n    title: More\n    ready: true\n    allowed_paths: [docs/more.md]\n',
    );
    const drift = await cli('tick', '--dry-run', '--dir', target.dir);
    expect(drift.code).toBe(0);
    expect(said(drift.stderr)).toEqual([
      "warning: this dry run acted on main on the origin; the working tree's .leviathan/backlog.yaml differs from it (commit .leviathan/ and push it to the base branch: tick and run read the documents only from there)",
    ]);
    // It acted on the base branch: the uncommitted task is not in its table.
    expect(drift.stdout).not.toContain('more');
    const json = await cli('tick', '--dry-run', '--dir', target.dir, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      outcome: 'dry_run',
      working_tree_differs: ['.leviathan/backlog.yaml'],
    });
    await git(target.dir, ['checkout', '--', '.leviathan/backlog.yaml']);
  });
});

describe('pr show and pr diff on the local forge', () => {
  it('review a pull request from a fresh clone, where refs/leviathan/pulls was never fetched', async () => {
    expect((await cli('run', '--dir', target.dir)).code).toBe(0);
    const fresh = await cloneTarget(target, 'fresh');

    const show = await cli('pr', 'show', '1', '--dir', fresh);
    expect(show.code).toBe(0);
    const out = lines(show.stdout);
    expect(out[0]).toBe('#1 draft: Write the guide');
    expect(out[1]).toMatch(/^leviathan\/guide → main at [0-9a-f]{12}; created /);
    expect(show.stdout).toMatch(/ docs\/guide\.md +\| 3 \+\+\+\n/);
    expect(out.at(-1)).toBe('the whole change: leviathan pr diff 1; then leviathan pr merge 1 or pr close 1');

    const diff = await cli('pr', 'diff', '1', '--dir', fresh);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('+++ b/docs/guide.md\n@@ -0,0 +1,3 @@\n+# Guide\n+\n+Read me.\n');
    // The backlog write-back is part of the change too.
    expect(diff.stdout).toContain('+++ b/.leviathan/backlog.yaml');

    const json = await cli('pr', 'diff', '1', '--dir', fresh, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ number: 1, diff: expect.stringContaining('+# Guide') });
    const missing = await cli('pr', 'show', '7', '--dir', fresh);
    expect(missing.code).toBe(1);
    expect(said(missing.stderr)).toEqual(['leviathan: pull #7 does not exist in refs/leviathan/pulls']);
  });
});

/** One repository per environment, made once; each row runs a command in it. */
interface Places {
  plain: string;
  empty: string;
  noOrigin: string;
  pathOrigin: string;
  httpMissing: string;
  unreachable: string;
  subdir: string;
}

async function places(): Promise<Places> {
  const plain = join(root, 'plain');
  await mkdir(plain);
  const empty = await initRepo(join(root, 'empty'), { empty: true });
  const noOrigin = await initRepo(join(root, 'no-origin'));
  const withOrigin = async (name: string, url: string) => {
    const dir = await initRepo(join(root, name));
    await git(dir, ['remote', 'add', 'origin', url]);
    return dir;
  };
  const subdir = join(await cloneRepo(target.url, join(root, 'sub-clone')), 'docs', 'deeper');
  await mkdir(subdir, { recursive: true });
  return {
    plain,
    empty,
    noOrigin,
    pathOrigin: await withOrigin('path-origin', join(root, 'no-such-origin.git')),
    httpMissing: await withOrigin('http-missing', server.url('no-such-repo')),
    unreachable: await withOrigin('unreachable', 'http://127.0.0.1:1/x.git'),
    subdir,
  };
}

const NOT_A_REPO = (dir: string) =>
  `leviathan: ${dir} is not a git repository (run 'git init' there, or pass --dir)`;

describe('environment errors: one clear line each', () => {
  let p: Places;
  beforeAll(async () => {
    p = await places();
  });

  const rows: Array<[what: string, argv: (p: Places) => string[], line: (p: Places) => RegExp | string]> = [
    ...(
      ['tick', 'run', 'status', 'events', 'verify', 'pr list', 'retry guide', 'work --task guide'] as const
    ).map((command): [string, (p: Places) => string[], (p: Places) => string] => [
      `${command}: not a git repository`,
      (p) => [...command.split(' '), '--dir', p.plain],
      (p) => NOT_A_REPO(p.plain),
    ]),
    ...(['tick', 'validate', 'status', 'pr show 1'] as const).map(
      (command): [string, (p: Places) => string[], () => string] => [
        `${command}: --dir pointing nowhere`,
        () => [...command.split(' '), '--dir', 'no/such/dir'],
        () => 'leviathan: no/such/dir: no such directory',
      ],
    ),
    [
      'tick: a repository with no commits',
      (p) => ['tick', '--dir', p.empty],
      () =>
        /^leviathan: base branch main was not found \(the repository has no commits yet: commit \.leviathan\//,
    ],
    [
      'tick: no origin, and nothing committed on the local branch',
      (p) => ['tick', '--dir', p.noOrigin],
      () => /^leviathan: \.leviathan\/backlog\.yaml is missing on the base branch \(commit \.leviathan\//,
    ],
    [
      'tick: an origin path that does not exist (git says two things; both are kept)',
      (p) => ['tick', '--dir', p.pathOrigin],
      () =>
        /^leviathan: the local forge is unreachable: .*no-such-origin\.git' does not appear to be a git repository fatal: Could not read from remote repository\. .*repository exists\.$/,
    ],
    [
      'tick: an origin URL the server does not have',
      (p) => ['tick', '--dir', p.httpMissing],
      () => /^leviathan: the local forge is unreachable: .*no-such-repo\.git.*not found/,
    ],
    [
      'events: an origin that cannot be reached',
      (p) => ['events', '--dir', p.unreachable],
      () =>
        /^leviathan: could not fetch refs\/heads\/leviathan-events from http:\/\/127\.0\.0\.1:1\/x\.git: .*connect/i,
    ],
  ];

  it.each(rows)('%s', async (_what, argv, line) => {
    const r = await cli(...argv(p));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const [only, ...rest] = said(r.stderr);
    expect(rest).toEqual([]);
    const expected = line(p);
    if (typeof expected === 'string') expect(only).toBe(expected);
    else expect(only).toMatch(expected);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('validate works from a subdirectory of the repository, like the other commands', async () => {
    const r = await cli('validate', '--dir', p.subdir);
    expect(r).toEqual({
      code: 0,
      stdout: 'ok: 1 tasks, 1 ready, 1 in scope (working tree, same as origin/main)\n',
      stderr: '',
    });
    const status = await cli('status', '--dir', p.subdir);
    expect(status.code).toBe(0);
  });

  it('without an origin, a subdirectory reaches the same event log as the top level', async () => {
    const sub = join(p.noOrigin, 'docs');
    await mkdir(sub, { recursive: true });
    expect((await cli('breaker', 'reset', '--dir', p.noOrigin, '--reason', 'from the top')).code).toBe(0);
    const events = await cli('events', '--dir', sub, '--json');
    expect(events.code).toBe(0);
    expect(lines(events.stdout).map((l) => (JSON.parse(l) as { type: string }).type)).toEqual([
      'breaker.reset',
    ]);
  });
});

describe('CLI basics', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    expect(await cli('--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('--forge accepts only the forges that exist; with --json the error is a JSON object, same exit code', async () => {
    const plain = await cli('tick', '--forge', 'gitlab', '--dir', target.dir);
    expect(plain.code).toBe(2);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toMatch(/'gitlab' is invalid\. Allowed choices are local, github\./);
    const json = await cli('tick', '--forge', 'gitlab', '--json', '--dir', target.dir);
    expect(json.code).toBe(plain.code);
    expect(JSON.parse(json.stdout)).toEqual({
      error: expect.stringMatching(/'gitlab' is invalid\. Allowed choices are local, github\./),
      hint: 'see --help',
    });
    const nowhere = await cli('status', '--json', '--dir', 'no/such/dir');
    expect(nowhere.code).toBe(1);
    expect(JSON.parse(nowhere.stdout)).toEqual({ error: 'no/such/dir: no such directory', hint: null });
  });
});
