import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { defaultConfig } from '../../src/core/config.js';
import type { ChangedEntry } from '../../src/executor/changes.js';
import {
  checkDiff,
  type DiffEntry,
  type DiffGuardOptions,
  REPORT_MAX_ENTRIES,
  renderGuardReport,
  resolveLinkTarget,
} from '../../src/executor/diff-guard.js';

const scope = defaultConfig().scope; // fence: .leviathan/**, docs/**; the default protected paths
const options: DiffGuardOptions = { taskGlobs: ['docs/**'], scope, maxFiles: 5, maxBytes: 1000 };

const add = (path: string, size = 10, mode = '100644'): DiffEntry => ({
  path,
  status: 'A',
  oldMode: '000000',
  mode,
  size,
});
const mod = (path: string, size = 10): DiffEntry => ({
  path,
  status: 'M',
  oldMode: '100644',
  mode: '100644',
  size,
});
const del = (path: string): DiffEntry => ({ path, status: 'D', oldMode: '100644', mode: '000000', size: 0 });
const link = (path: string, linkTarget: string | undefined, status: 'A' | 'T' = 'A'): DiffEntry => ({
  path,
  status,
  oldMode: status === 'A' ? '000000' : '100644',
  mode: '120000',
  size: linkTarget?.length ?? 0,
  ...(linkTarget === undefined ? {} : { linkTarget }),
});

function rejected(changes: DiffEntry[], opts: DiffGuardOptions = options) {
  const result = checkDiff(changes, opts);
  if (result.ok) throw new Error(`expected a rejection of ${JSON.stringify(changes)}`);
  return result;
}

describe('checkDiff: accepted changes', () => {
  it('accepts additions, modifications and deletions inside the task globs, with a full report', () => {
    const result = checkDiff(
      [add('docs/guide.md', 100), mod('docs/readme.md', 50), del('docs/old.md')],
      options,
    );
    expect(result.ok).toBe(true);
    expect(result.report).toMatchObject({
      files: 3,
      bytes: 150,
      added: 1,
      modified: 1,
      deleted: 1,
      omitted: 0,
    });
    expect(result.report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['changes present', true],
      ['paths in scope', true],
      ['symlinks safe', true],
      ['files changed', true],
      ['diff size', true],
    ]);
    expect(result.report.entries[2]).toEqual({ path: 'docs/old.md', status: 'D', kind: 'deleted', bytes: 0 });
  });

  it('accepts exactly the limits', () => {
    const five = ['a', 'b', 'c', 'd', 'e'].map((n) => add(`docs/${n}.md`, 200));
    expect(checkDiff(five, options).ok).toBe(true);
  });

  it('accepts a relative symlink that stays inside the task globs', () => {
    const result = checkDiff(
      [link('docs/a/link', '../b/target.md'), link('docs/here', './guide.md')],
      options,
    );
    expect(result.ok).toBe(true);
    expect(result.report.entries.map((e) => e.kind)).toEqual(['symlink', 'symlink']);
  });

  it('accepts a binary file and an executable-bit change inside the globs', () => {
    const chmod: DiffEntry = {
      path: 'docs/tool.sh',
      status: 'M',
      oldMode: '100644',
      mode: '100755',
      size: 8,
    };
    const result = checkDiff([add('docs/logo.png', 900), chmod], options);
    expect(result.ok).toBe(true);
    expect(result.report.entries.map((e) => e.kind)).toEqual(['file', 'executable']);
  });

  it('accepts names with spaces and unicode, but not control characters like a newline', () => {
    expect(
      checkDiff([add('docs/with space.md'), add('docs/日本語 ü.md'), add('docs/"quoted".md')], options).ok,
    ).toBe(true);
    // Fail closed: a newline in a name could forge lines in logs and in the PR body.
    const result = rejected([add('docs/new\nline.md'), add('docs/tab\there.md')]);
    expect(result.reason).toBe('scope_violation');
    expect(result.violations).toHaveLength(2);
  });

  it('takes entries from collectChanges as they are', () => {
    const entry: ChangedEntry = {
      path: 'docs/x.md',
      status: 'A',
      oldMode: '000000',
      mode: '100644',
      oid: 'ab',
      size: 3,
    };
    expect(checkDiff([entry], options).ok).toBe(true);
  });
});

describe('checkDiff: attempts to break out', () => {
  it('rejects an empty diff as no_changes', () => {
    const result = rejected([]);
    expect(result.reason).toBe('no_changes');
    expect(result.report.checks[0]).toEqual({
      name: 'changes present',
      ok: false,
      detail: 'the attempt changed nothing',
    });
  });

  it('rejects a write to .github/workflows, even when the task globs include it', () => {
    expect(rejected([add('docs/ok.md'), add('.github/workflows/x.yml')]).reason).toBe('scope_violation');
    const greedy = { ...options, taskGlobs: ['docs/**', '.github/**', '**'] };
    const result = rejected([add('.github/workflows/x.yml')], greedy);
    expect(result.reason).toBe('scope_violation');
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]).toMatch(/^"\.github\/workflows\/x\.yml": /);
  });

  it('rejects paths that climb out, are absolute, or use backslashes, NUL or drive letters', () => {
    for (const path of [
      '../outside',
      'docs/../../outside',
      '/etc/passwd',
      'docs\\..\\x',
      'docs/a\0b',
      'C:/docs/x',
      'docs//x',
    ]) {
      expect(rejected([add(path)]).reason).toBe('scope_violation');
    }
  });

  it('rejects a path that was not valid UTF-8, or is not spelled as git spells paths', () => {
    expect(rejected([add('docs/\uFFFD.md')]).violations[0]).toMatch(/UTF-8/);
    expect(rejected([add('./docs/x.md')]).violations[0]).toMatch(/canonical/);
    expect(rejected([add('docs/./x.md')]).violations[0]).toMatch(/canonical/);
  });

  it('rejects protected files inside the allowed globs', () => {
    for (const path of [
      'docs/.env',
      'docs/.env.production',
      'docs/sub/server.pem',
      'docs/id.key',
      'docs/my-secret.md',
      'docs/credentials.json',
    ]) {
      expect(rejected([add(path)]).reason).toBe('scope_violation');
    }
  });

  it('rejects a change to the config, even for a task whose globs cover .leviathan/', () => {
    expect(
      rejected([mod('.leviathan/config.yaml')], { ...options, taskGlobs: ['.leviathan/**'] }).reason,
    ).toBe('scope_violation');
  });

  it('allows the backlog only to a task that names it', () => {
    expect(rejected([mod('.leviathan/backlog.yaml')]).reason).toBe('scope_violation');
    expect(
      checkDiff([mod('.leviathan/backlog.yaml')], { ...options, taskGlobs: ['.leviathan/backlog.yaml'] }).ok,
    ).toBe(true);
  });

  it('rejects a path inside the fence but outside the task globs', () => {
    expect(rejected([add('docs/other.md')], { ...options, taskGlobs: ['docs/guide/**'] }).reason).toBe(
      'scope_violation',
    );
  });

  it('rejects deleting a protected file', () => {
    const result = rejected([del('.github/workflows/ci.yml')]);
    expect(result.reason).toBe('scope_violation');
    expect(result.report.checks.find((c) => c.name === 'paths in scope')?.ok).toBe(false);
  });

  it('rejects renaming a protected file into docs (deletion side)', () => {
    const result = rejected([del('.github/workflows/ci.yml'), add('docs/ci.yml')]);
    expect(result.violations).toEqual([expect.stringMatching(/^"\.github\/workflows\/ci\.yml"/)]);
  });

  it('rejects a symlink from docs into .github', () => {
    const result = rejected([link('docs/link', '../.github/workflows/ci.yml')]);
    expect(result.reason).toBe('scope_violation');
    expect(result.violations[0]).toMatch(/docs\/link.*\.github\/workflows\/ci\.yml/);
    expect(result.report.checks.find((c) => c.name === 'symlinks safe')?.ok).toBe(false);
  });

  it('rejects symlinks with absolute targets or that leave the repository', () => {
    for (const target of [
      '/etc/passwd',
      '/work/docs/x',
      'C:/x',
      '../../outside',
      '../../../../etc/shadow',
      '..',
      '../',
    ]) {
      expect(rejected([link('docs/link', target)]).reason).toBe('scope_violation');
    }
  });

  it('rejects symlinks to the fence outside the task globs, to protected files, or with odd targets', () => {
    const narrow = { ...options, taskGlobs: ['docs/guide/**'] };
    expect(rejected([link('docs/guide/l', '../other.md')], narrow).reason).toBe('scope_violation');
    expect(rejected([link('docs/l', '.env')]).reason).toBe('scope_violation');
    expect(rejected([link('docs/l', '../.git/config')]).reason).toBe('scope_violation');
    expect(rejected([link('docs/l', '')]).reason).toBe('scope_violation');
    expect(rejected([link('docs/l', 'a\\..\\..\\x')]).reason).toBe('scope_violation');
    expect(rejected([link('docs/l', 'x\uFFFD.md')]).reason).toBe('scope_violation');
    expect(rejected([link('docs/l', undefined)]).violations[0]).toMatch(/target unknown/);
  });

  it('checks a file turned into a symlink like a new symlink', () => {
    expect(rejected([link('docs/readme.md', '/etc/passwd', 'T')]).reason).toBe('scope_violation');
  });

  it('rejects a submodule', () => {
    expect(rejected([add('docs/vendor', 0, '160000')]).violations[0]).toMatch(/submodule/);
  });

  it('rejects an executable-bit change on a protected file', () => {
    const chmod: DiffEntry = {
      path: '.github/run.sh',
      status: 'M',
      oldMode: '100644',
      mode: '100755',
      size: 3,
    };
    expect(rejected([chmod]).reason).toBe('scope_violation');
  });

  it('rejects one file over the file limit (deletions count)', () => {
    const six = [...['a', 'b', 'c', 'd', 'e'].map((n) => add(`docs/${n}.md`, 1)), del('docs/f.md')];
    const result = rejected(six);
    expect(result.reason).toBe('limit_exceeded');
    expect(result.violations).toEqual(['6 files changed, limit 5']);
    expect(result.report.checks.find((c) => c.name === 'files changed')).toEqual({
      name: 'files changed',
      ok: false,
      detail: '6 of max 5',
    });
  });

  it('rejects one byte over the size limit', () => {
    const result = rejected([add('docs/a.md', 600), mod('docs/b.md', 401)]);
    expect(result.reason).toBe('limit_exceeded');
    expect(result.violations).toEqual(['1001 bytes of new content, limit 1000']);
  });

  it('reports scope violations before limits, listing both', () => {
    const result = rejected([add('docs/big.md', 5000), add('.github/x.yml')]);
    expect(result.reason).toBe('scope_violation');
    expect(result.violations).toHaveLength(2);
  });

  it('caps the violations and the report entries of a runaway diff', () => {
    const many = Array.from({ length: 300 }, (_, i) => add(`.github/f${i}.yml`, 1));
    const result = rejected(many, { ...options, maxFiles: 1000 });
    expect(result.violations).toHaveLength(51);
    expect(result.violations[50]).toBe('… and 250 more');
    expect(result.report.entries).toHaveLength(REPORT_MAX_ENTRIES);
    expect(result.report.omitted).toBe(100);
    expect(result.report.checks[1]?.detail).toMatch(/and 297 more$/);
  });

  it('never accepts a path outside the task globs or a symlink leaving them (property)', () => {
    const segment = fc.constantFrom(
      'docs',
      '.github',
      'workflows',
      '..',
      '.',
      '',
      'x.md',
      '.env',
      'guide',
      'a b',
    );
    const path = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
    const taskGlobs = ['docs/guide/**'];
    fc.assert(
      fc.property(path, path, fc.boolean(), (p, target, asLink) => {
        const entry = asLink ? link(p, target) : add(p);
        const result = checkDiff([entry], { ...options, taskGlobs });
        if (!result.ok) return;
        expect(p === 'docs/guide' || p.startsWith('docs/guide/')).toBe(true);
        expect(p.split('/')).not.toContain('..');
        if (asLink) {
          const resolved = resolveLinkTarget(p, target);
          expect(
            resolved.ok && (resolved.path === 'docs/guide' || resolved.path.startsWith('docs/guide/')),
          ).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('resolveLinkTarget', () => {
  it('resolves against the directory of the link', () => {
    expect(resolveLinkTarget('docs/a/l', '../b.md')).toEqual({ ok: true, path: 'docs/b.md' });
    expect(resolveLinkTarget('docs/l', './x//y/')).toEqual({ ok: true, path: 'docs/x/y' });
    expect(resolveLinkTarget('l', 'docs/x')).toEqual({ ok: true, path: 'docs/x' });
    expect(resolveLinkTarget('docs/l', '../.github/workflows/ci.yml')).toEqual({
      ok: true,
      path: '.github/workflows/ci.yml',
    });
  });

  it('refuses absolute, escaping, root and empty targets', () => {
    expect(resolveLinkTarget('docs/l', '/etc/passwd').ok).toBe(false);
    expect(resolveLinkTarget('docs/l', '../../x').ok).toBe(false);
    expect(resolveLinkTarget('docs/l', '..').ok).toBe(false);
    expect(resolveLinkTarget('docs/l', '').ok).toBe(false);
  });
});

describe('renderGuardReport', () => {
  it('renders the checks and the files as Markdown tables, escaping cells', () => {
    const result = checkDiff([add('docs/a|b.md', 3), link('docs/l', '../.github/x')], options);
    const md = renderGuardReport(result.report);
    expect(md).toContain('| paths in scope | pass |');
    expect(md).toContain('| symlinks safe | FAIL |');
    expect(md).toContain('| A | `docs/a\\|b.md` | file | 3 |');
    expect(md).toContain('2 files (2 added, 0 modified, 0 deleted)');
  });
});

describe('the candidate tree as data (issue 7 §2)', () => {
  const fail = (changes: DiffEntry[], extra: Partial<DiffGuardOptions> = {}) => {
    const r = checkDiff(changes, { ...options, ...extra });
    return r.ok ? 'ok' : `${r.reason}: ${r.violations.join('; ')}`;
  };

  it('resolves a link through the tree’s own links, as the OS does', () => {
    const links = new Map([
      ['docs/d', '.'],
      ['docs/e', 'd/../.github'],
    ]);
    // Lexically docs/e lands on docs/.github; on disk docs/d is docs, so it is .github.
    expect(fail([link('docs/d', '.'), link('docs/e', 'd/../.github')], { links })).toMatch(
      /^scope_violation: .*"docs\/e": symlink to "\.github"/,
    );
    expect(resolveLinkTarget('docs/x', 'd/../../etc/passwd', links)).toEqual({
      ok: false,
      reason: 'symlink target "d/../../etc/passwd" leaves the repository',
    });
    const loop = new Map([
      ['docs/a', 'b'],
      ['docs/b', 'a'],
    ]);
    expect(resolveLinkTarget('docs/c', 'a', loop)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/loops/),
    });
    expect(fail([link('docs/ok', 'index.md')], { links: new Map([['docs/ok', 'index.md']]) })).toBe('ok');
  });

  it('refuses what git refuses and what changes git’s behaviour, never crashing', () => {
    expect(fail([add('docs/.GIT/config')])).toMatch(/^scope_violation: .*git refuses this path/);
    expect(fail([add('docs/.git./x')])).toMatch(/git refuses this path/);
    expect(fail([add('docs/.gitmodules')])).toMatch(/\.gitmodules may be changed only/);
    expect(fail([add('docs/.gitattributes')])).toMatch(/\.gitattributes may be changed only/);
    expect(fail([add('docs/.gitattributes')], { taskGlobs: ['docs/**', 'docs/.gitattributes'] })).toBe('ok');
    expect(fail([{ ...add('docs/fifo'), unsupported: 'not a regular file' }])).toMatch(/not a regular file/);
  });

  it('counts what Leviathan adds to the push in the caps', () => {
    expect(fail([add('docs/a', 900)], { extra: { files: 1, bytes: 200 } })).toMatch(
      /^limit_exceeded: .*1100 bytes/,
    );
    expect(fail([], { extra: { files: 1, bytes: 1 } })).toMatch(/^no_changes/);
  });
});
