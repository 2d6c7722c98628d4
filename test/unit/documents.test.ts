import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { generateSchemas } from '../../scripts/gen-schemas.js';
import { readinessWarnings } from '../../src/core/backlog-checks.js';
import { summarizeBacklog } from '../../src/core/backlog-summary.js';
import { type Config, DEFAULT_PROTECTED_PATHS, defaultConfig } from '../../src/core/config.js';
import { parseBacklogText, parseConfigText } from '../../src/core/documents.js';
import type { Diagnostic } from '../../src/core/errors.js';
import { formatPath } from '../../src/core/yaml-positions.js';

const ROOT = process.cwd();
const BACKLOG = '.leviathan/backlog.yaml';
const CONFIG = '.leviathan/config.yaml';

function config(text = ''): Config {
  const r = parseConfigText(text, CONFIG);
  if (!r.ok) throw new Error(`config fixture invalid: ${JSON.stringify(r.diagnostics)}`);
  return r.value;
}

function backlogErrors(text: string, cfg: Config = defaultConfig()): Diagnostic[] {
  const r = parseBacklogText(text, BACKLOG, cfg);
  if (r.ok) throw new Error('expected the backlog to be invalid');
  return r.diagnostics;
}

function configErrors(text: string): Diagnostic[] {
  const r = parseConfigText(text, CONFIG);
  if (r.ok) throw new Error('expected the config to be invalid');
  return r.diagnostics;
}

function only(ds: Diagnostic[]): Diagnostic {
  expect(ds).toHaveLength(1);
  return ds[0]!;
}

/** A backlog with one task; `extra` lines are added (indented) to the task. */
function oneTask(...extra: string[]): string {
  return [
    'tasks:',
    '  - id: docs',
    '    title: Docs',
    '    allowed_paths: ["docs/**"]',
    ...extra.map((l) => `    ${l}`),
  ].join('\n');
}

describe('parseConfigText: defaults', () => {
  it('an empty file is the default config', () => {
    const r = parseConfigText('', CONFIG);
    expect(r).toEqual({ ok: true, value: defaultConfig(), warnings: [] });
  });

  it('a comments-only file is the default config', () => {
    const r = parseConfigText('# nothing here yet\n   # really\n', CONFIG);
    expect(r.ok && r.value).toEqual(defaultConfig());
  });

  it.each<[string, unknown]>([
    ['version', 1],
    ['autonomy.enabled', true],
    ['base_branch', ''],
    ['scope.allowed_paths', ['.leviathan/**', 'docs/**']],
    ['scope.protected_paths', [...DEFAULT_PROTECTED_PATHS]],
    ['limits.max_open_prs', 1],
    ['limits.max_running_attempts', 1],
    ['limits.max_attempts_per_task', 2],
    ['limits.circuit_breaker_failures', 2],
    ['limits.breaker_cooldown_minutes', 0],
    ['limits.max_dispatches_per_hour', 2],
    ['limits.attempt_timeout_minutes', 15],
    ['limits.max_files_changed', 50],
    ['limits.max_diff_bytes', 1048576],
    ['executor.command', ''],
    ['executor.verify', ''],
    ['executor.env_allowlist', []],
    ['pr.draft', true],
    ['pr.labels', ['leviathan']],
    ['pr.branch_prefix', 'leviathan/'],
    ['pr.reviewers', []],
    ['pr.auto_merge', false],
    ['pr.mark_done_in_backlog', true],
  ])('default %s = %j (SPEC §2.2), also next to a set key', (key, value) => {
    const partial = config('limits:\n  max_open_prs: 1\npr:\n  draft: true\n');
    const get = (c: Config) => key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], c);
    expect(get(partial)).toEqual(value);
  });

  it('keeps the values a file sets', () => {
    const c = config('base_branch: trunk\nlimits:\n  max_open_prs: 3\nexecutor:\n  verify: npm test\n');
    expect(c.base_branch).toBe('trunk');
    expect(c.limits.max_open_prs).toBe(3);
    expect(c.limits.max_running_attempts).toBe(1);
    expect(c.executor.verify).toBe('npm test');
  });

  it('a section whose keys are all commented out gets its defaults', () => {
    const c = config('scope:\n  # allowed_paths: ["src/**"]\nlimits:\n');
    expect(c.scope).toEqual(defaultConfig().scope);
    expect(c.limits).toEqual(defaultConfig().limits);
  });
});

describe('parseConfigText: errors', () => {
  it('an unknown top-level key points at the key and lists the known keys', () => {
    const d = only(configErrors('version: 1\nlimts:\n  max_open_prs: 2\n'));
    expect(d).toMatchObject({
      file: CONFIG,
      line: 2,
      column: 1,
      path: 'limts',
      message: 'unknown key "limts"',
    });
    expect(d.hint).toContain('did you mean "limits"?');
    expect(d.hint).toContain('known keys: version, autonomy, base_branch, scope, limits, executor, pr');
  });

  it('an unknown nested key suggests the close one', () => {
    const d = only(configErrors('limits:\n  max_open_prs: 1\n  max_open_pr: 3\n'));
    expect(d).toMatchObject({ line: 3, column: 3, path: 'limits.max_open_pr' });
    expect(d.hint).toMatch(
      /^did you mean "max_open_prs"\? remove it or check spelling; known keys: max_open_prs/,
    );
  });

  it('a limit below its minimum names the value and the bound', () => {
    const d = only(configErrors('limits:\n  max_open_prs: 0\n'));
    expect(d).toMatchObject({ line: 2, column: 17, path: 'limits.max_open_prs', message: '0 is too small' });
    expect(d.hint).toBe('use a whole number ≥ 1');
  });

  it('a negative cooldown is rejected, zero is fine', () => {
    expect(only(configErrors('limits:\n  breaker_cooldown_minutes: -5\n')).hint).toBe(
      'use a whole number ≥ 0',
    );
    expect(config('limits:\n  breaker_cooldown_minutes: 0\n').limits.breaker_cooldown_minutes).toBe(0);
  });

  it('a quoted number says to drop the quotes', () => {
    const d = only(configErrors('limits:\n  max_files_changed: "50"\n'));
    expect(d.message).toBe('expected a number, got "50"');
    expect(d.hint).toBe('write the number without quotes');
  });

  it('a fractional limit asks for a whole number', () => {
    expect(only(configErrors('limits:\n  max_open_prs: 1.5\n')).message).toBe(
      'expected a whole number, got 1.5',
    );
  });

  it('an unsupported version says which one to use', () => {
    const d = only(configErrors('version: 2\n'));
    expect(d).toMatchObject({
      line: 1,
      column: 10,
      path: 'version',
      message: '2 is not supported',
      hint: 'use 1',
    });
  });

  it('a branch prefix without a trailing slash keeps the schema wording', () => {
    const d = only(configErrors('pr:\n  branch_prefix: bots\n'));
    expect(d.message).toBe('"bots" must be a branch path ending in "/"');
    expect(d.hint).toContain('"leviathan/"');
  });

  it('a malformed environment variable name is pointed at in the list', () => {
    const d = only(configErrors('executor:\n  env_allowlist: [GOOD, "not-ok"]\n'));
    expect(d).toMatchObject({ line: 2, column: 25, path: 'executor.env_allowlist[1]' });
  });

  it('an empty scope.allowed_paths is an error', () => {
    const d = only(configErrors('scope:\n  allowed_paths: []\n'));
    expect(d).toMatchObject({
      line: 2,
      column: 18,
      path: 'scope.allowed_paths',
      message: 'the list is empty',
    });
  });

  it.each([
    ['../**', 'allowed_paths'],
    ['/etc/**', 'allowed_paths'],
    ['..\\\\x', 'protected_paths'],
  ])('unsafe config glob %s in scope.%s is an error', (glob, key) => {
    const d = only(configErrors(`scope:\n  ${key}:\n    - "docs/**"\n    - "${glob}"\n`));
    expect(d).toMatchObject({ line: 4, column: 7, path: `scope.${key}[1]` });
    expect(d.message).toMatch(/^invalid glob /);
  });

  it('dropping default protected paths is allowed but warned about', () => {
    const r = parseConfigText('scope:\n  protected_paths: [".github/**"]\n', CONFIG);
    expect(r.ok).toBe(true);
    const w = r.ok ? only(r.warnings) : undefined;
    expect(w).toMatchObject({ line: 2, column: 20, path: 'scope.protected_paths' });
    expect(w?.message).toContain('.leviathan/config.yaml');
  });

  it('a YAML syntax error is reported at its line and column, without other checks', () => {
    const d = only(configErrors('limits:\n  max_open_prs: 1\n\tmax_running_attempts: 1\n'));
    expect(d).toMatchObject({ line: 3, column: 1, path: '' });
    expect(d.message).toMatch(/^YAML syntax error: /);
    expect(d.hint).toBe('indent with spaces, not tabs');
  });

  it('a file that is a list, not a mapping, says so', () => {
    const d = only(configErrors('- limits\n'));
    expect(d).toMatchObject({
      line: 1,
      column: 1,
      path: '',
      message: 'expected a mapping, got a list of 1 item',
    });
    expect(d.hint).toContain('mapping');
  });

  it('a section given as a scalar is a type error at the value', () => {
    const d = only(configErrors('limits: 5\n'));
    expect(d).toMatchObject({ line: 1, column: 9, path: 'limits', message: 'expected a mapping, got 5' });
  });
});

describe('parseBacklogText: defaults and values', () => {
  const cfg = defaultConfig();

  it.each(['', '# no tasks yet\n', 'tasks:\n', 'tasks: []\n', 'version: 1\ntasks:\n  # - id: later\n'])(
    '%j is an empty backlog',
    (text) => {
      const r = parseBacklogText(text, BACKLOG, cfg);
      expect(r.ok && r.value.tasks).toEqual([]);
    },
  );

  it('applies every task default', () => {
    const r = parseBacklogText(oneTask(), BACKLOG, cfg);
    expect(r.ok && r.value.tasks[0]).toEqual({
      id: 'docs',
      title: 'Docs',
      description: '',
      ready: false,
      status: 'pending',
      priority: 'medium',
      dependencies: [],
      allowed_paths: ['docs/**'],
      acceptance_criteria: [],
      labels: [],
    });
  });

  it('an empty optional value takes its default', () => {
    const r = parseBacklogText(oneTask('description:', 'dependencies:', 'verify:'), BACKLOG, cfg);
    expect(r.ok && r.value.tasks[0]).toMatchObject({ description: '', dependencies: [] });
    expect(r.ok && 'verify' in r.value.tasks[0]!).toBe(false);
  });

  it('keeps every field of the valid fixture', () => {
    const dir = path.join(ROOT, 'test/fixtures/validate/valid/.leviathan');
    const c = config(readFileSync(path.join(dir, 'config.yaml'), 'utf8'));
    const r = parseBacklogText(readFileSync(path.join(dir, 'backlog.yaml'), 'utf8'), BACKLOG, c);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([]);
    expect(r.value.tasks.map((t) => t.id)).toEqual(['docs-guide', 'src.lint_fix', 'changelog', 'plan-next']);
    expect(r.value.tasks[0]).toMatchObject({
      description: 'A guide for first-time users.\n',
      priority: 'high',
      acceptance_criteria: ['covers installation', 'covers a first run'],
      labels: ['documentation'],
      verify: 'npx markdownlint docs',
      max_attempts: 2,
      timeout_minutes: 20,
    });
    expect(r.value.tasks[1]?.run).toEqual(['npx biome check --write src']);
    expect(summarizeBacklog(r.value, c)).toEqual({ tasks: 4, ready: 2, inScope: 4 });
  });

  it('a diamond of dependencies is not a cycle', () => {
    const text = [
      'tasks:',
      '  - { id: a, title: A, allowed_paths: [docs/a], dependencies: [b, c] }',
      '  - { id: b, title: B, allowed_paths: [docs/b], dependencies: [d] }',
      '  - { id: c, title: C, allowed_paths: [docs/c], dependencies: [d] }',
      '  - { id: d, title: D, allowed_paths: [docs/d] }',
    ].join('\n');
    expect(parseBacklogText(text, BACKLOG, cfg).ok).toBe(true);
  });

  it('limits equal to the config are fine', () => {
    expect(parseBacklogText(oneTask('max_attempts: 2', 'timeout_minutes: 15'), BACKLOG, cfg).ok).toBe(true);
  });

  it('a per-task executor override parses, within the limits', () => {
    const r = parseBacklogText(
      oneTask('executor: { command: "my-agent --fast", timeout_minutes: 15 }'),
      BACKLOG,
      cfg,
    );
    expect(r.ok && r.value.tasks[0]?.executor).toEqual({ command: 'my-agent --fast', timeout_minutes: 15 });
  });

  it('an executor.timeout_minutes above the config points at the value with a hint', () => {
    const d = only(backlogErrors(oneTask('executor:', '  command: my-agent', '  timeout_minutes: 16'), cfg));
    expect(d).toMatchObject({
      file: BACKLOG,
      line: 7,
      column: 24,
      path: 'tasks[0].executor.timeout_minutes',
      message: "executor.timeout_minutes 16 is above the config's limits.attempt_timeout_minutes (15)",
    });
    expect(d.hint).toContain('use 1–15, or raise it in the config');
  });

  it('an executor.command beside run commands is refused (it would never run)', () => {
    const d = only(backlogErrors(oneTask('run: ["echo hi"]', 'executor: { command: my-agent }'), cfg));
    expect(d).toMatchObject({ line: 6, path: 'tasks[0].executor.command' });
    expect(d.hint).toContain('either run');
  });

  it('an unknown key under executor is an error', () => {
    const d = only(backlogErrors(oneTask('executor: { comand: my-agent }'), cfg));
    expect(d).toMatchObject({ line: 5, path: 'tasks[0].executor.comand', message: 'unknown key "comand"' });
  });

  it('a long dependency chain does not overflow the stack', () => {
    const n = 20000;
    const lines = ['tasks:'];
    for (let i = 0; i < n; i++) {
      const deps = i + 1 < n ? `, dependencies: [t${i + 1}]` : ', dependencies: [t0]';
      lines.push(`  - { id: t${i}, title: T, allowed_paths: [docs/x]${deps} }`);
    }
    const d = only(backlogErrors(lines.join('\n')));
    expect(d.line).toBe(n + 1);
    expect(d.message).toMatch(/^dependency cycle: t0 → t1 → .* → t19999 → t0$/);
  });

  it('a task outside the config scope is a warning, not an error', () => {
    const r = parseBacklogText(oneTask().replace('docs/**', 'src/**'), BACKLOG, cfg);
    expect(r.ok).toBe(true);
    const w = r.ok ? only(r.warnings) : undefined;
    expect(w).toMatchObject({ line: 4, column: 21, path: 'tasks[0].allowed_paths[0]' });
    expect(w?.message).toMatch(/^task "docs" is out of scope/);
  });

  it('summarizeBacklog counts only pending ready tasks as ready', () => {
    const text = [
      'tasks:',
      '  - { id: a, title: A, allowed_paths: [docs/a], ready: true }',
      '  - { id: b, title: B, allowed_paths: [docs/b], ready: true, status: done }',
      '  - { id: c, title: C, allowed_paths: [src/c] }',
    ].join('\n');
    const r = parseBacklogText(text, BACKLOG, cfg);
    expect(r.ok && summarizeBacklog(r.value, cfg)).toEqual({ tasks: 3, ready: 1, inScope: 2 });
  });

  it('CRLF line endings keep positions right', () => {
    const d = only(backlogErrors(oneTask('priority: urgent').replace(/\n/g, '\r\n')));
    expect(d).toMatchObject({ line: 5, column: 15 });
  });
});

describe('parseBacklogText: schema errors', () => {
  it('a missing title points at the task mapping', () => {
    const d = only(backlogErrors('tasks:\n  - id: docs\n    allowed_paths: ["docs/**"]\n'));
    expect(d).toMatchObject({
      line: 2,
      column: 5,
      path: 'tasks[0].title',
      message: 'missing required key "title"',
    });
    expect(d.hint).toContain('add title:');
  });

  it('a missing allowed_paths says what to add', () => {
    const d = only(backlogErrors('tasks:\n  - id: docs\n    title: Docs\n'));
    expect(d).toMatchObject({ line: 2, column: 5, path: 'tasks[0].allowed_paths' });
    expect(d.hint).toContain('allowed_paths: ["docs/**"]');
  });

  it('an unknown task key points at the key and lists the known keys', () => {
    const d = only(backlogErrors(oneTask('assignee: octocat')));
    expect(d).toMatchObject({
      line: 5,
      column: 5,
      path: 'tasks[0].assignee',
      message: 'unknown key "assignee"',
    });
    expect(d.hint).toContain('remove it or check spelling; known keys: id, title, description, ready');
    expect(d.hint).toContain('timeout_minutes');
  });

  it('a misspelt required key gives both the unknown key and the missing one', () => {
    const ds = backlogErrors('tasks:\n  - id: docs\n    title: Docs\n    alowed_paths: [docs/**]\n');
    expect(ds.map((d) => [d.line, d.path])).toEqual([
      [2, 'tasks[0].allowed_paths'],
      [4, 'tasks[0].alowed_paths'],
    ]);
    expect(ds[1]?.hint).toMatch(/^did you mean "allowed_paths"\?/);
  });

  it('an unknown top-level key is an error', () => {
    const d = only(backlogErrors('version: 1\ntask: []\n'));
    expect(d).toMatchObject({ line: 2, column: 1, path: 'task' });
    expect(d.hint).toContain('did you mean "tasks"?');
  });

  it('a bad id names the value and the rule', () => {
    const d = only(backlogErrors('tasks:\n  - id: Fix_Bug\n    title: T\n    allowed_paths: [docs/**]\n'));
    expect(d).toMatchObject({ line: 2, column: 9, path: 'tasks[0].id' });
    expect(d.message).toBe('"Fix_Bug" must match ^[a-z0-9][a-z0-9._-]{0,63}$');
    expect(d.hint).toContain('lowercase');
  });

  it('an id longer than 64 characters is rejected', () => {
    const long = 'a'.repeat(65);
    const d = only(backlogErrors(`tasks:\n  - id: ${long}\n    title: T\n    allowed_paths: [docs/**]\n`));
    expect(d.path).toBe('tasks[0].id');
  });

  it('a bad priority lists the allowed values', () => {
    const d = only(backlogErrors(oneTask('priority: urgent')));
    expect(d).toMatchObject({ line: 5, column: 15, path: 'tasks[0].priority' });
    expect(d.message).toBe('"urgent" is not one of high|medium|low');
    expect(d.hint).toBe('use one of high|medium|low');
  });

  it('a bad status lists the allowed values', () => {
    expect(only(backlogErrors(oneTask('status: finished'))).hint).toBe('use one of pending|done|blocked');
  });

  it('a quoted boolean says to drop the quotes, "yes" says true or false', () => {
    expect(only(backlogErrors(oneTask('ready: "true"'))).hint).toBe('write true or false without quotes');
    const d = only(backlogErrors(oneTask('ready: yes')));
    expect(d).toMatchObject({ line: 5, column: 12, message: 'expected true or false, got "yes"' });
    expect(d.hint).toBe('use true or false');
  });

  it('a string where a list belongs suggests the list', () => {
    const d = only(backlogErrors(oneTask('labels: docs')));
    expect(d.message).toBe('expected a list, got "docs"');
    expect(d.hint).toBe('write a list, e.g. ["docs"]');
  });

  it('an empty title value points at the key', () => {
    const d = only(backlogErrors('tasks:\n  - id: docs\n    title:\n    allowed_paths: [docs/**]\n'));
    expect(d).toMatchObject({
      line: 3,
      column: 5,
      path: 'tasks[0].title',
      message: 'expected text, got an empty value',
    });
  });

  it('an empty-string title and an overlong title are rejected', () => {
    expect(only(backlogErrors(oneTask().replace('title: Docs', 'title: ""'))).message).toBe('empty text');
    const d = only(backlogErrors(oneTask().replace('title: Docs', `title: ${'x'.repeat(201)}`)));
    expect(d.message).toBe('text is 201 characters long (at most 200)');
    expect(d.hint).toBe('shorten it to 200 characters or fewer');
  });

  it('max_attempts below 1 and fractional timeouts are rejected', () => {
    expect(only(backlogErrors(oneTask('max_attempts: 0'))).hint).toBe('use a whole number ≥ 1');
    expect(only(backlogErrors(oneTask('timeout_minutes: 2.5'))).message).toBe(
      'expected a whole number, got 2.5',
    );
  });

  it('an empty allowed_paths is an error with an example', () => {
    const d = only(backlogErrors('tasks:\n  - id: docs\n    title: Docs\n    allowed_paths: []\n'));
    expect(d).toMatchObject({ line: 4, column: 20, path: 'tasks[0].allowed_paths' });
    expect(d.message).toBe('the list is empty: must list at least one path');
    expect(d.hint).toContain('"docs/**"');
  });

  it('an empty run list is an error', () => {
    expect(only(backlogErrors(oneTask('run: []'))).hint).toContain('remove run');
  });

  it('a task that is not a mapping is a type error at the item', () => {
    const d = only(backlogErrors('tasks:\n  - just a string\n'));
    expect(d).toMatchObject({
      line: 2,
      column: 5,
      path: 'tasks[0]',
      message: 'expected a mapping, got "just a string"',
    });
  });

  it('tasks given as a mapping is a type error', () => {
    const d = only(backlogErrors('tasks:\n  docs:\n    title: Docs\n'));
    expect(d).toMatchObject({ line: 2, column: 3, path: 'tasks', message: 'expected a list, got a mapping' });
  });

  it('field paths index lists: tasks[2].allowed_paths[0]', () => {
    const text = [
      'tasks:',
      '  - { id: a, title: A, allowed_paths: [docs/a] }',
      '  - { id: b, title: B, allowed_paths: [docs/b] }',
      '  - { id: c, title: C, allowed_paths: [7] }',
    ].join('\n');
    expect(only(backlogErrors(text))).toMatchObject({
      line: 4,
      column: 40,
      path: 'tasks[2].allowed_paths[0]',
    });
  });

  it('several errors come back sorted by position', () => {
    const text = [
      'tasks:',
      '  - id: a',
      '    title: A',
      '    priority: top',
      '    allowed_paths: [docs/a]',
      '  - id: B',
      '    title: B',
      '    allowed_paths: []',
    ].join('\n');
    expect(backlogErrors(text).map((d) => `${d.line}:${d.column}`)).toEqual(['4:15', '6:9', '8:20']);
  });
});

describe('parseBacklogText: cross checks', () => {
  const cfg = defaultConfig();

  it('a duplicate id points at the second and names the first line', () => {
    const text =
      'tasks:\n  - { id: a, title: A, allowed_paths: [docs/a] }\n\n  - id: a\n    title: A2\n    allowed_paths: [docs/b]\n';
    const d = only(backlogErrors(text));
    expect(d).toMatchObject({
      line: 4,
      column: 9,
      path: 'tasks[1].id',
      message: 'duplicate id "a" (first defined at line 2)',
    });
    expect(d.hint).toContain('unique');
  });

  it.each(['x.lock', 'a..b', 'a.'])(
    'a task id %j that is no valid branch name is refused at its line',
    (id) => {
      const text = `tasks:\n  - id: ok\n    title: OK\n    allowed_paths: [docs/a]\n  - id: ${id}\n    title: X\n    allowed_paths: [docs/x]\n`;
      const d = only(backlogErrors(text));
      expect(d).toMatchObject({ line: 5, column: 9, path: 'tasks[1].id' });
      expect(d.message).toContain(`id "${id}" is not a valid branch name`);
    },
  );

  it('an unknown dependency points at the entry and suggests a close id', () => {
    const text = oneTask().concat(
      '\n  - id: more\n    title: More\n    dependencies: [docs, dosc]\n    allowed_paths: [docs/m]\n',
    );
    const d = only(backlogErrors(text));
    expect(d).toMatchObject({ line: 7, column: 26, path: 'tasks[1].dependencies[1]' });
    expect(d.message).toBe('dependency "dosc" is not a task in this backlog');
    expect(d.hint).toBe('did you mean "docs"?');
  });

  it('an unknown dependency with nothing close lists the known ids', () => {
    expect(only(backlogErrors(oneTask('dependencies: [zzzzzz]'))).hint).toBe('known ids: docs');
  });

  it('a two-task cycle is named and reported once, at the closing edge', () => {
    const text = [
      'tasks:',
      '  - { id: a, title: A, allowed_paths: [docs/a], dependencies: [b] }',
      '  - id: b',
      '    title: B',
      '    allowed_paths: [docs/b]',
      '    dependencies:',
      '      - a',
    ].join('\n');
    const d = only(backlogErrors(text));
    expect(d).toMatchObject({
      line: 7,
      column: 9,
      path: 'tasks[1].dependencies[0]',
      message: 'dependency cycle: a → b → a',
    });
    expect(d.hint).toContain('remove one of these dependencies');
  });

  it('a three-task cycle is named in order', () => {
    const text = [
      'tasks:',
      '  - { id: a, title: A, allowed_paths: [docs/a], dependencies: [b] }',
      '  - { id: b, title: B, allowed_paths: [docs/b], dependencies: [c] }',
      '  - { id: c, title: C, allowed_paths: [docs/c], dependencies: [a] }',
    ].join('\n');
    expect(only(backlogErrors(text)).message).toBe('dependency cycle: a → b → c → a');
  });

  it('a task depending on itself is a cycle', () => {
    const d = only(backlogErrors(oneTask('dependencies: [docs]')));
    expect(d).toMatchObject({ line: 5, column: 20, message: 'dependency cycle: docs → docs' });
  });

  it('max_attempts above the config limit is an error with the limit in it', () => {
    const d = only(
      backlogErrors(oneTask('max_attempts: 5'), config('limits:\n  max_attempts_per_task: 3\n')),
    );
    expect(d).toMatchObject({ line: 5, column: 19, path: 'tasks[0].max_attempts' });
    expect(d.message).toBe("max_attempts 5 is above the config's limits.max_attempts_per_task (3)");
    expect(d.hint).toContain('use 1–3');
  });

  it('timeout_minutes above the config limit is an error', () => {
    const d = only(backlogErrors(oneTask('timeout_minutes: 30'), cfg));
    expect(d).toMatchObject({ line: 5, column: 22, path: 'tasks[0].timeout_minutes' });
    expect(d.message).toContain('limits.attempt_timeout_minutes (15)');
  });

  it.each([
    ['../outside/**', 'dotdot'],
    ['/etc/passwd', 'absolute'],
    ['docs\\\\x', 'backslash'],
    ['C:/x/**', 'drive letter'],
  ])('an unsafe task glob %s (%s) is an error at the entry', (glob) => {
    const d = only(
      backlogErrors(
        `tasks:\n  - id: docs\n    title: Docs\n    allowed_paths:\n      - "docs/**"\n      - "${glob}"\n`,
      ),
    );
    expect(d).toMatchObject({ line: 6, column: 9, path: 'tasks[0].allowed_paths[1]' });
    expect(d.message).toMatch(/^invalid glob "/);
    expect(d.hint).toContain('"docs/**"');
  });

  it('cross checks and schema errors are reported together', () => {
    const text = [
      'tasks:',
      '  - { id: a, title: A, allowed_paths: [docs/a], priority: top }',
      '  - { id: a, title: A, allowed_paths: [docs/b] }',
    ].join('\n');
    expect(backlogErrors(text).map((d) => d.path)).toEqual(['tasks[0].priority', 'tasks[1].id']);
  });
});

describe('parseBacklogText: YAML problems', () => {
  it('a syntax error is reported at its position and nothing else is checked', () => {
    const d = only(
      backlogErrors('tasks:\n  - id: fix\n    title: Fix: the crash\n    allowed_paths: [docs/**]\n'),
    );
    expect(d).toMatchObject({ line: 3, column: 12, path: '' });
    expect(d.message).toMatch(/^YAML syntax error: /);
    expect(d.hint).toContain('quote');
  });

  it('a duplicated mapping key is a syntax error at the second key', () => {
    const d = only(backlogErrors(oneTask('title: Again')));
    expect(d).toMatchObject({ line: 5, column: 5 });
    expect(d.message).toBe('YAML syntax error: Map keys must be unique ("title" appears more than once)');
    expect(d.hint).toContain('only once');
  });

  it('an unclosed flow list is reported', () => {
    const ds = backlogErrors('tasks:\n  - id: a\n    title: A\n    allowed_paths: [docs/**\n');
    expect(ds[0]?.message).toMatch(/^YAML syntax error/);
    expect(ds[0]?.line).toBeGreaterThanOrEqual(4);
  });

  it('an alias to a missing anchor is a diagnostic, not a crash', () => {
    const d = only(backlogErrors('tasks: *nothing\n'));
    expect(d.message).toMatch(/^YAML (syntax )?error/);
  });

  it('two documents in one file are an error', () => {
    expect(backlogErrors('tasks: []\n---\ntasks: []\n')[0]?.line).toBe(2);
  });

  it('no diagnostic carries a stack trace', () => {
    const texts = ['tasks: *x', '\t- a', 'tasks: 5', oneTask('foo: 1', 'ready: 3'), '[', '"'];
    for (const text of texts) {
      const r = parseBacklogText(text, BACKLOG, defaultConfig());
      const ds = r.ok ? [] : r.diagnostics;
      expect(ds.length).toBeGreaterThan(0);
      for (const d of ds) {
        expect(`${d.message} ${d.hint ?? ''}`).not.toMatch(/\n\s+at |Error:/);
        expect(d.line).toBeGreaterThanOrEqual(1);
        expect(d.column).toBeGreaterThanOrEqual(1);
      }
    }
  });
});

describe('formatPath', () => {
  it('renders keys with dots and indexes in brackets', () => {
    expect(formatPath(['tasks', 2, 'allowed_paths', 0])).toBe('tasks[2].allowed_paths[0]');
    expect(formatPath([])).toBe('');
    expect(formatPath(['limits', 'max_open_prs'])).toBe('limits.max_open_prs');
  });
});

describe('schemas and templates', () => {
  it('the committed JSON schemas equal a fresh generation (run npx tsx scripts/gen-schemas.ts)', () => {
    for (const [name, content] of Object.entries(generateSchemas())) {
      expect(readFileSync(path.join(ROOT, 'schemas', name), 'utf8')).toBe(content);
    }
  });

  it('the schemas reject unknown keys and require task ids', () => {
    const backlog = JSON.parse(generateSchemas()['backlog.schema.json']!);
    const task = backlog.properties.tasks.items;
    expect(backlog.additionalProperties).toBe(false);
    expect(task.additionalProperties).toBe(false);
    expect(task.required).toEqual(expect.arrayContaining(['id', 'title', 'allowed_paths']));
    expect(task.required).not.toContain('ready');
  });

  it('templates/config.yaml is valid, points at its schema and holds exactly the defaults', () => {
    const text = readFileSync(path.join(ROOT, 'templates/config.yaml'), 'utf8');
    expect(text.split('\n')[0]).toMatch(
      /^# yaml-language-server: \$schema=\S+\/schemas\/config\.schema\.json$/,
    );
    const r = parseConfigText(text, CONFIG);
    expect(r).toEqual({ ok: true, value: defaultConfig(), warnings: [] });
  });

  it('templates/backlog.yaml is valid, points at its schema, and only its first task is ready (with run:)', () => {
    const text = readFileSync(path.join(ROOT, 'templates/backlog.yaml'), 'utf8');
    expect(text.split('\n')[0]).toMatch(
      /^# yaml-language-server: \$schema=\S+\/schemas\/backlog\.schema\.json$/,
    );
    const r = parseBacklogText(text, BACKLOG, defaultConfig());
    expect(r.ok && r.warnings).toEqual([]);
    expect(r.ok && r.value.tasks.length).toBeGreaterThan(0);
    const tasks = r.ok ? r.value.tasks : [];
    expect(tasks.map((t) => t.ready)).toEqual([true, ...tasks.slice(1).map(() => false)]);
    expect(tasks[0]?.run?.length).toBe(1);
    // The readiness check has nothing to say about the template: the ready task can run without an agent.
    expect(r.ok && readinessWarnings(r.value, defaultConfig(), text, BACKLOG)).toEqual([]);
    const flipped = text.replace('ready: false # set to true', 'ready: true # set to true');
    const f = parseBacklogText(flipped, BACKLOG, defaultConfig());
    expect(f.ok && readinessWarnings(f.value, defaultConfig(), flipped, BACKLOG)).toEqual([
      {
        file: BACKLOG,
        line: 20,
        column: 5,
        path: 'tasks[1]',
        message:
          'task "docs-getting-started" is ready but has no run: commands and executor.command is empty, so every attempt would fail',
        hint: 'add run: commands to the task, or set executor.command in .leviathan/config.yaml to an agent',
      },
    ]);
  });
});
