/**
 * `leviathan init`: writes the config, a sample backlog and the workflow into a repository, never over an
 * existing file without `--force`, validates what it wrote and prints the next steps. The templates ship in
 * the package (`templates/`), so `npx leviathan init` works without cloning this repository.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type Output, processOutput } from '../output.js';
import {
  DEFAULT_ACTIONS_REF,
  DEFAULT_ACTIONS_REPO,
  type InitOptions,
  NEXT_STEPS,
  renderInitFiles,
  writeInitFiles,
} from './init-files.js';
import { runInitPr } from './init-pr.js';
import { runValidate } from './validate.js';

export { enableDashboard, renderWorkflow } from './init-files.js';

export async function runInit(options: InitOptions, out: Output): Promise<string[]> {
  const dir = resolve(options.dir);
  const files = await renderInitFiles(options);
  await writeInitFiles(dir, files, options.force);
  for (const f of files) out.out(`wrote ${f.path}`);
  await runValidate(dir, out);
  for (const line of NEXT_STEPS) out.out(line);
  return files.map((f) => f.path);
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write .leviathan/config.yaml, a sample backlog and .github/workflows/leviathan.yml')
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--force', 'overwrite existing files')
    .option(
      '--actions-repo <owner/name>',
      'where the workflow takes the Leviathan actions from',
      DEFAULT_ACTIONS_REPO,
    )
    .option('--actions-ref <ref>', 'the tag, branch or commit of those actions', DEFAULT_ACTIONS_REF)
    .option('--dashboard', 'keep a "Leviathan Dashboard" issue (grants the tick job issues: write)')
    .option(
      '--pr',
      'open an onboarding pull request on GitHub instead of writing the files (LEVIATHAN_TOKEN, GITHUB_REPOSITORY; run in a checkout)',
    )
    .option('--json', 'machine-readable output (with --pr)')
    .action(
      async (opts: {
        dir: string;
        force?: boolean;
        actionsRepo: string;
        actionsRef: string;
        dashboard?: boolean;
        pr?: boolean;
        json?: boolean;
      }) => {
        const out = processOutput(Boolean(opts.json));
        if (!opts.pr) {
          await runInit(opts, out);
          return;
        }
        await runInitPr(await renderInitFiles(opts), { ...opts, env: process.env }, out);
      },
    );
}
