/**
 * The deterministic threat scan of a candidate before anything is pushed (issue 11, "What leaves the
 * sandbox"): token shapes, secret values the worker knows, private key headers and hidden Unicode in the
 * changed text files. A finding names the file, the line and the kind, never the value: it goes into events,
 * summaries and the job log.
 */

import { HIDDEN_CHARS, INVISIBLE_ALL } from './invisible.js';
import { MIN_SECRET_LENGTH } from './redact.js';
import { secretForms } from './secret-forms.js';
import { PRIVATE_KEY_HEADER, TOKEN_SHAPES, type TokenKind } from './token-shapes.js';

export type ThreatKind = TokenKind | 'private_key' | 'known_secret' | 'hidden_unicode';

export interface ThreatFinding {
  path: string;
  /** 1-based; 0 when the finding is in the path itself. */
  line: number;
  kind: ThreatKind;
}

export interface ScannedFile {
  path: string;
  content: string;
  /** Binary content (decoded as latin1): token shapes and known values only, no hidden-Unicode check. */
  binary?: boolean;
}

export interface ThreatScanOptions {
  /** Values that must never leave (the worker's redactor's list); shorter than `minLength` are ignored. */
  secrets?: readonly (string | undefined)[];
  /** Default `MIN_SECRET_LENGTH` (8). */
  minLength?: number;
  /** Findings reported at most (the scan stops there); default 100. */
  maxFindings?: number;
}

export interface ThreatScanResult {
  findings: ThreatFinding[];
  /** More findings existed than `maxFindings`. */
  truncated: boolean;
}

/** Token shapes (core/token-shapes.ts) and the private-key header. */
const SHAPES: ReadonlyArray<{ kind: ThreatKind; re: RegExp }> = [
  { kind: 'private_key', re: PRIVATE_KEY_HEADER },
  ...TOKEN_SHAPES,
];

/** Invisible characters (core/invisible.ts); U+FEFF is allowed at the very start of a file. */
const HIDDEN = HIDDEN_CHARS;

function knownValues(options: ThreatScanOptions): string[] {
  const min = options.minLength ?? MIN_SECRET_LENGTH;
  const values = new Set<string>();
  for (const s of options.secrets ?? []) {
    if (s === undefined) continue;
    for (const v of [s, s.trim()]) if (v.length >= min) values.add(v);
  }
  return [...values];
}

/** The text without invisible characters and line breaks, and the 1-based line each kept character was on. */
function visibleText(text: string): { seen: string; lineAt: number[] } {
  const kept: string[] = [];
  const lineAt: number[] = [];
  let line = 1;
  for (const ch of text) {
    if (ch === '\n') line += 1;
    else if (ch !== '\r' && !INVISIBLE_ONE.test(ch)) {
      // One entry per UTF-16 unit, so indexes into `seen` map to lines.
      for (let k = 0; k < ch.length; k++) lineAt.push(line);
      kept.push(ch);
    }
  }
  return { seen: kept.join(''), lineAt };
}

const INVISIBLE_ONE = new RegExp(`^(?:${INVISIBLE_ALL.source})$`);

/** Findings in one piece of text (a file's content or its path): one per line and kind. */
function scanText(
  text: string,
  secrets: readonly string[],
  startIsFileStart: boolean,
  unicode = true,
): Array<[number, ThreatKind]> {
  const out: Array<[number, ThreatKind]> = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const kinds = new Set<ThreatKind>();
    for (const { kind, re } of SHAPES) if (re.test(line)) kinds.add(kind);
    const hiddenIn = i === 0 && startIsFileStart && line.startsWith('\ufeff') ? line.slice(1) : line;
    if (unicode && HIDDEN.test(hiddenIn)) kinds.add('hidden_unicode');
    for (const kind of kinds) out.push([i + 1, kind]);
  });
  // Known values are matched in what a reader sees: invisible characters and line breaks taken out, so a
  // value split by U+034F or folded over lines is still found (at the line where it starts).
  const { seen, lineAt } = secrets.length > 0 ? visibleText(text) : { seen: '', lineAt: [] };
  for (const secret of secrets) {
    const lines = new Set<number>();
    for (const form of secretForms(secret, MIN_SECRET_LENGTH)) {
      for (let at = seen.indexOf(form); at !== -1; at = seen.indexOf(form, at + 1)) lines.add(lineAt[at]!);
    }
    for (const line of lines) out.push([line, 'known_secret']);
  }
  return out;
}

/**
 * Scans changed text files (content already decoded; binary files are the caller's to skip) and their paths.
 * Findings are sorted by path, line and kind, and never carry the matched text.
 */
export function scanForThreats(
  files: readonly ScannedFile[],
  options: ThreatScanOptions = {},
): ThreatScanResult {
  const max = options.maxFindings ?? 100;
  const secrets = knownValues(options);
  const findings: ThreatFinding[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const hits = [
      ...scanText(file.path, secrets, false).map(([, kind]): [number, ThreatKind] => [0, kind]),
      ...scanText(file.content, secrets, true, !file.binary),
    ];
    for (const [line, kind] of hits) {
      const key = `${file.path}\0${line}\0${kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push({ path: file.path, line, kind });
    }
  }
  findings.sort((a, b) =>
    a.path !== b.path ? (a.path < b.path ? -1 : 1) : a.line - b.line || a.kind.localeCompare(b.kind),
  );
  return { findings: findings.slice(0, max), truncated: findings.length > max };
}

/** Paths that hold a finding themselves: never to be printed or pushed, not even in a manifest. */
export function unsafePaths(result: ThreatScanResult): Set<string> {
  return new Set(result.findings.filter((f) => f.line === 0).map((f) => f.path));
}

/** One line for an event detail: where and what, never the value (nor a path that itself holds one). */
export function describeFindings(result: ThreatScanResult, shown = 10): string {
  const unsafe = unsafePaths(result);
  const name = (path: string) =>
    unsafe.has(path) ? '(a path withheld: it holds a finding itself)' : JSON.stringify(path);
  const where = (f: ThreatFinding) => `${name(f.path)}${f.line > 0 ? `:${f.line}` : ''} ${f.kind}`;
  const list = result.findings.slice(0, shown).map(where).join(', ');
  const more = result.findings.length - Math.min(shown, result.findings.length);
  const tail = result.truncated ? ', and more' : more > 0 ? `, and ${more} more` : '';
  return `the candidate holds what must not leave the sandbox: ${list}${tail}`;
}
