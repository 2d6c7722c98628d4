/**
 * What `leviathan init` writes, rendered from the package's `templates/` (next to the bundle or the sources,
 * so `npx leviathan init` works without cloning this repository): the config, a sample backlog and the
 * workflow naming our actions by the repository and ref given, with the dashboard lines on or off.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../core/errors.js';

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

export interface InitFile {
  /** Where it goes in the repository. */
  path: string;
  text: string;
}

/** The files `init` writes, rendered from the package's templates with the options. */
export async function renderInitFiles(options: Omit<InitOptions, 'dir' | 'force'>): Promise<InitFile[]> {
  const templates = templatesDir();
  const files: InitFile[] = [];
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
    files.push({ path: f.target, text });
  }
  return files;
}

export function refuseExisting(existing: readonly string[]): void {
  if (existing.length > 0) {
    throw new UserError(
      `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; re-run with --force to overwrite`,
    );
  }
}

/** Writes the files into `dir` (nothing is written when one exists and `force` is off). */
export async function writeInitFiles(dir: string, files: readonly InitFile[], force = false): Promise<void> {
  if (!force) refuseExisting(files.filter((f) => existsSync(join(dir, f.path))).map((f) => f.path));
  for (const f of files) {
    await mkdir(dirname(join(dir, f.path)), { recursive: true });
    await writeFile(join(dir, f.path), f.text);
  }
}

export const NEXT_STEPS = [
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
