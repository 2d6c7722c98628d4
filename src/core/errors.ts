/** One problem found in a user's file, with where it is and what to do about it. */
export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  /** Dotted field path inside the document, e.g. `tasks[2].allowed_paths[0]`; empty for the whole file. */
  path: string;
  message: string;
  hint?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.column}`;
  const field = d.path ? `${d.path}: ` : '';
  const hint = d.hint ? ` (${d.hint})` : '';
  return `${where}: ${field}${d.message}${hint}`;
}

/**
 * A failure the user can act on: printed as one line (plus diagnostics), exit code 1, never a stack trace.
 * Anything else that escapes is a crash.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly diagnostics: Diagnostic[] = [],
    readonly exitCode = 1,
    /** What to do about it, shown after the message (and as `hint` in a `--json` error). */
    readonly hint?: string,
  ) {
    super(message);
  }
}
