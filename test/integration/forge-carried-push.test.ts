/**
 * The PR branch carried by the local forge's upsert (`PullInput.carry`, issue 10): the branch and the pull
 * record land in one atomic push, each with its own lease, or not at all. A lost race on the record retries
 * (the branch lands once); a branch moved by someone else, or refused by the origin's hook, fails the push
 * and leaves no record naming a branch that was never pushed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BranchPushError } from '../../src/forge/forge.js';
import { LocalForge } from '../../src/forge/local.js';
import { Git } from '../../src/store/git.js';
import { PrivateRepo } from '../../src/store/private-repo.js';
import { carriedPush } from '../../src/worker/branch.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, commitFiles, git, installHook, makeTempDir, removeDir } from '../harness/repo.js';
import { pullInput } from '../helpers/pull-fixtures.js';

let server: GitServer;
let root: string;
let counter = 0;

beforeAll(async () => {
  server = await GitServer.start();
  root = await makeTempDir('forge-carry');
});

afterAll(async () => {
  await server?.stop();
  await removeDir(root);
});

/** An origin whose post-receive hook logs every ref update (`<old> <new> <ref>`), and two clones of it. */
async function setup() {
  const name = `carry${++counter}`;
  const bare = await server.createRepo(name, { files: { 'README.md': '# target\n' } });
  const log = join(root, `${name}.pushes`);
  await installHook(bare, 'post-receive', `cat >> '${log}'`);
  const worker = await cloneRepo(server.url(name), join(root, `${name}-worker`));
  const other = await cloneRepo(server.url(name), join(root, `${name}-other`));
  const pushes = async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return { name, bare, worker, other, pushes };
}

/** A commit on main in `clone` (not pushed) and the carried push of it to `branch`, as delivery builds it. */
async function carry(clone: string, branch: string, expected: string | null = null) {
  const commit = await commitFiles(clone, `work-${branch.replace(/\//g, '-')}`, {
    'docs/x.md': `${branch}\n`,
  });
  const source = new Git(clone);
  const repo = await PrivateRepo.create(source);
  const target = await PrivateRepo.pushTarget(source);
  const push = await carriedPush(repo, target, {
    branch,
    commit,
    expected,
    prefix: 'leviathan/',
    base: 'main',
  });
  return { commit, push, repo };
}

describe('a carried branch push on the local forge', () => {
  it('lands the branch and the pull record in one push', async () => {
    const { bare, worker, pushes } = await setup();
    const forge = new LocalForge({ dir: worker });
    const { commit, push, repo } = await carry(worker, 'leviathan/one');
    const from = server.requests.length;
    const { pull, created } = await forge.upsertPull({
      ...pullInput('leviathan/one'),
      headSha: commit,
      carry: push,
    });
    await repo.remove();
    expect(created).toBe(true);
    expect((await forge.getPull(pull.number)).head_sha).toBe(commit);
    expect(await git(bare, ['rev-parse', 'refs/heads/leviathan/one'])).toBe(commit);
    const receives = server.requests
      .slice(from)
      .filter((r) => r.method === 'POST' && r.service === 'git-receive-pack');
    expect(receives).toHaveLength(1);
    // One post-receive run saw both refs: the push was one transaction.
    const log = await pushes();
    expect(log.filter((l) => l.endsWith(' refs/heads/leviathan/one'))).toHaveLength(1);
    expect(log.filter((l) => l.endsWith(' refs/leviathan/pulls'))).toHaveLength(1);
  });

  it('a lost race on the pull record pushes nothing, decides again and lands the branch once', async () => {
    const { bare, worker, other, pushes } = await setup();
    const forge = new LocalForge({ dir: worker });
    const seen = await carry(worker, 'leviathan/seen');
    await forge.upsertPull({ ...pullInput('leviathan/seen'), carry: seen.push });
    // Another writer moves the pulls ref after this forge's view of it.
    const theirs = await carry(other, 'leviathan/theirs');
    await new LocalForge({ dir: other }).upsertPull({ ...pullInput('leviathan/theirs'), carry: theirs.push });
    const { commit, push, repo } = await carry(worker, 'leviathan/mine');
    const from = server.requests.length;
    const { pull } = await forge.upsertPull({ ...pullInput('leviathan/mine'), headSha: commit, carry: push });
    await repo.remove();
    // The first try (on the view this forge held) was refused as a whole; the second, on the fetched tip, landed.
    const tries = server.requests
      .slice(from)
      .filter((r) => r.method === 'GET' && r.service === 'git-receive-pack');
    expect(tries).toHaveLength(2);
    expect(pull.number).toBe(3);
    const all = await new LocalForge({ dir: other }).allPulls();
    expect(all.map((p) => [p.number, p.head])).toEqual([
      [1, 'leviathan/seen'],
      [2, 'leviathan/theirs'],
      [3, 'leviathan/mine'],
    ]);
    expect(await git(bare, ['rev-parse', 'refs/heads/leviathan/mine'])).toBe(commit);
    expect((await pushes()).filter((l) => l.endsWith(' refs/heads/leviathan/mine'))).toHaveLength(1);
  });

  it('a branch someone else moved fails the push, and no record names it', async () => {
    const { bare, worker, other } = await setup();
    const theirs = await commitFiles(other, 'side', { 'docs/y.md': 'theirs\n' });
    await git(other, ['push', '--quiet', 'origin', `${theirs}:refs/heads/leviathan/taken`]);
    const forge = new LocalForge({ dir: worker });
    const { push, repo } = await carry(worker, 'leviathan/taken', null);
    const pullsBefore = await git(bare, ['rev-parse', '--verify', '--quiet', 'refs/leviathan/pulls']).catch(
      () => '',
    );
    const error = await forge.upsertPull({ ...pullInput('leviathan/taken'), carry: push }).catch((e) => e);
    await repo.remove();
    expect(error).toBeInstanceOf(BranchPushError);
    expect(String(error.message)).toMatch(/lease was lost/);
    expect(await git(bare, ['rev-parse', 'refs/heads/leviathan/taken'])).toBe(theirs);
    const pullsAfter = await git(bare, ['rev-parse', '--verify', '--quiet', 'refs/leviathan/pulls']).catch(
      () => '',
    );
    expect(pullsAfter).toBe(pullsBefore);
  });

  it('a hostile origin hook refusing the branch leaves the pull record unwritten too', async () => {
    const { bare, worker } = await setup();
    // The origin refuses any update of the branch (and only it): the atomic push must take nothing.
    await installHook(
      bare,
      'pre-receive',
      'while read old new ref; do case "$ref" in refs/heads/leviathan/refused) echo \'no thanks\' >&2; exit 1;; esac; done; exit 0',
    );
    const forge = new LocalForge({ dir: worker });
    const { push, repo } = await carry(worker, 'leviathan/refused');
    const error = await forge.upsertPull({ ...pullInput('leviathan/refused'), carry: push }).catch((e) => e);
    await repo.remove();
    expect(error).toBeInstanceOf(BranchPushError);
    await expect(git(bare, ['rev-parse', '--verify', '--quiet', 'refs/leviathan/pulls'])).rejects.toThrow();
    await expect(
      git(bare, ['rev-parse', '--verify', '--quiet', 'refs/heads/leviathan/refused']),
    ).rejects.toThrow();
  });
});
