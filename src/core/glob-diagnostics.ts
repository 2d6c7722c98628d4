import { isRecord } from './document-load.js';
import type { Diagnostic } from './errors.js';
import { validateGlob } from './paths.js';
import { describe } from './schema-diagnostics.js';
import { formatPath, type PathSegment, type Positions } from './yaml-positions.js';

// ---------------------------------------------------------------------------------------------------------
// Cross checks (on the raw value, so they show up together with schema errors)

const GLOB_HINT = 'use a repository-relative POSIX glob such as "docs/**"';

/** No glob in the list is a string validateGlob refuses (then there is nothing to position). */
export function allGlobsValid(globs: unknown): boolean {
  if (!Array.isArray(globs)) return true;
  for (let i = 0; i < globs.length; i++) {
    const glob = globs[i];
    if (typeof glob === 'string' && validateGlob(glob) !== null) return false;
  }
  return true;
}

export function globDiagnostics(
  globs: unknown,
  base: PathSegment[],
  yaml: Positions,
  file: string,
): Diagnostic[] {
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

export function configCrossChecks(raw: unknown, yaml: Positions, file: string): Diagnostic[] {
  if (!isRecord(raw) || !isRecord(raw.scope)) return [];
  return [
    ...globDiagnostics(raw.scope.allowed_paths, ['scope', 'allowed_paths'], yaml, file),
    ...globDiagnostics(raw.scope.protected_paths, ['scope', 'protected_paths'], yaml, file),
  ];
}
