import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import picomatch from 'picomatch';
import { checkChangedPath } from '../../src/core/changed-path.js';
import { DEFAULT_PROTECTED_PATHS } from '../../src/core/config.js';
import { _model } from '../../src/core/glob-model.js';
import { normalizePath, validateGlob } from '../../src/core/paths.js';
import { ALWAYS_PROTECTED, BACKLOG_PATH, isFloatingGlob } from '../../src/core/protected-paths.js';
import { taskScope } from '../../src/core/task-scope.js';

const RUNS = { numRuns: 1000 };

/** The reference: picomatch's own regex, built here independently of the module under test. */
const pm = (glob: string, path: string) =>
  picomatch.makeRe(glob, { dot: true, windows: false, fastpaths: false }).test(path);
const pmAny = (path: string, globs: readonly string[]) => globs.some((g) => pm(g, path));
/**
 * An allow-list glob (task globs, the fence): as picomatch, except that a trailing "/**" needs at least one
 * segment after what its prefix matches (`docs/**` grants what is under docs/, not a file named docs).
 */
const allow = (glob: string, path: string) => {
  if (!glob.endsWith('/**')) return pm(glob, path);
  const prefix = glob.slice(0, -3);
  for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
    if (i < path.length - 1 && pm(prefix, path.slice(0, i))) return true;
  }
  return false;
};
const allowAny = (path: string, globs: readonly string[]) => globs.some((g) => allow(g, path));

// --- generators ------------------------------------------------------------------------------------------

const TRICKY_SEGMENTS = ['..', '.', '', 'C:', 'c:x', '\\', 'a\\b', '\0', 'a\0', '\n', '*', '**', 'a', 'docs'];
const PLAIN_SEGMENTS = ['docs', 'a', 'b.md', '.env', 'secret.md', '.github', 'x', '...', 'a b', 'A.PEM'];
const pathLike = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.stringMatching(/^[a-z./\\:*]{0,20}$/),
  fc
    .array(fc.constantFrom(...TRICKY_SEGMENTS, ...PLAIN_SEGMENTS), { minLength: 1, maxLength: 6 })
    .map((s) => s.join('/')),
  fc
    .tuple(
      fc.constantFrom('', './', '/', 'C:/', '../'),
      fc.array(fc.constantFrom(...PLAIN_SEGMENTS), { maxLength: 4 }),
    )
    .map(([prefix, s]) => prefix + s.join('/')),
);

/** Glob segments covering the model's cases: wildcards, braces, classes, extglobs, trailing "**". */
const GLOB_SEGMENTS = [
  'a',
  'b',
  'ab',
  'docs',
  '.env',
  'x.md',
  '*',
  '**',
  '*.md',
  'a*',
  '*a',
  '?',
  'a?',
  '?*',
  '*secret*',
  '.*',
  '{a,b}',
  '{a*,b}',
  '{*,a}',
  '{a,b/c}',
  '[ab]',
  '[a-c]*',
  '[^a]',
  '@(a|b)',
  'a+b',
  '{a,**}',
  '*{a,b}',
  '{x,y}*',
  'a*b',
  '*.*',
  '{a,}b',
  'a{b,c}d',
  '[0-9]',
  '{a,*}{b,*}',
  '[ab]+',
  '{a,b}+',
  '(a)',
  '"a"',
  '*(a|b)',
  '+(a)',
  '?(a)',
  'a.b',
  '.leviathan',
  'backlog.yaml',
];
const globArb = fc
  .array(fc.constantFrom(...GLOB_SEGMENTS), { minLength: 1, maxLength: 4 })
  .map((s) => s.join('/'))
  .filter((g) => validateGlob(g) === null);

const FILL = ['', 'a', 'b', 'x.md', 'secret', '.env', 'ab', 'docs', '.'];

/** A concrete path a glob probably matches: pick a brace alternative, fill each wildcard from FILL. */
function instantiate(glob: string, rand: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  let s = glob;
  for (let k = 0; k < 10 && /\{[^{}]*\}/.test(s); k++) {
    s = s.replace(/\{([^{}]*)\}/, (_m, body: string) => pick(body.split(',')));
  }
  return s
    .split('/')
    .map((seg) =>
      seg === '**'
        ? Array.from({ length: Math.floor(rand() * 3) }, () => pick(FILL.slice(1, 8))).join('/')
        : seg
            .replace(/\[\^?([^\]])[^\]]*\]/g, (_m, c: string) => c)
            .replace(/\*/g, () => pick(FILL))
            .replace(/\?/g, () => pick(['x', 'a', '.'])),
    )
    .filter((x) => x !== '')
    .join('/');
}

const rng = (seed: number) => {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
};

// --- properties ------------------------------------------------------------------------------------------

describe('normalizePath (property)', () => {
  it('never accepts "..", a leading "/", a backslash, NUL or an empty segment; its output is a fixed point', () => {
    fc.assert(
      fc.property(pathLike, (input) => {
        const r = normalizePath(input);
        const segments = input.split('/');
        if (
          segments.includes('..') ||
          input.startsWith('/') ||
          input.includes('\\') ||
          input.includes('\0')
        ) {
          expect(r.ok).toBe(false);
        }
        if (!r.ok) return;
        const out = r.path.split('/');
        expect(out).not.toContain('..');
        expect(out).not.toContain('.');
        expect(out).not.toContain('');
        expect(r.path).not.toMatch(/^[A-Za-z]:|\\|[\u0000-\u001f]/);
        expect(normalizePath(r.path)).toEqual(r);
      }),
      RUNS,
    );
  });
});

describe('validateGlob (property)', () => {
  it('an accepted glob has no unsafe text and compiles', () => {
    fc.assert(
      fc.property(fc.oneof(pathLike, globArb), (glob) => {
        if (validateGlob(glob) !== null) return;
        expect(glob.split('/')).not.toContain('..');
        expect(glob).not.toMatch(/^\/|^!|^[A-Za-z]:|\\|\0/);
        expect(() => picomatch.makeRe(glob, { dot: true })).not.toThrow();
      }),
      RUNS,
    );
  });
});

describe('checkChangedPath (property)', () => {
  const scopeArb = fc.record({
    allowed_paths: fc.oneof(
      { arbitrary: fc.constant(['**']), weight: 2 },
      { arbitrary: fc.array(globArb, { minLength: 1, maxLength: 3 }), weight: 1 },
    ),
    protected_paths: fc.oneof(
      fc.constant([...DEFAULT_PROTECTED_PATHS]),
      fc.constant(['.github/**']),
      fc.array(globArb, { maxLength: 3 }),
    ),
  });

  it('whatever the input, an accepted path normalises, matches the task and the fence, and no protected glob', () => {
    // The path is arbitrary text, or (to get acceptances) made from the task's first glob, maybe mangled.
    const prefix = fc.constantFrom('', '', '', './', 'docs/../', 'docs//', '/', 'C:/', '.\\');
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.array(globArb, { minLength: 1, maxLength: 2 }),
        scopeArb,
        fc.option(pathLike, { freq: 2 }), // null (use the task's glob) half of the time
        prefix,
        fc.integer(),
        (task, scope, text, pre, seed) => {
          const path = text ?? pre + instantiate(task[0]!, rng(seed));
          if (checkChangedPath(path, task, scope) !== null) return;
          accepted++;
          const n = normalizePath(path);
          expect(n.ok).toBe(true);
          if (!n.ok) return;
          expect(allowAny(n.path, task)).toBe(true);
          expect(allowAny(n.path, scope.allowed_paths)).toBe(true);
          expect(pmAny(n.path, scope.protected_paths)).toBe(false);
          if (n.path === BACKLOG_PATH) expect(task).toContain(BACKLOG_PATH);
        },
      ),
      RUNS,
    );
    expect(accepted).toBeGreaterThan(30); // the property is not vacuous
  });
});

describe('taskScope (property): soundness', () => {
  it('in scope ⇒ every path a task glob matches is in the fence and matches no anchored protected glob', () => {
    const fenceArb = fc.oneof(
      fc.array(globArb, { minLength: 1, maxLength: 3 }),
      fc.constant(['**']),
      globArb.map((g) => [`${g.split('/')[0]}/**`]),
    );
    let nonVacuous = 0;
    fc.assert(
      fc.property(
        fc.array(globArb, { minLength: 1, maxLength: 2 }),
        fenceArb,
        fc.array(
          fc.oneof(
            globArb,
            globArb.map((g) => `**/${g.split('/').pop()}`),
          ),
          { maxLength: 3 },
        ),
        fc.integer(),
        (task, fence, prot, seed) => {
          const scope = { allowed_paths: fence, protected_paths: prot };
          if (!taskScope(task, scope).inScope) return;
          const all = [...ALWAYS_PROTECTED, ...prot, ...(task.includes(BACKLOG_PATH) ? [] : [BACKLOG_PATH])];
          const rand = rng(seed);
          for (const glob of task) {
            // Floating bans (`**` + `/…`) are enforced per changed file, so a wildcard task may reach them.
            const literal = !/[*?[\]{}()!+@]/.test(glob);
            const protectedGlobs = literal ? all : all.filter((p) => !isFloatingGlob(p));
            for (let k = 0; k < 20; k++) {
              const n = normalizePath(instantiate(glob, rand));
              if (!n.ok || !allow(glob, n.path)) continue;
              nonVacuous++;
              expect({ path: n.path, inFence: allowAny(n.path, fence) }).toEqual({
                path: n.path,
                inFence: true,
              });
              expect({ path: n.path, hits: protectedGlobs.filter((p) => pm(p, n.path)) }).toEqual({
                path: n.path,
                hits: [],
              });
            }
          }
        },
      ),
      RUNS,
    );
    expect(nonVacuous).toBeGreaterThan(1000);
  });
});

describe('the glob model agrees with picomatch (differential)', () => {
  /** OVER ⊇ picomatch ⊇ UNDER on a normalised path; a literal glob matches exactly itself. */
  function agree(glob: string, path: string): void {
    const m = _model.modelOf(glob);
    expect(m).not.toBeNull();
    if (!m) return;
    const n = normalizePath(path);
    if (!n.ok || /[*?]/.test(n.path)) return; // wildcard characters would be read as wildcards by the model
    const segments = n.path.split('/');
    const matched = pm(glob, n.path);
    const over = m.over.some((alt) => _model.intersects(alt, segments));
    const under = m.under.some((alt) => _model.contains(alt, segments));
    expect({ glob, path: n.path, matched, over: over || !matched, under: !under || matched }).toEqual({
      glob,
      path: n.path,
      matched,
      over: true,
      under: true,
    });
    if (m.literal) expect(matched).toBe(n.path === glob);
  }

  it('on globs built from segments, with paths instantiated from them', () => {
    fc.assert(
      fc.property(globArb, fc.integer(), (glob, seed) => {
        const rand = rng(seed);
        for (let k = 0; k < 10; k++) agree(glob, instantiate(glob, rand));
      }),
      RUNS,
    );
  });

  it('on globs made of arbitrary glob characters', () => {
    const chars = 'ab.*?[]{}(),|!@+/^-:$"\'09#~'.split('');
    const text = (max: number) => fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: max });
    fc.assert(
      fc.property(
        text(12).map((c) => c.join('')),
        fc.array(
          text(12).map((c) => c.join('').replace(/[*?]/g, 'a')),
          { maxLength: 6 },
        ),
        (glob, paths) => {
          if (validateGlob(glob) !== null) return;
          const variants = [
            glob.replace(/[*?]/g, 'a'),
            glob.replace(/[*?]/g, ''),
            glob.replace(/\*\*/g, 'a/b'),
          ];
          for (const p of [...paths, ...variants]) agree(glob, p);
        },
      ),
      RUNS,
    );
  });

  it('segment intersection is symmetric and finds a shared literal', () => {
    const seg = fc.stringMatching(/^[ab.*?]{1,6}$/);
    fc.assert(
      fc.property(seg, seg, (a, b) => {
        expect(_model.segmentsIntersect(a, b)).toBe(_model.segmentsIntersect(b, a));
        // A literal segment (not "." or "..", which no normalised path holds) intersects b iff b matches it, for
        // every b validateGlob accepts (it refuses forms picomatch reads surprisingly, such as `***`).
        if (!/[*?]/.test(a) && a !== '.' && a !== '..' && validateGlob(b) === null) {
          expect(_model.segmentsIntersect(a, b)).toBe(pm(b, a));
        }
      }),
      RUNS,
    );
  });
});
