/** The runner's file protocols: `GITHUB_OUTPUT` / `GITHUB_ENV` (`k=v` and heredoc) and workflow commands. */

/** Parses a `GITHUB_OUTPUT`/`GITHUB_ENV` file: `name=value` lines and `name<<DELIM … DELIM` blocks. */
export function parseKeyValueFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) body.push(lines[i]!);
      out[name!] = body.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  properties: Record<string, string>;
}

/** The `::error file=…,line=…::message` (and warning/notice) annotations in a step's output. */
export function annotationsIn(log: string): Annotation[] {
  const found: Annotation[] = [];
  for (const line of log.split('\n')) {
    const m = /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/.exec(line.trim());
    if (!m) continue;
    const properties = Object.fromEntries(
      (m[2] ?? '')
        .split(',')
        .filter(Boolean)
        .map((p) => {
          const eq = p.indexOf('=');
          return [p.slice(0, eq), decodeURIComponent(p.slice(eq + 1).replace(/%2C/gi, ','))];
        }),
    );
    found.push({
      level: m[1] as Annotation['level'],
      message: m[3]!.replace(/%0A/gi, '\n').replace(/%25/g, '%'),
      properties,
    });
  }
  return found;
}

/** Values registered with `::add-mask::`, so the runner can prove they never reach the log unmasked. */
export function masksIn(log: string): string[] {
  return log
    .split('\n')
    .map((l) => /^::add-mask::(.*)$/.exec(l.trim())?.[1])
    .filter((v): v is string => Boolean(v));
}
