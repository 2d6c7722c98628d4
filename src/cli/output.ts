import { UserError } from '../core/errors.js';

/** Where a command writes; injectable so commands can be tested without a process. */
export interface Output {
  json: boolean;
  /** Show progress on stderr (default: unless --json). The demo turns it off to keep its narration clean. */
  progress?: boolean;
  out(line: string): void;
  err(line: string): void;
}

export function processOutput(json: boolean): Output {
  return {
    json,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
}

/**
 * A failure whose `--json` report is already on stdout (validate's report, a failed attempt's outcome): the
 * exit code and the stderr line still say it failed, but no second JSON object is written.
 */
export class ReportedFailure extends UserError {}
