/**
 * The log's first read in a fresh clone (issue 10): with `rootBlobs`, one fetch session brings state.json and
 * the newest day file (through its root copy, `newest.ndjson`) and none of the older day files, whatever the
 * history. Logs without the copy, servers refusing the tree filter and a copy that lies still read right.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sealPayload, sealTrailers } from '../../src/core/seal.js';
import { EventLog } from '../../src/store/event-log.js';
import { appendMessage, NEWEST_COPY, parseAppendMessage } from '../../src/store/log-format.js';
import { newSigningKey, type Sealer, sealerFromSecret } from '../../src/store/log-seal.js';
import { sha256Text } from '../../src/store/log-trust.js';
import { GitServer } from '../harness/git-server.js';
import { git, initRepo, makeTempDir, removeDir } from '../harness/repo.js';
import { EventBuilder } from '../helpers/events.js';

const BRANCH = 'leviathan-events';
const DAYS = ['2026-11-24', '2026-11-25', '2026-11-26'] as const;
let server: GitServer;
let root: string;
let count = 0;

beforeAll(async () => {
  server = await GitServer.start();
  root = await makeTempDir('store-first-read');
});

afterAll(async () => {
  await server?.stop();
  await removeDir(root);
});

/** A checkout with nothing but an `origin`, as a worker's fresh clone is for the log. */
async function checkout(repo: string): Promise<string> {
  const dir = await initRepo(join(root, `checkout-${++count}`), { empty: true });
  await git(dir, ['remote', 'add', 'origin', server.url(repo)]);
  return dir;
}

/** A new origin whose log holds 4 events on each of three days, appended by Leviathan (with the copy). */
async function sealedLog(
  sealer: Sealer | null = null,
): Promise<{ repo: string; writer: EventLog; b: EventBuilder }> {
  const repo = `log-${++count}`;
  await server.createRepo(repo);
  const writer = new EventLog({ dir: await checkout(repo), sealer });
  const b = new EventBuilder(`${DAYS[0]}T09:00:00.000Z`);
  for (const day of DAYS) {
    b.at(`${day}T09:00:00.000Z`);
    const a = b.attempt(`task-${day}`);
    const r = await writer.append([b.created(a), b.dispatched(a), b.started(a), b.failed(a)]);
    if (!r.ok) throw new Error('append refused');
  }
  return { repo, writer, b };
}

/** Fetch sessions (`info/refs` of upload-pack) the server saw for `repo` while `fn` ran. */
async function sessions<T>(repo: string, fn: () => Promise<T>): Promise<{ value: T; fetches: number }> {
  const from = server.requests.length;
  const value = await fn();
  const fetches = server.requests
    .slice(from)
    .filter((r) => r.repo === repo && r.method === 'GET' && r.path.endsWith('/info/refs'))
    .filter((r) => r.service === 'git-upload-pack').length;
  return { value, fetches };
}

/** Which of the tip's blobs `paths` the reader's private repository holds (rev-list never fetches lazily). */
async function held(dir: string, paths: readonly string[]): Promise<Record<string, boolean>> {
  const aux = join(dir, '.git', 'leviathan', 'origin.git');
  const tip = `refs/leviathan/remotes/origin/heads/${BRANCH}`;
  const oids = await Promise.all(paths.map((p) => git(aux, ['rev-parse', `${tip}:${p}`])));
  const out = await git(aux, ['rev-list', '--objects', '--no-walk', '--missing=print', tip]);
  const missing = new Set(
    out
      .split('\n')
      .filter((l) => l.startsWith('?'))
      .map((l) => l.slice(1).trim()),
  );
  return Object.fromEntries(paths.map((p, i) => [p, !missing.has(oids[i] as string)]));
}

/**
 * A commit of `changes` on the tip whose message seals its own tree and names the tip's events, as anyone with
 * push access can write it (or, removing the copy, as a Leviathan from before the copy wrote its tips).
 */
async function rewriteTip(
  writer: EventLog,
  changes: Map<string, string | null>,
  sealer: Sealer | null = null,
): Promise<void> {
  const view = await writer.store.fetch();
  const claim = parseAppendMessage(view.message);
  const stateText = await view.read('state.json');
  if (!claim || stateText === null) throw new Error('the tip is not an append');
  const state = sha256Text(stateText);
  const seal = sealer?.seal(sealPayload({ ref: `refs/heads/${BRANCH}`, ...claim, state })) ?? null;
  const message = (tree: string) =>
    `${appendMessage(claim.first, claim.last, claim.hash, tree)}\n${sealTrailers(state, seal)}`;
  const commit = await writer.store.commit(changes, message, view.commit);
  if (!(await writer.store.push(commit, view.commit))) throw new Error('the rewrite lost a race');
}

describe('the first read of the log in a fresh clone', () => {
  it('is one fetch that brings state.json and the newest day file but no older day file', async () => {
    const { repo } = await sealedLog();
    const dir = await checkout(repo);
    const reader = new EventLog({ dir, rootBlobs: true });
    const { value, fetches } = await sessions(repo, () => reader.readRecent(2));
    expect(fetches).toBe(1);
    expect(value.source).toBe('snapshot');
    expect(value.state.seq).toBe(12);
    expect(value.recent.map((e) => e.seq)).toEqual([11, 12]);
    expect(await held(dir, ['state.json', `events/${DAYS[2]}.ndjson`, NEWEST_COPY])).toEqual({
      'state.json': true,
      [`events/${DAYS[2]}.ndjson`]: true,
      [NEWEST_COPY]: true,
    });
    expect(await held(dir, [`events/${DAYS[0]}.ndjson`, `events/${DAYS[1]}.ndjson`])).toEqual({
      [`events/${DAYS[0]}.ndjson`]: false,
      [`events/${DAYS[1]}.ndjson`]: false,
    });
    // The append right after it (the worker's attempt.started) needs no second fetch before its push.
    const b = new EventBuilder(`${DAYS[2]}T12:00:00.000Z`);
    const more = await sessions(repo, () => reader.append([b.tripped(2)]));
    expect(more.value.ok).toBe(true);
    expect(more.fetches).toBe(0);
  });

  it('keeps the copy the newest day file, across a new day, at no extra blob', async () => {
    const { repo, writer, b } = await sealedLog();
    b.at('2026-11-27T08:00:00.000Z');
    expect((await writer.append([b.tripped(2)])).ok).toBe(true);
    const bare = server.path(repo);
    const newest = await git(bare, ['rev-parse', `${BRANCH}:events/2026-11-27.ndjson`]);
    expect(await git(bare, ['rev-parse', `${BRANCH}:${NEWEST_COPY}`])).toBe(newest);
    expect(await new EventLog({ dir: await checkout(repo) }).verify()).toMatchObject({
      ok: true,
      warnings: [],
    });
  });

  it('reads a log written before the copy existed (the root, then the newest day file)', async () => {
    // Sealed with a key, so the fresh reader trusts the snapshot without a replay.
    const sealer = sealerFromSecret(newSigningKey().secret);
    const { repo, writer } = await sealedLog(sealer);
    await rewriteTip(writer, new Map([[NEWEST_COPY, null]]), sealer);
    const dir = await checkout(repo);
    const reader = new EventLog({ dir, rootBlobs: true, publicKey: sealer.publicKey });
    const { value, fetches } = await sessions(repo, () => reader.readRecent(1));
    expect(fetches).toBe(2);
    expect(value.source).toBe('snapshot');
    expect(await held(dir, [`events/${DAYS[0]}.ndjson`])).toEqual({ [`events/${DAYS[0]}.ndjson`]: false });
    expect(value.state.seq).toBe(12);
    expect(value.recent.map((e) => e.seq)).toEqual([12]);
    const verified = await new EventLog({ dir: await checkout(repo), publicKey: sealer.publicKey }).verify();
    expect(verified).toMatchObject({ ok: true, count: 12, signed: true, warnings: [] });
  });

  it.each([
    ['limits tree filters to depth 0 (as GitHub)', [['uploadpackfilter.tree.maxDepth', '0']] as const],
    [
      'allows blob:none only',
      [
        ['uploadpackfilter.allow', 'false'],
        ['uploadpackfilter.blob:none.allow', 'true'],
      ] as const,
    ],
  ])('reads from a server that %s, and asks it without the tree filter from then on', async (_, config) => {
    const { repo } = await sealedLog();
    for (const [key, value] of config) await git(server.path(repo), ['config', key, value]);
    const dir = await checkout(repo);
    const refused = await sessions(repo, () => new EventLog({ dir, rootBlobs: true }).readRecent(1));
    expect(refused.value.state.seq).toBe(12);
    expect(refused.value.recent.map((e) => e.seq)).toEqual([12]);
    // The refused try, the blob-less fetch and the two blobs.
    expect(refused.fetches).toBe(3);
    const again = await sessions(repo, async () =>
      new EventLog({ dir: await checkout(repo), rootBlobs: true }).readRecent(1),
    );
    expect(again.value.state.seq).toBe(12);
    expect(again.fetches).toBe(2);
  });

  it('reads the newest day file, never the copy, when a rewritten tip makes them differ; verify warns', async () => {
    const { repo, writer } = await sealedLog();
    const bare = server.path(repo);
    const day = `events/${DAYS[2]}.ndjson`;
    const text = await git(bare, ['show', `${BRANCH}:${day}`], { raw: true });
    // The copy claims the last event never happened.
    const lines = text.split('\n').filter(Boolean);
    await rewriteTip(writer, new Map([[NEWEST_COPY, `${lines.slice(0, -1).join('\n')}\n`]]));
    const dir = await checkout(repo);
    const reader = new EventLog({ dir, rootBlobs: true });
    const { value } = await sessions(repo, () => reader.readRecent(1));
    expect(value.source).toBe('replay');
    expect(value.state.seq).toBe(12);
    expect(value.recent.map((e) => e.seq)).toEqual([12]);
    const verified = await new EventLog({ dir: await checkout(repo) }).verify();
    expect(verified).toMatchObject({ ok: true, count: 12 });
    expect(verified.ok && verified.warnings).toEqual([
      `${NEWEST_COPY} is not a copy of ${day} (the tree was edited by hand); readers never use it`,
    ]);
  });
});
