/**
 * The queries over the compact projection: task rows, reconciliation and the claim read settled tasks
 * (`State.done`) and tasks in play alike.
 */
import { describe, expect, it } from '@jest/globals';
import { BacklogSchema } from '../../src/core/backlog.js';
import { attemptCreated } from '../../src/core/claim.js';
import { ConfigSchema } from '../../src/core/config.js';
import { pullMarker } from '../../src/core/pr-body.js';
import { type ObservedPull, reconcile } from '../../src/core/reconcile.js';
import { select } from '../../src/core/select.js';
import { project } from '../../src/core/state.js';
import type { State } from '../../src/core/state-types.js';
import { taskRows } from '../../src/core/task-status.js';
import { EventBuilder } from '../helpers/events.js';

const NOW = new Date('2026-01-01T12:00:00.000Z');
const config = ConfigSchema.parse({ limits: { max_open_prs: 5, max_running_attempts: 5 } });
const backlog = BacklogSchema.parse({
  tasks: ['merged', 'closed', 'open', 'fresh'].map((id) => ({
    id,
    title: id,
    ready: true,
    allowed_paths: [`docs/${id}.md`],
  })),
});

/**
 * `merged`: a failed attempt, then one whose PR was merged (settled). `closed`: its only PR closed unmerged,
 * then completed by hand (settled). `open`: completed by hand while its PR is still open (in play).
 */
function history(): { b: EventBuilder; state: State } {
  const b = new EventBuilder('2026-01-01T10:00:00.000Z');
  const [m1, m2, c1, o1] = [b.attempt('merged'), b.attempt('merged'), b.attempt('closed'), b.attempt('open')];
  const state = project(
    b.chain([
      b.created(m1),
      b.failed(m1),
      ...b.delivered(m2, 1),
      b.prMerged('merged', 1),
      b.completed('merged', 1),
      ...b.delivered(c1, 2),
      b.prClosed('closed', 2),
      b.completed('closed'),
      ...b.delivered(o1, 3),
      b.completed('open'),
    ]),
  );
  return { b, state };
}

function pull(number: number, task: string, state: ObservedPull['state'], attempt = 'x'): ObservedPull {
  return { number, head: `leviathan/${task}`, body: pullMarker(task, attempt), state };
}

describe('queries over settled tasks', () => {
  it('the history leaves two tasks settled and one in play', () => {
    const { state } = history();
    expect(state.done).toStrictEqual({ merged: { attempts: 2, pr: 1 }, closed: { attempts: 1 } });
    expect(Object.keys(state.tasks)).toEqual(['open']);
  });

  it('task rows show attempts and the merged or open PR, as before compaction', () => {
    const { state } = history();
    const decision = select({ backlog, config, state, openPulls: [], now: NOW });
    const rows = taskRows(backlog, config, state, decision);
    expect(rows.map((r) => [r.task, r.state, r.attempts, r.pr])).toEqual([
      ['merged', 'done', 2, 1],
      ['closed', 'done', 1, null],
      ['open', 'done', 1, 3],
      ['fresh', 'ready', 0, null],
    ]);
  });

  it('reconcile records nothing again for settled tasks, and still closes the open PR of one in play', () => {
    const { state } = history();
    let n = 0;
    const drafts = reconcile({
      state,
      pulls: [pull(1, 'merged', 'merged'), pull(2, 'closed', 'closed'), pull(3, 'open', 'closed')],
      branchPrefix: 'leviathan/',
      wipBranches: new Set(),
      now: NOW,
      actor: { kind: 'scheduler' },
      newId: () => `r${++n}`,
    });
    expect(drafts.map((d) => [d.type, d.task, d.data])).toEqual([['pr.closed', 'open', { number: 3 }]]);
  });

  it('a new attempt of a settled task is numbered after all its earlier ones', () => {
    const { b, state } = history();
    const task = backlog.tasks[0]!;
    const ctx = { now: () => NOW, newId: () => 'e-claim', actor: { kind: 'cli' as const } };
    const draft = attemptCreated(task, 'a-next', state, config, ctx, true);
    expect(draft.data).toMatchObject({ number: 3, manual: true });
    const next = project(b.chain([draft]), state);
    expect(next.tasks.merged).toMatchObject({ attempts: 3, last_attempt: 'a-next', completed: true });
    expect(next.done).toStrictEqual({ closed: { attempts: 1 } });
  });
});
