/**
 * `leviathan init --pr`, the CLI bundle against the GitHub emulator and the real git server: in a fresh
 * checkout of a repository that has never seen Leviathan, it commits the three files on
 * `leviathan/onboarding` off the default branch and opens one onboarding pull request (with the PR token when
 * there is one), leaves the checkout untouched, re-runs update the same pull, and a repository that already
 * has the files is refused unless `--force`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GitServer } from '../harness/git-server.js';
import { GitHubEmulator } from '../harness/github/emulator.js';
import { TokenAuthority } from '../harness/github/tokens.js';
import { cloneRepo, git, makeTempDir } from '../harness/repo.js';
import { CLI, runNode } from '../helpers/loop.js';

const FILES = ['.leviathan/config.yaml', '.leviathan/backlog.yaml', '.github/workflows/leviathan.yml'];

let server: GitServer;
let emu: GitHubEmulator;
let authority: TokenAuthority;
let bare: string;
let checkout: string;
let token: string;
let prToken: string;

const init = (args: string[], env: Record<string, string> = {}) =>
  runNode([CLI, 'init', '--pr', '--dir', checkout, ...args], {
    cwd: checkout,
    env: { ...emu.env(token), LEVIATHAN_PR_TOKEN: prToken, GITHUB_ACTIONS: '', ...env },
    timeoutMs: 60_000,
  });

beforeAll(async () => {
  authority = new TokenAuthority();
  server = await GitServer.start();
  bare = await server.createRepo('onboard', { files: { 'README.md': '# onboard\n' } });
  server.access = (t) => {
    const grant = t === null ? null : authority.lookup(t);
    return { as: grant?.name ?? null, level: grant?.permissions.contents ?? (t ? 'none' : 'read') };
  };
  emu = await GitHubEmulator.start({ git: server, repo: 'onboard', authority });
  // A maintainer's token that may read only; the App's token opens the pull (so CI runs on it).
  token = authority.mint('maintainer', { contents: 'read', 'pull-requests': 'read' });
  prToken = authority.mint('app', { contents: 'write', 'pull-requests': 'write' });
  checkout = await cloneRepo(server.url('onboard'), `${await makeTempDir('init-pr')}/checkout`);
}, 60_000);
afterAll(async () => {
  await emu?.stop();
  await server?.stop();
});

describe('init --pr', () => {
  it('commits the files on leviathan/onboarding and opens one pull request; the checkout is untouched', async () => {
    const before = await git(checkout, ['status', '--porcelain', '--ignored']);
    const r = await init(['--json']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(r.stdout) as { number: number; branch: string; created: boolean };
    expect(result).toMatchObject({ branch: 'leviathan/onboarding', created: true, files: FILES });
    const tree = await git(bare, ['ls-tree', '-r', '--name-only', 'refs/heads/leviathan/onboarding']);
    expect(tree.split('\n').filter(Boolean).sort()).toEqual([...FILES, 'README.md'].sort());
    const parent = await git(bare, ['rev-parse', 'refs/heads/leviathan/onboarding^']);
    expect(parent.trim()).toBe((await git(bare, ['rev-parse', 'refs/heads/main'])).trim());
    const pull = emu.issues.get(result.number)!;
    expect(pull.pull).toMatchObject({ head: 'leviathan/onboarding', base: 'main' });
    expect(pull.title).toBe('Set up Leviathan');
    expect(pull.body).toContain('`.github/workflows/leviathan.yml`');
    expect(pull.body).toContain('Allow GitHub Actions to create and approve pull requests');
    expect(await git(checkout, ['status', '--porcelain', '--ignored'])).toBe(before);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.stdout + r.stderr).not.toContain(prToken);
  }, 60_000);

  it('a re-run updates the same pull request, never a second', async () => {
    const r = await init([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/updated the onboarding pull request #\d+/);
    expect([...emu.issues.values()].filter((i) => i.pull)).toHaveLength(1);
  }, 60_000);

  it('without a token that may push, it fails in one line naming the push, no token shown', async () => {
    const r = await init([], { LEVIATHAN_PR_TOKEN: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^leviathan: init --pr failed: .*push/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toContain(token);
  }, 60_000);

  it('a repository that already has the files is refused unless --force', async () => {
    await git(bare, ['update-ref', 'refs/heads/main', 'refs/heads/leviathan/onboarding']);
    const r = await init([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('.leviathan/config.yaml (on main)');
    expect(r.stderr).toContain('--force');
    expect((await init(['--force'])).code).toBe(0);
  }, 60_000);
});
