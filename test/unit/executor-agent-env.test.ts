import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TaskSchema } from '../../src/core/backlog.js';
import { defaultConfig } from '../../src/core/config.js';
import {
  buildAgentEnv,
  createTaskDir,
  isSecretLikeName,
  renderPrompt,
  writeTaskFiles,
} from '../../src/executor/agent-env.js';

const files = {
  promptFile: '/tmp/x/prompt.md',
  taskFile: '/tmp/x/task.json',
  taskId: 'docs-guide',
  attemptId: '01HZXATTEMPT',
  timeoutSeconds: 900,
};

const runnerEnv = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/runner',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  CI: 'true',
  RUNNER_OS: 'Linux',
  RUNNER_TEMP: '/home/runner/work/_temp',
  RUNNER_TOKEN: 'registration-token',
  GITHUB_TOKEN: 'ghs_x',
  GH_TOKEN: 'ghp_x',
  ACTIONS_RUNTIME_TOKEN: 'rt',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc',
  ACTIONS_RUNNER_INPUT_JITCONFIG: 'jit',
  GITHUB_ENV: '/home/runner/work/_temp/_runner_file_commands/set_env',
  GITHUB_PATH: '/home/runner/work/_temp/_runner_file_commands/add_path',
  GITHUB_REPOSITORY: 'o/r',
  AWS_SECRET_ACCESS_KEY: 'aws',
  DB_PASSWORD: 'pw',
  OPENAI_API_KEY: 'sk',
  NODE_OPTIONS: '--require /tmp/evil.js',
  HTTPS_PROXY: 'http://user:pass@proxy:3128',
  SOMETHING_ELSE: 'x',
};

describe('buildAgentEnv', () => {
  it('keeps the safe base and nothing else from the runner', () => {
    const { env } = buildAgentEnv({ source: runnerEnv, ...files });
    const inherited = Object.keys(env).filter((k) => !k.startsWith('LEVIATHAN_'));
    expect(inherited.sort()).toEqual(['CI', 'HOME', 'LANG', 'LC_ALL', 'PATH', 'RUNNER_OS', 'RUNNER_TEMP']);
  });

  it('never passes tokens, runner file commands, proxies or NODE_OPTIONS by default', () => {
    const { env, droppedSecrets } = buildAgentEnv({ source: runnerEnv, ...files });
    for (const name of [
      'GITHUB_TOKEN',
      'GH_TOKEN',
      'ACTIONS_RUNTIME_TOKEN',
      'RUNNER_TOKEN',
      'GITHUB_ENV',
      'GITHUB_PATH',
    ]) {
      expect(env).not.toHaveProperty(name);
    }
    expect(env).not.toHaveProperty('NODE_OPTIONS');
    expect(env).not.toHaveProperty('HTTPS_PROXY');
    expect(Object.values(env)).not.toContain('ghs_x');
    expect(droppedSecrets).toEqual([
      'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
      'ACTIONS_RUNNER_INPUT_JITCONFIG',
      'ACTIONS_RUNTIME_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
      'DB_PASSWORD',
      'GH_TOKEN',
      'GITHUB_TOKEN',
      'OPENAI_API_KEY',
      'RUNNER_TOKEN',
    ]);
  });

  it('passes exactly the allow-listed names, even token-like ones', () => {
    const { env, droppedSecrets } = buildAgentEnv({
      source: runnerEnv,
      allowlist: ['OPENAI_API_KEY', 'HTTPS_PROXY', 'NOT_SET'],
      ...files,
    });
    expect(env.OPENAI_API_KEY).toBe('sk');
    expect(env.HTTPS_PROXY).toBe(runnerEnv.HTTPS_PROXY);
    expect(env).not.toHaveProperty('NOT_SET');
    expect(env).not.toHaveProperty('GITHUB_TOKEN');
    expect(droppedSecrets).not.toContain('OPENAI_API_KEY');
  });

  it('never passes the signing key or LEVIATHAN_TOKEN, even when env_allowlist names them', () => {
    const { env } = buildAgentEnv({
      source: {
        ...runnerEnv,
        LEVIATHAN_SIGNING_KEY: 'ed25519-sk:secret-seed',
        LEVIATHAN_TOKEN: 'lev-token-x',
      },
      allowlist: ['LEVIATHAN_SIGNING_KEY', 'LEVIATHAN_TOKEN'],
      ...files,
    });
    expect(env).not.toHaveProperty('LEVIATHAN_SIGNING_KEY');
    expect(env).not.toHaveProperty('LEVIATHAN_TOKEN');
    expect(Object.values(env)).not.toContain('ed25519-sk:secret-seed');
  });

  it('adds the LEVIATHAN_ variables, which an inherited or allow-listed one cannot override', () => {
    const { env } = buildAgentEnv({
      source: { ...runnerEnv, LEVIATHAN_TASK_ID: 'spoofed' },
      allowlist: ['LEVIATHAN_TASK_ID'],
      ...files,
      attemptNumber: 2,
      feedbackFile: '/tmp/x/feedback.md',
      timeoutSeconds: 899.7,
    });
    expect(env).toMatchObject({
      LEVIATHAN_PROMPT_FILE: '/tmp/x/prompt.md',
      LEVIATHAN_TASK_FILE: '/tmp/x/task.json',
      LEVIATHAN_TASK_ID: 'docs-guide',
      LEVIATHAN_ATTEMPT: '01HZXATTEMPT',
      LEVIATHAN_ATTEMPT_ID: '01HZXATTEMPT',
      LEVIATHAN_ATTEMPT_NUMBER: '2',
      LEVIATHAN_FEEDBACK_FILE: '/tmp/x/feedback.md',
      LEVIATHAN_TIMEOUT_SECONDS: '899',
    });
  });

  it('never passes on an inherited feedback file or attempt number (first attempt)', () => {
    const { env } = buildAgentEnv({
      source: { ...runnerEnv, LEVIATHAN_FEEDBACK_FILE: '/etc/passwd', LEVIATHAN_ATTEMPT_NUMBER: '9' },
      allowlist: ['LEVIATHAN_FEEDBACK_FILE', 'LEVIATHAN_ATTEMPT_NUMBER'],
      ...files,
    });
    expect(env).not.toHaveProperty('LEVIATHAN_FEEDBACK_FILE');
    expect(env).not.toHaveProperty('LEVIATHAN_ATTEMPT_NUMBER');
  });

  it('recognises credential-like names', () => {
    for (const name of [
      'GITHUB_TOKEN',
      'my_secret',
      'SSH_PRIVATE_KEY',
      'DOCKER_PASSWD',
      'GITLAB_PAT',
      'AUTH_HEADER',
    ]) {
      expect(isSecretLikeName(name)).toBe(true);
    }
    for (const name of ['PATH', 'HOME', 'LANG', 'LC_CTYPE', 'RUNNER_OS'])
      expect(isSecretLikeName(name)).toBe(false);
  });
});

describe('writeTaskFiles', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'lev-taskfiles-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const task = TaskSchema.parse({
    id: 'docs-guide',
    title: 'Write the guide',
    description: 'Explain the `run` loop.',
    allowed_paths: ['docs/**'],
    acceptance_criteria: ['mentions ticks', 'has an example'],
    verify: 'test -f docs/guide.md',
  });
  const attempt = { id: '01HZXATTEMPT', number: 2, maxAttempts: 3, timeoutSeconds: 900 };
  const config = defaultConfig();

  it('writes the prompt and the task JSON, private to the worker', async () => {
    const dir = join(root, 'a');
    const out = await writeTaskFiles(dir, task, attempt, {
      scope: config.scope,
      limits: { max_files_changed: 50, max_diff_bytes: 1048576 },
    });
    expect(out).toEqual({ promptFile: join(dir, 'prompt.md'), taskFile: join(dir, 'task.json') });
    const json = JSON.parse(await readFile(out.taskFile, 'utf8'));
    expect(json).toMatchObject({
      version: 1,
      task: { id: 'docs-guide', allowed_paths: ['docs/**'] },
      attempt: { id: '01HZXATTEMPT', number: 2, max_attempts: 3, timeout_seconds: 900 },
      guardrails: {
        allowed_paths: ['docs/**'],
        max_files_changed: 50,
        protected_paths: config.scope.protected_paths,
      },
    });
    expect((await stat(out.promptFile)).mode & 0o077).toBe(0);
    const prompt = await readFile(out.promptFile, 'utf8');
    expect(prompt).toContain('# Write the guide');
    expect(prompt).toContain('attempt 2 of 3');
    expect(prompt).toContain('- [ ] mentions ticks');
    expect(prompt).toContain('- `docs/**`');
    expect(prompt).toContain('`.github/**`');
    expect(prompt).toContain('15 minutes');
    expect(prompt).toContain('`test -f docs/guide.md`');
  });

  it('writes the feedback file on a retry, private to the worker, with the same text as the prompt', async () => {
    const dir = join(root, 'fb');
    const feedback = '## Feedback from attempt 1\n\nverify failed\n';
    const out = await writeTaskFiles(dir, task, attempt, { feedback });
    expect(out.feedbackFile).toBe(join(dir, 'feedback.md'));
    expect(await readFile(out.feedbackFile as string, 'utf8')).toBe(feedback);
    expect((await stat(out.feedbackFile as string)).mode & 0o777).toBe(0o600);
    expect(await readFile(out.promptFile, 'utf8')).toContain(feedback);
  });

  it('refuses a directory inside the checkout, where the files would join the diff', async () => {
    const checkout = join(root, 'checkout');
    await expect(
      writeTaskFiles(join(checkout, '.leviathan-tmp'), task, attempt, { checkout }),
    ).rejects.toThrow(/inside the checkout/);
    await expect(writeTaskFiles(checkout, task, attempt, { checkout })).rejects.toThrow(
      /inside the checkout/,
    );
    await expect(
      writeTaskFiles(join(root, 'checkout-2'), task, attempt, { checkout }),
    ).resolves.toBeDefined();
  });

  it('createTaskDir makes a fresh directory under the given base', async () => {
    const a = await createTaskDir(root);
    const b = await createTaskDir(root);
    expect(a).not.toBe(b);
    expect(a.startsWith(join(root, 'leviathan-task-'))).toBe(true);
  });

  it('renders a prompt without optional sections when the task has none', () => {
    const bare = TaskSchema.parse({ id: 'x', title: 'X', allowed_paths: ['docs/x.md'] });
    const prompt = renderPrompt(bare, { ...attempt, number: 1, maxAttempts: 1 });
    expect(prompt).not.toContain('## Description');
    expect(prompt).not.toContain('## Acceptance criteria');
    expect(prompt).toContain('- `docs/x.md`');
  });
});
