/**
 * The event log on `leviathan-events` over the real HTTP git server: layout, snapshot, preconditions,
 * re-chaining, partial fetches, and a user checkout that is never touched.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { project } from '../../src/core/state.js';
import { EventLog } from '../../src/store/event-log.js';
import { appendMessage, parseAppendMessage } from '../../src/store/log-format.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, git, initRepo, makeTempDir, readFileAt, removeDir } from '../harness/repo.js';
import { EventBuilder } from '../helpers/events.js';

const BRANCH = 'leviathan-events';
let server: GitServer;
let root: string;
let counter = 0;

beforeAll(async () => {
  server = await GitServer.start();
  root = await makeTempDir('store-log');
});

afterAll(async () => {
  await server?.stop();
  await removeDir(root);
});

/** A new origin on the server and `n` clones of it. */
async function setup(n = 1): Promise<{ bare: string; dirs: string[] }> {
  const name = `log-${++counter}`;
  const bare = await server.createRepo(name);
  const dirs = await Promise.all(
    Array.from({ length: n }, (_, i) => cloneRepo(server.url(name), join(root, `${name}-${i}`))),
  );
  return { bare, dirs };
}

describe('EventLog', () => {
  it('starts the orphan branch with a day file, its root copy and state.json, in a commit authored by Leviathan', async () => {
    const { bare, dirs } = await setup();
    const log = new EventLog({ dir: dirs[0] as string });
    expect(await log.read()).toMatchObject({ tip: null, source: 'empty', state: { seq: 0 } });

    const b = new EventBuilder('2026-11-26T10:00:00.000Z');
    const a = b.attempt('docs-guide');
    const r = await log.append([b.created(a), b.dispatched(a)]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.events.map((e) => [e.seq, e.prev === null])).toEqual([
      [1, true],
      [2, false],
    ]);

    const tip = await git(bare, ['rev-parse', `refs/heads/${BRANCH}`]);
    // Orphan: a single root commit, sharing nothing with main.
    expect(await git(bare, ['rev-list', '--count', tip])).toBe('1');
    expect(await git(bare, ['merge-base', tip, 'main']).catch(() => 'none')).toBe('none');
    expect(await git(bare, ['log', '-1', '--format=%an|%cn', tip])).toBe('Leviathan|Leviathan');
    const message = await git(bare, ['log', '-1', '--format=%B', tip]);
    expect(message.split('\n')[0]).toBe(`events 1..2 ${r.events[1]?.hash}`);
    expect(parseAppendMessage(message)?.tree).toBe(await git(bare, ['rev-parse', `${tip}^{tree}`]));
    expect((await git(bare, ['ls-tree', '-r', '--name-only', tip])).split('\n')).toEqual([
      'events/2026-11-26.ndjson',
      'newest.ndjson',
      'state.json',
    ]);
    // The copy is the day file's own blob.
    expect(await git(bare, ['rev-parse', `${tip}:newest.ndjson`])).toBe(
      await git(bare, ['rev-parse', `${tip}:events/2026-11-26.ndjson`]),
    );
    const lines = (await readFileAt(bare, BRANCH, 'events/2026-11-26.ndjson'))?.trimEnd().split('\n') ?? [];
    expect(lines.map((l) => JSON.parse(l))).toEqual(r.events);
    const state = JSON.parse((await readFileAt(bare, BRANCH, 'state.json')) ?? 'null');
    expect(state).toEqual(project(r.events));
    expect(state).toMatchObject({ seq: 2, hash: r.events[1]?.hash });
  });

  it('files events by UTC day; a clock behind the newest file never files into an older day', async () => {
    const { bare, dirs } = await setup();
    const log = new EventLog({ dir: dirs[0] as string });
    const b = new EventBuilder('2026-11-25T23:59:00.000Z', 60_000, { kind: 'cli' });
    await log.append([b.reset(), b.reset()]); // 23:59 on the 25th, 00:00 on the 26th
    await log.append([b.at('2026-11-25T23:59:59.000Z').reset()]); // a writer whose clock is behind
    await log.append([b.at('2026-11-27T08:00:00.000Z').reset()]);

    const files = (await git(bare, ['ls-tree', '--name-only', `refs/heads/${BRANCH}`, 'events/'])).split(
      '\n',
    );
    expect(files).toEqual([
      'events/2026-11-25.ndjson',
      'events/2026-11-26.ndjson',
      'events/2026-11-27.ndjson',
    ]);
    const seqs = async (day: string) =>
      ((await readFileAt(bare, BRANCH, `events/${day}.ndjson`)) ?? '')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).seq);
    expect(await seqs('2026-11-25')).toEqual([1]);
    expect(await seqs('2026-11-26')).toEqual([2, 3]);
    expect(await seqs('2026-11-27')).toEqual([4]);
    expect(await log.verify()).toMatchObject({ ok: true, count: 4, warnings: [] });
  });

  it('reads the sealed snapshot; another clone sees the same state and continues the chain', async () => {
    const { dirs } = await setup(2);
    const [one, two] = dirs.map((dir) => new EventLog({ dir })) as [EventLog, EventLog];
    const b = new EventBuilder();
    const a = b.attempt('alpha');
    await one.append(b.delivered(a, 1));
    const seen = await two.read();
    expect(seen.source).toBe('snapshot');
    expect(seen.state.seq).toBe(5);

    // `one` still believes the tip is seq 5; `two` appends first, so `one` must re-chain after it.
    const byTwo = await two.append([b.prMerged('alpha', 1)]);
    const byOne = await one.append([b.completed('alpha', 1)]);
    expect(byTwo.ok && byTwo.events[0]?.seq).toBe(6);
    expect(byOne.ok && byOne.events[0]).toMatchObject({
      seq: 7,
      prev: byTwo.ok ? byTwo.events[0]?.hash : '',
    });

    const all = await two.readAll();
    expect(all.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(all.state).toEqual(project(all.events));
    expect((await one.read()).state).toEqual(all.state);
    // Completed with nothing open: settled, kept as its attempts count only.
    expect(all.state.tasks.alpha).toBeUndefined();
    expect(all.state.done).toEqual({ alpha: { attempts: 1, pr: 1 } });
    expect(all.state.attempts).toEqual({});
  });

  it('replays a sealed snapshot of an older format; the next append writes the current one', async () => {
    const { dirs } = await setup();
    const dir = dirs[0] as string;
    const b = new EventBuilder();
    const a = b.attempt('alpha');
    const first = await new EventLog({ dir }).append([...b.delivered(a, 1), b.prMerged('alpha', 1)]);
    const events = first.ok ? first.events : [];
    const last = events[events.length - 1]!;
    // A tip sealed by an earlier Leviathan: state.json in the v1 format (attempt ids per task, no `done`).
    const store = new EventLog({ dir }).store;
    const view = await store.fetch();
    const v1 = {
      v: 1,
      seq: last.seq,
      hash: last.hash,
      ts: last.ts,
      tasks: { alpha: { id: 'alpha', attempts: [a.attempt], failures: 0, completed: false, blocked: false } },
      attempts: {},
      breaker: { open: false, consecutive_failures: 0 },
      dispatches: {},
    };
    const commit = await store.commit(
      new Map([['state.json', `${JSON.stringify(v1)}\n`]]),
      (tree) => appendMessage(1, last.seq, last.hash, tree),
      view.commit,
    );
    expect(await store.push(commit, view.commit)).toBe(true);

    const log = new EventLog({ dir });
    const read = await log.read();
    expect(read.source).toBe('replay');
    expect(read.state).toEqual(project(events));
    expect(read.state.tasks.alpha).toMatchObject({ attempts: 1, pr: { number: 1, state: 'merged' } });
    const next = await log.append([b.completed('alpha', 1)]);
    expect(next.ok).toBe(true);
    const after = await new EventLog({ dir }).read();
    expect(after.source).toBe('snapshot');
    expect(after.state).toMatchObject({ v: 3, done: { alpha: { attempts: 1, pr: 1 } }, tasks: {} });
  });

  it('checks the precondition against the state it would land on, and writes nothing when refused', async () => {
    const { bare, dirs } = await setup(2);
    const [one, two] = dirs.map((dir) => new EventLog({ dir })) as [EventLog, EventLog];
    const b = new EventBuilder();
    await one.append([b.tripped(2)]);
    await two.append([b.reset()]); // `one` has not seen this
    const tip = await git(bare, ['rev-parse', `refs/heads/${BRANCH}`]);

    const seen: number[] = [];
    const r = await one.append([b.tripped(3)], (state) => {
      seen.push(state.seq);
      return state.breaker.open ? true : 'breaker is closed';
    });
    expect(r).toEqual({ ok: false, refused: 'breaker is closed' });
    expect(seen[seen.length - 1]).toBe(2);
    expect(await git(bare, ['rev-parse', `refs/heads/${BRANCH}`])).toBe(tip);
  });

  it('returns the stored events when an append that already landed is retried (no duplicate)', async () => {
    const { bare, dirs } = await setup(2);
    const b = new EventBuilder();
    const drafts = [b.tripped(2), b.reset()];
    const first = await new EventLog({ dir: dirs[0] as string }).append(drafts);
    const tip = await git(bare, ['rev-parse', `refs/heads/${BRANCH}`]);
    const again = await new EventLog({ dir: dirs[1] as string }).append(drafts);
    expect(again).toEqual(first);
    expect(await git(bare, ['rev-parse', `refs/heads/${BRANCH}`])).toBe(tip);
  });

  it('rejects an invalid draft and writes nothing', async () => {
    const { bare, dirs } = await setup();
    const b = new EventBuilder();
    const bad = { ...b.reset(), data: { by: 'robot' } } as unknown as ReturnType<EventBuilder['reset']>;
    await expect(new EventLog({ dir: dirs[0] as string }).append([bad])).rejects.toThrow(/invalid/);
    expect(
      await git(bare, ['rev-parse', '--verify', '--quiet', `refs/heads/${BRANCH}`]).catch(() => null),
    ).toBe(null);
  });

  it('appends from a fresh clone fetch state.json and the newest day file only, not the history', async () => {
    const { dirs } = await setup(2);
    // 31 days of history (2026-10-01 … 2026-10-31) in one commit.
    const b = new EventBuilder('2026-10-01T12:00:00.000Z', 86_400_000 / 4);
    const drafts = Array.from({ length: 120 }, () => b.configInvalid());
    expect((await new EventLog({ dir: dirs[0] as string }).append(drafts)).ok).toBe(true);

    const fresh = dirs[1] as string;
    const requestsBefore = server.requests.length;
    const r = await new EventLog({ dir: fresh }).append([b.reset()]);
    expect(r.ok && r.events[0]?.seq).toBe(121);
    // The private store holds the blobs of state.json and the newest day file, none of the 30 older days.
    const aux = join(await git(fresh, ['rev-parse', '--absolute-git-dir']), 'leviathan', 'origin.git');
    const parent = await git(aux, ['rev-parse', `refs/leviathan/remotes/origin/heads/${BRANCH}^`]);
    const missing = (await git(aux, ['rev-list', '--objects', '--no-walk', '--missing=print', parent]))
      .split('\n')
      .filter((l) => l.startsWith('?'));
    expect(missing).toHaveLength(30);
    // fetch (capabilities, ls-refs, fetch), the two blobs in one fetch, and the push (advertisement, pack).
    expect(server.requests.length - requestsBefore).toBeLessThanOrEqual(9);
  });

  it("never touches the user's working tree, index, HEAD, branches or status", async () => {
    const { dirs } = await setup();
    const dir = dirs[0] as string;
    // A checkout in the middle of work: a staged change, an unstaged change, an untracked file, a branch.
    await git(dir, ['checkout', '--quiet', '-b', 'feature']);
    await writeFile(join(dir, 'staged.txt'), 'staged\n');
    await git(dir, ['add', 'staged.txt']);
    await writeFile(join(dir, 'README.md'), '# edited, not staged\n');
    await mkdir(join(dir, 'notes'));
    await writeFile(join(dir, 'notes', 'untracked.md'), 'untracked\n');
    const before = await checkoutFingerprint(dir);

    const log = new EventLog({ dir });
    const b = new EventBuilder();
    for (let i = 0; i < 3; i++) await log.append([b.configInvalid()]);
    await log.read();
    await log.readAll();
    expect(await log.verify()).toMatchObject({ ok: true, count: 3 });

    expect(await checkoutFingerprint(dir)).toEqual(before);
  });

  it('keeps the log in the repository itself when there is no origin', async () => {
    const dir = await initRepo(join(root, 'no-origin'));
    const before = await checkoutFingerprint(dir);
    const log = new EventLog({ dir });
    const b = new EventBuilder();
    await log.append([b.tripped(2)]);
    await log.append([b.reset()]);
    expect(await git(dir, ['log', '-1', '--format=%s', BRANCH])).toMatch(/^events 2\.\.2 [0-9a-f]{64}$/);
    expect((await log.read()).state.breaker.open).toBe(false);
    expect(await log.verify()).toMatchObject({ ok: true, count: 2 });
    const after = await checkoutFingerprint(dir);
    // Only the new branch appears among the refs; everything of the checkout is as it was.
    expect({ ...after, refs: '' }).toEqual({ ...before, refs: '' });
    expect(after.refs.split('\n')).toEqual(
      [...before.refs.split('\n'), expect.stringContaining(BRANCH)].sort(),
    );
  });
});

/** Bytes of everything in a checkout a store must not touch. */
async function checkoutFingerprint(dir: string) {
  const gitDir = await git(dir, ['rev-parse', '--absolute-git-dir']);
  const sha = (buf: Buffer | string) => createHash('sha256').update(buf).digest('hex');
  const files: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path);
      else files[path] = sha(await readFile(join(dir, path)));
    }
  };
  await walk('');
  return {
    index: sha(await readFile(join(gitDir, 'index'))),
    head: await readFile(join(gitDir, 'HEAD'), 'utf8'),
    config: sha(await readFile(join(gitDir, 'config'))),
    shallow: await readFile(join(gitDir, 'shallow'), 'utf8').catch(() => null),
    status: await git(dir, ['status', '--porcelain=v1', '--untracked-files=all']),
    refs: await git(dir, ['for-each-ref', '--format=%(refname) %(objectname)']),
    files,
  };
}
