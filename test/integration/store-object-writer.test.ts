/**
 * The store's own objects (src/store/object-writer.ts) are the objects git would have made: every commit the
 * ref store builds in remote mode passes `git fsck --strict` and holds exactly the tree `read-tree` +
 * `update-index` + `write-tree` give for the same changes, nested directories, deletions and emptied
 * directories included, whether the parent's directories were listed before or not.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Git } from '../../src/store/git.js';
import { commitBody, LooseObjectWriter } from '../../src/store/object-writer.js';
import { RefStore } from '../../src/store/ref-store.js';
import type { FileChanges } from '../../src/store/ref-store-types.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, git, makeTempDir, removeDir } from '../harness/repo.js';

let server: GitServer;
let root: string;

beforeAll(async () => {
  server = await GitServer.start();
  root = await makeTempDir('store-objects');
});

afterAll(async () => {
  await server?.stop();
  await removeDir(root);
});

/** The tree git itself builds from `parent` with `changes`, in a scratch index of `repo`. */
async function gitTree(repo: string, parent: string | null, changes: FileChanges): Promise<string> {
  const g = new Git(repo, undefined, { GIT_DIR: repo });
  const env = { GIT_INDEX_FILE: join(root, `index-${process.hrtime.bigint()}`) };
  await g.run(parent ? ['read-tree', parent] : ['read-tree', '--empty'], { env });
  const lines: string[] = [];
  for (const [path, content] of changes) {
    if (content === null) lines.push(`0 ${'0'.repeat(40)}\t${path}`);
    else
      lines.push(`100644 ${await g.output(['hash-object', '-w', '--stdin'], { input: content })}\t${path}`);
  }
  await g.run(['update-index', '-z', '--index-info'], { env, input: `${lines.join('\0')}\0` });
  return g.output(['write-tree', '--missing-ok'], { env });
}

it('writes commits git accepts, with the trees git would build', async () => {
  const bare = await server.createRepo('objects');
  const dir = await cloneRepo(server.url('objects'), join(root, 'clone'));
  const aux = join(dir, '.git', 'leviathan', 'origin.git');
  const steps: FileChanges[] = [
    new Map([
      ['state.json', '{"v":1}\n'],
      ['events/2026-11-26.ndjson', 'a\n'],
      ['a-b', 'x'],
      ['a', 'file named a'],
      ['a.b/c', 'c'],
      ['deep/er/still/file', 'd'],
    ]),
    new Map([
      ['events/2026-11-27.ndjson', 'b\n'],
      ['state.json', '{"v":2}\n'],
      ['deep/er/still/file', null],
      ['deep/other', 'o'],
    ]),
    new Map([
      ['a', null],
      ['a.b/c', null],
      ['events/2026-11-26.ndjson', 'a\nmore\n'],
    ]),
  ];
  let parent: string | null = null;
  for (const [i, changes] of steps.entries()) {
    // A new store each time: the second step builds from a listing it made itself, the others from git.
    const store = new RefStore({ dir, ref: 'refs/leviathan/test' });
    if (i === 1) await (await store.fetch()).list('', 'events', 'deep');
    let seenTree = '';
    const commit = await store.commit(
      changes,
      (tree) => {
        seenTree = tree;
        return `step ${i}\n\ntree ${tree}`;
      },
      parent,
    );
    expect(await store.push(commit, parent)).toBe(true);
    const tree = await git(aux, ['rev-parse', `${commit}^{tree}`]);
    expect(tree).toBe(seenTree);
    expect(tree).toBe(await gitTree(aux, parent, changes));
    // The message byte for byte as commit-tree stores `-F -` input: the text and one newline.
    const raw = await git(aux, ['cat-file', 'commit', commit]);
    expect(raw).toMatch(
      /^tree [0-9a-f]{40}\n(parent [0-9a-f]{40}\n)?author Leviathan <leviathan@users\.noreply\.github\.com> \d+ \+0000\ncommitter /,
    );
    expect(raw.endsWith(`\n\nstep ${i}\n\ntree ${tree}`)).toBe(true);
    if (parent) expect(await git(aux, ['rev-parse', `${commit}^`])).toBe(parent);
    parent = commit;
  }
  // The origin took every object and checks them as strictly as git does.
  await git(bare, ['fsck', '--strict', '--no-dangling']);
  expect(await git(bare, ['rev-parse', 'refs/leviathan/test'])).toBe(parent);
});

it('writes sha256 objects a sha256 repository reads and fsck accepts', async () => {
  const repo = join(root, 'sha256.git');
  await git(root, ['init', '--quiet', '--bare', '--object-format=sha256', repo]);
  const writer = new LooseObjectWriter(join(repo, 'objects'), 'sha256');
  const blob = await writer.write('blob', Buffer.from('hello\n'));
  expect(blob).toBe(await git(repo, ['hash-object', '--stdin'], { input: 'hello\n' }));
  const { tree } = await writer.writeTree(
    new Map(),
    new Map([
      ['d/x', blob],
      ['y', blob],
    ]),
  );
  const commit = await writer.write(
    'commit',
    commitBody(tree, null, { name: 'Leviathan', email: 'l@example.com' }, new Date(0), 'm\n'),
  );
  expect(await git(repo, ['ls-tree', '-r', '--name-only', commit])).toBe('d/x\ny');
  await git(repo, ['update-ref', 'refs/heads/main', commit]);
  await git(repo, ['fsck', '--strict', '--no-dangling']);
});
