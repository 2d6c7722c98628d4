import type { Task } from './backlog.js';
import { describeRemovals, type Removal, sanitizeText } from './task-text.js';

export interface GuardrailCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface PullBodyInput {
  task: Task;
  attempt: string;
  attemptNumber: number;
  maxAttempts: number;
  checks: GuardrailCheck[];
  runUrl?: string;
  /** The commit the branch was pushed at (the judged tree); named in the marker. */
  headSha?: string;
  /** Where the agent ran (`executor.sandbox` or the sandbox `auto` found); `none` is called out. */
  sandbox?: string;
  /** What sanitisation removed from the task text before the agent saw it (`sanitizeTask`). */
  removed?: readonly Removal[];
}

const MARKER =
  /<!-- leviathan:task=([a-z0-9][a-z0-9._-]{0,63}) attempt=([0-9A-Za-z]+)(?: head=([0-9a-f]{40,64}))? -->/g;

/**
 * Task text as it may appear in a PR body: no HTML comments (where a forged marker or hidden instructions
 * would hide, an unclosed `<!--` included), no invisible or bidirectional characters.
 */
export function sanitizeTaskText(text: string): string {
  return sanitizeText(text).text;
}

/** The hidden marker that ties a pull request to its task, attempt and pushed commit, whatever its branch. */
export function pullMarker(task: string, attempt: string, headSha?: string): string {
  return `<!-- leviathan:task=${task} attempt=${attempt}${headSha ? ` head=${headSha}` : ''} -->`;
}

/** The last marker of a body: Leviathan writes its own last, after any text that came from the task. */
export function parsePullMarker(body: string): { task: string; attempt: string; head?: string } | null {
  const all = [...body.matchAll(MARKER)];
  const m = all[all.length - 1];
  if (!m) return null;
  return m[3] ? { task: m[1]!, attempt: m[2]!, head: m[3] } : { task: m[1]!, attempt: m[2]! };
}

/** Markdown cells may not contain pipes or newlines. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Shown wherever an attempt ran without a sandbox (`executor.sandbox: none`). */
export const UNSANDBOXED_NOTE =
  '> [!WARNING]\n> The agent ran **without a sandbox** (`executor.sandbox: none`): it could read everything the runner could.';

export function renderPullBody(input: PullBodyInput): string {
  const { task } = input;
  const lines = [
    `**Leviathan task \`${task.id}\`** — attempt ${input.attemptNumber} of ${input.maxAttempts}`,
    '',
  ];
  const description = sanitizeTaskText(task.description).trim();
  if (description) lines.push(description, '');
  if (task.acceptance_criteria.length > 0) {
    const criteria = task.acceptance_criteria.map((c) => `- [ ] ${sanitizeTaskText(c)}`);
    lines.push('### Acceptance criteria', '', ...criteria, '');
  }
  if (input.removed && input.removed.length > 0) {
    lines.push(
      '### Task text sanitised',
      '',
      'Hidden content was removed from the task text before the agent saw it (and from this body):',
      '',
      ...describeRemovals(input.removed).map((r) => `- ${r}`),
      '',
    );
  }
  lines.push('### Guardrails', '', '| check | result | detail |', '|---|---|---|');
  for (const check of input.checks) {
    lines.push(`| ${cell(check.name)} | ${check.ok ? 'pass' : 'FAIL'} | ${cell(check.detail)} |`);
  }
  lines.push('', `Allowed paths: ${task.allowed_paths.map((p) => `\`${p}\``).join(', ')}`);
  if (input.sandbox === 'none') lines.push('', UNSANDBOXED_NOTE);
  else if (input.sandbox) lines.push('', `Sandbox: \`${input.sandbox}\``);
  if (input.runUrl) lines.push('', `Run: ${input.runUrl}`);
  lines.push('', 'Review the change as you would any contribution; Leviathan never merges it for you.');
  lines.push('', pullMarker(task.id, input.attempt, input.headSha));
  return `${lines.join('\n')}\n`;
}
