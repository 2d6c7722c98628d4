import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DEFAULT_PROTECTED_PATHS } from '../../src/core/config.js';
import { isValidPlainGlob, PLAIN_GLOB, plainGlobError } from '../../src/core/glob-plain.js';
import { BACKLOG_PATH, type PathScope } from '../../src/core/protected-paths.js';
import { _scope } from '../../src/core/task-scope.js';

const RUNS = { numRuns: 2000 };

describe('plainGlobError: the general glob check on plain globs', () => {
  const plain = fc
    .array(fc.constantFrom('a', 'b', '.', '..', '*', '**', '/', '-', '_', '0', 'x.md', '***'), {
      minLength: 1,
      maxLength: 10,
    })
    .map((parts) => parts.join(''));

  it('gives the same verdict and message as the general check', () => {
    fc.assert(
      fc.property(plain, (glob) => {
        expect(PLAIN_GLOB.test(glob)).toBe(true);
        expect(plainGlobError(glob)).toBe(_scope.generalGlobError(glob));
        expect(isValidPlainGlob(glob)).toBe(plainGlobError(glob) === null);
      }),
      RUNS,
    );
  });

  it.each([
    ['docs/**', null],
    ['docs/guide/page-1.md', null],
    ['/docs/a.md', 'absolute'],
    ['docs//a.md', 'empty path segments'],
    ['a//../b', '".." segments'],
    ['./docs/**', '"." segments'],
    ['docs/**.md', '"**" must be a whole path segment'],
    ['docs/', 'empty path segments'],
  ])('%s', (glob, why) => {
    const got = plainGlobError(glob);
    if (why === null) expect(got).toBeNull();
    else expect(got).toContain(why);
    expect(got).toBe(_scope.generalGlobError(glob));
  });

  it('refuses a glob over the length limit', () => {
    expect(plainGlobError(`${'a/'.repeat(500)}b`)).toBe('longer than 1000 characters');
  });
});

describe('quickScope: the scope decision without models', () => {
  const segment = fc.constantFrom(
    'docs',
    'a',
    'b',
    '.github',
    '.leviathan',
    'guide',
    'x.md',
    '.env',
    'key.pem',
  );
  const dir = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'));
  const taskGlob = fc.oneof(
    dir,
    dir.map((d) => `${d}/**`),
    dir.map((d) => `${d}/*.md`),
    fc.constant(BACKLOG_PATH),
    fc.constant('.leviathan/config.yaml'),
    fc.constant('docs//a'),
    fc.constant('**'),
  );
  const fenceGlob = fc.oneof(
    dir.map((d) => `${d}/**`),
    dir,
    dir.map((d) => `${d}/*`),
    fc.constant('**'),
  );
  const protectedGlob = fc.oneof(
    dir,
    dir.map((d) => `${d}/**`),
    dir.map((d) => `${d}/*`),
    fc.constantFrom(...DEFAULT_PROTECTED_PATHS),
    fc.constant(BACKLOG_PATH),
  );
  const scope: fc.Arbitrary<PathScope> = fc.record({
    allowed_paths: fc.array(fenceGlob, { minLength: 1, maxLength: 3 }),
    protected_paths: fc.oneof(
      fc.array(protectedGlob, { maxLength: 4 }),
      fc.constant([...DEFAULT_PROTECTED_PATHS] as string[]),
    ),
  });

  it('answers only what decideScope answers', () => {
    let answered = 0;
    fc.assert(
      fc.property(fc.array(taskGlob, { maxLength: 3 }), scope, (globs, s) => {
        const quick = _scope.quickScope(globs, s);
        if (quick === undefined) return;
        answered += 1;
        expect(quick).toEqual(_scope.decideScope(globs, s));
      }),
      { numRuns: 3000 },
    );
    // The shortcut must be taken often enough to be worth having (and to be tested here).
    expect(answered).toBeGreaterThan(500);
  });

  it('takes the shortcut for the commonest backlog shape', () => {
    const s: PathScope = { allowed_paths: ['docs/**'], protected_paths: [...DEFAULT_PROTECTED_PATHS] };
    expect(_scope.quickScope(['docs/guide/page-1.md', 'docs/guide/images/1/**'], s)).toEqual({
      inScope: true,
    });
    expect(_scope.quickScope(['docs/.env.md'], s)).toEqual({
      inScope: false,
      path: 'docs/.env.md',
      why: 'can reach protected path **/.env*',
    });
    expect(_scope.quickScope(['src/a.ts'], s)).toEqual({
      inScope: false,
      path: 'src/a.ts',
      why: 'not inside scope.allowed_paths',
    });
  });
});
