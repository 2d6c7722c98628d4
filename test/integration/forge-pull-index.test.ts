/**
 * The pulls ref's index (forge/pull-index.ts, issue 10): an upsert reads no pull record but the branch's own,
 * however many the ref holds; a commit without a sealed index (an older writer) or whose tree is not the one
 * its message seals (a hand-made commit copying the message) is read in full, so no open pull is duplicated.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LocalForge } from '../../src/forge/local.js';
import { parseIndex } from '../../src/forge/pull-index.js';
import { PULLS_REF, type PullRecord, pullPath, serializePull } from '../../src/forge/pull-records.js';
import { observeGit } from '../../src/store/git.js';
import { RefStore } from '../../src/store/ref-store.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, git, makeTempDir, removeDir } from '../harness/repo.js';
import { pullInput, pullRecord } from '../helpers/pull-fixtures.js';

let server: GitServer;
let root: string;
let counter = 0;

beforeAll(async () => {
  server = await GitServer.start();
  root = await makeTempDir('forge-index');
});

afterAll(async () => {
  await server?.stop();
  await removeDir(root);
});

/** An origin whose pulls ref holds `records`, written as a writer without an index would (or a human). */
async function setup(records: PullRecord[], branches: string[]) {
  const name = `index${++counter}`;
  const bare = await server.createRepo(name, { files: { 'README.md': '# target\n' } });
  const main = await git(bare, ['rev-parse', 'refs/heads/main']);
  const refs = [...new Set([...branches, ...records.map((r) => r.head)])];
  await git(bare, ['update-ref', '--stdin'], {
    input: refs.map((b) => `create refs/heads/${b} ${main}\n`).join(''),
  });
  const changes = new Map<string, string>([['next', `${records.length + 1}\n`]]);
  for (const r of records) changes.set(pullPath(r.number), serializePull(r));
  const store = new RefStore({ dir: bare, ref: PULLS_REF });
  if (!(await store.push(await store.commit(changes, 'seeded by an older writer', null), null)))
    throw new Error('seeding lost a race');
  const clone = async (who: string) => cloneRepo(server.url(name), join(root, `${name}-${who}-${++counter}`));
  return { bare, clone };
}

async function counted<T>(fn: () => Promise<T>): Promise<{ value: T; commands: string[] }> {
  const commands: string[] = [];
  const stop = observeGit((args) => commands.push(args.join(' ')));
  try {
    return { value: await fn(), commands };
  } finally {
    stop();
  }
}

const blobReads = (commands: string[]) =>
  commands.filter(
    (c) => c.startsWith('cat-file') || c.includes('--stdin origin') || c.includes('ls-tree -z -r'),
  );

const many = Array.from({ length: 40 }, (_, i) =>
  pullRecord(i + 1, `leviathan/old-${i}`, i === 7 ? 'open' : 'merged'),
);

describe('the pulls index', () => {
  it('after one full read, an upsert of a new branch reads no pull record at all', async () => {
    const { bare, clone } = await setup(many, ['leviathan/new-a', 'leviathan/new-b']);
    // The first write after an older writer reads everything, and seals the index it leaves.
    const first = await new LocalForge({ dir: await clone('a') }).upsertPull(pullInput('leviathan/new-a'));
    expect(first.pull.number).toBe(41);
    const message = await git(bare, ['log', '-1', '--format=%B', PULLS_REF]);
    const tree = await git(bare, ['rev-parse', `${PULLS_REF}^{tree}`]);
    expect(parseIndex(message, tree)).toEqual({
      next: 42,
      open: new Map([
        ['leviathan/old-7', 8],
        ['leviathan/new-a', 41],
      ]),
    });
    const forge = new LocalForge({ dir: await clone('b') });
    const second = await counted(() => forge.upsertPull(pullInput('leviathan/new-b')));
    expect(second.value.pull.number).toBe(42);
    expect(blobReads(second.commands)).toEqual([]);
    // The branch with an open pull: only that record is read, and it is updated, not duplicated.
    const again = await counted(() =>
      new LocalForge({ dir: bare }).upsertPull(pullInput('leviathan/old-7', { title: 'retitled' })),
    );
    expect(again.value).toMatchObject({ created: false, pull: { number: 8, title: 'retitled' } });
    const all = await new LocalForge({ dir: await clone('c') }).allPulls();
    expect(all).toHaveLength(42);
    expect(all.filter((p) => p.state === 'open').map((p) => p.number)).toEqual([8, 41, 42]);
  });

  it('a hand-made commit copying a sealed message is read in full: its open pull is not duplicated', async () => {
    const { bare, clone } = await setup(many.slice(0, 5), ['leviathan/sneaky', 'leviathan/first']);
    await new LocalForge({ dir: await clone('a') }).upsertPull(pullInput('leviathan/first'));
    // A human adds an open pull for leviathan/sneaky by hand, keeping the sealed message (index without it).
    const message = await git(bare, ['log', '-1', '--format=%B', PULLS_REF]);
    const parent = await git(bare, ['rev-parse', PULLS_REF]);
    const store = new RefStore({ dir: bare, ref: PULLS_REF });
    const forged = await store.commit(
      new Map([
        [pullPath(7), serializePull(pullRecord(7, 'leviathan/sneaky', 'open'))],
        ['next', '8\n'],
      ]),
      message,
      parent,
    );
    expect(await store.push(forged, parent)).toBe(true);
    const up = await new LocalForge({ dir: await clone('b') }).upsertPull(pullInput('leviathan/sneaky'));
    expect(up).toMatchObject({ created: false, pull: { number: 7 } });
    const opened = (await new LocalForge({ dir: bare }).allPulls()).filter(
      (p) => p.head === 'leviathan/sneaky',
    );
    expect(opened).toHaveLength(1);
  });

  it('a forged seal (the unchanged tree, Next: 1) never makes an upsert overwrite a record', async () => {
    const { bare, clone } = await setup(many.slice(0, 3), ['leviathan/victim']);
    // Anyone with push access can compute a tree's id: a commit over the same tree, sealed with a lying index.
    const parent = await git(bare, ['rev-parse', PULLS_REF]);
    const tree = await git(bare, ['rev-parse', `${PULLS_REF}^{tree}`]);
    const lie = `forged\n\nLeviathan-Pulls-Next: 1\nLeviathan-Tree: ${tree}`;
    expect(parseIndex(lie, tree)).toEqual({ next: 1, open: new Map() });
    const forged = await git(bare, ['commit-tree', tree, '-p', parent, '-m', lie]);
    await git(bare, ['update-ref', PULLS_REF, forged, parent]);
    const before = await git(bare, ['show', `${PULLS_REF}:${pullPath(1)}`]);
    const up = await new LocalForge({ dir: await clone('a') }).upsertPull(pullInput('leviathan/victim'));
    expect(up).toMatchObject({ created: true, pull: { number: 4 } });
    expect(await git(bare, ['show', `${PULLS_REF}:${pullPath(1)}`])).toBe(before);
    // The index Leviathan leaves is the true one again.
    const message = await git(bare, ['log', '-1', '--format=%B', PULLS_REF]);
    const healed = parseIndex(message, await git(bare, ['rev-parse', `${PULLS_REF}^{tree}`]));
    expect(healed?.next).toBe(5);
  });

  it('a sealed index is kept by every write (close, comment) and names no closed pull', async () => {
    const { bare, clone } = await setup(many.slice(0, 3), ['leviathan/x']);
    const forge = new LocalForge({ dir: await clone('a') });
    const { pull } = await forge.upsertPull(pullInput('leviathan/x'));
    await forge.comment(pull.number, 'looks fine');
    await forge.close(pull.number);
    const message = await git(bare, ['log', '-1', '--format=%B', PULLS_REF]);
    const tree = await git(bare, ['rev-parse', `${PULLS_REF}^{tree}`]);
    expect(parseIndex(message, tree)).toEqual({ next: 5, open: new Map() });
    const reopened = await new LocalForge({ dir: await clone('b') }).upsertPull(pullInput('leviathan/x'));
    expect(reopened).toMatchObject({ created: true, pull: { number: 5 } });
  });
});
