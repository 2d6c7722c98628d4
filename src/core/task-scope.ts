/**
 * May a task run at all (SPEC §2.2): `taskScope`, the fence/protected decision over a task's globs.
 *
 * Pure: no I/O, no imports from other src/ folders.
 */
import {
  allowGlob,
  globError,
  matchesAny,
  pmMatch,
  protectedMatch,
  SMALL_CACHE_LIMIT,
} from './glob-match.js';
import {
  contains,
  directoryOf,
  fragmentsOf,
  intersects,
  type Model,
  modelOf,
  witnesses,
} from './glob-model.js';
import { generalGlobError, normalizePath } from './paths.js';
import {
  isFloatingGlob,
  malformedProtected,
  type PathScope,
  protectedFor,
  reachWhy,
  type ScopeVerdict,
} from './protected-paths.js';
import { quickScope } from './quick-scope.js';

/** A plain glob without a star: one literal path. */
const PLAIN_PATH = /^[A-Za-z0-9._\-/]+$/;

function insideFence(glob: string, model: Model, fence: readonly string[]): boolean {
  if (model.literal) return matchesAny(glob, fence);
  const fences = fence.map(modelOf).filter((m): m is Model => m !== null);
  return model.over.every((alt) => fences.some((f) => f.under.some((outer) => contains(outer, alt))));
}

function canReach(glob: string, model: Model, protectedGlob: string): boolean {
  const p = modelOf(protectedGlob);
  if (!p) return true; // unknown: fail closed
  if (model.literal) return protectedMatch(protectedGlob, glob);
  if (p.literal) {
    // No regex to compile for the commonest task glob; counting the directory itself errs on the safe side.
    const dir = directoryOf(glob);
    if (dir !== null) return protectedGlob === dir || protectedGlob.startsWith(`${dir}/`);
    return pmMatch(glob, protectedGlob);
  }
  return model.over.some((a) => p.over.some((b) => intersects(a, b)));
}

/** Verdicts per scope object: validate, select and the summaries ask about the same task several times. */
const verdicts = new WeakMap<PathScope, Map<string, ScopeVerdict>>();

export function taskScope(taskGlobs: readonly string[], scope: PathScope): ScopeVerdict {
  const quick = quickScope(taskGlobs, scope);
  if (quick !== undefined) return quick;
  let known = verdicts.get(scope);
  if (!known) {
    known = new Map();
    verdicts.set(scope, known);
  }
  const key = taskGlobs.join('\0');
  const hit = known.get(key);
  if (hit) return hit;
  const verdict = decideScope(taskGlobs, scope);
  if (known.size >= SMALL_CACHE_LIMIT) known.clear();
  known.set(key, verdict);
  return verdict;
}

function decideScope(taskGlobs: readonly string[], scope: PathScope): ScopeVerdict {
  const out = (path: string, why: string) => ({ inScope: false as const, path, why });
  if (taskGlobs.length === 0) return out('', 'the task has no allowed_paths');
  const malformed = malformedProtected(scope);
  if (malformed) return out(taskGlobs[0]!, malformed);
  const protectedGlobs = protectedFor(taskGlobs, scope);
  // Task globs and the fence are allow-lists: modelled as matched (`allowGlob`), reported as written.
  const fence = scope.allowed_paths.map(allowGlob);
  let fragments: string[] | undefined;
  for (const written of taskGlobs) {
    const glob = allowGlob(written);
    // A plain file path (the commonest task glob) needs no model: picomatch's verdicts on it are the answer.
    if (PLAIN_PATH.test(glob) && globError(written) === null) {
      if (!matchesAny(glob, fence)) return out(written, 'not inside scope.allowed_paths');
      const reached = protectedGlobs.find((p) => protectedMatch(p, glob));
      if (reached !== undefined) return out(written, reachWhy(reached, scope));
      continue;
    }
    const model = modelOf(glob);
    if (globError(written) !== null || !model) {
      return out(written, `malformed glob: ${globError(written) ?? 'unsupported'}`);
    }
    if (!insideFence(glob, model, fence)) return out(written, 'not inside scope.allowed_paths');
    const applicable = model.literal ? protectedGlobs : protectedGlobs.filter((p) => !isFloatingGlob(p));
    const reached = applicable.find((p) => canReach(glob, model, p));
    if (reached !== undefined) return out(written, reachWhy(reached, scope));
    // Belt and braces: concrete paths through picomatch itself, in case the model ever disagrees with it
    // (not needed for a literal path or a literal directory and everything under it, where it cannot).
    for (const alt of model.literal || directoryOf(glob) !== null ? [] : model.over) {
      fragments ??= fragmentsOf([...taskGlobs, ...scope.allowed_paths, ...protectedGlobs]);
      for (const w of witnesses(alt, fragments, 64)) {
        const n = normalizePath(w);
        if (!n.ok || !pmMatch(glob, n.path)) continue;
        if (!matchesAny(n.path, scope.allowed_paths)) return out(written, 'not inside scope.allowed_paths');
        const hit = applicable.find((p) => pmMatch(p, n.path));
        if (hit !== undefined) return out(written, reachWhy(hit, scope));
      }
    }
  }
  return { inScope: true };
}

/** The two scope decisions and the general glob check, for the tests that hold the shortcuts to them. */
export const _scope = { quickScope, decideScope, generalGlobError };
