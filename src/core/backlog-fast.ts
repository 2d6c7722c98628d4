/**
 * The backlog schema's verdict without zod for the backlogs nearly everyone writes: every key known, every
 * value of its type. A 10,000-task backlog then costs one pass over plain objects instead of zod's
 * per-task parse and copies. It returns exactly what `BacklogSchema` returns for the same value (keys in the
 * schema's order, defaults filled in, a `null` for a key with a default read as "use the default", as
 * documents.ts does), or null as soon as anything is unusual or wrong: zod then decides and explains.
 * `test/unit/backlog-fast.test.ts` holds it to the schema.
 */
import {
  type Backlog,
  PRIORITIES,
  TASK_ID_PATTERN,
  TASK_STATUSES,
  type Task,
  TaskSchema,
} from './backlog.js';

type Raw = Record<string, unknown>;

const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;

/** A list of strings (each at least `min` long), or null. */
function strings(v: unknown, min: number): string[] | null {
  if (!Array.isArray(v)) return null;
  for (let i = 0; i < v.length; i++) {
    const s = v[i];
    if (typeof s !== 'string' || s.length < min) return null;
  }
  return v as string[];
}

/** `BacklogSchema`'s output for `raw`, or null when zod has to look (anything unknown, missing or wrong). */
export function fastBacklog(raw: unknown): Backlog | null {
  if (!isRecord(raw)) return null;
  let version: 1 | undefined;
  let tasks: Task[] = [];
  for (const key in raw) {
    const v = raw[key];
    if (key === 'version') {
      if (v === 1) version = 1;
      else if (v !== null) return null;
    } else if (key === 'tasks') {
      if (v === null) continue;
      if (!Array.isArray(v)) return null;
      tasks = new Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const task = fastTask(v[i]);
        if (task === null) return null;
        tasks[i] = task;
      }
    } else return null;
  }
  return version === undefined ? { tasks } : { version, tasks };
}

/** `TaskSchema`'s output for `t`, or null. */
function fastTask(t: unknown): Task | null {
  if (!isRecord(t)) return null;
  let id: string | undefined;
  let title: string | undefined;
  let description = '';
  let ready = false;
  let status: Task['status'] = 'pending';
  let priority: Task['priority'] = 'medium';
  let dependencies: string[] | undefined;
  let allowedPaths: string[] | undefined;
  let criteria: string[] | undefined;
  let labels: string[] | undefined;
  let run: string[] | undefined;
  let verify: string | undefined;
  let maxAttempts: number | undefined;
  let timeout: number | undefined;
  let executor: Task['executor'];
  for (const key in t) {
    const v = t[key];
    // A null for a key with a default (or an optional one) is that default; the three required keys need values.
    if (v === null && !REQUIRED_KEYS.has(key)) {
      if (!OPTIONAL_KEYS.has(key)) return null;
      continue;
    }
    switch (key) {
      case 'id':
        if (typeof v !== 'string' || !TASK_ID_PATTERN.test(v)) return null;
        id = v;
        break;
      case 'title':
        if (typeof v !== 'string' || v.length < 1 || v.length > 200) return null;
        title = v;
        break;
      case 'description':
        if (typeof v !== 'string') return null;
        description = v;
        break;
      case 'ready':
        if (typeof v !== 'boolean') return null;
        ready = v;
        break;
      case 'status':
        if (!(TASK_STATUSES as readonly unknown[]).includes(v)) return null;
        status = v as Task['status'];
        break;
      case 'priority':
        if (!(PRIORITIES as readonly unknown[]).includes(v)) return null;
        priority = v as Task['priority'];
        break;
      case 'dependencies':
        dependencies = strings(v, 0) ?? undefined;
        if (dependencies === undefined) return null;
        break;
      case 'allowed_paths':
        allowedPaths = strings(v, 0) ?? undefined;
        if (allowedPaths === undefined || allowedPaths.length === 0) return null;
        break;
      case 'acceptance_criteria':
        criteria = strings(v, 0) ?? undefined;
        if (criteria === undefined) return null;
        break;
      case 'labels':
        labels = strings(v, 1) ?? undefined;
        if (labels === undefined) return null;
        break;
      case 'run':
        run = strings(v, 1) ?? undefined;
        if (run === undefined || run.length === 0) return null;
        break;
      case 'verify':
        if (typeof v !== 'string') return null;
        verify = v;
        break;
      case 'max_attempts':
        if (!isCount(v)) return null;
        maxAttempts = v;
        break;
      case 'timeout_minutes':
        if (!isCount(v)) return null;
        timeout = v;
        break;
      case 'executor': {
        const e = fastExecutor(v);
        if (e === null) return null;
        executor = e;
        break;
      }
      default:
        return null;
    }
  }
  if (id === undefined || title === undefined || allowedPaths === undefined) return null;
  // The schema's key order, as zod builds it.
  const task: Task = {
    id,
    title,
    description,
    ready,
    status,
    priority,
    dependencies: dependencies ?? [],
    allowed_paths: allowedPaths,
    acceptance_criteria: criteria ?? [],
    labels: labels ?? [],
  };
  if (run !== undefined) task.run = run;
  if (verify !== undefined) task.verify = verify;
  if (maxAttempts !== undefined) task.max_attempts = maxAttempts;
  if (timeout !== undefined) task.timeout_minutes = timeout;
  if (executor !== undefined) task.executor = executor;
  return task;
}

/** The task keys with a default or optional (a null there means "not given"). */
/** The keys a task cannot do without; every other key of the schema may be null (its default) or absent. */
const REQUIRED_KEYS = new Set(['id', 'title', 'allowed_paths']);
const OPTIONAL_KEYS = new Set(Object.keys(TaskSchema.shape).filter((key) => !REQUIRED_KEYS.has(key)));

function fastExecutor(v: unknown): NonNullable<Task['executor']> | null {
  if (!isRecord(v)) return null;
  let command: string | undefined;
  let timeout: number | undefined;
  for (const key in v) {
    const x = v[key];
    if (x === null && (key === 'command' || key === 'timeout_minutes')) continue;
    if (key === 'command' && typeof x === 'string' && x.length >= 1) command = x;
    else if (key === 'timeout_minutes' && isCount(x)) timeout = x;
    else return null;
  }
  const out: NonNullable<Task['executor']> = {};
  if (command !== undefined) out.command = command;
  if (timeout !== undefined) out.timeout_minutes = timeout;
  return out;
}
