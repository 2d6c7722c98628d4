import type { Diagnostic } from './errors.js';
import { parseFastYaml } from './yaml-fast.js';
import { LazyPositions, PositionedYaml, type Positions } from './yaml-positions.js';

// ---------------------------------------------------------------------------------------------------------
// Loading

export type Raw = Record<string, unknown>;

export type Loaded =
  | { ok: true; yaml: Positions; raw: unknown; warnings: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[] };

const SYNTAX_HINTS: Record<string, string> = {
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  DUPLICATE_KEY: 'a key may appear only once in a mapping; remove or rename one',
  MULTIPLE_DOCS: 'keep a single YAML document in the file (remove the extra "---")',
  BAD_INDENT: 'align items of the same list or mapping at the same column',
  MISSING_CHAR: 'close the quote or bracket that was opened',
  BLOCK_AS_IMPLICIT_KEY: 'quote a value that contains ": "',
  MULTILINE_IMPLICIT_KEY: 'quote a value that contains ": ", or put the key on one line',
  UNEXPECTED_TOKEN: 'quote values that start with a special character (*, &, !, |, >, @, `, %)',
};

export function load(text: string, file: string): Loaded {
  // Plain YAML (nearly every real file) is read without positions; they are computed only if a diagnostic
  // needs one. Anything else, and every syntax error, goes through the full positioned parse.
  const fast = parseFastYaml(text);
  if (fast !== null) return { ok: true, yaml: new LazyPositions(text), raw: fast.value ?? {}, warnings: [] };
  const yaml = new PositionedYaml(text);
  if (yaml.errors.length > 0) {
    const diagnostics = yaml.errors.map((e): Diagnostic => {
      const { line, column } = yaml.positionOf(e.pos[0]);
      const hint = SYNTAX_HINTS[e.code] ?? 'fix the YAML syntax at this spot';
      // The error's range is only the key's first character; read the key up to its colon.
      const key = /^[^:\n]*/.exec(text.slice(e.pos[0]))?.[0].trim();
      const detail = e.code === 'DUPLICATE_KEY' && key ? ` ("${key}" appears more than once)` : '';
      return { file, line, column, path: '', message: `YAML syntax error: ${e.message}${detail}`, hint };
    });
    return { ok: false, diagnostics: sortDiagnostics(diagnostics) };
  }
  const warnings = yaml.warnings.map((w): Diagnostic => {
    const { line, column } = yaml.positionOf(w.pos[0]);
    return { file, line, column, path: '', message: w.message };
  });
  if (yaml.isEmpty) return { ok: true, yaml, raw: {}, warnings };
  try {
    return { ok: true, yaml, raw: yaml.doc.toJS(), warnings };
  } catch (error) {
    // Unresolvable or excessive aliases: the parser accepts them, converting to a value does not.
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      diagnostics: [
        {
          file,
          line: 1,
          column: 1,
          path: '',
          message: `YAML error: ${message}`,
          hint: 'avoid anchors and aliases',
        },
      ],
    };
  }
}

export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => a.d.line - b.d.line || a.d.column - b.d.column || a.i - b.i)
    .map(({ d }) => d);
}

export function isRecord(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
