import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ForgeError } from '../../src/forge/forge.js';
import { LocalForge } from '../../src/forge/local.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, commitFiles, git, initRepo, makeTempDir, removeDir } from '../harness/repo.js';
import { pullInput } from '../helpers/pull-fixtures.js';
import { sized } from '../helpers/stress.js';

/** A clock the tests move by hand. */
function clock(start = '2026-11-26T10:00:00.000Z') {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
  };
}

/** Pushes a branch off origin/main with `files` committed, as a worker would (over HTTP). */
async function pushBranch(clone: string, branch: string, files: Record<string, string>): Promise<string> {
  await git(clone, ['fetch', '--quiet', 'origin', 'main']);
  await git(clone, ['update-ref', `refs/heads/${branch}`, 'FETCH_HEAD']);
  const sha = await commitFiles(clone, branch, files, `work on ${branch}`);
  await git(clone, ['push', '--quiet', 'origin', `refs/heads/${branch}:refs/heads/${branch}`]);
  return sha;
}

/** Everything a merge must never touch in the user's checkout. */
async function snapshot(clone: string) {
  return {
    head: await git(clone, ['rev-parse', 'HEAD']),
    symref: await git(clone, ['symbolic-ref', 'HEAD']),
    status: await git(clone, ['status', '--porcelain', '--untracked-files=all']),
    index: await git(clone, ['ls-files', '--stage']),
    branches: await git(clone, ['for-each-ref', 'refs/heads']),
    worktrees: await git(clone, ['worktree', 'list', '--porcelain']),
    readme: await readFile(join(clone, 'README.md'), 'utf8'),
  };
}

let server: GitServer;
let root: string;
let counter = 0;

beforeAll(async () => {
  server = await GitServer.start();
  root = await makeTempDir('forge-local');
});

afterAll(async () => {
  await server?.stop();
  await removeDir(root);
});

/** A fresh origin on the HTTP server with a user's clone and a worker's clone of it. */
async function setup(files: Record<string, string> = { 'README.md': '# target\n' }) {
  const name = `target${++counter}`;
  const bare = await server.createRepo(name, { files });
  const user = await cloneRepo(server.url(name), join(root, `${name}-user`));
  const worker = await cloneRepo(server.url(name), join(root, `${name}-worker`));
  const c = clock();
  const forge = new LocalForge({ dir: user, now: c.now });
  return { name, bare, user, worker, clock: c, forge };
}

describe('LocalForge over a smart-HTTP origin', () => {
  it('reads the default branch from the origin HEAD symref', async () => {
    const { bare, forge, user } = await setup();
    expect(await forge.defaultBranch()).toBe('main');
    await commitFiles(bare, 'trunk', { 'a.txt': 'a\n' });
    await git(bare, ['symbolic-ref', 'HEAD', 'refs/heads/trunk']);
    expect(await new LocalForge({ dir: user }).defaultBranch()).toBe('trunk');
  });

  it('an unreachable origin is a ForgeError, never a guessed default branch', async () => {
    const { user } = await setup();
    await git(user, ['remote', 'set-url', 'origin', server.url('no-such-repo')]);
    const forge = new LocalForge({ dir: user });
    await expect(forge.defaultBranch()).rejects.toThrow(/could not read the default branch of http:/);
    await expect(forge.findOpenPull('leviathan/x')).rejects.toBeInstanceOf(ForgeError);
  });

  it('creates a pull as a JSON record on refs/leviathan/pulls of the origin', async () => {
    const { name, bare, worker, forge } = await setup();
    await pushBranch(worker, 'leviathan/docs', { 'docs/a.md': 'a\n' });
    const { pull, created } = await forge.upsertPull(pullInput('leviathan/docs'));
    expect(created).toBe(true);
    expect(pull).toMatchObject({
      number: 1,
      head: 'leviathan/docs',
      base: 'main',
      state: 'open',
      draft: true,
      labels: ['leviathan'],
      created_at: '2026-11-26T10:00:00.000Z',
      closed_at: null,
      merged_at: null,
    });
    expect(pull.url).toBe(`${server.url(name)}#pull/1`);
    // Visible with plain git on the origin.
    const stored = JSON.parse(await git(bare, ['show', 'refs/leviathan/pulls:pulls/1.json']));
    expect(stored).toMatchObject({ number: 1, head: 'leviathan/docs', state: 'open', comments: [] });
    expect(await git(bare, ['show', 'refs/leviathan/pulls:next'])).toBe('2');
  });

  it('refuses a pull whose head branch is not on the origin, and writes nothing', async () => {
    const { bare, forge } = await setup();
    await expect(forge.upsertPull(pullInput('leviathan/ghost'))).rejects.toThrow(
      /branch leviathan\/ghost does not exist on http:\/\/127\.0\.0\.1:\d+\/target\d+\.git/,
    );
    await expect(forge.upsertPull(pullInput('leviathan/ghost'))).rejects.toBeInstanceOf(ForgeError);
    await expect(git(bare, ['rev-parse', '--verify', 'refs/leviathan/pulls'])).rejects.toThrow();
  });

  it('lists by prefix or label, includes recently closed ones, and finds the open pull of a branch', async () => {
    const { worker, forge, clock: c } = await setup();
    for (const b of ['leviathan/a', 'leviathan/b', 'feature/human', 'feature/labelled']) {
      await pushBranch(worker, b, { [`${b.replace('/', '-')}.txt`]: 'x\n' });
    }
    await forge.upsertPull(pullInput('leviathan/a'));
    await forge.upsertPull(pullInput('leviathan/b'));
    await forge.upsertPull(pullInput('feature/human', { labels: [] }));
    await forge.upsertPull(pullInput('feature/labelled', { labels: ['leviathan'] }));
    c.advance(60_000);
    await forge.close(2);

    const since = (iso: string) => ({
      branchPrefix: 'leviathan/',
      labels: ['leviathan'],
      closedSince: new Date(iso),
    });
    const recent = await forge.listPulls(since('2026-11-26T10:00:30.000Z'));
    expect(recent.map((p) => [p.number, p.state])).toEqual([
      [1, 'open'],
      [2, 'closed'],
      [4, 'open'],
    ]);
    const later = await forge.listPulls(since('2026-11-26T11:00:00.000Z'));
    expect(later.map((p) => p.number)).toEqual([1, 4]);

    expect((await forge.findOpenPull('leviathan/a'))?.number).toBe(1);
    expect(await forge.findOpenPull('leviathan/b')).toBeNull();
    expect(await forge.findOpenPull('leviathan/none')).toBeNull();
  });

  it('updates the open pull of a branch in place (same number, created:false) and is idempotent', async () => {
    const { bare, worker, forge, clock: c } = await setup();
    await pushBranch(worker, 'leviathan/u', { 'u.txt': 'u\n' });
    await forge.upsertPull(pullInput('leviathan/u'));
    c.advance(1000);
    const again = await forge.upsertPull(
      pullInput('leviathan/u', { title: 'Retitled', body: 'attempt 2', draft: false, labels: ['extra'] }),
    );
    expect(again.created).toBe(false);
    expect(again.pull).toMatchObject({
      number: 1,
      title: 'Retitled',
      body: 'attempt 2',
      draft: false,
      labels: ['leviathan', 'extra'],
      created_at: '2026-11-26T10:00:00.000Z',
      updated_at: '2026-11-26T10:00:01.000Z',
    });
    const tip = await git(bare, ['rev-parse', 'refs/leviathan/pulls']);
    const same = await forge.upsertPull(
      pullInput('leviathan/u', { title: 'Retitled', body: 'attempt 2', draft: false, labels: ['extra'] }),
    );
    expect(same).toMatchObject({ created: false, pull: { number: 1 } });
    expect(await git(bare, ['rev-parse', 'refs/leviathan/pulls'])).toBe(tip); // nothing written
  });

  it('stores comments in the record', async () => {
    const { worker, forge, clock: c } = await setup();
    await pushBranch(worker, 'leviathan/c', { 'c.txt': 'c\n' });
    await forge.upsertPull(pullInput('leviathan/c'));
    c.advance(5000);
    await forge.comment(1, 'attempt 2 failed: verify_failed');
    await forge.comment(1, 'second');
    const record = await forge.getPull(1);
    expect(record.comments).toEqual([
      { body: 'attempt 2 failed: verify_failed', created_at: '2026-11-26T10:00:05.000Z' },
      { body: 'second', created_at: '2026-11-26T10:00:05.000Z' },
    ]);
    expect(record.updated_at).toBe('2026-11-26T10:00:05.000Z');
  });

  it('merges with a real --no-ff merge pushed to the base branch, never touching the user checkout', async () => {
    const { bare, user, worker, forge, clock: c } = await setup();
    const head = await pushBranch(worker, 'leviathan/m', { 'docs/m.md': 'merged\n' });
    await forge.upsertPull(pullInput('leviathan/m'));
    const mainBefore = await git(bare, ['rev-parse', 'refs/heads/main']);
    // The user has local, uncommitted work: it must survive as it is.
    await writeFile(join(user, 'README.md'), '# local edit\n');
    await writeFile(join(user, 'scratch.txt'), 'untracked\n');
    const before = await snapshot(user);

    c.advance(3_600_000);
    const result = await forge.merge(1);

    const mainAfter = await git(bare, ['rev-parse', 'refs/heads/main']);
    expect(mainAfter).toBe(result.mergeCommit);
    const parents = (await git(bare, ['rev-list', '--parents', '-n', '1', mainAfter])).split(' ').slice(1);
    expect(parents).toEqual([mainBefore, head]);
    expect(await git(bare, ['show', `${mainAfter}:docs/m.md`])).toBe('merged');
    expect(await git(bare, ['log', '-1', '--format=%s%n%an <%ae>%n%cI', mainAfter])).toBe(
      'Merge pull request #1 from leviathan/m\nTest User <test@example.com>\n2026-11-26T11:00:00+00:00',
    );
    expect(await snapshot(user)).toEqual(before);

    expect(result.pull).toMatchObject({
      number: 1,
      state: 'merged',
      merged_at: '2026-11-26T11:00:00.000Z',
      closed_at: '2026-11-26T11:00:00.000Z',
    });
    const listed = await forge.listPulls({
      branchPrefix: 'leviathan/',
      labels: [],
      closedSince: new Date('2026-11-26T10:30:00Z'),
    });
    expect(listed).toEqual([expect.objectContaining({ number: 1, state: 'merged' })]);
    expect((await forge.getPull(1)).merge_commit).toBe(mainAfter);
  });

  it('refuses to merge or close a pull twice', async () => {
    const { worker, forge } = await setup();
    await pushBranch(worker, 'leviathan/t', { 't.txt': 't\n' });
    await forge.upsertPull(pullInput('leviathan/t'));
    await forge.merge(1);
    await expect(forge.merge(1)).rejects.toThrow('pull #1 is merged; only an open pull can be merged');
    await expect(forge.close(1)).rejects.toThrow('pull #1 is merged; only an open pull can be closed');
  });

  it('closes a pull, which then cannot be merged, and leaves the base branch alone', async () => {
    const { bare, worker, forge, clock: c } = await setup();
    await pushBranch(worker, 'leviathan/x', { 'x.txt': 'x\n' });
    await forge.upsertPull(pullInput('leviathan/x'));
    c.advance(10_000);
    const pull = await forge.close(1);
    expect(pull).toMatchObject({ state: 'closed', closed_at: '2026-11-26T10:00:10.000Z', merged_at: null });
    const main = await git(bare, ['rev-parse', 'refs/heads/main']);
    await expect(forge.merge(1)).rejects.toThrow(/pull #1 is closed; only an open pull can be merged/);
    expect(await git(bare, ['rev-parse', 'refs/heads/main'])).toBe(main);
    // A new pull for the same branch gets a new number.
    expect((await forge.upsertPull(pullInput('leviathan/x'))).pull.number).toBe(2);
  });

  it('refuses a conflicting merge and changes nothing anywhere', async () => {
    const { bare, user, worker, forge } = await setup({ 'README.md': '# target\n', 'shared.txt': 'base\n' });
    await pushBranch(worker, 'leviathan/conflict', { 'shared.txt': 'from the pull\n' });
    await forge.upsertPull(pullInput('leviathan/conflict'));
    await commitFiles(bare, 'main', { 'shared.txt': 'from main\n' }, 'a human edit on main');
    const main = await git(bare, ['rev-parse', 'refs/heads/main']);
    const pullsTip = await git(bare, ['rev-parse', 'refs/leviathan/pulls']);
    const before = await snapshot(user);

    await expect(forge.merge(1)).rejects.toThrow(
      'pull #1 cannot be merged into main: conflicts in shared.txt; nothing was changed',
    );
    expect(await git(bare, ['rev-parse', 'refs/heads/main'])).toBe(main);
    expect(await git(bare, ['rev-parse', 'refs/leviathan/pulls'])).toBe(pullsTip);
    expect((await forge.getPull(1)).state).toBe('open');
    expect(await snapshot(user)).toEqual(before);
  });

  it('merges after the base branch moved on without conflict', async () => {
    const { bare, worker, forge } = await setup();
    const head = await pushBranch(worker, 'leviathan/late', { 'late.txt': 'late\n' });
    await forge.upsertPull(pullInput('leviathan/late'));
    const moved = await commitFiles(bare, 'main', { 'other.txt': 'other\n' }, 'someone else merged first');
    const { mergeCommit } = await forge.merge(1);
    const parents = (await git(bare, ['rev-list', '--parents', '-n', '1', mergeCommit])).split(' ').slice(1);
    expect(parents).toEqual([moved, head]);
  });

  it('retries when the base branch moves while it merges, and merges on top of the new tip', async () => {
    const { bare, worker, forge } = await setup();
    const head = await pushBranch(worker, 'leviathan/race', { 'race.txt': 'race\n' });
    await forge.upsertPull(pullInput('leviathan/race'));
    await git(bare, ['branch', 'side', 'main']);
    const moved = await commitFiles(bare, 'side', { 'side.txt': 'side\n' }, 'lands during the merge');
    let pushes = 0;
    // A human pushes to main right when the merge's first push starts (before the ref advertisement).
    server.onRequest = (r) => {
      if (r.service === 'git-receive-pack' && r.method === 'GET' && ++pushes === 1) {
        execFileSync('git', ['-C', bare, 'update-ref', 'refs/heads/main', moved]);
      }
      return undefined;
    };
    try {
      const { mergeCommit } = await forge.merge(1);
      const parents = (await git(bare, ['rev-list', '--parents', '-n', '1', mergeCommit]))
        .split(' ')
        .slice(1);
      expect(parents).toEqual([moved, head]);
      expect(await git(bare, ['rev-parse', 'refs/heads/main'])).toBe(mergeCommit);
      expect(pushes).toBeGreaterThanOrEqual(2);
    } finally {
      server.onRequest = null;
    }
  });

  it('refuses a merge when the head is already contained in the base', async () => {
    const { bare, worker, forge } = await setup();
    await pushBranch(worker, 'leviathan/same', { 's.txt': 's\n' });
    await forge.upsertPull(pullInput('leviathan/same'));
    await git(bare, ['update-ref', 'refs/heads/main', 'refs/heads/leviathan/same']);
    await expect(forge.merge(1)).rejects.toThrow(
      /nothing to merge: leviathan\/same is already contained in main/,
    );
    expect((await forge.getPull(1)).state).toBe('open');
  });

  it('refuses a merge whose head branch was deleted', async () => {
    const { worker, forge } = await setup();
    await pushBranch(worker, 'leviathan/gone', { 'g.txt': 'g\n' });
    await forge.upsertPull(pullInput('leviathan/gone'));
    await git(worker, ['push', '--quiet', 'origin', ':refs/heads/leviathan/gone']);
    await expect(forge.merge(1)).rejects.toThrow(/branch leviathan\/gone does not exist/);
  });

  const CREATORS = sized(4, 8);
  it(`gives ${CREATORS} concurrent creators in separate clones ${CREATORS} distinct numbers`, async () => {
    const { name, bare, worker } = await setup();
    const branches = Array.from({ length: CREATORS }, (_, i) => `leviathan/p${i}`);
    for (const b of branches) await pushBranch(worker, b, { [`${b.slice(10)}.txt`]: `${b}\n` });
    const clones = await Promise.all(
      branches.map((_, i) => cloneRepo(server.url(name), join(root, `${name}-racer${i}`))),
    );
    const results = await Promise.all(
      clones.map((dir, i) => new LocalForge({ dir }).upsertPull(pullInput(branches[i]!))),
    );
    const numbers = results.map((r) => r.pull.number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: CREATORS }, (_, i) => i + 1));
    expect(results.every((r) => r.created)).toBe(true);
    // Each branch got exactly one record, and the counter moved past all of them.
    const byBranch = new Map(results.map((r) => [r.pull.head, r.pull.number]));
    expect(byBranch.size).toBe(CREATORS);
    expect(await git(bare, ['show', 'refs/leviathan/pulls:next'])).toBe(String(CREATORS + 1));
    const files = await git(bare, ['ls-tree', '--name-only', 'refs/leviathan/pulls', 'pulls/']);
    expect(files.split('\n')).toHaveLength(CREATORS);
  });

  it('concurrent upserts of the same branch open exactly one pull', async () => {
    const { name, worker } = await setup();
    await pushBranch(worker, 'leviathan/one', { 'one.txt': '1\n' });
    const clones = await Promise.all(
      [0, 1, 2, 3].map((i) => cloneRepo(server.url(name), join(root, `${name}-same${i}`))),
    );
    const results = await Promise.all(
      clones.map((dir) => new LocalForge({ dir }).upsertPull(pullInput('leviathan/one'))),
    );
    expect(new Set(results.map((r) => r.pull.number))).toEqual(new Set([1]));
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('keeps its state across restarts and clones (a new instance sees the same records)', async () => {
    const { name, user, worker, forge } = await setup();
    await pushBranch(worker, 'leviathan/r', { 'r.txt': 'r\n' });
    await forge.upsertPull(pullInput('leviathan/r'));
    await forge.comment(1, 'kept');
    const restarted = new LocalForge({ dir: user });
    expect((await restarted.getPull(1)).comments.map((x) => x.body)).toEqual(['kept']);
    const elsewhere = await cloneRepo(server.url(name), join(root, `${name}-other`));
    const other = new LocalForge({ dir: elsewhere });
    expect((await other.findOpenPull('leviathan/r'))?.number).toBe(1);
    // And a write from the other clone is seen by the first instance.
    await other.close(1);
    expect((await forge.getPull(1)).state).toBe('closed');
  });

  it('names an unknown pull number clearly', async () => {
    const { forge } = await setup();
    await expect(forge.merge(42)).rejects.toThrow('pull #42 does not exist in refs/leviathan/pulls');
    await expect(forge.close(42)).rejects.toThrow('pull #42 does not exist in refs/leviathan/pulls');
    await expect(forge.comment(42, 'x')).rejects.toThrow('pull #42 does not exist in refs/leviathan/pulls');
    await expect(forge.getPull(42)).rejects.toMatchObject({ name: 'ForgeError', status: 404 });
  });

  it('queues dispatches for the run loop, or hands them to an injected dispatcher', async () => {
    const { user } = await setup();
    const queued = new LocalForge({ dir: user });
    await queued.dispatchWorker({ task: 'a', attempt: '01A', ref: 'main' });
    await queued.dispatchWorker({ task: 'b', attempt: '01B', ref: 'main' });
    expect(queued.takeDispatched()).toEqual([
      { task: 'a', attempt: '01A', ref: 'main' },
      { task: 'b', attempt: '01B', ref: 'main' },
    ]);
    expect(queued.takeDispatched()).toEqual([]);

    const seen: string[] = [];
    const injected = new LocalForge({
      dir: user,
      dispatch: async (r) => {
        seen.push(r.task);
        return { runUrl: `local://${r.task}` };
      },
    });
    expect(await injected.dispatchWorker({ task: 'c', attempt: '01C', ref: 'main' })).toEqual({
      runUrl: 'local://c',
    });
    expect(seen).toEqual(['c']);
    expect(injected.takeDispatched()).toEqual([]);
    const failing = new LocalForge({
      dir: user,
      dispatch: async () => {
        throw new Error('no runner');
      },
    });
    await expect(failing.dispatchWorker({ task: 'd', attempt: '01D', ref: 'main' })).rejects.toThrow(
      'dispatching d failed: no runner',
    );
  });

  it('fails closed with a ForgeError on a corrupted record', async () => {
    const { bare, worker, forge } = await setup();
    await pushBranch(worker, 'leviathan/k', { 'k.txt': 'k\n' });
    await forge.upsertPull(pullInput('leviathan/k'));
    await git(bare, ['update-ref', 'refs/heads/tmp', 'refs/leviathan/pulls']);
    await commitFiles(bare, 'tmp', { 'pulls/1.json': '{"broken": true' }, 'hand edit');
    await git(bare, ['update-ref', 'refs/leviathan/pulls', 'refs/heads/tmp']);
    await expect(
      forge.listPulls({ branchPrefix: 'leviathan/', labels: [], closedSince: new Date(0) }),
    ).rejects.toThrow('refs/leviathan/pulls:pulls/1.json is not valid JSON');
  });

  it('is not a git repository → a clear ForgeError', async () => {
    const dir = await makeTempDir('not-a-repo');
    await expect(
      new LocalForge({ dir }).listPulls({ branchPrefix: '', labels: [], closedSince: new Date() }),
    ).rejects.toThrow(`${dir} is not a git repository`);
    await removeDir(dir);
  });
});

describe('LocalForge over a token-protected origin', () => {
  let authServer: GitServer;
  beforeAll(async () => {
    authServer = await GitServer.start({ token: 's3cret' });
  });
  afterAll(async () => {
    await authServer?.stop();
  });

  it('sends the token for records, branches and the merge push; without it, an auth error', async () => {
    const bare = await authServer.createRepo('auth');
    const user = await cloneRepo(authServer.url('auth'), join(root, 'auth-user'), { token: 's3cret' });
    await git(bare, ['update-ref', 'refs/heads/leviathan/auth', await commitOnMain(bare, 'auth.txt')]);
    const forge = new LocalForge({ dir: user, token: 's3cret' });
    expect(await forge.defaultBranch()).toBe('main');
    expect((await forge.upsertPull(pullInput('leviathan/auth'))).pull.number).toBe(1);
    const { mergeCommit } = await forge.merge(1);
    expect(await git(bare, ['rev-parse', 'refs/heads/main'])).toBe(mergeCommit);

    const anonymous = new LocalForge({ dir: user });
    await expect(anonymous.getPull(1)).rejects.toThrow(
      /authentication to http:\/\/127\.0\.0\.1:\d+\/auth\.git failed/,
    );
    await expect(anonymous.getPull(1)).rejects.toBeInstanceOf(ForgeError);
    await expect(anonymous.getPull(1)).rejects.not.toThrow(/s3cret/);
  });
});

/** A commit on top of main in a bare repository (not on main itself), for branches seeded server-side. */
async function commitOnMain(bare: string, file: string): Promise<string> {
  const main = await git(bare, ['rev-parse', 'refs/heads/main']);
  const blob = await git(bare, ['hash-object', '-w', '--stdin'], { input: `${file}\n` });
  const tree = await git(bare, ['mktree'], {
    input: `${(await git(bare, ['ls-tree', main])).trim()}\n100644 blob ${blob}\t${file}\n`,
  });
  return git(bare, ['commit-tree', tree, '-p', main, '-m', `add ${file}`]);
}

describe('LocalForge on a repository without a remote (its own forge)', () => {
  it('keeps pulls in the repository itself and merges into a branch that is not checked out', async () => {
    const dir = await initRepo(join(root, 'solo'));
    const before = await git(dir, ['rev-parse', 'HEAD']);
    await git(dir, ['branch', 'leviathan/solo']);
    await commitFiles(dir, 'leviathan/solo', { 'solo.txt': 'solo\n' });
    const forge = new LocalForge({ dir, now: clock().now });
    expect(await forge.defaultBranch()).toBe('main');
    expect((await forge.upsertPull(pullInput('leviathan/solo'))).pull.number).toBe(1);
    expect(JSON.parse(await git(dir, ['show', 'refs/leviathan/pulls:pulls/1.json'])).head).toBe(
      'leviathan/solo',
    );

    // main is checked out here: merging would move it under the user's working tree.
    await expect(forge.merge(1)).rejects.toThrow(/cannot merge into main: it is checked out/);
    expect(await git(dir, ['rev-parse', 'HEAD'])).toBe(before);

    await git(dir, ['checkout', '--quiet', '--detach']);
    const { mergeCommit } = await forge.merge(1);
    expect(await git(dir, ['rev-parse', 'refs/heads/main'])).toBe(mergeCommit);
    expect(await git(dir, ['rev-parse', 'HEAD'])).toBe(before);
    expect(await git(dir, ['status', '--porcelain'])).toBe('');
  });
});
