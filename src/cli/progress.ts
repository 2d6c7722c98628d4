/**
 * Progress for long commands: a single rewritten status line on a terminal, plain timestamped lines
 * elsewhere (CI logs keep every step). Writes to stderr so `--json` output on stdout stays clean.
 */
export interface Progress {
  step(message: string): void;
  done(): void;
}

export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
  enabled = true,
  now: () => Date = () => new Date(),
): Progress {
  if (!enabled) return { step: () => {}, done: () => {} };
  const live = Boolean(stream.isTTY) && !process.env.CI;
  let shown = false;
  return {
    step(message) {
      if (live) {
        stream.write(`\r\x1b[2K… ${message}`);
        shown = true;
      } else {
        stream.write(`[${now().toISOString().slice(11, 19)}] ${message}\n`);
      }
    },
    done() {
      if (live && shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}
