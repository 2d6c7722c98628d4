import type { Backlog } from './backlog.js';
import type { Config } from './config.js';
import { taskScope } from './task-scope.js';

export interface BacklogSummary {
  tasks: number;
  /** Tasks a human marked `ready: true` that are still `pending`: the ones the scheduler may consider. */
  ready: number;
  /** Tasks whose `allowed_paths` lie inside the config's fence and away from protected paths. */
  inScope: number;
}

/**
 * The summary `validate` prints. `inScope`, when given, is what `parseBacklogText` counted against this same
 * config (each task's scope is decided once, not again for the summary).
 */
export function summarizeBacklog(backlog: Backlog, config: Config, inScope?: number): BacklogSummary {
  let ready = 0;
  let scoped = 0;
  for (let i = 0; i < backlog.tasks.length; i++) {
    const task = backlog.tasks[i]!;
    if (task.ready && task.status === 'pending') ready += 1;
    if (inScope === undefined && taskScope(task.allowed_paths, config.scope).inScope) scoped += 1;
  }
  return { tasks: backlog.tasks.length, ready, inScope: inScope ?? scoped };
}
