import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from '@jest/globals';

const run = promisify(execFile);
const CLI = resolve('dist/cli/index.js');

async function validate(fixture: string, env: Record<string, string>) {
  const dir = resolve('test/fixtures/validate', fixture);
  return run(process.execPath, [CLI, 'validate', '--dir', dir], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

it('in GitHub Actions every diagnostic is also an error annotation at its file, line and column', async () => {
  const r = await validate('duplicate-id', { GITHUB_ACTIONS: 'true' });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(
    /^::error title=Leviathan,file=\.leviathan\/backlog\.yaml,line=8,col=9::tasks\[2\]\.id: duplicate id/m,
  );
});

it('outside GitHub Actions no workflow commands are printed', async () => {
  const r = await validate('duplicate-id', { GITHUB_ACTIONS: '' });
  expect(r.code).toBe(1);
  expect(r.stdout).not.toContain('::error');
  expect(r.stderr).toContain('.leviathan/backlog.yaml:8:9:');
});
