import { describe, expect, it } from '@jest/globals';
import { checkChangedPath } from '../../src/core/changed-path.js';
import { DEFAULT_PROTECTED_PATHS } from '../../src/core/config.js';
import { matchesAny } from '../../src/core/glob-match.js';
import { normalizePath, validateGlob } from '../../src/core/paths.js';
import { BACKLOG_PATH } from '../../src/core/protected-paths.js';
import { taskScope } from '../../src/core/task-scope.js';

const DEFAULT_SCOPE = {
  allowed_paths: ['.leviathan/**', 'docs/**'],
  protected_paths: [...DEFAULT_PROTECTED_PATHS],
};
const scope = (allowed: string[], prot: string[] = []) => ({ allowed_paths: allowed, protected_paths: prot });

describe('normalizePath', () => {
  it.each([
    ['docs/a.md', 'docs/a.md'],
    ['./docs/a.md', 'docs/a.md'],
    ['docs/./a.md', 'docs/a.md'],
    ['././docs/a.md', 'docs/a.md'],
    ['docs/.', 'docs'],
    ['docs/.env', 'docs/.env'],
    ['.github/workflows/ci.yml', '.github/workflows/ci.yml'],
    ['docs/a/b/c.md', 'docs/a/b/c.md'],
    ['docs/.../x', 'docs/.../x'],
    ['docs/a..b.md', 'docs/a..b.md'],
    ['docs/a:b.md', 'docs/a:b.md'],
    ['docs/my file.md', 'docs/my file.md'],
    ['docs/ünï😀.md', 'docs/ünï😀.md'],
  ])('accepts %j as %j', (input, out) => {
    expect(normalizePath(input)).toEqual({ ok: true, path: out });
  });

  it.each([
    ['', /empty/],
    ['.', /root/],
    ['./.', /root/],
    ['..', /"\.\."/],
    ['../x', /"\.\."/],
    ['docs/..', /"\.\."/],
    ['docs/../.github/x', /"\.\."/],
    ['docs/../docs/a.md', /"\.\."/], // a guardrail refuses rather than resolves
    ['/etc/passwd', /absolute/],
    ['docs\\x', /backslash/],
    ['..\\x', /backslash/],
    ['C:/x', /drive/],
    ['c:x', /drive/],
    ['./C:/x', /drive/],
    ['docs//a', /empty path segment/],
    ['docs/', /empty path segment/],
    ['docs/a\0.md', /NUL/],
    ['docs/a\n.md', /control/],
    ['docs/a\u007f.md', /control/],
    ['docs/a\u0085.md', /control/],
  ])('rejects %j', (input, why) => {
    const r = normalizePath(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(why);
  });

  it('is idempotent', () => {
    for (const p of ['./docs/./a.md', 'docs/.', '.env', 'a/b/./c']) {
      const once = normalizePath(p);
      expect(once.ok).toBe(true);
      if (once.ok) expect(normalizePath(once.path)).toEqual(once);
    }
  });
});

describe('validateGlob', () => {
  it.each([
    'docs/**',
    '**/*.pem',
    'docs/*.md',
    '**',
    'docs/**/*.{md,txt}',
    '{docs,src}/**',
    BACKLOG_PATH,
    'src/[a-z]*.ts',
    'docs/@(a|b).md',
    'docs/a+b.md',
    ...DEFAULT_PROTECTED_PATHS,
  ])('accepts %j', (glob) => {
    expect(validateGlob(glob)).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['!docs/**', /negation/],
    ['docs/!(a).md', /negation/],
    ['../x', /"\.\."/],
    ['docs/../x', /"\.\."/],
    ['{..,docs}/x', /"\.\."/],
    ['/docs/**', /absolute/],
    ['docs\\**', /backslash/],
    ['C:/x', /drive/],
    ['{C:,docs}/x', /drive/],
    ['docs//a', /empty path segment/],
    ['docs/', /empty path segment/],
    ['a/{,b}', /empty path segment/],
    ['./docs/**', /"\."/],
    ['docs/{a,b', /unclosed "\{"/],
    ['docs/[a', /unclosed "\["/],
    ['docs/a]', /unbalanced "\]"/],
    ['docs/(a', /unclosed "\("/],
    ['docs/{a,[b}]', /unbalanced/],
    ['docs/a**', /whole path segment/],
    ['**.md', /whole path segment/],
    ['docs/**b', /whole path segment/],
    ['docs/{1..3}.md', /range/],
    ['docs/a|b', /\|/],
    ['docs/[[:alpha:]].md', /POSIX/],
    ['docs/[].md', /empty bracket/],
    ['docs/a\0', /NUL/],
    ['docs/a\nb', /control/],
    ['x'.repeat(1001), /longer/],
  ])('rejects %j', (glob, why) => {
    expect(validateGlob(glob)).toMatch(why);
  });
});

describe('matchesAny', () => {
  it.each([
    ['docs/a.md', ['docs/*'], true],
    ['docs/a/b', ['docs/*'], false], // "*" does not cross "/"
    ['docs/a/b/c.md', ['docs/**'], true], // "**" does
    ['docs', ['docs/**'], false], // an allow-list "x/**" grants what is under x/, not a file named x
    ['docs', ['docs/*/**'], false],
    ['docs/a', ['docs/*/**'], false],
    ['docs/a/b', ['docs/*/**'], true],
    ['docs/a', ['docs/**/**'], true],
    ['docs/a.md', ['*.md'], false],
    ['docs/a.md', ['**/*.md'], true],
    ['a.md', ['**/*.md'], true],
    ['docs/.env', ['docs/*'], true], // dotfiles are ordinary files
    ['docs/.env', ['**/.env*'], true],
    ['docs/a.PEM', ['**/*.pem'], false], // case-sensitive
    ['docs/a.pem', ['**/*.pem'], true],
    ['docs/a.txt', ['docs/*.{md,txt}'], true],
    ['a.', ['*.*'], true], // picomatch's fastpath would say false; we match with its parser
    ['./docs/a.md', ['docs/*'], true], // the path is normalised first
    ['docs/../docs/a.md', ['docs/**'], false], // an invalid path matches nothing
    ['docs/a.md', ['!src/**'], false], // a malformed glob matches nothing
    ['docs/a.md', [], false],
  ])('%j against %j is %j', (path, globs, expected) => {
    expect(matchesAny(path, globs)).toBe(expected);
  });
});

describe('taskScope', () => {
  it('a literal path inside the default fence is in scope', () => {
    expect(taskScope(['docs/guide.md'], DEFAULT_SCOPE)).toEqual({ inScope: true });
  });

  it('a glob outside the fence is out of scope', () => {
    expect(taskScope(['src/**'], DEFAULT_SCOPE)).toEqual({
      inScope: false,
      path: 'src/**',
      why: 'not inside scope.allowed_paths',
    });
  });

  it('docs/** can reach docs/secret* (docs/secret.md matches both)', () => {
    expect(taskScope(['docs/**'], scope(['docs/**'], ['docs/secret*']))).toEqual({
      inScope: false,
      path: 'docs/**',
      why: 'can reach protected path docs/secret*',
    });
  });

  it('docs/*.md cannot reach **/*.pem: no path matches both', () => {
    expect(taskScope(['docs/*.md'], scope(['docs/**'], ['**/*.pem']))).toEqual({ inScope: true });
  });

  it('floating bans (**/.env*, **/*secret*) do not rule out a wildcard task; they are enforced per file', () => {
    expect(taskScope(['docs/**'], DEFAULT_SCOPE)).toEqual({ inScope: true });
    expect(taskScope(['docs/guide/*.md'], DEFAULT_SCOPE)).toEqual({ inScope: true });
    expect(checkChangedPath('docs/.env', ['docs/**'], DEFAULT_SCOPE)).toBe(
      'docs/.env is a protected path (**/.env*)',
    );
    expect(checkChangedPath('docs/guide/secret.md', ['docs/**'], DEFAULT_SCOPE)).toMatch(/protected path/);
    expect(checkChangedPath('docs/guide/a.md', ['docs/**'], DEFAULT_SCOPE)).toBeNull();
  });

  it.each(['docs/.ENV', 'docs/server.PEM', 'docs/MySecret.txt', 'docs/Credentials.json', '.GITHUB/x.yml'])(
    'protected globs match %j whatever its case',
    (path) => {
      expect(checkChangedPath(path, ['docs/**', '.GITHUB/**'], DEFAULT_SCOPE)).toMatch(/is a protected path/);
      expect(taskScope([path], DEFAULT_SCOPE)).toMatchObject({ inScope: false });
    },
  );

  it.each([
    ['docs/server.pem.', '**/*.pem'],
    ['docs/id.key ', '**/*.key'],
    ['docs/key.pem. .', '**/*.pem'],
    ['.github./workflows/x.yml', '.github/**'],
  ])('%j is protected by %s: a Windows checkout drops trailing dots and spaces', (path, glob) => {
    expect(checkChangedPath(path, ['**'], { ...DEFAULT_SCOPE, allowed_paths: ['**'] })).toBe(
      `${path} is a protected path (${glob}: it is ${path
        .split('/')
        .map((s) => s.replace(/[. ]+$/, ''))
        .join('/')} on Windows)`,
    );
  });

  it('a trailing dot alone on a harmless name stays allowed', () => {
    expect(checkChangedPath('docs/notes.', ['docs/**'], DEFAULT_SCOPE)).toBeNull();
  });

  it('a literal task path that a floating ban matches is out of scope before dispatch', () => {
    expect(taskScope(['docs/.env'], DEFAULT_SCOPE)).toMatchObject({
      why: 'can reach protected path **/.env*',
    });
    expect(taskScope(['docs/server.pem'], DEFAULT_SCOPE)).toMatchObject({ inScope: false });
  });

  it('an anchored protected glob rules out a wildcard task that can reach it (docs/** vs docs/secret*)', () => {
    expect(taskScope(['docs/**'], scope(['docs/**'], ['docs/secret*']))).toMatchObject({
      why: 'can reach protected path docs/secret*',
    });
  });

  it('.git/** and .leviathan/config.yaml stay protected even when a config drops them', () => {
    expect(taskScope(['.leviathan/config.yaml'], scope(['**'], []))).toMatchObject({ inScope: false });
    expect(checkChangedPath('.leviathan/config.yaml', ['**'], scope(['**'], []))).toMatch(/protected path/);
    expect(checkChangedPath('.git/hooks/pre-push', ['**'], scope(['**'], []))).toMatch(/protected path/);
  });

  it('matching is case-sensitive: docs/*.PEM cannot reach **/*.pem', () => {
    expect(taskScope(['docs/*.PEM'], scope(['docs/**'], ['**/*.pem']))).toEqual({ inScope: true });
  });

  it('.github/workflows/ci.yml is protected even inside a fence of **', () => {
    expect(taskScope(['.github/workflows/ci.yml'], scope(['**'], ['.github/**']))).toMatchObject({
      why: 'can reach protected path .github/**',
    });
  });

  it('.leviathan/config.yaml is protected by default', () => {
    expect(taskScope(['.leviathan/config.yaml'], DEFAULT_SCOPE)).toMatchObject({
      why: 'can reach protected path .leviathan/config.yaml',
    });
  });

  it('the backlog is in scope only when named literally', () => {
    expect(taskScope([BACKLOG_PATH], DEFAULT_SCOPE)).toEqual({ inScope: true });
    expect(taskScope(['.leviathan/back*'], scope(['.leviathan/**']))).toEqual({
      inScope: false,
      path: '.leviathan/back*',
      why: `can reach protected path ${BACKLOG_PATH} (a task may change it only by naming it in its allowed_paths)`,
    });
    expect(taskScope(['.leviathan/back*', BACKLOG_PATH], scope(['.leviathan/**']))).toEqual({
      inScope: true,
    });
  });

  it('a backlog protected by the config stays protected even when named', () => {
    expect(taskScope([BACKLOG_PATH], scope(['.leviathan/**'], ['.leviathan/**']))).toMatchObject({
      why: 'can reach protected path .leviathan/**',
    });
  });

  it('a literal protected path is checked exactly', () => {
    expect(taskScope(['docs/*.md'], scope(['docs/**'], ['docs/secret.md']))).toMatchObject({
      inScope: false,
    });
    expect(taskScope(['docs/*.txt'], scope(['docs/**'], ['docs/secret.md']))).toEqual({ inScope: true });
  });

  it('returns the first offending glob', () => {
    expect(taskScope(['docs/a.md', 'src/x.ts', 'lib/**'], DEFAULT_SCOPE)).toMatchObject({ path: 'src/x.ts' });
  });

  it('every glob must be in scope, not just one', () => {
    expect(taskScope(['docs/a.md', '.github/x'], scope(['**'], ['.github/**']))).toMatchObject({
      inScope: false,
      path: '.github/x',
    });
  });

  it('a malformed task glob is out of scope', () => {
    expect(taskScope(['docs/../x'], DEFAULT_SCOPE)).toMatchObject({
      inScope: false,
      path: 'docs/../x',
      why: expect.stringMatching(/^malformed glob: /),
    });
  });

  it('a task without globs is out of scope', () => {
    expect(taskScope([], DEFAULT_SCOPE)).toMatchObject({ inScope: false });
  });

  it('a malformed protected glob fails closed', () => {
    expect(taskScope(['docs/a.md'], scope(['docs/**'], ['!docs/secret']))).toMatchObject({
      inScope: false,
      why: expect.stringMatching(/malformed.*failing closed/),
    });
  });

  it('docs/* fits inside docs/*, docs/** does not (docs/a/b)', () => {
    expect(taskScope(['docs/*'], scope(['docs/*']))).toEqual({ inScope: true });
    expect(taskScope(['docs/**'], scope(['docs/*']))).toMatchObject({
      why: 'not inside scope.allowed_paths',
    });
  });

  it('deep globs fit inside a "**" fence', () => {
    expect(taskScope(['docs/a/b/**/*.md'], scope(['docs/**']))).toEqual({ inScope: true });
    expect(taskScope(['docs/**/*.md'], scope(['**/*.md']))).toEqual({ inScope: true });
  });

  it('each brace alternative may fit a different fence glob', () => {
    expect(taskScope(['{docs,src}/**'], scope(['docs/**', 'src/**']))).toEqual({ inScope: true });
    expect(taskScope(['{docs,lib}/**'], scope(['docs/**', 'src/**']))).toMatchObject({ inScope: false });
  });

  it('a trailing "/**" of an allow-list needs a segment: docs/a/** is inside docs/*/**, a file named docs is not inside docs/**', () => {
    expect(taskScope(['docs/a/**'], scope(['docs/*/**']))).toEqual({ inScope: true });
    expect(taskScope(['docs/a*/**'], scope(['docs/*/**']))).toEqual({ inScope: true });
    expect(taskScope(['docs/*'], scope(['docs/*/**']))).toMatchObject({ inScope: false });
    expect(taskScope(['docs'], scope(['docs/**']))).toMatchObject({
      inScope: false,
      path: 'docs',
      why: 'not inside scope.allowed_paths',
    });
  });

  it('checkChangedPath: a task allowed docs/** may not create a file named docs; protected x/** still bans x', () => {
    expect(checkChangedPath('docs', ['docs/**'], DEFAULT_SCOPE)).toBe(
      "docs is not in the task's allowed_paths",
    );
    expect(checkChangedPath('docs', ['**'], scope(['docs/**']))).toBe(
      'docs is not inside scope.allowed_paths',
    );
    expect(checkChangedPath('docs/a.md', ['docs/**'], DEFAULT_SCOPE)).toBeNull();
    expect(checkChangedPath('.github', ['**'], scope(['**'], ['.github/**']))).toMatch(/protected path/);
    expect(checkChangedPath('.git', ['**'], scope(['**'], []))).toMatch(/protected path \(\.git\/\*\*\)/);
  });

  it('a simple bracket class is read as "*"', () => {
    expect(taskScope(['docs/[ab].md'], scope(['docs/**'], ['**/*.pem']))).toEqual({ inScope: true });
    expect(taskScope(['docs/[ab].md'], scope(['docs/**'], ['docs/*secret*']))).toMatchObject({
      inScope: false,
    });
  });

  it('is conservative where the model is opaque: an extglob is read as "**"', () => {
    // No path matches both, but `@(…)` is not modelled: out of scope rather than unsure.
    expect(taskScope(['docs/@(a|b).md'], scope(['docs/**'], ['docs/*.pem']))).toMatchObject({
      inScope: false,
    });
  });
});

describe('checkChangedPath', () => {
  const task = ['docs/**'];
  it.each([
    ['docs/a.md', null],
    ['./docs/a.md', null],
    ['docs/a/b/c.md', null],
    // Protected kinds of file match whatever their case (issue 7): a .PEM is a .pem to every tool.
    ['docs/a.PEM', /protected path \(\*\*\/\*\.pem\)/],
    ['docs/.ENV', /protected path \(\*\*\/\.env\*\)/],
    ['docs/MySecret.txt', /protected path \(\*\*\/\*secret\*\)/],
    ['.GitHub/workflows/x.yml', /protected path \(\.github\/\*\*\)/],
    ['.leviathan/Backlog.yaml', /may be changed only by a task that names it/],
    ['docs/../.github/x', /^invalid path "docs\/\.\.\/\.github\/x": ".."/],
    ['docs\\x', /^invalid path .*backslash/],
    ['docs//a', /^invalid path .*empty path segment/],
    ['C:/x', /^invalid path .*drive/],
    ['/docs/a.md', /^invalid path .*absolute/],
    ['docs/.env', /^docs\/\.env is a protected path \(\*\*\/\.env\*\)$/],
    ['docs/a.pem', /protected path \(\*\*\/\*\.pem\)/],
    ['docs/my-secret.md', /protected path \(\*\*\/\*secret\*\)/],
    ['.github/workflows/ci.yml', /protected path \(\.github\/\*\*\)/],
    ['.leviathan/config.yaml', /protected path/],
    ['src/x.ts', /^src\/x\.ts is not in the task's allowed_paths$/],
    [BACKLOG_PATH, /may be changed only by a task that names it/],
  ])('%j → %p', (path, expected) => {
    const r = checkChangedPath(path, task, DEFAULT_SCOPE);
    if (expected === null) expect(r).toBeNull();
    else expect(r).toMatch(expected);
  });

  it('a path in the task but outside the fence is refused', () => {
    expect(checkChangedPath('src/x.ts', ['src/**'], DEFAULT_SCOPE)).toBe(
      'src/x.ts is not inside scope.allowed_paths',
    );
  });

  it('docs/* does not cover docs/a/b', () => {
    expect(checkChangedPath('docs/a/b', ['docs/*'], DEFAULT_SCOPE)).toMatch(
      /not in the task's allowed_paths/,
    );
  });

  it('the backlog is allowed when the task names it', () => {
    expect(checkChangedPath(BACKLOG_PATH, [BACKLOG_PATH], DEFAULT_SCOPE)).toBeNull();
    expect(checkChangedPath(BACKLOG_PATH, ['.leviathan/**'], scope(['.leviathan/**']))).toMatch(/names it/);
  });

  it('a malformed protected list fails closed', () => {
    expect(checkChangedPath('docs/a.md', task, scope(['docs/**'], ['docs/{a']))).toMatch(/failing closed/);
  });
});
