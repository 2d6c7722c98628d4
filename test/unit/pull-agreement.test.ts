/**
 * A pull counts for a task only when its marker, its branch and the log's attempt agree; a marked pull for
 * an attempt the log does not know means the log was rolled back.
 */
import { describe, expect, it } from '@jest/globals';
import { pullMarker } from '../../src/core/pr-body.js';
import { type ObservedPull, pullsBeyondLog, reconcile, taskOfPull } from '../../src/core/reconcile.js';
import { initialState, project } from '../../src/core/state.js';
import { EventBuilder } from '../helpers/events.js';

const PREFIX = 'leviathan/';
const NOW = new Date('2026-01-01T12:00:00.000Z');

function pull(number: number, head: string, body: string, state: ObservedPull['state']): ObservedPull {
  return { number, head, body, state };
}

function delivered() {
  const b = new EventBuilder();
  const a = b.attempt('docs-a');
  const state = project(b.chain(b.delivered(a, 7)));
  return { a, state };
}

function reconciled(pulls: ObservedPull[], state = delivered().state) {
  let n = 0;
  return reconcile({
    state,
    pulls,
    branchPrefix: PREFIX,
    wipBranches: new Set(),
    now: NOW,
    actor: { kind: 'scheduler' },
    newId: () => `r${++n}`,
  }).map((d) => `${d.type}:${d.task}`);
}

describe('taskOfPull', () => {
  it('a marker must name the task of the branch', () => {
    expect(taskOfPull(pull(1, 'leviathan/docs-a', pullMarker('docs-a', 'x'), 'open'), PREFIX)).toBe('docs-a');
    expect(taskOfPull(pull(1, 'leviathan/docs-a', pullMarker('docs-b', 'x'), 'open'), PREFIX)).toBeNull();
    expect(taskOfPull(pull(1, 'feature', pullMarker('docs-b', 'x'), 'open'), PREFIX)).toBeNull();
    expect(taskOfPull(pull(1, 'leviathan/docs-a', 'by hand', 'open'), PREFIX)).toBe('docs-a');
  });
});

describe('reconcile with markers', () => {
  it('the merge of the recorded PR with its own attempt completes the task', () => {
    const { a } = delivered();
    const merged = pull(7, 'leviathan/docs-a', pullMarker('docs-a', a.attempt), 'merged');
    expect(reconciled([merged])).toEqual(['pr.merged:docs-a', 'task.completed:docs-a']);
  });

  it('a merged PR whose marker names another task completes nothing', () => {
    const smuggled = pull(8, 'leviathan/docs-a', `${pullMarker('docs-b', 'zz')}`, 'merged');
    expect(reconciled([smuggled])).toEqual([]);
  });

  it('a merged PR whose marker names another attempt than the recorded one completes nothing', () => {
    const other = pull(7, 'leviathan/docs-a', pullMarker('docs-a', 'notTheAttempt'), 'merged');
    expect(reconciled([other])).toEqual([]);
  });
});

describe('pullsBeyondLog', () => {
  it('accepts pulls of attempts the log knows, and pulls without a marker', () => {
    const { a, state } = delivered();
    const pulls = [
      pull(7, 'leviathan/docs-a', pullMarker('docs-a', a.attempt), 'open'),
      pull(9, 'leviathan/docs-z', 'opened by a human', 'open'),
    ];
    expect(pullsBeyondLog(state, pulls, PREFIX)).toBeNull();
  });

  it('a marked pull on an empty (deleted or rolled back) log is a rollback', () => {
    const { a } = delivered();
    const p = pull(7, 'leviathan/docs-a', pullMarker('docs-a', a.attempt), 'merged');
    expect(pullsBeyondLog(initialState(), [p], PREFIX)).toMatch(/#7 .*attempt .* docs-a.*rolled back/);
  });

  it('an open pull for an attempt the log does not know is a rollback', () => {
    const { state } = delivered();
    const p = pull(7, 'leviathan/docs-a', pullMarker('docs-a', 'aUnknown'), 'open');
    expect(pullsBeyondLog(state, [p], PREFIX)).toMatch(/aUnknown/);
  });

  it("a marker that disagrees with its branch is not Leviathan's pull and proves nothing", () => {
    const p = pull(7, 'leviathan/docs-a', pullMarker('docs-b', 'aUnknown'), 'open');
    expect(pullsBeyondLog(initialState(), [p], PREFIX)).toBeNull();
  });
});
