/**
 * The log against the outside world (issue 7 §3): a WIP branch or a marked pull of an attempt the log does
 * not account for is a rollback; an honest log (empty, or with every attempt recorded) never is.
 */
import { describe, expect, it } from '@jest/globals';
import {
  attemptsBeyondLog,
  logBehindOutside,
  namedAttempts,
  parseWipBranch,
} from '../../src/core/log-freshness.js';
import { pullMarker } from '../../src/core/pr-body.js';
import { initialState, project } from '../../src/core/state.js';
import { EventBuilder } from '../helpers/events.js';

const PREFIX = 'leviathan/';
const wip = (task: string, attempt: string) => `leviathan-wip/${task}/${attempt}`;

/** `doomed` fails three attempts (each leaving a WIP branch) and is blocked; the log cut after `cut` events. */
function history(cut?: number) {
  const b = new EventBuilder();
  const drafts = [];
  const attempts = [];
  for (let i = 0; i < 3; i++) {
    const a = b.attempt('doomed');
    attempts.push(a.attempt);
    drafts.push(b.created(a), b.dispatched(a), b.failed(a, 'verify_failed', wip('doomed', a.attempt)));
  }
  drafts.push(b.blocked('doomed', 3));
  const events = b.chain(drafts);
  return { state: project(cut === undefined ? events : events.slice(0, cut)), attempts };
}

describe('parseWipBranch', () => {
  it('splits task and attempt at the last slash', () => {
    expect(parseWipBranch('leviathan-wip/docs-a/01J')).toEqual({ task: 'docs-a', attempt: '01J' });
    expect(parseWipBranch('leviathan-wip/area/docs-a/01J')).toEqual({ task: 'area/docs-a', attempt: '01J' });
    expect(parseWipBranch('leviathan-wip/docs-a')).toBeNull();
    expect(parseWipBranch('leviathan-wip/docs-a/')).toBeNull();
    expect(parseWipBranch('feature/x/y')).toBeNull();
  });
});

describe('attemptsBeyondLog', () => {
  it('an honest log knows every attempt its WIP branches name, the pruned older ones included', () => {
    const { state, attempts } = history();
    // The state keeps only the newest attempt of a task: the older ones are accounted for by the count.
    expect(Object.keys(state.attempts)).toEqual([attempts[2]]);
    const named = namedAttempts(
      attempts.map((a) => wip('doomed', a)),
      [],
      PREFIX,
    );
    expect(attemptsBeyondLog(state, named)).toBeNull();
  });

  it('an empty or missing log with nothing on the origin is no rollback (a fresh repository)', () => {
    expect(logBehindOutside(initialState(), [], new Set(), PREFIX)).toBeNull();
    expect(logBehindOutside(initialState(), [], null, PREFIX)).toBeNull();
  });

  it('a missing log while the origin holds a WIP branch is a deletion', () => {
    const { attempts } = history();
    const why = logBehindOutside(initialState(), [], new Set([wip('doomed', attempts[0] as string)]), PREFIX);
    expect(why).toMatch(
      new RegExp(`^branch leviathan-wip/doomed/${attempts[0]} names attempt .* empty or missing: .*deleted$`),
    );
    expect(why).not.toContain('\n');
  });

  it('a log rolled back to before the blocked task’s later attempts is caught by the count', () => {
    const { attempts } = history();
    const rolledBack = history(3).state; // only the first attempt: created, dispatched, failed
    const branches = new Set(attempts.map((a) => wip('doomed', a)));
    const why = logBehindOutside(rolledBack, [], branches, PREFIX);
    expect(why).toMatch(/names 3 attempts of task doomed .*records 1: the log was rolled back/);
    expect(why).toMatch(new RegExp(`leviathan-wip/doomed/(${attempts[1]}|${attempts[2]})`));
  });

  it('a log rolled back to before the task existed is caught by the task', () => {
    const b = new EventBuilder();
    const other = b.attempt('other');
    const first = b.chain([b.created(other), b.dispatched(other)]);
    const why = logBehindOutside(project(first), [], new Set([wip('doomed', 'a9999')]), PREFIX);
    expect(why).toMatch(/names attempt a9999 of task doomed, but the event log does not know the task/);
  });

  it('marked pulls count as named attempts; a marker that disagrees with its branch names nothing', () => {
    const pull = (n: number, head: string, task: string, attempt: string) => ({
      number: n,
      head,
      body: pullMarker(task, attempt),
      state: 'closed' as const,
    });
    const named = namedAttempts(
      [],
      [pull(1, 'leviathan/docs-a', 'docs-a', 'x1'), pull(2, 'leviathan/docs-a', 'docs-b', 'x2')],
      PREFIX,
    );
    expect(named).toEqual([{ task: 'docs-a', attempt: 'x1', where: 'pull request #1' }]);
    expect(attemptsBeyondLog(initialState(), named)).toMatch(/^pull request #1 names attempt x1/);
  });
});
