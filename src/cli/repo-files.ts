import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Backlog } from '../core/backlog.js';
import { readinessWarnings } from '../core/backlog-checks.js';
import { type Config, defaultConfig } from '../core/config.js';
import { BACKLOG_FILE, CONFIG_FILE, parseBacklogText, parseConfigText } from '../core/documents.js';
import { type Diagnostic, UserError } from '../core/errors.js';
import { SETUP_HINT } from '../core/hints.js';

/** Paths inside a target repository, relative and POSIX: that is how they appear in messages. */
export { BACKLOG_FILE, CONFIG_FILE };

/** The text of `rel` inside `dir`, or null when the file does not exist. */
export async function readRepoFile(dir: string, rel: string): Promise<string | null> {
  return (await readRepoBytes(dir, rel))?.toString('utf8') ?? null;
}

/** The bytes of `rel` inside `dir`, or null when the file does not exist. */
export async function readRepoBytes(dir: string, rel: string): Promise<Buffer | null> {
  try {
    return await readFile(path.join(dir, rel));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'EISDIR') throw new UserError(`${rel} is a directory, expected a YAML file`);
    throw new UserError(`cannot read ${rel}: ${(error as Error).message}`);
  }
}

async function assertDirectory(dir: string): Promise<void> {
  const s = await stat(dir).catch(() => null);
  if (!s?.isDirectory()) throw new UserError(`not a directory: ${dir}`);
}

export interface RepoDocuments {
  ok: boolean;
  /** The parsed config (defaults when the file is absent). Null when the config is invalid. */
  config: Config | null;
  /** Null when the backlog is missing or invalid. */
  backlog: Backlog | null;
  /** How many of its tasks are in scope (of the config, or of the default scope when the config is invalid). */
  inScope: number;
  /** Errors of both files, config first. */
  diagnostics: Diagnostic[];
  warnings: Diagnostic[];
}

/**
 * Reads and validates `.leviathan/config.yaml` (optional) and `.leviathan/backlog.yaml` (required) from a
 * checkout. Never throws for problems inside the files; they come back as diagnostics.
 */
export async function loadRepoDocuments(dir: string): Promise<RepoDocuments> {
  await assertDirectory(dir);
  const diagnostics: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];

  const configText = await readRepoFile(dir, CONFIG_FILE);
  let config: Config | null = defaultConfig();
  if (configText !== null) {
    const parsed = parseConfigText(configText, CONFIG_FILE);
    if (parsed.ok) {
      config = parsed.value;
      warnings.push(...parsed.warnings);
    } else {
      config = null;
      diagnostics.push(...parsed.diagnostics);
    }
  }

  let backlog: Backlog | null = null;
  let inScope = 0;
  const backlogText = await readRepoFile(dir, BACKLOG_FILE);
  if (backlogText === null) {
    diagnostics.push({
      file: BACKLOG_FILE,
      line: 1,
      column: 1,
      path: '',
      message: 'file not found',
      hint: SETUP_HINT,
    });
  } else {
    // With a broken config, check the backlog against unlimited limits so that only real backlog errors show.
    const parsed = parseBacklogText(backlogText, BACKLOG_FILE, config ?? permissiveConfig());
    if (parsed.ok) {
      backlog = parsed.value;
      inScope = parsed.inScope;
      if (config) {
        warnings.push(...parsed.warnings);
        warnings.push(...readinessWarnings(backlog, config, backlogText, BACKLOG_FILE));
      }
    } else {
      diagnostics.push(...parsed.diagnostics);
    }
  }
  return { ok: diagnostics.length === 0, config, backlog, inScope, diagnostics, warnings };
}

function permissiveConfig(): Config {
  const config = defaultConfig();
  config.limits.max_attempts_per_task = Number.MAX_SAFE_INTEGER;
  config.limits.attempt_timeout_minutes = Number.MAX_SAFE_INTEGER;
  return config;
}

/** For commands that need both files valid: the parsed pair, or a UserError listing every problem. */
export async function loadRepoDocumentsOrThrow(
  dir: string,
): Promise<{ config: Config; backlog: Backlog; warnings: Diagnostic[] }> {
  const docs = await loadRepoDocuments(dir);
  if (!docs.ok || !docs.config || !docs.backlog) {
    throw new UserError(invalidMessage(docs.diagnostics), docs.diagnostics);
  }
  return { config: docs.config, backlog: docs.backlog, warnings: docs.warnings };
}

export function invalidMessage(diagnostics: readonly Diagnostic[]): string {
  const n = diagnostics.length;
  const files = [...new Set(diagnostics.map((d) => d.file))].join(' and ');
  return `${n} error${n === 1 ? '' : 's'} in ${files}`;
}
