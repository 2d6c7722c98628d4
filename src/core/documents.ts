import { type Backlog, BacklogSchema } from './backlog.js';
import { backlogCrossChecks } from './backlog-cross-checks.js';
import { fastBacklog } from './backlog-fast.js';
import { type Config, ConfigSchema } from './config.js';
import { load, sortDiagnostics } from './document-load.js';
import type { Diagnostic } from './errors.js';
import { configCrossChecks } from './glob-diagnostics.js';
import { schemaCheck } from './schema-diagnostics.js';
import { backlogWarnings, configWarnings } from './scope-warnings.js';

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
export function parseBacklogText(
  text: string,
  file: string,
  config: Config,
  /** false: skip the scope warnings (`inScope` is then 0), for readers that act and never show them. */
  scopeWarnings = true,
): BacklogParseResult {
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
  if (!scopeWarnings) return { ok: true, value, warnings: sortDiagnostics(warnings), inScope: 0 };
  const scoped = backlogWarnings(value, yaml, file, config);
  if (scoped.warnings.length > 0) warnings.push(...scoped.warnings);
  return { ok: true, value, warnings: sortDiagnostics(warnings), inScope: scoped.inScope };
}
