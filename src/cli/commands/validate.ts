import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { summarizeBacklog } from '../../core/backlog-summary.js';
import { defaultConfig } from '../../core/config.js';
import { parseConfigText } from '../../core/documents.js';
import { type Diagnostic, formatDiagnostic, UserError } from '../../core/errors.js';
import { COMMIT_HINT, noSuchDirectory } from '../../core/hints.js';
import { Git } from '../../store/git.js';
import { type Drift, workingTreeDrift } from '../drift.js';
import { type Output, processOutput, ReportedFailure } from '../output.js';
import { CONFIG_FILE, invalidMessage, loadRepoDocuments, readRepoFile } from '../repo-files.js';

/** The `--json` shape of `leviathan validate`. */
export interface ValidateReport {
  ok: boolean;
  tasks: number;
  ready: number;
  in_scope: number;
  diagnostics: Diagnostic[];
  warnings: Diagnostic[];
  /** What was read: the working tree (of the repository's top level when `dir` is inside one). */
  checked: 'working_tree';
  /** The base branch as last fetched and the documents that differ from it; null outside a git repository. */
  base: Drift | null;
}

/** The top level of the git repository `dir` is in, or null when it is not in one (or does not exist). */
async function topLevel(dir: string): Promise<string | null> {
  const exists = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!exists) throw new UserError(noSuchDirectory(dir));
  const r = await new Git(dir).run(['rev-parse', '--show-toplevel'], { allowFailure: true });
  return r.exitCode === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
}

/** The base branch the config in `dir` names ('' when none, or when the config does not parse). */
async function configuredBaseBranch(dir: string): Promise<string> {
  const text = await readRepoFile(dir, CONFIG_FILE).catch(() => null);
  if (text === null) return '';
  const parsed = parseConfigText(text, CONFIG_FILE);
  return parsed.ok ? parsed.value.base_branch : '';
}

/**
 * The directory whose `.leviathan/` is checked: the nearest one from `dir` up to the repository's top level
 * that has one, so validate works from a subdirectory like the other commands (and the top level otherwise).
 */
async function documentsRoot(dir: string, top: string | null): Promise<string> {
  if (top === null) return dir;
  const hasDocs = (d: string) =>
    stat(join(d, '.leviathan')).then(
      (s) => s.isDirectory(),
      () => false,
    );
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (await hasDocs(d)) return d;
    if (d === top || dirname(d) === d) return top;
  }
}

export async function validateRepo(dirOption: string): Promise<ValidateReport> {
  const top = await topLevel(dirOption);
  const dir = await documentsRoot(dirOption, top);
  // Only the top level's documents are what tick reads from the base branch. Its git work goes first, with
  // the base branch the config names: a git process started before a big backlog is parsed is cheaper to
  // spawn (fork copies the page tables of the heap). The documents' own reading decides in the end.
  const atTop = top !== null && dir === top ? top : null;
  const git = atTop === null ? null : new Git(atTop);
  const guess = atTop === null ? '' : await configuredBaseBranch(atTop);
  let base = git && atTop ? await workingTreeDrift(git, atTop, guess) : null;
  const docs = await loadRepoDocuments(dir);
  const configured = docs.config?.base_branch ?? '';
  if (git && atTop && configured !== guess) base = await workingTreeDrift(git, atTop, configured);
  const summary = docs.backlog
    ? summarizeBacklog(docs.backlog, docs.config ?? defaultConfig(), docs.inScope)
    : { tasks: 0, ready: 0, inScope: 0 };
  return {
    ok: docs.ok,
    tasks: summary.tasks,
    ready: summary.ready,
    in_scope: summary.inScope,
    diagnostics: docs.diagnostics,
    warnings: docs.warnings,
    checked: 'working_tree',
    base,
  };
}

/** One line on which version was checked and whether tick would see the same. */
export function driftLine(base: Drift | null): string | null {
  if (base === null) return null;
  if (base.ref === null) {
    return `warning: checked the working tree; there is no base branch to compare with yet (${COMMIT_HINT})`;
  }
  if (base.differs.length === 0) return null;
  return `warning: checked the working tree, whose ${base.differs.join(' and ')} differ${base.differs.length === 1 ? 's' : ''} from ${base.ref}${base.ref.startsWith('origin/') ? ' (as last fetched)' : ''}, which tick and run act on (${COMMIT_HINT})`;
}

function checkedWhat(base: Drift | null): string {
  if (base === null || base.ref === null) return 'working tree';
  return base.differs.length === 0
    ? `working tree, same as ${base.ref}`
    : `working tree, differs from ${base.ref}`;
}

function formatWarning(w: Diagnostic): string {
  return formatDiagnostic({ ...w, path: '', message: `warning: ${w.path ? `${w.path}: ` : ''}${w.message}` });
}

/** Prints the report; throws a UserError (exit 1) when anything is invalid. */
export async function runValidate(dir: string, out: Output): Promise<ValidateReport> {
  const report = await validateRepo(dir);
  if (out.json) {
    out.out(JSON.stringify(report));
    if (!report.ok) throw new ReportedFailure(invalidMessage(report.diagnostics));
    return report;
  }
  for (const w of report.warnings) out.err(formatWarning(w));
  const drift = driftLine(report.base);
  if (drift) out.err(drift);
  if (!report.ok) throw new UserError(invalidMessage(report.diagnostics), report.diagnostics);
  out.out(
    `ok: ${report.tasks} tasks, ${report.ready} ready, ${report.in_scope} in scope (${checkedWhat(report.base)})`,
  );
  return report;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('validate .leviathan/backlog.yaml and .leviathan/config.yaml')
    .option('--dir <dir>', 'the target repository checkout', '.')
    .option('--json', 'machine-readable output')
    .action(async (opts: { dir: string; json?: boolean }) => {
      await runValidate(opts.dir, processOutput(Boolean(opts.json)));
    });
}
