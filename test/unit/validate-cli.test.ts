import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, jest } from '@jest/globals';
import { validateRepo } from '../../src/cli/commands/validate.js';
import { type CliRun, cli } from '../helpers/cli.js';

const FIXTURES = path.join(process.cwd(), 'test/fixtures/validate');
const fixture = (name: string) => path.join(FIXTURES, name);

type Run = CliRun;

const B = '.leviathan/backlog.yaml';
const C = '.leviathan/config.yaml';

/** Each broken fixture: the file, line and column its (first) error names, and words the message must contain. */
const BROKEN: Array<[name: string, file: string, line: number, column: number, words: string]> = [
  ['yaml-syntax', B, 3, 12, 'YAML syntax error'],
  ['config-yaml-syntax', C, 3, 1, 'YAML syntax error'],
  ['duplicate-id', B, 8, 9, 'tasks[2].id: duplicate id "write-docs" (first defined at line 2)'],
  ['cycle', B, 9, 9, 'dependency cycle: a → b → a'],
  ['self-dependency', B, 4, 20, 'dependency cycle: loop → loop'],
  ['dotdot-path', B, 6, 9, 'tasks[0].allowed_paths[1]: invalid glob "../outside/**"'],
  ['absolute-path', B, 4, 21, 'invalid glob "/etc/passwd"'],
  ['unknown-key-task', B, 5, 5, 'unknown key "assignee" (remove it or check spelling; known keys: id, title'],
  ['unknown-key-config', C, 4, 3, 'unknown key "max_open_pr" (did you mean "max_open_prs"?'],
  ['wrong-type', B, 4, 12, 'tasks[0].ready: expected true or false, got "yes"'],
  ['bad-id', B, 2, 9, '"Fix_Bug" must match'],
  ['bad-priority', B, 4, 15, '"urgent" is not one of high|medium|low (use one of high|medium|low)'],
  ['unknown-dependency', B, 7, 26, 'dependency "dosc" is not a task in this backlog (did you mean "docs"?)'],
  ['max-attempts-above-config', B, 5, 19, 'max_attempts 5 is above'],
  [
    'timeout-above-config',
    B,
    5,
    22,
    "timeout_minutes 30 is above the config's limits.attempt_timeout_minutes (10)",
  ],
  ['empty-allowed-paths', B, 4, 20, 'tasks[0].allowed_paths: the list is empty'],
  ['missing-title', B, 5, 5, 'tasks[1].title: missing required key "title"'],
  ['malformed-glob', B, 4, 21, 'invalid glob'],
  ['config-bad-limit', C, 3, 17, 'limits.max_open_prs: 0 is too small (use a whole number ≥ 1)'],
  ['config-unsafe-glob', C, 4, 7, 'scope.allowed_paths[1]: invalid glob "../**"'],
  ['missing-backlog', B, 1, 1, 'file not found (copy the templates'],
];

describe('leviathan validate (in process)', () => {
  it('a valid repository prints the summary and exits 0', async () => {
    const r = await cli('validate', '--dir', fixture('valid'));
    expect(r).toEqual({ code: 0, stdout: 'ok: 4 tasks, 2 ready, 4 in scope (working tree)\n', stderr: '' });
  });

  it('--json on a valid repository prints one JSON object', async () => {
    const r = await cli('validate', '--dir', fixture('valid'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      checked: 'working_tree',
      base: null,
      ok: true,
      tasks: 4,
      ready: 2,
      in_scope: 4,
      diagnostics: [],
      warnings: [],
    });
  });

  it.each(BROKEN)('%s: exit 1 and %s:%i:%i named', async (name, file, line, column, words) => {
    const r = await cli('validate', '--dir', fixture(name));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const first = r.stderr.split('\n')[0]!;
    expect(first.startsWith(`${file}:${line}:${column}: `)).toBe(true);
    expect(first).toContain(words);
    expect(r.stderr).toMatch(/\nleviathan: \d+ errors? in \.leviathan\//);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.each(BROKEN.map((b) => b[0]))(
    '%s with --json: exit 1, ok false, the diagnostic in the object',
    async (name) => {
      const r = await cli('validate', '--dir', fixture(name), '--json');
      expect(r.code).toBe(1);
      const report = JSON.parse(r.stdout);
      const expected = BROKEN.find((b) => b[0] === name)!;
      expect(report.ok).toBe(false);
      expect(report.diagnostics[0]).toMatchObject({
        file: expected[1],
        line: expected[2],
        column: expected[3],
      });
    },
  );

  it('every broken fixture dir exists (at least 14)', () => {
    expect(BROKEN.length).toBeGreaterThanOrEqual(14);
    for (const [name] of BROKEN) expect(existsSync(path.join(fixture(name), '.leviathan'))).toBe(true);
  });

  it('the default --dir is the current directory', async () => {
    const cwd = process.cwd();
    process.chdir(fixture('valid'));
    try {
      expect((await cli('validate')).code).toBe(0);
    } finally {
      process.chdir(cwd);
    }
  });

  it('a directory that does not exist is a one-line user error', async () => {
    const r = await cli('validate', '--dir', path.join(FIXTURES, 'no-such-dir'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^leviathan: .*no-such-dir: no such directory\n$/);
  });

  it('an empty checkout (no .leviathan at all) asks for leviathan init', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'leviathan-validate-'));
    try {
      const r = await cli('validate', '--dir', dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('.leviathan/backlog.yaml:1:1: file not found (copy the templates');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unknown option is bad usage (exit 2)', async () => {
    expect((await cli('validate', '--nope')).code).toBe(2);
  });

  it('validateRepo returns the report without printing', async () => {
    const out = jest.spyOn(process.stdout, 'write');
    const err = jest.spyOn(process.stderr, 'write');
    try {
      const report = await validateRepo(fixture('config-bad-limit'));
      expect(report).toMatchObject({ ok: false, tasks: 0, ready: 0, in_scope: 0 });
      expect(report.diagnostics).toHaveLength(1);
      expect(out).not.toHaveBeenCalled();
      expect(err).not.toHaveBeenCalled();
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('a broken config does not make the backlog report limit errors of its own', async () => {
    const report = await validateRepo(fixture('config-yaml-syntax'));
    expect(report.diagnostics.every((d) => d.file === C)).toBe(true);
  });
});

const run = promisify(execFile);
const BUNDLE = path.join(process.cwd(), 'dist/cli/index.js');

async function spawnCli(...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BUNDLE, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// dist/ is committed and rebuilt by CI before the tests, so the bundle is always there to test.
describe('leviathan validate (the built bundle)', () => {
  it('the valid fixture exits 0 with the summary', async () => {
    const r = await spawnCli('validate', '--dir', fixture('valid'));
    expect(r).toEqual({ code: 0, stdout: 'ok: 4 tasks, 2 ready, 4 in scope (working tree)\n', stderr: '' });
  });

  it.each([
    ['cycle', `${B}:9:9: tasks[1].dependencies[0]: dependency cycle: a → b → a`],
    ['unknown-key-config', `${C}:4:3: limits.max_open_pr: unknown key "max_open_pr"`],
    ['yaml-syntax', `${B}:3:12: YAML syntax error`],
  ])('%s exits 1 naming the spot', async (name, prefix) => {
    const r = await spawnCli('validate', '--dir', fixture(name));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(prefix)).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--json on a broken fixture still exits 1 and prints JSON', async () => {
    const r = await spawnCli('validate', '--dir', fixture('bad-priority'), '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).diagnostics[0]).toMatchObject({
      line: 4,
      column: 15,
      path: 'tasks[0].priority',
    });
  });
});
