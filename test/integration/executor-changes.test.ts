import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChangedEntry, collectChanges, parseRawDiff } from '../../src/executor/changes.js';
import { Git } from '../../src/store/git.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lev-changes-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const BASE_FILES: Record<string, string> = {
  '.github/workflows/ci.yml': 'on: push\n',
  '.leviathan/config.yaml': 'version: 1\n',
  '.gitignore': '*.log\nbuild/\n',
  'docs/readme.md': '# Readme\n',
  'docs/tool.sh': 'echo hi\n',
  'docs/tracked.log': 'tracked although ignored\n',
  'src/app.ts': 'export {};\n',
};

let counter = 0;
async function makeRepo(): Promise<{ dir: string; git: Git; base: string }> {
  const dir = join(root, `repo-${++counter}`);
  await mkdir(dir);
  const git = new Git(dir);
  await git.run(['init', '-q', '-b', 'main']);
  for (const [path, content] of Object.entries(BASE_FILES)) await put(dir, path, content);
  await git.run(['add', '-A']);
  await git.run(['add', '-f', 'docs/tracked.log']);
  await git.run(['commit', '-q', '-m', 'base']);
  return { dir, git, base: await git.output(['rev-parse', 'HEAD']) };
}

async function put(dir: string, path: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(join(dir, path)), { recursive: true });
  await writeFile(join(dir, path), content);
}

function byPath(changes: ChangedEntry[]): Record<string, Omit<ChangedEntry, 'path' | 'oid'>> {
  return Object.fromEntries(changes.map(({ path, oid: _oid, ...rest }) => [path, rest]));
}

describe('collectChanges', () => {
  it('finds nothing in an untouched checkout, and the tree is the base tree', async () => {
    const { git, base } = await makeRepo();
    const set = await collectChanges(git, 'HEAD');
    expect(set.changes).toEqual([]);
    expect(set.base).toBe(base);
    expect(set.tree).toBe(await git.output(['rev-parse', `${base}^{tree}`]));
  });

  it('sees tracked modifications, untracked files and deletions, with modes and sizes', async () => {
    const { dir, git, base } = await makeRepo();
    await put(dir, 'docs/readme.md', '# Readme\nmore\n');
    await put(dir, 'docs/new/guide.md', 'guide');
    await unlink(join(dir, 'src/app.ts'));
    const set = await collectChanges(git, base);
    expect(byPath(set.changes)).toEqual({
      'docs/new/guide.md': { status: 'A', oldMode: '000000', mode: '100644', size: 5 },
      'docs/readme.md': { status: 'M', oldMode: '100644', mode: '100644', size: 14 },
      'src/app.ts': { status: 'D', oldMode: '100644', mode: '000000', size: 0 },
    });
    expect(set.changes.find((c) => c.status === 'D')?.oid).toBeNull();
  });

  it('leaves ignored files out but still sees a tracked file that matches an ignore rule', async () => {
    const { dir, git, base } = await makeRepo();
    await put(dir, 'docs/debug.log', 'noise');
    await put(dir, 'build/out.js', 'x');
    await put(dir, 'docs/tracked.log', 'changed');
    const set = await collectChanges(git, base);
    expect(set.changes.map((c) => c.path)).toEqual(['docs/tracked.log']);
  });

  it('reports a rename as a deletion plus an addition, so both paths get checked', async () => {
    const { dir, git, base } = await makeRepo();
    await git.run(['mv', '.github/workflows/ci.yml', 'docs/ci.yml']);
    const set = await collectChanges(git, base);
    expect(set.changes.map((c) => `${c.status} ${c.path}`)).toEqual([
      'D .github/workflows/ci.yml',
      'A docs/ci.yml',
    ]);
    expect(existsSync(join(dir, 'docs/ci.yml'))).toBe(true);
  });

  it('keeps names with spaces, quotes, unicode and newlines intact', async () => {
    const { dir, git, base } = await makeRepo();
    const names = [
      'docs/with space.md',
      'docs/"quoted".md',
      'docs/ünïcødé-日本.md',
      'docs/new\nline.md',
      'docs/tab\there.md',
    ];
    for (const name of names) await put(dir, name, 'x');
    const set = await collectChanges(git, base);
    expect(set.changes.map((c) => c.path).sort()).toEqual([...names].sort());
    expect(set.changes.every((c) => c.status === 'A' && c.size === 1)).toBe(true);
  });

  it('counts the exact bytes of a binary file', async () => {
    const { dir, git, base } = await makeRepo();
    const binary = Buffer.from([0, 255, 0, 1, 2, 0xc3, 0x28, 0, 10, 13]);
    await put(dir, 'docs/image.bin', Buffer.concat([binary, binary, binary]));
    const set = await collectChanges(git, base);
    expect(byPath(set.changes)['docs/image.bin']).toMatchObject({ status: 'A', size: 30 });
  });

  it('sees a change of the executable bit alone', async () => {
    const { dir, git, base } = await makeRepo();
    await chmod(join(dir, 'docs/tool.sh'), 0o755);
    const set = await collectChanges(git, base);
    expect(byPath(set.changes)).toEqual({
      'docs/tool.sh': { status: 'M', oldMode: '100644', mode: '100755', size: 8 },
    });
  });

  it('records symlinks with their target, and a file turned into a symlink as a type change', async () => {
    const { dir, git, base } = await makeRepo();
    await symlink('../.github/workflows/ci.yml', join(dir, 'docs/link'));
    await unlink(join(dir, 'docs/readme.md'));
    await symlink('/etc/passwd', join(dir, 'docs/readme.md'));
    const set = await collectChanges(git, base);
    expect(byPath(set.changes)).toEqual({
      'docs/link': {
        status: 'A',
        oldMode: '000000',
        mode: '120000',
        size: '../.github/workflows/ci.yml'.length,
        linkTarget: '../.github/workflows/ci.yml',
      },
      'docs/readme.md': {
        status: 'T',
        oldMode: '100644',
        mode: '120000',
        size: '/etc/passwd'.length,
        linkTarget: '/etc/passwd',
      },
    });
  });

  it('records an embedded repository as a submodule entry', async () => {
    const { dir, git, base } = await makeRepo();
    const inner = new Git(join(dir, 'docs/vendor'));
    await mkdir(inner.cwd, { recursive: true });
    await inner.run(['init', '-q']);
    await inner.run(['commit', '-q', '--allow-empty', '-m', 'x']);
    const set = await collectChanges(git, base);
    expect(byPath(set.changes)).toEqual({
      'docs/vendor': { status: 'A', oldMode: '000000', mode: '160000', size: 0 },
    });
  });

  it('does not see files written outside the checkout', async () => {
    const { dir, git, base } = await makeRepo();
    await writeFile(join(dir, '..', `outside-${counter}`), 'escaped');
    const set = await collectChanges(git, base);
    expect(set.changes).toEqual([]);
  });

  it('leaves the real index alone and is not fooled by flags set in it', async () => {
    const { dir, git, base } = await makeRepo();
    // The agent stages one thing and hides another with index flags.
    await put(dir, 'docs/staged.md', 'staged');
    await git.run(['add', 'docs/staged.md']);
    await git.run(['update-index', '--assume-unchanged', '.github/workflows/ci.yml']);
    await git.run(['update-index', '--skip-worktree', '.leviathan/config.yaml']);
    await put(dir, '.github/workflows/ci.yml', 'on: pull_request_target\n');
    await put(dir, '.leviathan/config.yaml', 'version: 1\nlimits: {max_files_changed: 9999}\n');
    const indexBefore = await readFile(join(dir, '.git/index'));

    const set = await collectChanges(git, base);
    expect(set.changes.map((c) => c.path)).toEqual([
      '.github/workflows/ci.yml',
      '.leviathan/config.yaml',
      'docs/staged.md',
    ]);
    expect(await readFile(join(dir, '.git/index'))).toEqual(indexBefore);
  });

  it('returns the tree to commit: exactly the checked changes', async () => {
    const { dir, git, base } = await makeRepo();
    await put(dir, 'docs/new.md', 'new\n');
    await unlink(join(dir, 'docs/readme.md'));
    const set = await collectChanges(git, base);
    const names = (await git.output(['ls-tree', '-r', '--name-only', '-z', set.tree]))
      .split('\0')
      .filter(Boolean);
    expect(names).toContain('docs/new.md');
    expect(names).not.toContain('docs/readme.md');
    const commit = await git.output(['commit-tree', set.tree, '-p', base, '-m', 'x']);
    const diff = await git.output(['diff', '--name-status', '--no-renames', base, commit]);
    expect(diff.split('\n').sort()).toEqual(['A\tdocs/new.md', 'D\tdocs/readme.md']);
  });

  it('never runs a clean filter or fsmonitor hook the agent planted in .git/config', async () => {
    const { dir, git, base } = await makeRepo();
    const marker = join(root, `pwned-${counter}`);
    await git.run(['config', 'filter.evil.clean', `touch ${marker}; cat`]);
    await git.run(['config', 'filter.evil.required', 'true']);
    await git.run(['config', 'core.fsmonitor', `touch ${marker}.fsmonitor; false`]);
    await put(dir, '.git/info/attributes', '* filter=evil\n');
    await put(dir, 'docs/new.md', 'content\n');
    const set = await collectChanges(git, base);
    expect(set.changes.map((c) => c.path)).toEqual(['docs/new.md']);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(`${marker}.fsmonitor`)).toBe(false);
  });

  it('refuses a sparse checkout, whose missing files would look deleted', async () => {
    const { git, base } = await makeRepo();
    await git.run(['config', 'core.sparseCheckout', 'true']);
    await expect(collectChanges(git, base)).rejects.toThrow(/sparse/);
  });

  it('refuses a directory that is not the top level of its checkout', async () => {
    const { dir, base } = await makeRepo();
    await expect(collectChanges(new Git(join(dir, 'docs')), base)).rejects.toThrow(/top level/);
  });

  it('throws on a base that is not a commit', async () => {
    const { git } = await makeRepo();
    await expect(collectChanges(git, 'no-such-ref')).rejects.toThrow();
  });
});

describe('parseRawDiff', () => {
  it('parses -z records and rejects anything unexpected', () => {
    const z = '0'.repeat(40);
    const a = 'a'.repeat(40);
    const out = `:000000 100644 ${z} ${a} A\0docs/x\ny.md\0:100644 000000 ${a} ${z} D\0gone\0`;
    expect(parseRawDiff(out)).toEqual([
      { path: 'docs/x\ny.md', status: 'A', oldMode: '000000', mode: '100644', oid: a },
      { path: 'gone', status: 'D', oldMode: '100644', mode: '000000', oid: null },
    ]);
    expect(parseRawDiff('')).toEqual([]);
    expect(() => parseRawDiff(`:100644 100644 ${a} ${a} R100\0a\0b\0`)).toThrow(/unexpected/);
  });
});
