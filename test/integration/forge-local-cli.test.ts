import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  formatPullTable,
  parsePullNumber,
  runPrClose,
  runPrList,
  runPrMerge,
} from '../../src/cli/commands/pr.js';
import { UserError } from '../../src/core/errors.js';
import { LocalForge } from '../../src/forge/local.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, commitFiles, git, makeTempDir, removeDir } from '../harness/repo.js';
import { cli } from '../helpers/cli.js';
import { capture } from '../helpers/loop.js';

const now = () => new Date('2026-11-26T10:00:00.000Z');

let server: GitServer;
let root: string;
let user: string;
let bare: string;

/** Origin with three pulls: #1 and #2 open, #3 conflicting with main. */
beforeAll(async () => {
  server = await GitServer.start();
  root = await makeTempDir('pr-cli');
  bare = await server.createRepo('cli', { files: { 'README.md': '# cli\n', 'shared.txt': 'base\n' } });
  user = await cloneRepo(server.url('cli'), join(root, 'user'));
  const worker = await cloneRepo(server.url('cli'), join(root, 'worker'));
  const forge = new LocalForge({ dir: user, now });
  const branches: Array<[string, Record<string, string>]> = [
    ['leviathan/docs-guide', { 'docs/guide.md': 'guide\n' }],
    ['leviathan/faq', { 'docs/faq.md': 'faq\n' }],
    ['leviathan/clash', { 'shared.txt': 'pull\n' }],
  ];
  for (const [branch, files] of branches) {
    await git(worker, ['update-ref', `refs/heads/${branch}`, 'origin/main']);
    await commitFiles(worker, branch, files);
    await git(worker, ['push', '--quiet', 'origin', branch]);
    await forge.upsertPull({
      branch,
      base: 'main',
      title: `Do ${branch.slice(10)}`,
      body: '',
      draft: branch !== 'leviathan/faq',
      labels: ['leviathan'],
      reviewers: [],
    });
  }
  await commitFiles(bare, 'main', { 'shared.txt': 'main\n' }, 'human edit');
});

afterAll(async () => {
  await server?.stop();
  await removeDir(root);
});

describe('leviathan pr', () => {
  it('list prints a table of #, state, branch, title, updated', async () => {
    const out = capture();
    await runPrList({ dir: user, out });
    expect(out.lines).toEqual([
      '#  STATE  BRANCH                TITLE          UPDATED',
      '1  draft  leviathan/docs-guide  Do docs-guide  2026-11-26 10:00Z',
      '2  open   leviathan/faq         Do faq         2026-11-26 10:00Z',
      '3  draft  leviathan/clash       Do clash       2026-11-26 10:00Z',
    ]);
  });

  it('list --json prints every record', async () => {
    const out = capture(true);
    await runPrList({ dir: user, out });
    const parsed = JSON.parse(out.lines[0]!);
    expect(parsed.pulls.map((p: { number: number; state: string }) => [p.number, p.state])).toEqual([
      [1, 'open'],
      [2, 'open'],
      [3, 'open'],
    ]);
    expect(out.lines).toHaveLength(1);
  });

  it('merge N merges and says so; merging again is a one-line UserError', async () => {
    const out = capture();
    const { mergeCommit } = await runPrMerge({ dir: user, out, now }, 1);
    expect(out.lines).toEqual([`merged #1 (leviathan/docs-guide → main) as ${mergeCommit.slice(0, 12)}`]);
    expect(await git(bare, ['rev-parse', 'refs/heads/main'])).toBe(mergeCommit);
    const again = runPrMerge({ dir: user, out: capture() }, 1);
    await expect(again).rejects.toBeInstanceOf(UserError);
    await expect(runPrMerge({ dir: user, out: capture() }, 1)).rejects.toThrow(
      'pull #1 is merged; only an open pull can be merged',
    );
  });

  it('merge --json reports the merged pull and the merge commit; a conflict is refused', async () => {
    const out = capture(true);
    await expect(runPrMerge({ dir: user, out }, 3)).rejects.toThrow(
      new UserError('pull #3 cannot be merged into main: conflicts in shared.txt; nothing was changed'),
    );
    expect(out.lines).toEqual([]);
    const close = capture(true);
    await runPrClose({ dir: user, out: close, now }, 3);
    expect(JSON.parse(close.lines[0]!)).toMatchObject({ closed: true, pull: { number: 3, state: 'closed' } });
  });

  it('close N closes; close of an unknown number names it', async () => {
    const out = capture();
    await runPrClose({ dir: user, out, now }, 2);
    expect(out.lines).toEqual(['closed #2 (leviathan/faq) without merging']);
    await expect(runPrClose({ dir: user, out: capture() }, 99)).rejects.toThrow(
      'pull #99 does not exist in refs/leviathan/pulls',
    );
  });

  it('a directory that is not a repository is a UserError', async () => {
    await expect(runPrList({ dir: join(root, 'nowhere'), out: capture() })).rejects.toThrow(
      /nowhere is not a git repository/,
    );
  });

  it('through runCli: exit 0 with output, 1 for a refused merge, 2 for a bad number', async () => {
    const list = await cli('pr', 'list', '--dir', user, '--json');
    expect(list.code).toBe(0);
    const printed = JSON.parse(list.stdout);
    expect(printed.pulls.map((p: { state: string }) => p.state)).toEqual(['merged', 'closed', 'closed']);
    const refused = await cli('pr', 'merge', '2', '--dir', user);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('leviathan: pull #2 is closed; only an open pull can be merged\n');
    expect((await cli('pr', 'merge', 'two', '--dir', user)).code).toBe(2);
    expect((await cli('pr', 'close', '--dir', user)).code).toBe(2);
  });
});

describe('pr helpers', () => {
  it('parsePullNumber accepts positive integers only', () => {
    expect(parsePullNumber('7')).toBe(7);
    for (const bad of ['0', '-1', '1.5', 'x', '', '01'])
      expect(() => parsePullNumber(bad)).toThrow(/expected a pull/);
  });

  it('formatPullTable says so when there are none', () => {
    expect(formatPullTable([])).toEqual(['no pull requests']);
  });
});
