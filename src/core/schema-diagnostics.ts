import type { z } from 'zod';
import { closest } from './closest-name.js';
import { isRecord, type Raw } from './document-load.js';
import type { Diagnostic } from './errors.js';
import { formatPath, type PathSegment, type Positions } from './yaml-positions.js';

type Issue = z.core.$ZodIssue;

// ---------------------------------------------------------------------------------------------------------
// Walking zod schemas (for known keys, hints, and defaults of empty values)

interface SchemaDef {
  type: string;
  innerType?: AnySchema;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  entries?: Record<string, string | number>;
}
interface AnySchema {
  _zod: { def: SchemaDef };
}

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional']);
const DEFAULTED = new Set(['default', 'prefault', 'optional']);

function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  while (WRAPPERS.has(s._zod.def.type) && s._zod.def.innerType) s = s._zod.def.innerType;
  return s;
}

function schemaAt(root: z.ZodType, path: readonly PropertyKey[]): AnySchema | undefined {
  let s: AnySchema | undefined = root as unknown as AnySchema;
  for (const seg of path) {
    if (!s) return undefined;
    const def: SchemaDef = unwrap(s)._zod.def;
    if (def.type === 'object' && typeof seg === 'string') s = def.shape?.[seg];
    else if (def.type === 'array' && typeof seg === 'number') s = def.element;
    else return undefined;
  }
  return s;
}

function knownKeys(root: z.ZodType, path: readonly PropertyKey[]): string[] {
  const s = schemaAt(root, path);
  const def = s ? unwrap(s)._zod.def : undefined;
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
}

/**
 * `key:` with nothing after it (or only commented-out children) reads as null; for a key that has a default
 * that means "use the default", which is what someone who commented out a section expects.
 */
function dropEmptyOptionals(value: unknown, schema: AnySchema | z.ZodType | undefined): unknown {
  if (!schema) return value;
  const def = unwrap(schema as AnySchema)._zod.def;
  if (def.type === 'object' && isRecord(value)) {
    const out: Raw = {};
    for (const [k, v] of Object.entries(value)) {
      const field = def.shape?.[k];
      if (v === null && field && DEFAULTED.has(field._zod.def.type)) continue;
      out[k] = dropEmptyOptionals(v, field);
    }
    return out;
  }
  if (def.type === 'array' && Array.isArray(value))
    return value.map((v) => dropEmptyOptionals(v, def.element));
  return value;
}

function kindOf(schema: AnySchema | undefined): string {
  if (!schema) return 'a value';
  const def = unwrap(schema)._zod.def;
  switch (def.type) {
    case 'string':
      return 'text';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping';
    case 'enum':
      return `one of ${Object.values(def.entries ?? {}).join('|')}`;
    default:
      return 'a value';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Schema issues → positioned diagnostics

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (Array.isArray(v))
    return v.length === 0 ? 'an empty list' : `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

const EXPECTED_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

const MISSING_HINTS: Record<string, string> = {
  id: 'add id: <lowercase-id>, e.g. id: docs-guide',
  title: 'add title: <the PR title, 1–200 characters>',
  allowed_paths: 'add allowed_paths: ["docs/**"] listing the globs the task may change',
};

const FORMAT_HINTS: Record<string, string> = {
  id: 'use 1–64 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit, e.g. docs-guide',
  dependencies: 'use the id of another task in this backlog',
  env_allowlist: 'use an environment variable name such as MY_VAR',
  branch_prefix: 'use a branch path ending in "/", e.g. "leviathan/"',
};

function leafName(path: readonly PropertyKey[]): string {
  for (let i = path.length - 1; i >= 0; i--) {
    const seg = path[i];
    if (typeof seg === 'string') return seg;
  }
  return '';
}

function segments(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}

/** The schema's verdict: the parsed value, or the positioned diagnostics of its issues. */
export function schemaCheck<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  yaml: Positions,
  file: string,
): { value?: z.output<S>; diagnostics: Diagnostic[] } {
  const result = schema.safeParse(dropEmptyOptionals(raw, schema), { reportInput: true });
  if (result.success) return { value: result.data, diagnostics: [] };
  return { diagnostics: result.error.issues.flatMap((issue) => issueDiagnostics(issue, schema, yaml, file)) };
}

function issueDiagnostics(issue: Issue, root: z.ZodType, yaml: Positions, file: string): Diagnostic[] {
  const path = segments(issue.path);
  const at = (
    pos: { line: number; column: number },
    p: readonly PropertyKey[],
    message: string,
    hint?: string,
  ) => {
    const d: Diagnostic = { file, line: pos.line, column: pos.column, path: formatPath(p), message };
    if (hint) d.hint = hint;
    return d;
  };
  const leaf = leafName(path);
  const input = issue.input;

  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(root, path);
      return issue.keys.map((key) => {
        const keyPath = [...path, key];
        const close = closest(key, known);
        const hint = `${close ? `did you mean "${close}"? ` : ''}remove it or check spelling; known keys: ${known.join(', ')}`;
        return at(yaml.keyAt(keyPath), keyPath, `unknown key "${key}"`, hint);
      });
    }
    case 'invalid_type': {
      if (input === undefined && !yaml.has(path) && path.length > 0) {
        const parent = path.slice(0, -1);
        const key = String(path[path.length - 1]);
        const hint = MISSING_HINTS[key] ?? `add ${key}: <${kindOf(schemaAt(root, path))}>`;
        return [at(yaml.valueAt(parent), path, `missing required key "${key}"`, hint)];
      }
      const expected = EXPECTED_NAMES[issue.expected] ?? issue.expected;
      return [
        at(yaml.valueAt(path), path, `expected ${expected}, got ${describe(input)}`, typeHint(issue, path)),
      ];
    }
    case 'invalid_value': {
      const values = issue.values.map(String);
      if (values.length === 1) {
        return [at(yaml.valueAt(path), path, `${describe(input)} is not supported`, `use ${values[0]}`)];
      }
      const list = values.join('|');
      return [at(yaml.valueAt(path), path, `${describe(input)} is not one of ${list}`, `use one of ${list}`)];
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      const custom = issue.message.startsWith('must ') ? issue.message : undefined;
      if (issue.origin === 'array') {
        const message = small ? 'the list is empty' : `the list has more than ${bound} items`;
        const hint =
          leaf === 'allowed_paths'
            ? 'list at least one glob the task may change, e.g. ["docs/**"]'
            : leaf === 'run'
              ? 'list at least one command, or remove run to use the agent'
              : (custom ?? `list at least ${bound} item${bound === 1 ? '' : 's'}`);
        return [
          at(yaml.valueAt(path), path, custom && small ? `the list is empty: ${custom}` : message, hint),
        ];
      }
      if (issue.origin === 'string') {
        const len = typeof input === 'string' ? input.length : 0;
        const message = small
          ? len === 0
            ? 'empty text'
            : `${describe(input)} is too short`
          : `text is ${len} characters long (at most ${bound})`;
        const hint = small
          ? `write at least ${bound} character${bound === 1 ? '' : 's'}`
          : `shorten it to ${bound} characters or fewer`;
        return [at(yaml.valueAt(path), path, message, hint)];
      }
      const op = small ? '≥' : '≤';
      return [
        at(
          yaml.valueAt(path),
          path,
          `${describe(input)} is too ${small ? 'small' : 'large'}`,
          `use a whole number ${op} ${bound}`,
        ),
      ];
    }
    case 'invalid_format': {
      const rule = issue.message.startsWith('must ')
        ? issue.message
        : `does not match ${issue.pattern ?? issue.format}`;
      return [at(yaml.valueAt(path), path, `${describe(input)} ${rule}`, FORMAT_HINTS[leaf])];
    }
    default:
      return [at(yaml.valueAt(path), path, `${issue.message} (got ${describe(input)})`)];
  }
}

function typeHint(issue: z.core.$ZodIssueInvalidType, path: readonly PropertyKey[]): string {
  const input = issue.input;
  switch (issue.expected) {
    case 'boolean':
      return typeof input === 'string' && /^(true|false)$/i.test(input)
        ? 'write true or false without quotes'
        : 'use true or false';
    case 'number':
    case 'int':
      if (typeof input === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(input))
        return 'write the number without quotes';
      return 'use a whole number';
    case 'array':
      return typeof input === 'string'
        ? `write a list, e.g. [${JSON.stringify(input)}]`
        : 'write a list: [a, b] or one "- item" per line';
    case 'object':
      return path.length === 0
        ? 'the file must be a mapping of "key: value" lines'
        : 'write a mapping of "key: value" lines (indented under this key)';
    case 'string':
      return input === null ? 'write a value after the colon' : `quote it: "${String(input)}"`;
    default:
      return `use ${EXPECTED_NAMES[issue.expected] ?? issue.expected}`;
  }
}
