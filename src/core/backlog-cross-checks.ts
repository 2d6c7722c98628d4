import { TASK_ID_PATTERN } from './backlog.js';
import { closest } from './closest-name.js';
import type { Config } from './config.js';
import { isRecord, type Raw } from './document-load.js';
import type { Diagnostic } from './errors.js';
import { allGlobsValid, globDiagnostics } from './glob-diagnostics.js';
import { branchNameError } from './ref-format.js';
import { formatPath, type PathSegment, type Positions } from './yaml-positions.js';

// ---------------------------------------------------------------------------------------------------------
// Cross checks (on the raw value, so they show up together with schema errors)

export function backlogCrossChecks(
  raw: unknown,
  yaml: Positions,
  file: string,
  config: Config,
): Diagnostic[] {
  if (!isRecord(raw) || !Array.isArray(raw.tasks)) return [];
  const tasks = raw.tasks as unknown[];
  const out: Diagnostic[] = [];
  const push = (p: PathSegment[], message: string, hint: string, pos = yaml.valueAt(p)) => {
    out.push({ file, line: pos.line, column: pos.column, path: formatPath(p), message, hint });
  };

  // ids: first definition wins; later ones are the duplicates.
  const firstIndex = new Map<string, number>();
  tasks.forEach((t, i) => {
    if (!isRecord(t) || typeof t.id !== 'string') return;
    const first = firstIndex.get(t.id);
    if (first === undefined) {
      firstIndex.set(t.id, i);
      return;
    }
    const firstLine = yaml.valueAt(['tasks', first, 'id']).line;
    push(
      ['tasks', i, 'id'],
      `duplicate id "${t.id}" (first defined at line ${firstLine})`,
      'task ids must be unique; rename or remove one of them',
    );
  });
  let ids: string[] | undefined; // for the hints of unknown dependencies only

  const limits = config.limits;
  // A valid prefix and an id without "..", a final "." or a final ".lock" make two valid branches (the id's
  // characters are all allowed in a ref): only other ids need git's whole rule.
  const prefixOk = branchNameError(`${config.pr.branch_prefix}x`) === null;
  const plainId = (id: string) =>
    prefixOk && !id.includes('..') && !id.endsWith('.') && !id.endsWith('.lock');
  tasks.forEach((t, i) => {
    if (!isRecord(t)) return;
    if (typeof t.id === 'string' && TASK_ID_PATTERN.test(t.id) && !plainId(t.id)) {
      // The id names the PR branch and the WIP branch: git must accept both, or the attempt dies in git.
      const branch = `${config.pr.branch_prefix}${t.id}`;
      const why = branchNameError(branch) ?? branchNameError(`leviathan-wip/${t.id}/attempt`);
      if (why !== null) {
        push(
          ['tasks', i, 'id'],
          `id "${t.id}" is not a valid branch name (${branch} ${why})`,
          'use letters, digits and single "-", "_" or "." between them; no "..", no ".lock" at the end',
        );
      }
    }
    if (Array.isArray(t.dependencies)) {
      t.dependencies.forEach((dep, j) => {
        if (typeof dep !== 'string' || firstIndex.has(dep)) return;
        ids ??= [...firstIndex.keys()];
        const close = closest(dep, ids);
        const known =
          ids.length > 0 ? `known ids: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}` : '';
        push(
          ['tasks', i, 'dependencies', j],
          `dependency "${dep}" is not a task in this backlog`,
          close ? `did you mean "${close}"?` : known || 'add that task or remove the dependency',
        );
      });
    }
    if (isWholeNumber(t.max_attempts) && t.max_attempts > limits.max_attempts_per_task) {
      push(
        ['tasks', i, 'max_attempts'],
        `max_attempts ${t.max_attempts} is above the config's limits.max_attempts_per_task (${limits.max_attempts_per_task})`,
        `a task may only lower the limit: use 1–${limits.max_attempts_per_task}, or raise it in the config`,
      );
    }
    if (isWholeNumber(t.timeout_minutes) && t.timeout_minutes > limits.attempt_timeout_minutes) {
      push(
        ['tasks', i, 'timeout_minutes'],
        `timeout_minutes ${t.timeout_minutes} is above the config's limits.attempt_timeout_minutes (${limits.attempt_timeout_minutes})`,
        `a task may only lower the limit: use 1–${limits.attempt_timeout_minutes}, or raise it in the config`,
      );
    }
    if (isRecord(t.executor)) {
      const minutes = t.executor.timeout_minutes;
      if (isWholeNumber(minutes) && minutes > limits.attempt_timeout_minutes) {
        push(
          ['tasks', i, 'executor', 'timeout_minutes'],
          `executor.timeout_minutes ${minutes} is above the config's limits.attempt_timeout_minutes (${limits.attempt_timeout_minutes})`,
          `a task's executor may only lower the limit: use 1–${limits.attempt_timeout_minutes}, or raise it in the config`,
        );
      }
      if (typeof t.executor.command === 'string' && Array.isArray(t.run)) {
        push(
          ['tasks', i, 'executor', 'command'],
          'a task with run commands has no agent: executor.command would never run',
          'keep either run (a script task) or executor.command (an agent task)',
        );
      }
    }
    if (!allGlobsValid(t.allowed_paths)) {
      out.push(...globDiagnostics(t.allowed_paths, ['tasks', i, 'allowed_paths'], yaml, file));
    }
  });

  for (const cycle of findCycles(tasks, firstIndex)) {
    push(
      ['tasks', cycle.task, 'dependencies', cycle.dep],
      `dependency cycle: ${cycle.ids.join(' → ')}`,
      'a task cannot depend on itself, directly or through others; remove one of these dependencies',
    );
  }
  return out;
}

function isWholeNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

interface Cycle {
  /** Index of the task whose dependency closes the cycle, and of that dependency in its list. */
  task: number;
  dep: number;
  ids: string[];
}

const NONE: unknown[] = [];
const ACTIVE = 1;
const DONE = 2;

/** Every back edge of a depth-first walk in file order: one report per cycle, at the edge that closes it. */
function findCycles(tasks: unknown[], firstIndex: Map<string, number>): Cycle[] {
  const depsOf = (i: number): unknown[] => {
    const t = tasks[i];
    return isRecord(t) && Array.isArray(t.dependencies) ? t.dependencies : NONE;
  };
  const idOf = (i: number) => (tasks[i] as Raw).id as string;
  // Per task index: unvisited (0), on the walk's stack, or done; the stack as two parallel arrays.
  const state = new Uint8Array(tasks.length);
  const nodes = new Int32Array(tasks.length);
  const nexts = new Int32Array(tasks.length);
  const cycles: Cycle[] = [];

  // Iterative so a long dependency chain cannot overflow the stack. Starts in file order of first
  // definitions (the order of firstIndex), by index: a cold Map iterator steps an object per entry.
  for (let start = 0; start < tasks.length; start++) {
    const t = tasks[start];
    if (!isRecord(t) || typeof t.id !== 'string' || firstIndex.get(t.id) !== start) continue;
    if (state[start] !== 0) continue;
    let depth = 1;
    nodes[0] = start;
    nexts[0] = 0;
    state[start] = ACTIVE;
    while (depth > 0) {
      const node = nodes[depth - 1]!;
      const deps = depsOf(node);
      if (nexts[depth - 1]! >= deps.length) {
        state[node] = DONE;
        depth -= 1;
        continue;
      }
      const j = nexts[depth - 1]!;
      nexts[depth - 1] = j + 1;
      const dep = deps[j];
      const target = typeof dep === 'string' ? firstIndex.get(dep) : undefined;
      if (target === undefined) continue;
      if (state[target] === ACTIVE) {
        const from = nodes.subarray(0, depth).indexOf(target);
        const ids = [...Array.from(nodes.subarray(from, depth), idOf), idOf(target)];
        cycles.push({ task: node, dep: j, ids });
      } else if (state[target] === 0) {
        state[target] = ACTIVE;
        nodes[depth] = target;
        nexts[depth] = 0;
        depth += 1;
      }
    }
  }
  return cycles;
}
