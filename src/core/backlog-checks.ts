import type { Backlog } from './backlog.js';
import type { Config } from './config.js';
import type { Diagnostic } from './errors.js';

const ID_LINE = /^(\s*-?\s*)id:\s*["']?([^"'#\s]+)["']?\s*(#.*)?$/;

/** Where each task's `id:` is in the backlog text, in one pass (flow-style entries are not found). */
export function taskLines(text: string): Map<string, { line: number; column: number }> {
  const found = new Map<string, { line: number; column: number }>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = ID_LINE.exec(lines[i] ?? '');
    if (m?.[2] && !found.has(m[2])) found.set(m[2], { line: i + 1, column: (m[1]?.length ?? 0) + 1 });
  }
  return found;
}

/**
 * Warnings about tasks that are valid but cannot succeed as they stand: a ready task with neither `run:` nor
 * an `executor.command` would fail every attempt and trip the breaker.
 */
export function readinessWarnings(
  backlog: Backlog,
  config: Config,
  text: string,
  file: string,
): Diagnostic[] {
  if (config.executor.command.trim() !== '') return [];
  const idle: Array<{ t: Backlog['tasks'][number]; index: number }> = [];
  backlog.tasks.forEach((t, index) => {
    if (t.ready && t.status === 'pending' && t.run === undefined && !t.executor?.command)
      idle.push({ t, index });
  });
  if (idle.length === 0) return [];
  const lines = taskLines(text);
  return idle.map(({ t, index }) => ({
    file,
    ...(lines.get(t.id) ?? { line: 1, column: 1 }),
    path: `tasks[${index}]`,
    message: `task "${t.id}" is ready but has no run: commands and executor.command is empty, so every attempt would fail`,
    hint: 'add run: commands to the task, or set executor.command in .leviathan/config.yaml to an agent',
  }));
}
