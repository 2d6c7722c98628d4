import type { z } from 'zod';
import { type Backlog, BacklogSchema, TASK_ID_PATTERN } from './backlog.js';
import { fastBacklog } from './backlog-fast.js';
import { type Config, ConfigSchema, DEFAULT_PROTECTED_PATHS } from './config.js';
import type { Diagnostic } from './errors.js';
import { validateGlob } from './paths.js';
import { branchNameError } from './ref-format.js';
import { taskScope } from './task-scope.js';
import { parseFastYaml } from './yaml-fast.js';
import {
  formatPath,
  LazyPositions,
  type PathSegment,
  PositionedYaml,
  type Positions,
} from './yaml-positions.js';

/** Where the two documents live in a target repository (repository-relative, as messages show them). */
export const BACKLOG_FILE = '.leviathan/backlog.yaml';
export const CONFIG_FILE = '.leviathan/config.yaml';

export type ParseResult<T> =
  | { ok: true; value: T; warnings: Diagnostic[] }
  | { ok: false; diagnostics: Diagnostic[] };

/** A parsed backlog also says how many of its tasks are in scope of the config it was checked against. */
export type BacklogParseResult =
  | { ok: true; value: Backlog; warnings: Diagnostic[]; inScope: number }
  | { ok: false; diagnostics: Diagnostic[] };

export interface BacklogSummary {
  tasks: number;
  /** Tasks a human marked `ready: true` that are still `pending`: the ones the scheduler may consider. */
  ready: number;
  /** Tasks whose `allowed_paths` lie inside the config's fence and away from protected paths. */
  inScope: number;
}

type Issue = z.core.$ZodIssue;
type Raw = Record<string, unknown>;

/** `.leviathan/config.yaml` text → Config. An empty or comments-only file is the default config. */
export function parseConfigText(text: string, file: string): ParseResult<Config> {
  const loaded = load(text, file);
  if (!loaded.ok) return loaded;
  const { yaml, raw, warnings } = loaded;
  const checked = schemaCheck(ConfigSchema, raw, yaml, file);
  const diagnostics = [...checked.diagnostics, ...configCrossChecks(raw, yaml, file)];
  if (diagnostics.length > 0 || checked.value === undefined) {
    return { ok: false, diagnostics: sortDiagnostics(diagnostics) };
  }
  const value = checked.value;
  warnings.push(...configWarnings(value, yaml, file));
  return { ok: true, value, warnings: sortDiagnostics(warnings) };
}

/**
 * `.leviathan/backlog.yaml` text → Backlog, checked against the schema and against `config` (limits a task
 * may only lower). An empty or comments-only file is an empty backlog.
 */
export function parseBacklogText(text: string, file: string, config: Config): BacklogParseResult {
  const loaded = load(text, file);
  if (!loaded.ok) return loaded;
  const { yaml, raw, warnings } = loaded;
  // Nearly every backlog is fine as written: checked by hand in one pass, zod only when something is off.
  const fast = fastBacklog(raw);
  const checked = fast ? { value: fast, diagnostics: [] } : schemaCheck(BacklogSchema, raw, yaml, file);
  const diagnostics = [...checked.diagnostics, ...backlogCrossChecks(raw, yaml, file, config)];
  if (diagnostics.length > 0 || checked.value === undefined) {
    return { ok: false, diagnostics: sortDiagnostics(diagnostics) };
  }
  const value = checked.value;
  const scoped = backlogWarnings(value, yaml, file, config);
  if (scoped.warnings.length > 0) warnings.push(...scoped.warnings);
  return { ok: true, value, warnings: sortDiagnostics(warnings), inScope: scoped.inScope };
}

/**
 * The summary `validate` prints. `inScope`, when given, is what `parseBacklogText` counted against this same
 * config (each task's scope is decided once, not again for the summary).
 */
export function summarizeBacklog(backlog: Backlog, config: Config, inScope?: number): BacklogSummary {
  let ready = 0;
  let scoped = 0;
  for (let i = 0; i < backlog.tasks.length; i++) {
    const task = backlog.tasks[i]!;
    if (task.ready && task.status === 'pending') ready += 1;
    if (inScope === undefined && taskScope(task.allowed_paths, config.scope).inScope) scoped += 1;
  }
  return { tasks: backlog.tasks.length, ready, inScope: inScope ?? scoped };
}

// ---------------------------------------------------------------------------------------------------------
// Loading

type Loaded =
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

function load(text: string, file: string): Loaded {
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

function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return ds
    .map((d, i) => ({ d, i }))
    .sort((a, b) => a.d.line - b.d.line || a.d.column - b.d.column || a.i - b.i)
    .map(({ d }) => d);
}

function isRecord(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

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

function describe(v: unknown): string {
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
function schemaCheck<S extends z.ZodType>(
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

/** The known key a misspelt one most likely meant (small edit distance), if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k);
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  return best !== undefined && bestDist <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("dosc" → "docs" is 1). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

// ---------------------------------------------------------------------------------------------------------
// Cross checks (on the raw value, so they show up together with schema errors)

const GLOB_HINT = 'use a repository-relative POSIX glob such as "docs/**"';

/** No glob in the list is a string validateGlob refuses (then there is nothing to position). */
function allGlobsValid(globs: unknown): boolean {
  if (!Array.isArray(globs)) return true;
  for (let i = 0; i < globs.length; i++) {
    const glob = globs[i];
    if (typeof glob === 'string' && validateGlob(glob) !== null) return false;
  }
  return true;
}

function globDiagnostics(globs: unknown, base: PathSegment[], yaml: Positions, file: string): Diagnostic[] {
  if (!Array.isArray(globs)) return [];
  const out: Diagnostic[] = [];
  globs.forEach((glob, k) => {
    if (typeof glob !== 'string') return;
    const why = validateGlob(glob);
    if (why === null) return;
    const p = [...base, k];
    const { line, column } = yaml.valueAt(p);
    out.push({
      file,
      line,
      column,
      path: formatPath(p),
      message: `invalid glob ${describe(glob)}: ${why}`,
      hint: GLOB_HINT,
    });
  });
  return out;
}

function configCrossChecks(raw: unknown, yaml: Positions, file: string): Diagnostic[] {
  if (!isRecord(raw) || !isRecord(raw.scope)) return [];
  return [
    ...globDiagnostics(raw.scope.allowed_paths, ['scope', 'allowed_paths'], yaml, file),
    ...globDiagnostics(raw.scope.protected_paths, ['scope', 'protected_paths'], yaml, file),
  ];
}

function configWarnings(config: Config, yaml: Positions, file: string): Diagnostic[] {
  const missing = DEFAULT_PROTECTED_PATHS.filter((p) => !config.scope.protected_paths.includes(p));
  if (missing.length === 0) return [];
  const path = ['scope', 'protected_paths'];
  const { line, column } = yaml.valueAt(path);
  return [
    {
      file,
      line,
      column,
      path: formatPath(path),
      message: `protected_paths leaves out default protections: ${missing.join(', ')}`,
      hint: 'setting protected_paths replaces the defaults; list them again unless you mean to drop them',
    },
  ];
}

function backlogCrossChecks(raw: unknown, yaml: Positions, file: string, config: Config): Diagnostic[] {
  if (!isRecord(raw) || !Array.isArray(raw.tasks)) return [];
  const tasks = raw.tasks as unknown[];
  const out: Diagnostic[] = [];
  const push = (p: PathSegment[], message: string, hint: string, pos = yaml.valueAt(p)) => {
    out.push({ file, line: pos.line, column: pos.column, path: formatPath(p), message, hint });
  };

  // ids: first definition wins; later ones are the duplicates.
  const firstIndex = new Map<string, number>();
  tasks.forEach((t, i) => {
    if (!isRecord(t) || typeof t.id !== 'string') return;
    const first = firstIndex.get(t.id);
    if (first === undefined) {
      firstIndex.set(t.id, i);
      return;
    }
    const firstLine = yaml.valueAt(['tasks', first, 'id']).line;
    push(
      ['tasks', i, 'id'],
      `duplicate id "${t.id}" (first defined at line ${firstLine})`,
      'task ids must be unique; rename or remove one of them',
    );
  });
  let ids: string[] | undefined; // for the hints of unknown dependencies only

  const limits = config.limits;
  // A valid prefix and an id without "..", a final "." or a final ".lock" make two valid branches (the id's
  // characters are all allowed in a ref): only other ids need git's whole rule.
  const prefixOk = branchNameError(`${config.pr.branch_prefix}x`) === null;
  const plainId = (id: string) =>
    prefixOk && !id.includes('..') && !id.endsWith('.') && !id.endsWith('.lock');
  tasks.forEach((t, i) => {
    if (!isRecord(t)) return;
    if (typeof t.id === 'string' && TASK_ID_PATTERN.test(t.id) && !plainId(t.id)) {
      // The id names the PR branch and the WIP branch: git must accept both, or the attempt dies in git.
      const branch = `${config.pr.branch_prefix}${t.id}`;
      const why = branchNameError(branch) ?? branchNameError(`leviathan-wip/${t.id}/attempt`);
      if (why !== null) {
        push(
          ['tasks', i, 'id'],
          `id "${t.id}" is not a valid branch name (${branch} ${why})`,
          'use letters, digits and single "-", "_" or "." between them; no "..", no ".lock" at the end',
        );
      }
    }
    if (Array.isArray(t.dependencies)) {
      t.dependencies.forEach((dep, j) => {
        if (typeof dep !== 'string' || firstIndex.has(dep)) return;
        ids ??= [...firstIndex.keys()];
        const close = closest(dep, ids);
        const known =
          ids.length > 0 ? `known ids: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}` : '';
        push(
          ['tasks', i, 'dependencies', j],
          `dependency "${dep}" is not a task in this backlog`,
          close ? `did you mean "${close}"?` : known || 'add that task or remove the dependency',
        );
      });
    }
    if (isWholeNumber(t.max_attempts) && t.max_attempts > limits.max_attempts_per_task) {
      push(
        ['tasks', i, 'max_attempts'],
        `max_attempts ${t.max_attempts} is above the config's limits.max_attempts_per_task (${limits.max_attempts_per_task})`,
        `a task may only lower the limit: use 1–${limits.max_attempts_per_task}, or raise it in the config`,
      );
    }
    if (isWholeNumber(t.timeout_minutes) && t.timeout_minutes > limits.attempt_timeout_minutes) {
      push(
        ['tasks', i, 'timeout_minutes'],
        `timeout_minutes ${t.timeout_minutes} is above the config's limits.attempt_timeout_minutes (${limits.attempt_timeout_minutes})`,
        `a task may only lower the limit: use 1–${limits.attempt_timeout_minutes}, or raise it in the config`,
      );
    }
    if (isRecord(t.executor)) {
      const minutes = t.executor.timeout_minutes;
      if (isWholeNumber(minutes) && minutes > limits.attempt_timeout_minutes) {
        push(
          ['tasks', i, 'executor', 'timeout_minutes'],
          `executor.timeout_minutes ${minutes} is above the config's limits.attempt_timeout_minutes (${limits.attempt_timeout_minutes})`,
          `a task's executor may only lower the limit: use 1–${limits.attempt_timeout_minutes}, or raise it in the config`,
        );
      }
      if (typeof t.executor.command === 'string' && Array.isArray(t.run)) {
        push(
          ['tasks', i, 'executor', 'command'],
          'a task with run commands has no agent: executor.command would never run',
          'keep either run (a script task) or executor.command (an agent task)',
        );
      }
    }
    if (!allGlobsValid(t.allowed_paths)) {
      out.push(...globDiagnostics(t.allowed_paths, ['tasks', i, 'allowed_paths'], yaml, file));
    }
  });

  for (const cycle of findCycles(tasks, firstIndex)) {
    push(
      ['tasks', cycle.task, 'dependencies', cycle.dep],
      `dependency cycle: ${cycle.ids.join(' → ')}`,
      'a task cannot depend on itself, directly or through others; remove one of these dependencies',
    );
  }
  return out;
}

function isWholeNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

interface Cycle {
  /** Index of the task whose dependency closes the cycle, and of that dependency in its list. */
  task: number;
  dep: number;
  ids: string[];
}

const NONE: unknown[] = [];
const ACTIVE = 1;
const DONE = 2;

/** Every back edge of a depth-first walk in file order: one report per cycle, at the edge that closes it. */
function findCycles(tasks: unknown[], firstIndex: Map<string, number>): Cycle[] {
  const depsOf = (i: number): unknown[] => {
    const t = tasks[i];
    return isRecord(t) && Array.isArray(t.dependencies) ? t.dependencies : NONE;
  };
  const idOf = (i: number) => (tasks[i] as Raw).id as string;
  // Per task index: unvisited (0), on the walk's stack, or done; the stack as two parallel arrays.
  const state = new Uint8Array(tasks.length);
  const nodes = new Int32Array(tasks.length);
  const nexts = new Int32Array(tasks.length);
  const cycles: Cycle[] = [];

  // Iterative so a long dependency chain cannot overflow the stack. Starts in file order of first
  // definitions (the order of firstIndex), by index: a cold Map iterator steps an object per entry.
  for (let start = 0; start < tasks.length; start++) {
    const t = tasks[start];
    if (!isRecord(t) || typeof t.id !== 'string' || firstIndex.get(t.id) !== start) continue;
    if (state[start] !== 0) continue;
    let depth = 1;
    nodes[0] = start;
    nexts[0] = 0;
    state[start] = ACTIVE;
    while (depth > 0) {
      const node = nodes[depth - 1]!;
      const deps = depsOf(node);
      if (nexts[depth - 1]! >= deps.length) {
        state[node] = DONE;
        depth -= 1;
        continue;
      }
      const j = nexts[depth - 1]!;
      nexts[depth - 1] = j + 1;
      const dep = deps[j];
      const target = typeof dep === 'string' ? firstIndex.get(dep) : undefined;
      if (target === undefined) continue;
      if (state[target] === ACTIVE) {
        const from = nodes.subarray(0, depth).indexOf(target);
        const ids = [...Array.from(nodes.subarray(from, depth), idOf), idOf(target)];
        cycles.push({ task: node, dep: j, ids });
      } else if (state[target] === 0) {
        state[target] = ACTIVE;
        nodes[depth] = target;
        nexts[depth] = 0;
        depth += 1;
      }
    }
  }
  return cycles;
}

/** The out-of-scope warnings (for tasks not done yet) and how many tasks, done ones included, are in scope. */
function backlogWarnings(
  backlog: Backlog,
  yaml: Positions,
  file: string,
  config: Config,
): { warnings: Diagnostic[]; inScope: number } {
  const out: Diagnostic[] = [];
  let inScope = 0;
  backlog.tasks.forEach((task, i) => {
    const scope = taskScope(task.allowed_paths, config.scope);
    if (scope.inScope) {
      inScope += 1;
      return;
    }
    if (task.status === 'done') return;
    const k = task.allowed_paths.indexOf(scope.path);
    const p: PathSegment[] = k >= 0 ? ['tasks', i, 'allowed_paths', k] : ['tasks', i, 'allowed_paths'];
    const { line, column } = yaml.valueAt(p);
    out.push({
      file,
      line,
      column,
      path: formatPath(p),
      message: `task "${task.id}" is out of scope: ${scope.why}`,
      hint: "the scheduler will skip it; narrow the task's allowed_paths or widen scope.allowed_paths in the config",
    });
  });
  return { warnings: out, inScope };
}
