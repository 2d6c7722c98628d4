import { describe, expect, it } from '@jest/globals';
import { hashEvent } from '../../src/core/chain.js';
import type { LeviathanEvent } from '../../src/core/events.js';
import {
  applyEvent,
  attemptsOf,
  cloneState,
  dispatchesInHour,
  hourKey,
  initialState,
  openAttempts,
  project,
} from '../../src/core/state.js';
import type { State } from '../../src/core/state-types.js';
import { EventBuilder, jsonCopy } from '../helpers/events.js';

/** Chains raw event bodies without the writer's checks, to feed the fold what a hand-written log could hold. */
function rawChain(bodies: Array<Record<string, unknown>>): LeviathanEvent[] {
  let prev: string | null = null;
  return bodies.map((body, i) => {
    const e: Record<string, unknown> = { v: 1, seq: i + 1, ...body, prev };
    e.hash = hashEvent(e);
    prev = e.hash as string;
    return e as LeviathanEvent;
  });
}

describe('initialState', () => {
  it('is empty, closed and at seq 0', () => {
    expect(initialState()).toStrictEqual({
      v: 1,
      seq: 0,
      hash: null,
      ts: null,
      tasks: {},
      attempts: {},
      breaker: { open: false, consecutive_failures: 0 },
      dispatches: {},
    });
  });

  it('returns a fresh object each time', () => {
    const a = initialState();
    a.tasks.x = { id: 'x', attempts: [], failures: 0, completed: false, blocked: false };
    expect(initialState().tasks).toEqual({});
  });
});

describe('hourKey', () => {
  it('is the UTC hour of a Date or an ISO string', () => {
    expect(hourKey(new Date('2026-03-04T05:59:59.999Z'))).toBe('2026-03-04T05');
    expect(hourKey('2026-03-04T23:00:00.000Z')).toBe('2026-03-04T23');
    expect(hourKey(new Date(Date.UTC(2026, 0, 1, 0, 0, 0)))).toBe('2026-01-01T00');
  });
});

describe('applyEvent', () => {
  it('tracks seq, hash and ts of the last event', () => {
    const b = new EventBuilder();
    const [e] = b.chain([b.configInvalid()]);
    const s = applyEvent(initialState(), e!);
    expect(s.seq).toBe(1);
    expect(s.hash).toBe(e!.hash);
    expect(s.ts).toBe(e!.ts);
  });

  it('attempt.created adds a created attempt, lists it on the task and counts the dispatch', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const s = project(b.chain([b.created(a, { manual: true })]));
    expect(s.attempts[a.attempt]).toStrictEqual({
      id: a.attempt,
      task: 'docs',
      number: 1,
      status: 'created',
      branch: 'leviathan/docs',
      created_at: '2026-01-01T10:00:00.000Z',
      deadline: '2026-01-01T10:15:00.000Z',
      manual: true,
    });
    expect(s.tasks.docs).toStrictEqual({
      id: 'docs',
      attempts: [a.attempt],
      failures: 0,
      completed: false,
      blocked: false,
    });
    expect(s.dispatches).toStrictEqual({ '2026-01-01T10': 1 });
  });

  it('moves an attempt through dispatched and running', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const [c, d, st] = b.chain([b.created(a), b.dispatched(a), b.started(a)]);
    const s1 = project([c!, d!]);
    expect(s1.attempts[a.attempt]!.status).toBe('dispatched');
    expect(project([st!], s1).attempts[a.attempt]!.status).toBe('running');
  });

  it('never moves an attempt backwards (a late dispatch record after the worker started)', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const s = project(b.chain([b.created(a), b.started(a), b.dispatched(a)]));
    expect(s.attempts[a.attempt]!.status).toBe('running');
  });

  it('attempt.succeeded records the PR and resets consecutive failures', () => {
    const b = new EventBuilder();
    const a1 = b.attempt('one');
    const a2 = b.attempt('two');
    const s = project(b.chain([b.created(a1), b.failed(a1), b.created(a2), b.succeeded(a2, 4)]));
    expect(s.attempts[a2.attempt]).toMatchObject({ status: 'succeeded', pr: 4 });
    expect(s.breaker.consecutive_failures).toBe(0);
    expect(s.tasks.one!.failures).toBe(1);
  });

  it('attempt.failed records reason and WIP branch and counts the failure', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const s = project(b.chain([b.created(a), b.failed(a, 'scope_violation', 'leviathan-wip/docs/1')]));
    expect(s.attempts[a.attempt]).toMatchObject({
      status: 'failed',
      reason: 'scope_violation',
      wip_branch: 'leviathan-wip/docs/1',
    });
    expect(s.tasks.docs!.failures).toBe(1);
    expect(s.breaker.consecutive_failures).toBe(1);
  });

  it('attempt.timed_out is a failure with reason timeout', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const s = project(b.chain([b.created(a), b.started(a), b.timedOut(a, 'leviathan-wip/docs/x')]));
    expect(s.attempts[a.attempt]).toMatchObject({
      status: 'timed_out',
      reason: 'timeout',
      wip_branch: 'leviathan-wip/docs/x',
    });
    expect(s.tasks.docs!.failures).toBe(1);
    expect(s.breaker.consecutive_failures).toBe(1);
  });

  it('counts consecutive failures across tasks', () => {
    const b = new EventBuilder();
    const a1 = b.attempt('one');
    const a2 = b.attempt('two');
    const s = project(b.chain([b.created(a1), b.failed(a1), b.created(a2), b.timedOut(a2)]));
    expect(s.breaker.consecutive_failures).toBe(2);
  });

  it('keeps the first terminal status: a second terminal event counts nothing', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const s = project(b.chain([b.created(a), b.timedOut(a), b.failed(a), b.succeeded(a, 2)]));
    expect(s.attempts[a.attempt]!.status).toBe('timed_out');
    expect(s.attempts[a.attempt]!.pr).toBeUndefined();
    expect(s.tasks.docs!.failures).toBe(1);
    expect(s.breaker.consecutive_failures).toBe(1);
  });

  it('ignores attempt events for an attempt that was never created', () => {
    const b = new EventBuilder();
    const ghost = b.attempt('docs');
    const s = project(b.chain([b.started(ghost), b.failed(ghost), b.succeeded(ghost, 1)]));
    expect(s.attempts).toEqual({});
    expect(s.tasks).toEqual({});
    expect(s.breaker.consecutive_failures).toBe(0);
    expect(s.seq).toBe(3);
  });

  it('ignores a second attempt.created with the same attempt id', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const s = project(b.chain([b.created(a), b.created(a)]));
    expect(s.tasks.docs!.attempts).toEqual([a.attempt]);
    expect(s.dispatches).toEqual({ '2026-01-01T10': 1 });
  });

  it('pr.created opens the task PR and links it to the attempt', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const s = project(b.chain(b.delivered(a, 12)));
    expect(s.tasks.docs!.pr).toStrictEqual({
      number: 12,
      branch: 'leviathan/docs',
      state: 'open',
      attempt: a.attempt,
    });
    expect(s.attempts[a.attempt]).toMatchObject({ status: 'succeeded', pr: 12 });
  });

  it('pr.merged marks the PR merged without counting a failure', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const s = project(b.chain([...b.delivered(a, 12), b.prMerged('docs', 12), b.completed('docs', 12)]));
    expect(s.tasks.docs!.pr!.state).toBe('merged');
    expect(s.tasks.docs!.completed).toBe(true);
    expect(s.tasks.docs!.failures).toBe(0);
  });

  it('pr.closed closes the PR and fails the attempt that opened it, once', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const s = project(b.chain([...b.delivered(a, 12), b.prClosed('docs', 12), b.prClosed('docs', 12)]));
    expect(s.tasks.docs!.pr!.state).toBe('closed');
    expect(s.tasks.docs!.failures).toBe(1);
    expect(s.breaker.consecutive_failures).toBe(1);
    expect(s.attempts[a.attempt]).toMatchObject({ status: 'failed', reason: 'pr_closed' });
  });

  it('pr.closed of a PR the log never saw opened still counts as a failure', () => {
    const b = new EventBuilder();
    const s = project(b.chain([b.prClosed('docs', 3)]));
    expect(s.tasks.docs!.pr).toStrictEqual({ number: 3, branch: '', state: 'closed' });
    expect(s.tasks.docs!.failures).toBe(1);
  });

  it('a merged PR is not reopened for failure by a later close', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const s = project(b.chain([...b.delivered(a, 5), b.prMerged('docs', 5), b.prClosed('docs', 5)]));
    expect(s.tasks.docs!.pr!.state).toBe('merged');
    expect(s.tasks.docs!.failures).toBe(0);
  });

  it('a new PR replaces a closed one', () => {
    const b = new EventBuilder();
    const a1 = b.attempt('docs');
    const a2 = b.attempt('docs');
    const s = project(b.chain([...b.delivered(a1, 5), b.prClosed('docs', 5), ...b.delivered(a2, 6)]));
    expect(s.tasks.docs!.pr).toMatchObject({ number: 6, state: 'open', attempt: a2.attempt });
    expect(s.tasks.docs!.attempts).toEqual([a1.attempt, a2.attempt]);
    expect(s.attempts[a2.attempt]!.number).toBe(2);
  });

  it('task.completed and task.blocked set their flags', () => {
    const b = new EventBuilder();
    const s = project(b.chain([b.completed('one'), b.blocked('two', 2)]));
    expect(s.tasks.one).toMatchObject({ completed: true, blocked: false });
    expect(s.tasks.two).toMatchObject({ completed: false, blocked: true });
  });

  it('breaker.tripped opens the breaker; breaker.reset closes it and clears the count', () => {
    const b = new EventBuilder();
    const a1 = b.attempt('one');
    const a2 = b.attempt('one');
    const events = b.chain([b.created(a1), b.failed(a1), b.created(a2), b.failed(a2), b.tripped(2)]);
    const tripped = project(events);
    expect(tripped.breaker).toStrictEqual({
      open: true,
      consecutive_failures: 2,
      tripped_at: events[4]!.ts,
    });
    const reset = project(b.chain([b.reset()]), tripped);
    expect(reset.breaker).toStrictEqual({ open: false, consecutive_failures: 0 });
  });

  it('config.invalid changes nothing but the position', () => {
    const b = new EventBuilder();
    const [e] = b.chain([b.configInvalid()]);
    expect(applyEvent(initialState(), e!)).toStrictEqual({
      ...initialState(),
      seq: 1,
      hash: e!.hash,
      ts: e!.ts,
    });
  });

  it('does not modify the state it is given', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const events = b.chain([b.created(a), b.failed(a)]);
    const s1 = project([events[0]!]);
    const before = jsonCopy(s1);
    const s2 = applyEvent(s1, events[1]!);
    expect(s1).toStrictEqual(before);
    expect(s2).not.toBe(s1);
    expect(s2.attempts[a.attempt]!.status).toBe('failed');
  });

  it('keeps ids like __proto__ as plain keys', () => {
    const events = rawChain([
      {
        id: 'x1',
        ts: '2026-01-01T10:00:00.000Z',
        type: 'attempt.created',
        task: '__proto__',
        attempt: 'constructor',
        actor: { kind: 'cli' },
        data: { number: 1, branch: 'b', deadline: '2026-01-01T10:15:00.000Z', manual: false },
      },
      {
        id: 'x2',
        ts: '2026-01-01T10:01:00.000Z',
        type: 'attempt.failed',
        task: '__proto__',
        attempt: 'constructor',
        actor: { kind: 'cli' },
        data: { reason: 'executor_error', detail: '' },
      },
    ]);
    const s = project(events);
    expect(Object.getPrototypeOf(s.tasks)).toBe(Object.prototype);
    expect(Object.keys(s.tasks)).toEqual(['__proto__']);
    expect(Object.hasOwn(s.attempts, 'constructor')).toBe(true);
    expect(s.attempts.constructor).toMatchObject({ status: 'failed' });
    expect(({} as Record<string, unknown>).number).toBeUndefined();
    expect(JSON.stringify(cloneState(s))).toBe(JSON.stringify(s));
  });

  it('ignores task-scoped events that name no task (a hand-written log)', () => {
    const events = rawChain([
      {
        id: 'x1',
        ts: '2026-01-01T10:00:00.000Z',
        type: 'attempt.created',
        actor: { kind: 'human' },
        data: { number: 1, branch: 'b', deadline: '2026-01-01T10:15:00.000Z', manual: false },
      },
      {
        id: 'x2',
        ts: '2026-01-01T10:01:00.000Z',
        type: 'task.completed',
        actor: { kind: 'human' },
        data: { via: 'backlog_done' },
      },
      {
        id: 'x3',
        ts: '2026-01-01T10:02:00.000Z',
        type: 'pr.closed',
        actor: { kind: 'human' },
        data: { number: 1 },
      },
    ]);
    const s = project(events);
    expect(s.tasks).toEqual({});
    expect(s.attempts).toEqual({});
    expect(s.seq).toBe(3);
  });
});

describe('dispatch counters', () => {
  it('count attempts per UTC hour', () => {
    const b = new EventBuilder('2026-01-01T10:58:00.000Z');
    const [a1, a2, a3] = [b.attempt('t'), b.attempt('t'), b.attempt('t')];
    const s = project(b.chain([b.created(a1), b.created(a2), b.created(a3)]));
    expect(s.dispatches).toStrictEqual({ '2026-01-01T10': 2, '2026-01-01T11': 1 });
    expect(dispatchesInHour(s, new Date('2026-01-01T10:30:00Z'))).toBe(2);
    expect(dispatchesInHour(s, new Date('2026-01-01T11:59:59Z'))).toBe(1);
    expect(dispatchesInHour(s, new Date('2026-01-01T12:00:00Z'))).toBe(0);
  });

  it('are pruned once more than 48 hours older than the newest event', () => {
    const b = new EventBuilder('2026-01-01T10:00:00.000Z');
    const a = b.attempt('t');
    const first = b.chain([b.created(a)]);
    b.at('2026-01-03T10:59:00.000Z');
    const within = project(b.chain([b.configInvalid()]), project(first));
    expect(within.dispatches).toStrictEqual({ '2026-01-01T10': 1 });
    b.at('2026-01-03T11:00:00.000Z');
    const after = project(b.chain([b.configInvalid()]), within);
    expect(after.dispatches).toStrictEqual({});
  });
});

describe('project', () => {
  it('of nothing is the initial state', () => {
    expect(project([])).toStrictEqual(initialState());
  });

  it('continues from a snapshot without modifying it', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const events = b.chain([...b.delivered(a, 3), b.prMerged('docs', 3), b.completed('docs', 3)]);
    const snapshot = project(events.slice(0, 3));
    const before = jsonCopy(snapshot);
    expect(project(events.slice(3), snapshot)).toStrictEqual(project(events));
    expect(snapshot).toStrictEqual(before);
  });

  it('refuses an event that does not follow the state (skipped, repeated or foreign)', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const events = b.chain(b.delivered(a, 3));
    expect(() => project([events[0]!, events[2]!])).toThrow(/does not follow/);
    expect(() => project([events[0]!, events[0]!])).toThrow(/does not follow/);
    const other = new EventBuilder().chain([b.reset(), b.configInvalid()]);
    expect(() => project([events[0]!, other[1]!])).toThrow(/links to/);
  });

  it('survives a JSON round trip exactly, so it can be the state.json snapshot', () => {
    const b = new EventBuilder();
    const a1 = b.attempt('one');
    const a2 = b.attempt('two');
    const s = project(
      b.chain([
        ...b.delivered(a1, 1),
        b.created(a2),
        b.failed(a2, 'verify_failed', 'leviathan-wip/two/x'),
        b.tripped(1, 1),
        b.prClosed('one', 1),
        b.blocked('two', 1),
      ]),
    );
    const text = JSON.stringify(s);
    expect(JSON.parse(text)).toStrictEqual(s);
    expect(JSON.stringify(JSON.parse(text))).toBe(text);
  });

  it('replays to the same state every time', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const events = b.chain([...b.delivered(a, 3), b.prClosed('docs', 3)]);
    expect(JSON.stringify(project(events))).toBe(JSON.stringify(project(jsonCopy(events))));
  });
});

describe('query helpers', () => {
  function busy(): { s: State; ids: string[] } {
    const b = new EventBuilder();
    const [a, c, d, e, f] = [b.attempt('x'), b.attempt('x'), b.attempt('y'), b.attempt('z'), b.attempt('w')];
    const s = project(
      b.chain([
        b.created(a),
        b.failed(a),
        b.created(c),
        b.created(d),
        b.dispatched(d),
        b.created(e),
        b.started(e),
        b.created(f),
        b.succeeded(f, 9),
      ]),
    );
    return { s, ids: [a.attempt, c.attempt, d.attempt, e.attempt, f.attempt] };
  }

  it('openAttempts lists created, dispatched and running attempts in creation order', () => {
    const { s, ids } = busy();
    expect(openAttempts(s).map((a) => [a.id, a.status])).toEqual([
      [ids[1], 'created'],
      [ids[2], 'dispatched'],
      [ids[3], 'running'],
    ]);
  });

  it('attemptsOf lists one task’s attempts in creation order', () => {
    const { s, ids } = busy();
    expect(attemptsOf(s, 'x').map((a) => a.id)).toEqual([ids[0], ids[1]]);
    expect(attemptsOf(s, 'nobody')).toEqual([]);
    expect(attemptsOf(s, 'constructor')).toEqual([]);
  });
});
