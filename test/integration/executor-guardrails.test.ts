/**
 * End to end through the executor: a scripted "agent" (run commands) tries to get something past the
 * guardrails in a real checkout; collectChanges + checkDiff must catch it.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defaultConfig } from '../../src/core/config.js';
import { collectChanges } from '../../src/executor/changes.js';
import { checkDiff } from '../../src/executor/diff-guard.js';
import { runCommands } from '../../src/executor/run-commands.js';
import { Git } from '../../src/store/git.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lev-guard-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const config = defaultConfig();
const env = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: tmpdir(),
  GIT_AUTHOR_NAME: 'agent',
  GIT_AUTHOR_EMAIL: 'a@example.com',
  GIT_COMMITTER_NAME: 'agent',
  GIT_COMMITTER_EMAIL: 'a@example.com',
};
let counter = 0;

/** Seeds a checkout, lets the "agent" run, then checks the result as the worker does. */
async function attempt(commands: string[], taskGlobs = ['docs/**']) {
  const dir = join(root, `repo-${++counter}`);
  await mkdir(join(dir, '.github/workflows'), { recursive: true });
  await mkdir(join(dir, 'docs'));
  await writeFile(join(dir, '.github/workflows/ci.yml'), 'on: push\n');
  await writeFile(join(dir, 'docs/readme.md'), '# hi\n');
  const git = new Git(dir);
  await git.run(['init', '-q', '-b', 'main']);
  await git.run(['add', '-A']);
  await git.run(['commit', '-q', '-m', 'base']);
  const base = await git.output(['rev-parse', 'HEAD']);

  const run = await runCommands({ commands, cwd: dir, env, timeoutMs: 20_000 });
  expect(run.status).toBe('ok');
  const set = await collectChanges(git, base);
  const result = checkDiff(set.changes, { taskGlobs, scope: config.scope, maxFiles: 50, maxBytes: 1048576 });
  return { dir, set, result };
}

describe('guardrails against a scripted agent', () => {
  it('lets an honest change through', async () => {
    const { result, set } = await attempt(['echo "# Guide" > docs/guide.md']);
    expect(result.ok).toBe(true);
    expect(set.changes.map((c) => c.path)).toEqual(['docs/guide.md']);
  });

  it('catches a new workflow', async () => {
    const { result } = await attempt(['echo "on: push" > .github/workflows/x.yml', 'echo ok > docs/ok.md']);
    expect(result).toMatchObject({ ok: false, reason: 'scope_violation' });
  });

  it('sees nothing of a write outside the checkout (and an attempt with nothing else is empty)', async () => {
    const { result, dir } = await attempt([`echo escaped > ../outside-${counter + 1}`]);
    expect(result).toMatchObject({ ok: false, reason: 'no_changes' });
    expect(await readFile(join(dir, '..', `outside-${counter}`), 'utf8')).toBe('escaped\n');
  });

  it('catches a symlink from docs into .github', async () => {
    const { result } = await attempt(['ln -s ../.github/workflows/ci.yml docs/link']);
    expect(result).toMatchObject({ ok: false, reason: 'scope_violation' });
  });

  it('catches a symlink with an absolute target', async () => {
    const { result } = await attempt(['ln -s /etc/passwd docs/passwd']);
    expect(result).toMatchObject({ ok: false, reason: 'scope_violation' });
  });

  it('catches a protected file renamed into docs', async () => {
    const { result } = await attempt(['git mv .github/workflows/ci.yml docs/ci.yml']);
    expect(result).toMatchObject({ ok: false, reason: 'scope_violation' });
    if (!result.ok) expect(result.violations.join('\n')).toContain('.github/workflows/ci.yml');
  });

  it('catches a deleted workflow', async () => {
    const { result } = await attempt(['rm .github/workflows/ci.yml']);
    expect(result).toMatchObject({ ok: false, reason: 'scope_violation' });
  });

  it('catches docs/.env', async () => {
    const { result } = await attempt(['echo TOKEN=x > docs/.env']);
    expect(result).toMatchObject({ ok: false, reason: 'scope_violation' });
  });

  it('catches a protected change the agent committed itself, and hid with a .gitignore entry', async () => {
    const { result } = await attempt([
      'echo "on: pull_request_target" > .github/workflows/ci.yml',
      'git add -A && git commit -q -m sneaky',
      'echo ".github/" >> .git/info/exclude',
    ]);
    expect(result).toMatchObject({ ok: false, reason: 'scope_violation' });
  });

  it('catches a file name that is not UTF-8', async () => {
    const { result } = await attempt(['printf x > "docs/$(printf "\\377\\376").md"']);
    expect(result).toMatchObject({ ok: false, reason: 'scope_violation' });
    if (!result.ok) expect(result.violations[0]).toMatch(/UTF-8/);
  });

  it('catches an embedded repository (submodule)', async () => {
    const { result } = await attempt([
      'mkdir docs/vendor && cd docs/vendor && git init -q && git commit -q --allow-empty -m x',
    ]);
    expect(result).toMatchObject({ ok: false, reason: 'scope_violation' });
  });

  it('fails closed when the agent destroys the repository', async () => {
    await expect(attempt(['rm -rf .git'])).rejects.toThrow();
  });
});
