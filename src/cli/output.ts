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
