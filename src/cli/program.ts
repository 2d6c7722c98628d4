import { Command, CommanderError } from 'commander';
import { formatDiagnostic, UserError } from '../core/errors.js';
import { registerDemo } from './commands/demo.js';
import { registerValidate } from './commands/validate.js';

export function buildProgram(): Command {
  const program = new Command('leviathan')
    .description('Autonomous backlog → pull request loop with hard guardrails and a hash-chained event log')
    .showHelpAfterError()
    .exitOverride();
  registerDemo(program);
  registerValidate(program);
  return program;
}

/** Runs the CLI and returns its exit code: 0 ok, 1 user-facing failure, 2 bad usage. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    // Commands report failure by throwing; a leftover process.exitCode must not leak between in-process runs.
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UserError) {
      for (const d of error.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
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
