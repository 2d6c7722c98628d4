/**
 * The README's "Try it on your own repository" steps, run as they are written: the fenced `sh` block of that
 * section is read from README.md and run by `sh -e` in a clone of a repository served by the real git server,
 * with `~/leviathan` pointing at this checkout. Edit the README and this test runs the new text; the two
 * cannot drift.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, git, makeTempDir, removeDir } from '../harness/repo.js';

const SECTION = '### Try it on your own repository (no GitHub)';

/** The section's fenced `sh` blocks, joined in order. */
function tryItScript(readme: string): string {
  const start = readme.indexOf(SECTION);
  if (start < 0) throw new Error(`README.md has no section "${SECTION}"`);
  const rest = readme.slice(start + SECTION.length);
  const next = rest.search(/^#{1,3} /m);
  const section = next < 0 ? rest : rest.slice(0, next);
  const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.join('\n');
}

function sh(
  script: string,
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-e', '-c', script], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

let server: GitServer;
let root: string;

beforeAll(async () => {
  server = await GitServer.start();
  root = await makeTempDir('readme-try-it');
});

afterAll(async () => {
  await server?.stop();
  if (root) await removeDir(root);
});

describe('README: try it on your own repository', () => {
  it('the steps work when followed literally, ending with pull request #1 to review', async () => {
    const script = tryItScript(await readFile('README.md', 'utf8'));
    // The block is the whole walk: set-up, validate, commit and push, dry run, run, review.
    for (const step of [
      'leviathan init',
      'leviathan validate',
      'git push',
      'leviathan tick --dry-run',
      'leviathan run',
    ])
      expect(script).toContain(step);

    // A user's machine: a home with Leviathan checked out at ~/leviathan and a git identity.
    const home = join(root, 'home');
    await mkdir(home);
    await symlink(process.cwd(), join(home, 'leviathan'));
    await writeFile(
      join(home, '.gitconfig'),
      '[user]\n\tname = A Maintainer\n\temail = maintainer@example.com\n',
    );
    await server.createRepo('your-repo', {
      files: { 'README.md': '# your repo\n', 'docs/index.md': '# Docs\n' },
    });
    const clone = await cloneRepo(server.url('your-repo'), join(root, 'your-repo'));

    const r = await sh(script, clone, { HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' });
    if (r.code !== 0) throw new Error(`the README steps failed (exit ${r.code}):\n${r.out}`);
    expect(r.out).toContain('wrote .leviathan/backlog.yaml');
    expect(r.out).toMatch(/^ok: \d+ tasks, 1 ready/m);
    // Before the push, validate says the base branch does not have the documents yet; after it, the dry
    // run acts on the same text and says nothing about it.
    expect(r.out).toContain('warning: checked the working tree, whose .leviathan/backlog.yaml and');
    expect(r.out).not.toContain('warning: this dry run acted on');
    expect(r.out).toMatch(/^hello-leviathan +ready +0\/2 +selected$/m);
    expect(r.out).toMatch(/^tick 1: dispatched a worker: hello-leviathan /m);
    expect(r.out).toMatch(/hello-leviathan attempt 1\/2 succeeded: pull request #1 opened/);
    expect(r.out).toMatch(/^run: \d+ ticks, 1 succeeded, 0 failed, 0 blocked/m);
    expect(r.out).toMatch(/^#1 draft: /m);
    expect(r.out).toMatch(/ docs\/leviathan-hello\.md +\| /);
    expect(r.out).not.toMatch(/^leviathan: /m);
    // Delivered as a pull request on the origin, the base branch left to the human.
    expect(await git(clone, ['ls-remote', 'origin', 'refs/heads/leviathan/hello-leviathan'])).toMatch(
      /refs\/heads\/leviathan\/hello-leviathan$/,
    );
  });
});
