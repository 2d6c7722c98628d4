/**
 * `leviathan init` reachable without this repository: the packed tarball holds the bin, dist/, templates/ and
 * schemas/ only, installs into an empty directory, and its `init` and `validate` work there.
 */

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { makeTempDir } from '../harness/repo.js';
import { loadWorkflow } from '../harness/runner/workflow.js';

const run = promisify(execFile);

describe('the published package', () => {
  it('packs only bin, dist/, templates/ and schemas/, and init + validate run from the installed tarball', async () => {
    const packDir = await makeTempDir('pack');
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir], {
      cwd: resolve('.'),
    });
    const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    const paths = info!.files.map((f) => f.path);
    const outside = paths.filter(
      (p) => !/^(dist|templates|schemas)\//.test(p) && !['package.json', 'README.md', 'LICENSE'].includes(p),
    );
    expect(outside).toEqual([]);
    expect(paths).toEqual(
      expect.arrayContaining(['dist/cli/index.js', 'templates/leviathan.yml', 'dist/scheduler/index.js']),
    );

    // Installed as npm lays a package out, without the registry (these machines are offline): the bundles
    // are self-contained, so the package runs with no node_modules of its own.
    const app = await makeTempDir('installed');
    const pkg = join(app, 'node_modules/leviathan');
    await run('mkdir', ['-p', pkg]);
    await run('tar', ['-xzf', join(packDir, info!.filename), '-C', pkg, '--strip-components=1']);
    const target = await makeTempDir('target');
    const bin = join(pkg, 'dist/cli/index.js');
    const init = await run(bin, [
      'init',
      '--dir',
      target,
      '--actions-repo',
      'acme/leviathan',
      '--actions-ref',
      'v1.2.3',
    ]);
    expect(init.stdout).toContain('wrote .github/workflows/leviathan.yml');
    expect(init.stdout).toContain('Allow GitHub Actions to create and approve pull requests');
    const workflow = await readFile(join(target, '.github/workflows/leviathan.yml'), 'utf8');
    expect(workflow).toContain('uses: acme/leviathan/actions/scheduler@v1.2.3');
    expect(workflow).not.toContain('leviathan-dev/leviathan/actions/');
    await loadWorkflow(join(target, '.github/workflows/leviathan.yml'));
    const validate = await run(bin, ['validate', '--dir', target]);
    expect(validate.stdout).toMatch(/^ok: \d+ tasks/);
    // Never over an existing file without --force.
    const again = await run(bin, ['init', '--dir', target]).catch((e: { code: number; stderr: string }) => e);
    expect((again as { code: number }).code).toBe(1);
    expect((again as { stderr: string }).stderr).toContain('--force');
    await run(bin, ['init', '--dir', target, '--force']);
  }, 240_000);
});
