import { mkdir, mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Task } from '../core/backlog.js';
import type { Config } from '../core/config.js';
import { sanitizeTask } from '../core/task-text.js';

/**
 * Variables the agent and the task's commands inherit. An allow-list, not a deny-list: whatever a runner
 * adds later is hidden by default. Deliberately absent:
 * - every `GITHUB_*` and `ACTIONS_*`: tokens, and `GITHUB_ENV`/`GITHUB_PATH`/`GITHUB_OUTPUT`, files through
 *   which a step can change the environment of the steps after it (the worker's own finish step);
 * - `*_PROXY`: proxy URLs often carry credentials (allow-list them when a runner needs them);
 * - `NODE_OPTIONS`, `GIT_*`, `SSH_AUTH_SOCK`: they change how tools (and git) behave or authenticate.
 * The `RUNNER_*` kept are the descriptive ones tool installers use, not the prefix (`RUNNER_TOKEN` exists).
 */
export const BASE_ENV_NAMES: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
  'CI',
  'RUNNER_OS',
  'RUNNER_ARCH',
  'RUNNER_TEMP',
  'RUNNER_TOOL_CACHE',
];

/** Locale variables are kept as a family. */
const BASE_ENV_PREFIXES: readonly string[] = ['LC_'];

/**
 * Names that look like credentials. They are removed even from the base set (defence in depth against a
 * future edit of it) unless `executor.env_allowlist` names them exactly.
 */
const SECRET_NAME =
  /TOKEN|SECRET|PASSW(OR)?D|PASSPHRASE|CREDENTIAL|KEY|AUTH|PRIVATE|COOKIE|SESSION|JITCONFIG|PAT$/i;

/** True for names that look like they hold a credential (`GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`, …). */
export function isSecretLikeName(name: string): boolean {
  return SECRET_NAME.test(name);
}

function isBaseName(name: string): boolean {
  return BASE_ENV_NAMES.includes(name) || BASE_ENV_PREFIXES.some((p) => name.startsWith(p));
}

export interface AgentEnvInput {
  /** The environment to filter; default `process.env`. */
  source?: Record<string, string | undefined>;
  /** `executor.env_allowlist`: exact names passed through even when they look like secrets. */
  allowlist?: readonly string[];
  promptFile: string;
  taskFile: string;
  /** Where the agent may report its spend (`LEVIATHAN_RESULT_FILE`, see core/usage.ts); absent: not offered. */
  resultFile?: string;
  taskId: string;
  attemptId: string;
  /** 1-based number of this attempt for its task (`LEVIATHAN_ATTEMPT_NUMBER`). */
  attemptNumber?: number;
  /** The previous attempt's feedback (a retry only): `LEVIATHAN_FEEDBACK_FILE`. */
  feedbackFile?: string;
  /** The attempt's time limit. */
  timeoutSeconds: number;
}

export interface AgentEnv {
  env: Record<string, string>;
  /** Names removed because they look like credentials (names only, never values), for the job log. */
  droppedSecrets: string[];
}

/** Leviathan's own credentials: never passed to an agent, even when `env_allowlist` names them. */
const NEVER_TO_AGENT = new Set(['LEVIATHAN_SIGNING_KEY', 'LEVIATHAN_TOKEN']);

/**
 * The scrubbed environment for the agent and the task's commands (SPEC §3.2 step 3): the base set above minus
 * anything credential-like, plus the exact names in `executor.env_allowlist`, plus the `LEVIATHAN_*`
 * variables, which always win over an inherited or allow-listed variable of the same name.
 */
export function buildAgentEnv(input: AgentEnvInput): AgentEnv {
  const source = input.source ?? process.env;
  const allow = new Set(input.allowlist ?? []);
  const env: Record<string, string> = {};
  const droppedSecrets: string[] = [];
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (NEVER_TO_AGENT.has(name)) {
      droppedSecrets.push(name);
    } else if (allow.has(name)) {
      env[name] = value;
    } else if (isSecretLikeName(name)) {
      droppedSecrets.push(name);
    } else if (isBaseName(name)) {
      env[name] = value;
    }
  }
  Object.assign(env, {
    LEVIATHAN_PROMPT_FILE: input.promptFile,
    LEVIATHAN_TASK_FILE: input.taskFile,
    LEVIATHAN_TASK_ID: input.taskId,
    LEVIATHAN_ATTEMPT: input.attemptId,
    LEVIATHAN_ATTEMPT_ID: input.attemptId,
    LEVIATHAN_TIMEOUT_SECONDS: String(Math.max(0, Math.floor(input.timeoutSeconds))),
  });
  if (input.resultFile !== undefined) env.LEVIATHAN_RESULT_FILE = input.resultFile;
  // Set only when known (the feedback file only on a retry); an inherited one never survives.
  delete env.LEVIATHAN_ATTEMPT_NUMBER;
  delete env.LEVIATHAN_FEEDBACK_FILE;
  if (input.attemptNumber !== undefined) env.LEVIATHAN_ATTEMPT_NUMBER = String(input.attemptNumber);
  if (input.feedbackFile !== undefined) env.LEVIATHAN_FEEDBACK_FILE = input.feedbackFile;
  return { env, droppedSecrets: droppedSecrets.sort() };
}

export interface AttemptInfo {
  id: string;
  /** 1-based. */
  number: number;
  maxAttempts: number;
  timeoutSeconds: number;
}

export interface TaskFileContext {
  /** The target-wide fence and protected paths, shown to the agent as rules. */
  scope?: Config['scope'];
  limits?: Pick<Config['limits'], 'max_files_changed' | 'max_diff_bytes'>;
  /** When given, `dir` must lie outside it: files in the checkout would end up in the diff. */
  checkout?: string;
  /** On a retry: the previous attempt's feedback (Markdown, redacted; see core/feedback.ts). */
  feedback?: string;
}

export interface TaskFiles {
  promptFile: string;
  taskFile: string;
  /** Written only when there is feedback. */
  feedbackFile?: string;
}

/**
 * The one directory of the attempt's private directory the agent may write: it holds the result file. The
 * rest of the task directory stays hidden (the prompt and task files shown read-only).
 */
export function resultDirIn(taskDir: string): string {
  return join(taskDir, 'result');
}

/** `LEVIATHAN_RESULT_FILE`: where the agent may write what it spent (read as untrusted data afterwards). */
export function resultFileIn(taskDir: string): string {
  return join(resultDirIn(taskDir), 'result.json');
}

/** A fresh private directory for the task files, outside any checkout (under `RUNNER_TEMP` or the OS temp). */
export async function createTaskDir(base: string = process.env.RUNNER_TEMP || tmpdir()): Promise<string> {
  return mkdtemp(join(base, 'leviathan-task-'));
}

async function realOrResolved(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

async function assertOutside(dir: string, checkout: string): Promise<void> {
  const rel = relative(await realOrResolved(checkout), await realOrResolved(dir));
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
    throw new Error(
      `task files directory ${dir} is inside the checkout ${checkout}; it would be part of the diff`,
    );
  }
}

/**
 * The agent's instructions. Guardrails are enforced on the diff anyway; this only saves wasted attempts. The
 * task's text is sanitised first (`sanitizeTask`: HTML comments, zero-width and bidi controls), whoever calls.
 */
export function renderPrompt(raw: Task, attempt: AttemptInfo, context: TaskFileContext = {}): string {
  const task = sanitizeTask(raw).task;
  const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;
  const lines = [
    `# ${task.title}`,
    '',
    `Task \`${task.id}\` — attempt ${attempt.number} of ${attempt.maxAttempts}.`,
    '',
  ];
  if (task.description.trim()) lines.push('## Description', '', task.description.trim(), '');
  if (task.acceptance_criteria.length > 0) {
    lines.push('## Acceptance criteria', '', ...task.acceptance_criteria.map((c) => `- [ ] ${c}`), '');
  }
  lines.push('## Allowed paths', '', 'Change only files matching these globs:', '');
  lines.push(...task.allowed_paths.map((g) => `- ${code(g)}`), '');
  lines.push('## Rules', '');
  lines.push(
    '- Edit files in the working directory only. Do not commit, push, or create branches: Leviathan does.',
  );
  lines.push('- Any change outside the allowed paths fails the whole attempt; nothing of it is delivered.');
  if (context.scope && context.scope.protected_paths.length > 0) {
    lines.push(
      `- Never touch protected paths, whatever the allowed paths say: ${context.scope.protected_paths.map(code).join(', ')}.`,
    );
  }
  lines.push('- Symbolic links may only point inside the allowed paths, with relative targets.');
  if (context.limits) {
    lines.push(
      `- At most ${context.limits.max_files_changed} files changed and ${context.limits.max_diff_bytes} bytes of new content.`,
    );
  }
  lines.push(
    `- Finish within ${Math.floor(attempt.timeoutSeconds / 60)} minutes; the attempt is stopped at its deadline.`,
  );
  if (task.verify) lines.push(`- The change must pass: ${code(task.verify)}.`);
  if (context.feedback) lines.push('', context.feedback.trimEnd());
  return `${lines.join('\n')}\n`;
}

/**
 * Writes `prompt.md` and `task.json` into `dir` (created if needed) and returns their paths. `dir` belongs
 * outside the checkout (see `createTaskDir`) so neither file can show up in the diff. Both carry the
 * sanitised task text; the PR body says what was removed.
 */
export async function writeTaskFiles(
  dir: string,
  raw: Task,
  attempt: AttemptInfo,
  context: TaskFileContext = {},
): Promise<TaskFiles> {
  if (context.checkout !== undefined) await assertOutside(dir, context.checkout);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const task = sanitizeTask(raw).task;
  await mkdir(resultDirIn(dir), { recursive: true, mode: 0o700 });
  const promptFile = join(dir, 'prompt.md');
  const taskFile = join(dir, 'task.json');
  const json = {
    version: 1,
    task,
    attempt: {
      id: attempt.id,
      number: attempt.number,
      max_attempts: attempt.maxAttempts,
      timeout_seconds: attempt.timeoutSeconds,
    },
    guardrails: {
      allowed_paths: task.allowed_paths,
      ...(context.scope
        ? { scope_allowed_paths: context.scope.allowed_paths, protected_paths: context.scope.protected_paths }
        : {}),
      ...(context.limits ?? {}),
    },
  };
  await writeFile(promptFile, renderPrompt(task, attempt, context), { mode: 0o600 });
  await writeFile(taskFile, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  if (!context.feedback) return { promptFile, taskFile };
  const feedbackFile = join(dir, 'feedback.md');
  await writeFile(feedbackFile, `${context.feedback.trimEnd()}\n`, { mode: 0o600 });
  return { promptFile, taskFile, feedbackFile };
}
