/**
 * The quick scope decision (SPEC §2.2): `taskScope`'s verdict without models, for the commonest task globs.
 *
 * Pure: no I/O, no imports from other src/ folders.
 */
import picomatch from 'picomatch';
import { allowGlob, globError, literalRuns, protectedMatch, remember, runsOf } from './glob-match.js';
import { directoryOf, modelOf } from './glob-model.js';
import { isValidPlainGlob } from './glob-plain.js';
import { PM_OPTIONS } from './paths.js';
import {
  BACKLOG_PATH,
  isFloatingGlob,
  malformedProtected,
  type PathScope,
  protectedFor,
  reachWhy,
  type ScopeVerdict,
} from './protected-paths.js';

// ---------------------------------------------------------------------------------------------------------
// The scope decision without models, for the commonest task globs
// ---------------------------------------------------------------------------------------------------------
//
// Most task globs are a plain file path or a literal directory and everything under it (`docs/a.md`,
// `docs/images/**`). For those, and a scope whose protected globs are literal paths, literal directories or
// floating bans, `decideScope` comes down to picomatch's verdict on one path and prefix comparisons of
// directories: `quickScope` gives that verdict from a scope compiled once, with no model, cache or witness.
// When any glob or protected glob has another shape it answers undefined and `decideScope` decides.

/** One protected glob, with what the quick decision needs to know about it. */
interface ProtectedEntry {
  glob: string;
  floating: boolean;
  /** The lower-cased literal runs every match contains (`runsOf`), or null. */
  runs: string[] | null;
  /** How a directory task glob meets it: `literal` (one path), `dir` (`P/**`), or null (use the models). */
  shape: 'literal' | 'dir' | null;
  /** The literal path, or the directory of `P/**`. */
  at: string;
}

interface CompiledScope {
  /** Copies of the lists it was compiled from (a scope object changed in place is compiled again). */
  allowed: readonly string[];
  protectedPaths: readonly string[];
  malformed: string | null;
  /** The valid fence globs, in their allow-list reading. */
  fence: RegExp[];
  /** The directories of the fence globs that are a literal directory and everything under it. */
  fenceDirs: string[];
  /** `protectedFor` a task that names the backlog, and one that does not. */
  named: ProtectedList;
  unnamed: ProtectedList;
}

interface ProtectedList {
  all: ProtectedEntry[];
  /** The entries that are not floating bans (what a directory task glob is checked against). */
  anchored: ProtectedEntry[];
  /**
   * Matches (case-insensitively) a plain path that contains a literal run of some entry; null when an entry
   * has no runs. A path it does not match can hit no entry, so most paths need no loop over the list.
   */
  anyRun: RegExp | null;
}

function protectedListOf(entries: ProtectedEntry[]): ProtectedList {
  const runs = entries.flatMap((e) => e.runs ?? []);
  const everyEntryHasRuns = entries.every((e) => e.runs !== null && e.runs.length > 0);
  const literally = (run: string) => run.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return {
    all: entries,
    anchored: entries.filter((e) => !e.floating),
    anyRun: everyEntryHasRuns ? new RegExp(runs.map(literally).join('|') || '(?!)', 'i') : null,
  };
}

const compiledScopes = new WeakMap<PathScope, CompiledScope>();

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

let lastScope: PathScope | null = null;
let lastCompiled: CompiledScope | null = null;

function compiledScope(scope: PathScope): CompiledScope {
  const hit = scope === lastScope ? lastCompiled : compiledScopes.get(scope);
  if (
    hit &&
    sameList(hit.allowed, scope.allowed_paths) &&
    sameList(hit.protectedPaths, scope.protected_paths)
  ) {
    lastScope = scope;
    lastCompiled = hit;
    return hit;
  }
  const malformed = malformedProtected(scope);
  const fence: RegExp[] = [];
  const fenceDirs: string[] = [];
  let named: ProtectedList = protectedListOf([]);
  let unnamed: ProtectedList = named;
  if (malformed === null) {
    for (const g of scope.allowed_paths.map(allowGlob)) {
      if (globError(g) !== null) continue;
      fence.push(picomatch.makeRe(allowGlob(g), PM_OPTIONS));
      const dir = directoryOf(g);
      if (dir !== null && modelOf(g) !== null) fenceDirs.push(dir);
    }
    const entry = (glob: string): ProtectedEntry => {
      const model = modelOf(glob);
      const dir = glob.endsWith('/**') ? directoryOf(glob) : null;
      const shape = model === null ? null : model.literal ? 'literal' : dir !== null ? 'dir' : null;
      const runs = remember(literalRuns, glob, () => runsOf(glob));
      return { glob, floating: isFloatingGlob(glob), runs, shape, at: shape === 'dir' ? dir! : glob };
    };
    named = protectedListOf(protectedFor([BACKLOG_PATH], scope).map(entry));
    unnamed = protectedListOf(protectedFor([], scope).map(entry));
  }
  const compiled: CompiledScope = {
    allowed: [...scope.allowed_paths],
    protectedPaths: [...scope.protected_paths],
    malformed,
    fence,
    fenceDirs,
    named,
    unnamed,
  };
  compiledScopes.set(scope, compiled);
  lastScope = scope;
  lastCompiled = compiled;
  return compiled;
}

/**
 * The first protected glob the literal plain `path` matches (protectedMatch; no regex for a path lacking a
 * run). For a plain (ASCII) path, the case-insensitive `anyRun` finds what lower-casing and `includes` find.
 */
function firstProtectedHit(list: ProtectedList, path: string): ProtectedEntry | undefined {
  if (list.anyRun !== null && !list.anyRun.test(path)) return undefined;
  const lower = path.toLowerCase();
  const all = list.all;
  next: for (let k = 0; k < all.length; k++) {
    const entry = all[k]!;
    const runs = entry.runs;
    if (runs) for (let i = 0; i < runs.length; i++) if (!lower.includes(runs[i]!)) continue next;
    if (protectedMatch(entry.glob, path)) return entry;
  }
  return undefined;
}

function matchesOne(res: readonly RegExp[], path: string): boolean {
  for (let i = 0; i < res.length; i++) if (res[i]!.test(path)) return true;
  return false;
}

/** `dir` is `under` or below it. */
const within = (dir: string, under: string) =>
  dir.startsWith(under) && (dir.length === under.length || dir.charCodeAt(under.length) === 47);

/** `path` is strictly below one of `dirs`. */
function underOneOf(dirs: readonly string[], path: string): boolean {
  for (let i = 0; i < dirs.length; i++) {
    const d = dirs[i]!;
    if (path.length > d.length + 1 && path.charCodeAt(d.length) === 47 && path.startsWith(d)) return true;
  }
  return false;
}

function insideOneOf(dirs: readonly string[], dir: string): boolean {
  for (let i = 0; i < dirs.length; i++) if (within(dir, dirs[i]!)) return true;
  return false;
}

const IN_SCOPE: ScopeVerdict = { inScope: true };

/** decideScope's verdict when every task glob is a plain path or `dir/**` and it is decidable so; else undefined. */
export function quickScope(taskGlobs: readonly string[], scope: PathScope): ScopeVerdict | undefined {
  if (taskGlobs.length === 0) return undefined;
  const c = compiledScope(scope);
  if (c.malformed !== null) return undefined;
  const list = taskGlobs.includes(BACKLOG_PATH) ? c.named : c.unnamed;
  for (let g = 0; g < taskGlobs.length; g++) {
    const written = taskGlobs[g]!;
    if (typeof written !== 'string' || !isValidPlainGlob(written)) return undefined;
    const star = written.indexOf('*');
    if (star < 0) {
      // A valid plain path is its own normal form, and its own allow-list reading; under a fence directory it
      // is one more segment at least, which `dir/**` grants (dot: true), so no regex is needed for it.
      if (!underOneOf(c.fenceDirs, written) && !matchesOne(c.fence, written)) {
        return { inScope: false, path: written, why: 'not inside scope.allowed_paths' };
      }
      const hit = firstProtectedHit(list, written);
      if (hit !== undefined) return { inScope: false, path: written, why: reachWhy(hit.glob, scope) };
      continue;
    }
    // A valid plain glob whose only star is a final "/**": a literal directory and everything under it.
    if (star !== written.length - 2 || !written.endsWith('/**')) return undefined;
    const dir = written.slice(0, -3);
    // Inside a fence directory: the models' embedding holds (when not, let them look further).
    if (!insideOneOf(c.fenceDirs, dir)) return undefined;
    for (let k = 0; k < list.anchored.length; k++) {
      const e = list.anchored[k]!;
      if (e.shape === null) return undefined;
      // `dir/**` (read as at least one segment under dir) meets a literal path under dir, and `P/**` exactly
      // when one of the two directories holds the other: what `intersects` finds on these models.
      const reaches = e.shape === 'literal' ? within(e.at, dir) : within(dir, e.at) || within(e.at, dir);
      if (reaches) return { inScope: false, path: written, why: reachWhy(e.glob, scope) };
    }
  }
  return IN_SCOPE;
}
