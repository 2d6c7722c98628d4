/** The agent job's artifact is hostile data: every crafted archive is refused before anything is written. */

import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ArtifactRefused, inspectArchive, unpackWorkTree } from '../../src/worker/artifact.js';
import { makeTempDir } from '../harness/repo.js';
import { type CraftedMember, craftTar } from '../helpers/tar.js';

async function archive(members: CraftedMember[]): Promise<string> {
  const file = join(await makeTempDir('artifact'), 'a.tar');
  await writeFile(file, craftTar(members));
  return file;
}

async function refusal(
  file: string,
  limits?: Parameters<typeof inspectArchive>[1],
): Promise<ArtifactRefused> {
  const error = await inspectArchive(file, limits).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArtifactRefused);
  return error as ArtifactRefused;
}

describe('the agent artifact', () => {
  it('unpacks a work tree made by GNU tar, deletions included, symlinks inside kept', async () => {
    const tree = await makeTempDir('tree');
    await mkdir(join(tree, 'docs/deep'), { recursive: true });
    await writeFile(join(tree, 'docs/deep/a.md'), 'A\n');
    await writeFile(join(tree, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    await symlink('deep/a.md', join(tree, 'docs/link'));
    await mkdir(join(tree, '.git'));
    const file = join(await makeTempDir('tar'), 'w.tar');
    execFileSync('tar', ['--create', '--file', file, '--exclude=./.git', '-C', tree, '.']);
    const dest = await makeTempDir('dest');
    await mkdir(join(dest, '.git'));
    await writeFile(join(dest, '.git/HEAD'), 'keep');
    await writeFile(join(dest, 'deleted.md'), 'gone');
    expect(await unpackWorkTree(file, dest)).toBe(5);
    expect(await readFile(join(dest, 'docs/deep/a.md'), 'utf8')).toBe('A\n');
    expect(await readlink(join(dest, 'docs/link'))).toBe('deep/a.md');
    expect(await readFile(join(dest, '.git/HEAD'), 'utf8')).toBe('keep');
    await expect(readFile(join(dest, 'deleted.md'))).rejects.toThrow();
  });

  it.each([
    ['a path with ..', [{ name: '../escape.txt', body: 'x' }]],
    ['an absolute path', [{ name: '/etc/cron.d/x', body: 'x' }]],
    ['a member inside .git', [{ name: './.git/hooks/pre-push', body: 'x' }]],
    ['a symlink out', [{ name: 'docs/out', type: '2', linkTarget: '../../../etc/passwd' }]],
    ['an absolute symlink', [{ name: 'docs/out', type: '2', linkTarget: '/etc/passwd' }]],
    [
      'a write through a symlinked directory',
      [
        { name: 'd', type: '2', linkTarget: '.' },
        { name: 'd/x', body: 'x' },
      ],
    ],
    ['a hard link', [{ name: 'h', type: '1', linkTarget: 'etc/passwd' }]],
    ['a device', [{ name: 'dev', type: '3' }]],
  ] as [string, CraftedMember[]][])('refuses %s as scope_violation', async (_what, members) => {
    expect((await refusal(await archive(members))).reason).toBe('scope_violation');
  });

  it('refuses a 10 GiB member, a tar bomb and an oversized archive as limit_exceeded, writing nothing', async () => {
    const huge = await refusal(await archive([{ name: 'big.bin', declaredSize: 10 * 1024 ** 3 }]));
    expect(huge.reason).toBe('limit_exceeded');
    expect(huge.message).toContain('10737418240');
    const bomb = Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, body: 'x'.repeat(1000) }));
    const limits = { maxArchiveBytes: 1e6, maxMemberBytes: 2000, maxTotalBytes: 10_000, maxMembers: 1000 };
    expect((await refusal(await archive(bomb), limits)).reason).toBe('limit_exceeded');
    expect(
      (await refusal(await archive(bomb), { ...limits, maxTotalBytes: 1e6, maxMembers: 10 })).reason,
    ).toBe('limit_exceeded');
    expect((await refusal(await archive(bomb), { ...limits, maxArchiveBytes: 4096 })).reason).toBe(
      'limit_exceeded',
    );
    const dest = await makeTempDir('dest');
    await writeFile(join(dest, 'kept.md'), 'kept');
    await expect(unpackWorkTree(await archive(bomb), dest, limits)).rejects.toThrow(ArtifactRefused);
    expect(await readFile(join(dest, 'kept.md'), 'utf8')).toBe('kept');
  });
});
