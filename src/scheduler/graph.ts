import type { Backlog } from '../core/backlog.js';
import type { TaskRow } from '../core/task-status.js';

const COLOURS: Record<TaskRow['state'], string> = {
  done: 'fill:#2da44e,color:#fff',
  pr_open: 'fill:#8250df,color:#fff',
  running: 'fill:#0969da,color:#fff',
  ready: 'fill:#ddf4ff,color:#000',
  waiting: 'fill:#fff8c5,color:#000',
  not_ready: 'fill:#eaeef2,color:#000',
  blocked: 'fill:#cf222e,color:#fff',
  out_of_scope: 'fill:#bc4c00,color:#fff',
};

/** Mermaid node ids must be plain; task ids are `[a-z0-9-]`, so a prefix keeps them apart from keywords. */
const node = (id: string) => `t_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** The task dependencies as a Mermaid graph, each task coloured by its state (for job summaries). */
export function renderTaskGraph(backlog: Backlog, rows: readonly TaskRow[]): string {
  const state = new Map(rows.map((r) => [r.task, r.state]));
  const lines = ['```mermaid', 'graph LR'];
  for (const task of backlog.tasks) {
    lines.push(`  ${node(task.id)}["${task.id}<br/>${state.get(task.id) ?? 'unknown'}"]`);
  }
  for (const task of backlog.tasks) {
    for (const dep of task.dependencies) lines.push(`  ${node(dep)} --> ${node(task.id)}`);
  }
  for (const [name, style] of Object.entries(COLOURS)) lines.push(`  classDef ${name} ${style}`);
  for (const task of backlog.tasks) {
    const s = state.get(task.id);
    if (s) lines.push(`  class ${node(task.id)} ${s}`);
  }
  lines.push('```');
  return `${lines.join('\n')}\n`;
}
