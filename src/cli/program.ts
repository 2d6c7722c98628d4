import { error as coreError, setSecret } from '@actions/core';
import { Command, CommanderError } from 'commander';
import { type Diagnostic, formatDiagnostic, UserError } from '../core/errors.js';
import { createRedactor } from '../core/redact.js';
import { registerBreaker } from './commands/breaker.js';
import { registerDemo } from './commands/demo.js';
import { registerEvents } from './commands/events.js';
import { registerInit } from './commands/init.js';
import { registerKey } from './commands/key.js';
import { registerPr } from './commands/pr.js';
import { registerRetry } from './commands/retry.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerTick } from './commands/tick.js';
import { registerValidate } from './commands/validate.js';
import { registerVerify } from './commands/verify.js';
import { registerWork } from './commands/work.js';
import { ReportedFailure } from './output.js';
import { assertRepository } from './target.js';
import { asUserError } from './user-errors.js';
import { VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command('leviathan')
    .description('Autonomous backlog → pull request loop with hard guardrails and a hash-chained event log')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
  // Every command on a repository checks it first, so a wrong --dir is one line with one wording. validate
  // also reads plain directories (a backlog can be checked before `git init`), init may write into one, and
  // the demo makes its own.
  const plain = new Set(['validate', 'init']);
  program.hook('preAction', async (_program, action) => {
    const dir = (action.opts() as { dir?: unknown }).dir;
    if (typeof dir === 'string' && !plain.has(action.name()))
      action.setOptionValue('dir', await assertRepository(dir));
  });
  registerInit(program);
  registerValidate(program);
  registerTick(program);
  registerWork(program);
  registerRun(program);
  registerStatus(program);
  registerEvents(program);
  registerVerify(program);
  registerKey(program);
  registerBreaker(program);
  registerRetry(program);
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

/** `--json` anywhere before a `--` separator (commander reads options in any position). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** With `--json`, an error is one JSON object on stdout, so a script reads failures as it reads results. */
function writeJsonError(message: string, hint?: string, diagnostics: readonly Diagnostic[] = []): void {
  const body = { error: message, hint: hint ?? null, ...(diagnostics.length ? { diagnostics } : {}) };
  process.stdout.write(`${JSON.stringify(body)}\n`);
}

/** The tokens the CLI may hold; none of them is ever printed. */
const TOKEN_VARIABLES = ['LEVIATHAN_TOKEN', 'GITHUB_TOKEN', 'LEVIATHAN_PR_TOKEN'];

/**
 * Every byte the CLI writes to stdout and stderr goes through the redactor while it runs (progress, tables,
 * errors, a crash's stack), and in Actions the tokens are also registered as secrets for the runner's masking.
 */
function redactOutput(): () => void {
  const tokens = TOKEN_VARIABLES.map((v) => process.env[v]).filter((t): t is string => Boolean(t));
  if (tokens.length === 0) return () => {};
  if (process.env.GITHUB_ACTIONS === 'true') for (const t of tokens) setSecret(t);
  const redact = createRedactor({ secrets: tokens });
  const restore = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write;
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return (write as (c: string, ...r: unknown[]) => boolean).call(stream, redact(text), ...rest);
    }) as typeof stream.write;
    return () => {
      stream.write = write;
    };
  });
  return () => {
    for (const r of restore) r();
  };
}

/** Runs the CLI and returns its exit code: 0 ok, 1 user-facing failure, 2 bad usage. */
export async function runCli(argv: string[]): Promise<number> {
  const restore = redactOutput();
  try {
    return await runProgram(argv);
  } finally {
    restore();
  }
}

async function runProgram(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    // Commands report failure by throwing; a leftover process.exitCode must not leak between in-process runs.
    return 0;
  } catch (caught) {
    const json = wantsJson(argv);
    if (caught instanceof CommanderError) {
      if (caught.exitCode === 0) return 0;
      if (json) writeJsonError(caught.message.replace(/^error: /, ''), 'see --help');
      return 2;
    }
    const error = asUserError(caught) ?? caught;
    if (error instanceof UserError) {
      if (json && !(error instanceof ReportedFailure))
        writeJsonError(error.message, error.hint, error.diagnostics);
      for (const d of error.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      if (process.env.GITHUB_ACTIONS === 'true') annotate(error.diagnostics);
      process.stderr.write(`leviathan: ${error.message}${error.hint ? ` (${error.hint})` : ''}\n`);
      return error.exitCode;
    }
    if (json) writeJsonError(`unexpected error: ${(error as Error)?.message ?? String(error)}`, 'report it');
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
