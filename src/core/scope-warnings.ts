import type { Backlog } from './backlog.js';
import { type Config, DEFAULT_PROTECTED_PATHS } from './config.js';
import type { Diagnostic } from './errors.js';
import { taskScope } from './task-scope.js';
import { formatPath, type PathSegment, type Positions } from './yaml-positions.js';

export function configWarnings(config: Config, yaml: Positions, file: string): Diagnostic[] {
  const missing = DEFAULT_PROTECTED_PATHS.filter((p) => !config.scope.protected_paths.includes(p));
  if (missing.length === 0) return [];
  const path = ['scope', 'protected_paths'];
  const { line, column } = yaml.valueAt(path);
  return [
    {
      file,
      line,
      column,
      path: formatPath(path),
      message: `protected_paths leaves out default protections: ${missing.join(', ')}`,
      hint: 'setting protected_paths replaces the defaults; list them again unless you mean to drop them',
    },
  ];
}
/** The out-of-scope warnings (for tasks not done yet) and how many tasks, done ones included, are in scope. */
export function backlogWarnings(
  backlog: Backlog,
  yaml: Positions,
  file: string,
  config: Config,
): { warnings: Diagnostic[]; inScope: number } {
  const out: Diagnostic[] = [];
  let inScope = 0;
  const tasks = backlog.tasks;
  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i]!;
    const scope = taskScope(task.allowed_paths, config.scope);
    if (scope.inScope) {
      inScope += 1;
      continue;
    }
    if (task.status === 'done') continue;
    const k = task.allowed_paths.indexOf(scope.path);
    const p: PathSegment[] = k >= 0 ? ['tasks', i, 'allowed_paths', k] : ['tasks', i, 'allowed_paths'];
    const { line, column } = yaml.valueAt(p);
    out.push({
      file,
      line,
      column,
      path: formatPath(p),
      message: `task "${task.id}" is out of scope: ${scope.why}`,
      hint: "the scheduler will skip it; narrow the task's allowed_paths or widen scope.allowed_paths in the config",
    });
  }
  return { warnings: out, inScope };
}
