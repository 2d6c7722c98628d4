/**
 * `leviathan init`: writes the config, a sample backlog and the workflow into a repository, never over an
 * existing file without `--force`, validates what it wrote and prints the next steps. The templates ship in
 * the package (`templates/`), so `npx leviathan init` works without cloning this repository.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { type Output, processOutput } from '../output.js';
import { runValidate } from './validate.js';

export const DEFAULT_ACTIONS_REPO = 'leviathan-dev/leviathan';
export const DEFAULT_ACTIONS_REF = 'v0';
const TEMPLATE_REPO = 'leviathan-dev/leviathan';
const TEMPLATE_REF = 'v0';

const FILES = [
  { template: 'config.yaml', target: '.leviathan/config.yaml' },
  { template: 'backlog.yaml', target: '.leviathan/backlog.yaml' },
  { template: 'leviathan.yml', target: '.github/workflows/leviathan.yml' },
] as const;

/** The package's `templates/`: next to the bundle (`dist/cli/`) or the sources (`src/cli/commands/`). */
function templatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'templates', 'leviathan.yml'))) return join(dir, 'templates');
    dir = dirname(dir);
  }
  throw new UserError('the templates/ directory is missing from this installation of leviathan');
}

export interface InitOptions {
  dir: string;
  force?: boolean;
  actionsRepo?: string;
  actionsRef?: string;
  /** Uncomment the dashboard lines: `issues: write` on the tick job and `dashboard: true`. */
  dashboard?: boolean;
}

const DASHBOARD_LINES = [/^(\s*)# (issues: write) #.*$/m, /^(\s*)# (dashboard: true) #.*$/m];

/** The workflow with the dashboard switched on: the permission and the input, together or not at all. */
export function enableDashboard(workflow: string): string {
  let out = workflow;
  for (const line of DASHBOARD_LINES) {
    if (!line.test(out)) throw new UserError('the workflow template has no dashboard lines to enable');
    out = out.replace(line, (_m, indent: string, what: string) =>
      what.startsWith('issues') ? `${indent}${what} # the dashboard issue` : `${indent}${what}`,
    );
  }
  return out;
}

/** The workflow as `init` writes it: our actions named by the repository and ref given. */
export function renderWorkflow(template: string, repo: string, ref: string): string {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo))
    throw new UserError(`--actions-repo ${repo} is not owner/name`);
  if (!/^[A-Za-z0-9_./-]+$/.test(ref)) throw new UserError(`--actions-ref ${ref} is not a git ref`);
  return template
    .replaceAll(`${TEMPLATE_REPO}/actions/`, `${repo}/actions/`)
    .replace(
      new RegExp(`(${repo.replace(/[.]/g, '\\.')}/actions/[a-z-]+)@${TEMPLATE_REF}\\b`, 'g'),
      `$1@${ref}`,
    );
}

export async function runInit(options: InitOptions, out: Output): Promise<string[]> {
  const dir = resolve(options.dir);
  const templates = templatesDir();
  const existing = FILES.filter((f) => existsSync(join(dir, f.target))).map((f) => f.target);
  if (existing.length > 0 && !options.force) {
    throw new UserError(
      `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; re-run with --force to overwrite`,
    );
  }
  const written: string[] = [];
  for (const f of FILES) {
    let text = await readFile(join(templates, f.template), 'utf8');
    if (f.template === 'leviathan.yml') {
      text = renderWorkflow(
        text,
        options.actionsRepo ?? DEFAULT_ACTIONS_REPO,
        options.actionsRef ?? DEFAULT_ACTIONS_REF,
      );
      if (options.dashboard) text = enableDashboard(text);
    }
    await mkdir(dirname(join(dir, f.target)), { recursive: true });
    await writeFile(join(dir, f.target), text);
    written.push(f.target);
    out.out(`wrote ${f.target}`);
  }
  await runValidate(dir, out);
  for (const line of NEXT_STEPS) out.out(line);
  return written;
}

const NEXT_STEPS = [
  '',
  'Next steps:',
  '  1. Commit and push these files to the default branch.',
  '  2. Settings → Actions → General → Workflow permissions: enable',
  '     "Allow GitHub Actions to create and approve pull requests".',
  '  3. Optional: a GitHub App for PRs that trigger your CI: set the variable LEVIATHAN_APP_ID and the',
  '     secret LEVIATHAN_APP_PRIVATE_KEY; LEVIATHAN_RUNS_ON picks self-hosted runners; the agent key goes in',
  '     the secret LEVIATHAN_AGENT_API_KEY.',
  '  4. Mark a task ready: true in .leviathan/backlog.yaml, then Actions → Leviathan → Run workflow',
  '     (dry-run first) and read the job summary.',
];

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
    .action(
      async (opts: {
        dir: string;
        force?: boolean;
        actionsRepo: string;
        actionsRef: string;
        dashboard?: boolean;
      }) => {
        await runInit(opts, processOutput(false));
      },
    );
}
