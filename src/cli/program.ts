import { error as coreError } from '@actions/core';
import { Command, CommanderError } from 'commander';
import { type Diagnostic, formatDiagnostic, UserError } from '../core/errors.js';
import { registerBreaker } from './commands/breaker.js';
import { registerDemo } from './commands/demo.js';
import { registerEvents } from './commands/events.js';
import { registerInit } from './commands/init.js';
import { registerPr } from './commands/pr.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerTick } from './commands/tick.js';
import { registerValidate } from './commands/validate.js';
import { registerVerify } from './commands/verify.js';
import { registerWork } from './commands/work.js';
import { asUserError } from './user-errors.js';

export function buildProgram(): Command {
  const program = new Command('leviathan')
    .description('Autonomous backlog → pull request loop with hard guardrails and a hash-chained event log')
    .showHelpAfterError()
    .exitOverride();
  registerInit(program);
  registerValidate(program);
  registerTick(program);
  registerWork(program);
  registerRun(program);
  registerStatus(program);
  registerEvents(program);
  registerVerify(program);
  registerBreaker(program);
  registerPr(program);
  registerDemo(program);
  return program;
}

/** In GitHub Actions, each diagnostic also becomes an error annotation at its line of the file. */
function annotate(diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    coreError(`${d.path ? `${d.path}: ` : ''}${d.message}${d.hint ? ` (${d.hint})` : ''}`, {
      title: 'Leviathan',
      file: d.file,
      startLine: d.line,
      startColumn: d.column,
    });
  }
}

/** Runs the CLI and returns its exit code: 0 ok, 1 user-facing failure, 2 bad usage. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    // Commands report failure by throwing; a leftover process.exitCode must not leak between in-process runs.
    return 0;
  } catch (caught) {
    if (caught instanceof CommanderError) {
      return caught.exitCode === 0 ? 0 : 2;
    }
    const error = asUserError(caught) ?? caught;
    if (error instanceof UserError) {
      for (const d of error.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      if (process.env.GITHUB_ACTIONS === 'true') annotate(error.diagnostics);
      process.stderr.write(`leviathan: ${error.message}\n`);
      return error.exitCode;
    }
    if (process.env.LEVIATHAN_DEBUG) {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    } else {
      process.stderr.write(
        `leviathan: unexpected error: ${(error as Error)?.message ?? String(error)}\n` +
          'Re-run with LEVIATHAN_DEBUG=1 for details and report it if it persists.\n',
      );
    }
    return 1;
  }
}
