/**
 * The generic "files on a ref" store: reads, plumbing commits, compare-and-swap pushes and the update loop,
 * over the HTTP git server and in a repository without a remote.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RefStore } from '../../src/store/ref-store.js';
import { RefStoreError, type RefView, type UpdateDecision } from '../../src/store/ref-store-types.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, git, initRepo, makeTempDir, removeDir } from '../harness/repo.js';
import { sized } from '../helpers/stress.js';

/** Concurrent updaters in the race tests (full size in `npm run test:stress`). */
const RACERS = sized(6, 12);

const REF = 'refs/leviathan/pulls';
let server: GitServer;
let root: string;
let counter = 0;

beforeAll(async () => {
  server = await GitServer.start();
  root = await makeTempDir('store-ref');
});

afterAll(async () => {
  await server?.stop();
  await removeDir(root);
});

async function clones(n: number): Promise<{ bare: string; dirs: string[] }> {
  const name = `ref-${++counter}`;
  const bare = await server.createRepo(name);
  const dirs = await Promise.all(
    Array.from({ length: n }, (_, i) => cloneRepo(server.url(name), join(root, `${name}-${i}`))),
  );
  return { bare, dirs };
}

/** Takes the number in `next` and records it under `taken/<n>`: a counter nobody may hand out twice. */
async function take(view: RefView): Promise<UpdateDecision<number>> {
  const n = Number((await view.read('next')) ?? '1');
  return {
    kind: 'commit',
    changes: new Map([
      ['next', `${n + 1}\n`],
      [`taken/${n}`, `${n}\n`],
    ]),
    message: `take ${n}`,
    value: n,
  };
}

describe('RefStore over HTTP', () => {
  it('commits files with plumbing and reads them back from another clone', async () => {
    const { bare, dirs } = await clones(2);
    const a = new RefStore({ dir: dirs[0] as string, ref: REF });
    const r = await a.update(() => ({
      kind: 'commit',
      changes: new Map([
        ['a.json', '{"a":1}\n'],
        ['dir/b.txt', 'b ünïcödé\n'],
        ['dir/c.txt', 'c\n'],
      ]),
      message: (tree) => `first\n\ntree ${tree}`,
      value: 'done',
    }));
    expect(r).toMatchObject({ ok: true, value: 'done', committed: true, tries: 1 });
    expect((await git(bare, ['log', '-1', '--format=%an%n%B', REF])).trimEnd()).toBe(
      `Leviathan\nfirst\n\ntree ${await git(bare, ['rev-parse', `${REF}^{tree}`])}`,
    );

    const b = new RefStore({ dir: dirs[1] as string, ref: REF });
    const view = await b.fetch();
    expect(view).toMatchObject({ commit: r.commit, fresh: true });
    expect(await view.read('dir/b.txt')).toBe('b ünïcödé\n');
    expect(await view.read('missing')).toBeNull();
    expect((await view.list()).map((e) => `${e.type} ${e.path}`)).toEqual(['blob a.json', 'tree dir']);
    expect((await view.list('dir')).map((e) => e.name)).toEqual(['b.txt', 'c.txt']);
    expect([...(await view.readAll('dir')).keys()]).toEqual(['dir/b.txt', 'dir/c.txt']);

    // Deleting and changing in one commit.
    await b.update(() => ({
      kind: 'commit',
      changes: new Map([
        ['dir/c.txt', null],
        ['a.json', '{"a":2}\n'],
      ]),
      message: 'second',
      value: null,
    }));
    const after = await a.fetch();
    expect(await after.readAll()).toEqual(
      new Map([
        ['a.json', '{"a":2}\n'],
        ['dir/b.txt', 'b ünïcödé\n'],
      ]),
    );
    // The user's refs and config are not where the store keeps its tracking ref.
    expect(await git(dirs[0] as string, ['for-each-ref', 'refs/leviathan'])).toBe('');
  });

  it('push is a compare-and-swap: a commit on a stale parent loses, update() re-runs on the new tip', async () => {
    const { dirs } = await clones(2);
    const a = new RefStore({ dir: dirs[0] as string, ref: REF });
    const b = new RefStore({ dir: dirs[1] as string, ref: REF });
    await a.update(take); // takes 1
    const stale = await a.fetch();
    await b.update(take); // takes 2
    const lost = await a.commit(new Map([['next', '99\n']]), 'stale', stale.commit);
    expect(await a.push(lost, stale.commit)).toBe(false);

    // A believes the tip is still the stale one; its first try loses and it re-reads.
    const seen: number[] = [];
    const r = await a.update(async (view, tryNumber) => {
      seen.push(tryNumber);
      return take(view);
    });
    expect(r).toMatchObject({ ok: true, value: 3 });
    expect((await b.fetch().then((v) => v.readAll('taken'))).size).toBe(3);
  });

  it('a refusal or a skip is only returned once confirmed on a freshly fetched tip', async () => {
    const { dirs } = await clones(2);
    const a = new RefStore({ dir: dirs[0] as string, ref: REF });
    const b = new RefStore({ dir: dirs[1] as string, ref: REF });
    await a.update(take);
    await b.update(take);
    await b.update(take); // next = 4, which A has not seen
    const views: boolean[] = [];
    const r = await a.update(async (view) => {
      views.push(view.fresh);
      const n = Number(await view.read('next'));
      return n < 3 ? { kind: 'refuse', reason: `only ${n}` } : { kind: 'skip', value: n };
    });
    expect(views).toEqual([false, true]);
    expect(r).toMatchObject({ ok: true, value: 4, committed: false });
  });

  it('gives up with a contention error after maxTries lost races', async () => {
    const { dirs } = await clones(2);
    const a = new RefStore({
      dir: dirs[0] as string,
      ref: REF,
      maxTries: 2,
      backoff: { baseMs: 1, maxMs: 5 },
    });
    const rival = new RefStore({ dir: dirs[1] as string, ref: REF });
    let calls = 0;
    const error = await a
      .update(async (view) => {
        calls += 1;
        await rival.update(take); // someone else always gets there first
        return take(view);
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefStoreError);
    expect(error).toMatchObject({ code: 'contention' });
    expect((error as Error).message).toMatch(/after 2 tries/);
    expect(calls).toBe(2);
  });

  it('concurrent updates from two clones never hand out the same number', async () => {
    const { dirs } = await clones(2);
    const stores = dirs.map(
      (dir) => new RefStore({ dir, ref: REF, maxTries: 50, backoff: { baseMs: 5, maxMs: 200 } }),
    );
    const results = await Promise.all(
      Array.from({ length: RACERS }, (_, i) => (stores[i % 2] as RefStore).update(take)),
    );
    const values = results.map((r) => (r.ok ? r.value : 0)).sort((x, y) => x - y);
    expect(values).toEqual(Array.from({ length: RACERS }, (_, i) => i + 1));
  });

  it('rejects paths that could escape the tree, and malformed refs', async () => {
    const { dirs } = await clones(1);
    const a = new RefStore({ dir: dirs[0] as string, ref: REF });
    for (const path of ['../x', '/abs', 'a//b', 'a/./b', '.git/config', 'a\\b', 'new\nline', 'dir/']) {
      await expect(a.commit(new Map([[path, 'x']]), 'bad', null)).rejects.toBeInstanceOf(RefStoreError);
    }
    expect(() => new RefStore({ dir: root, ref: 'leviathan-events' })).toThrow(RefStoreError);
    expect(() => new RefStore({ dir: root, ref: 'refs/heads/a..b' })).toThrow(RefStoreError);
  });
});

describe('RefStore in a repository without a remote', () => {
  it('is its own store: update-ref compare-and-swap, nothing else in the checkout changes', async () => {
    const dir = await initRepo(join(root, 'local'));
    const status = await git(dir, ['status', '--porcelain']);
    const options = { dir, ref: REF, maxTries: 50, backoff: { baseMs: 5, maxMs: 100 } };
    const stores = [new RefStore(options), new RefStore(options)];
    expect(await stores[0]?.isRemote()).toBe(false);
    const results = await Promise.all(
      Array.from({ length: RACERS }, (_, i) => (stores[i % 2] as RefStore).update(take)),
    );
    expect(results.map((r) => (r.ok ? r.value : 0)).sort((x, y) => x - y)).toEqual(
      Array.from({ length: RACERS }, (_, i) => i + 1),
    );
    expect(await git(dir, ['cat-file', 'blob', `${REF}:next`])).toBe(String(RACERS + 1));
    expect(await git(dir, ['status', '--porcelain'])).toBe(status);
    expect(await git(dir, ['symbolic-ref', 'HEAD'])).toBe('refs/heads/main');

    const view = await stores[0]?.fetch();
    const stale = await stores[0]?.commit(
      new Map([['next', '0\n']]),
      'stale',
      (await git(dir, ['rev-parse', `${REF}^`])) || null,
    );
    expect(await stores[0]?.push(stale as string, await git(dir, ['rev-parse', `${REF}^`]))).toBe(false);
    expect(view?.commit).toBe(await git(dir, ['rev-parse', REF]));
  });

  it('refuses to move the branch that is checked out', async () => {
    const dir = await initRepo(join(root, 'checked-out'));
    await expect(new RefStore({ dir, ref: 'refs/heads/main' }).fetch()).rejects.toMatchObject({
      code: 'bad_repository',
    });
  });

  it('says clearly when the directory is not a repository', async () => {
    await expect(new RefStore({ dir: root, ref: REF }).fetch()).rejects.toMatchObject({
      code: 'bad_repository',
    });
  });
});
