/**
 * The CLI in process, as a user runs it: `runCli(argv)` with stdout and stderr captured (through the same
 * redacting wrapper the real process has), restored afterwards even when the command throws.
 *
 *   const r = await cli('validate', '--dir', dir);   // { code, stdout, stderr } as whole strings
 *   lines(r.stderr)                                  // non-empty lines
 */
import { jest } from '@jest/globals';
import { runCli } from '../../src/cli/program.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `leviathan <argv…>` in this process and collects what it printed. */
export async function cli(...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await runCli(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The non-empty lines of a captured stream. */
export function lines(text: string): string[] {
  return text.split('\n').filter(Boolean);
}

/** Timestamped progress lines (`[10:00:00] …`) go to stderr too; everything else there is for the user. */
export const PROGRESS = /^\[\d\d:\d\d:\d\d\] /;

/** stderr without its progress lines. */
export function said(stderr: string): string[] {
  return lines(stderr).filter((l) => !PROGRESS.test(l));
}
