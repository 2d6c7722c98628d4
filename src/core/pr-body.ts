import type { Task } from './backlog.js';

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
  /** Where the agent ran (`executor.sandbox` or the sandbox `auto` found); `none` is called out. */
  sandbox?: string;
}

const MARKER = /<!-- leviathan:task=([a-z0-9][a-z0-9._-]{0,63}) attempt=([0-9A-Za-z]+) -->/;

/** The hidden marker that ties a pull request to its task and attempt, whatever its branch is called. */
export function pullMarker(task: string, attempt: string): string {
  return `<!-- leviathan:task=${task} attempt=${attempt} -->`;
}

export function parsePullMarker(body: string): { task: string; attempt: string } | null {
  const m = MARKER.exec(body);
  return m ? { task: m[1]!, attempt: m[2]! } : null;
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
  if (task.description.trim()) lines.push(task.description.trim(), '');
  if (task.acceptance_criteria.length > 0) {
    lines.push('### Acceptance criteria', '', ...task.acceptance_criteria.map((c) => `- [ ] ${c}`), '');
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
  lines.push('', pullMarker(task.id, input.attempt));
  return `${lines.join('\n')}\n`;
}
