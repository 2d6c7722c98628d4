/**
 * Red-team finding (issue 7 §2): `update-index --index-info` silently drops some paths it refuses (NTFS
 * spellings of `.git`), so a candidate could be judged with a file the pushed tree no longer holds. The
 * private repository refuses to build a tree that differs from what was asked.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Git } from '../../src/store/git.js';
import { PrivateRepo } from '../../src/store/private-repo.js';
import { git, initRepo, makeTempDir, removeDir } from '../harness/repo.js';

let dir: string;
let repo: PrivateRepo;
let base: string;

beforeAll(async () => {
  dir = await initRepo(await makeTempDir('private-paths'), { files: { 'docs/a.md': 'a\n' } });
  base = await git(dir, ['rev-parse', 'HEAD']);
  repo = await PrivateRepo.create(new Git(dir));
});

afterAll(async () => {
  await removeDir(dir);
});

describe('PrivateRepo.buildTree', () => {
  it('builds the tree it was asked for', async () => {
    const oid = await repo.writeBlob(Buffer.from('b\n'));
    const tree = await repo.buildTree(base, [{ path: 'docs/b.md', mode: '100644', oid }]);
    const listed = await repo.git.output(['ls-tree', '-r', '--name-only', tree]);
    expect(listed.split('\n')).toEqual(['docs/a.md', 'docs/b.md']);
  });

  it('refuses what update-index would silently drop, instead of building another tree', async () => {
    const oid = await repo.writeBlob(Buffer.from('x\n'));
    const refused = [
      { path: 'docs/.git::$INDEX_ALLOCATION/config', mode: '100644' },
      { path: 'docs/.git:x/y', mode: '100644' },
      { path: 'docs/.gitmodules::$DATA', mode: '120000' },
    ];
    for (const { path, mode } of refused) {
      await expect(repo.buildTree(base, [{ path, mode, oid }])).rejects.toThrow(/git refused the path/);
    }
  });
});
