import type { Command } from 'commander';
import { defaultConfig } from '../../core/config.js';
import { summarizeBacklog } from '../../core/documents.js';
import { type Diagnostic, formatDiagnostic, UserError } from '../../core/errors.js';
import { type Output, processOutput } from '../output.js';
import { invalidMessage, loadRepoDocuments } from '../repo-files.js';

/** The `--json` shape of `leviathan validate`. */
export interface ValidateReport {
  ok: boolean;
  tasks: number;
  ready: number;
  in_scope: number;
  diagnostics: Diagnostic[];
  warnings: Diagnostic[];
}

export async function validateRepo(dir: string): Promise<ValidateReport> {
  const docs = await loadRepoDocuments(dir);
  const summary = docs.backlog
    ? summarizeBacklog(docs.backlog, docs.config ?? defaultConfig())
    : { tasks: 0, ready: 0, inScope: 0 };
  return {
    ok: docs.ok,
    tasks: summary.tasks,
    ready: summary.ready,
    in_scope: summary.inScope,
    diagnostics: docs.diagnostics,
    warnings: docs.warnings,
  };
}

function formatWarning(w: Diagnostic): string {
  return formatDiagnostic({ ...w, path: '', message: `warning: ${w.path ? `${w.path}: ` : ''}${w.message}` });
}

/** Prints the report; throws a UserError (exit 1) when anything is invalid. */
export async function runValidate(dir: string, out: Output): Promise<ValidateReport> {
  const report = await validateRepo(dir);
  if (out.json) {
    out.out(JSON.stringify(report));
    if (!report.ok) throw new UserError(invalidMessage(report.diagnostics));
    return report;
  }
  for (const w of report.warnings) out.err(formatWarning(w));
  if (!report.ok) throw new UserError(invalidMessage(report.diagnostics), report.diagnostics);
  out.out(`ok: ${report.tasks} tasks, ${report.ready} ready, ${report.in_scope} in scope`);
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
