import { describe, expect, it } from '@jest/globals';
import { hashEvent } from '../../src/core/chain.js';
import type { LeviathanEvent } from '../../src/core/events.js';
import {
  applyEvent,
  attemptCount,
  attemptsCharged,
  cloneState,
  dispatchesInHour,
  hourKey,
  initialState,
  latestAttempt,
  openAttempts,
  project,
  taskSummary,
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
      v: 3,
      seq: 0,
      hash: null,
      ts: null,
      tasks: {},
      done: {},
      attempts: {},
      breaker: { open: false, consecutive_failures: 0 },
      dispatches: {},
    });
  });

  it('returns a fresh object each time', () => {
    const a = initialState();
    a.tasks.x = { id: 'x', attempts: 0, failures: 0, completed: false, blocked: false };
    a.done.y = { attempts: 1 };
    expect(initialState().tasks).toEqual({});
    expect(initialState().done).toEqual({});
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

  it('attempt.created adds a created attempt, counts it on the task and counts the dispatch', () => {
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
      attempts: 1,
      last_attempt: a.attempt,
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
    expect(s.tasks.docs!.attempts).toBe(1);
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
    const merged = project(b.chain([...b.delivered(a, 12), b.prMerged('docs', 12)]));
    expect(merged.tasks.docs!.pr!.state).toBe('merged');
    expect(merged.tasks.docs!.failures).toBe(0);
    expect(merged.breaker.consecutive_failures).toBe(0);
    // task.completed then settles it: completed, nothing open.
    const s = project(b.chain([b.completed('docs', 12)]), merged);
    expect(s.done).toStrictEqual({ docs: { attempts: 1, pr: 12 } });
    expect(s.tasks.docs).toBeUndefined();
    expect(taskSummary(s, 'docs')).toStrictEqual({
      id: 'docs',
      attempts: 1,
      completed: true,
      blocked: false,
      pr: { number: 12, branch: '', state: 'merged' },
    });
  });

  it('pr.closed closes the PR and fails the attempt that opened it, once, without feeding the breaker', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const s = project(b.chain([...b.delivered(a, 12), b.prClosed('docs', 12), b.prClosed('docs', 12)]));
    expect(s.tasks.docs!.pr!.state).toBe('closed');
    expect(s.tasks.docs!.failures).toBe(1);
    // A human's rejection is not a failing worker (issue 10).
    expect(s.breaker.consecutive_failures).toBe(0);
    expect(s.attempts[a.attempt]).toMatchObject({ status: 'failed', reason: 'pr_closed' });
  });

  it('pr.closed of a PR the log never saw opened still counts as a failure', () => {
    const b = new EventBuilder();
    const s = project(b.chain([b.prClosed('docs', 3)]));
    expect(s.tasks.docs!.pr).toStrictEqual({ number: 3, branch: '', state: 'closed' });
    expect(s.tasks.docs!.failures).toBe(1);
  });

  it('task.blocked records its reason and entry; task.retried unblocks and restarts the budget', () => {
    const b = new EventBuilder();
    const a1 = b.attempt('docs');
    const a2 = b.attempt('docs');
    const s = project(
      b.chain([
        b.created(a1),
        b.failed(a1),
        ...b.delivered(a2, 7),
        b.prClosed('docs', 7),
        { ...b.blocked('docs', 2, 'pr_closed'), data: { reason: 'pr_closed', attempts: 2, entry: 'abc' } },
      ]),
    );
    expect(s.tasks.docs).toMatchObject({ blocked: true, blocked_reason: 'pr_closed', blocked_entry: 'abc' });
    expect(attemptsCharged(s, 'docs')).toBe(2);
    const r = project(b.chain([b.retried('docs', 'fixed the spec')]), s);
    expect(r.tasks.docs).toMatchObject({ blocked: false, attempts: 2, retry_base: 2 });
    expect(r.tasks.docs!.blocked_reason).toBeUndefined();
    expect(r.tasks.docs!.pr).toBeUndefined();
    expect(attemptsCharged(r, 'docs')).toBe(0);
  });

  it('task.retried of a settled or unknown task changes nothing but the position', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const s = project(b.chain([...b.delivered(a, 5), b.prMerged('docs', 5), b.completed('docs', 5)]));
    const r = project(b.chain([b.retried('docs'), b.retried('nobody')]), s);
    expect({ ...r, seq: 0, hash: null, ts: null }).toStrictEqual({ ...s, seq: 0, hash: null, ts: null });
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
    expect(s.tasks.docs!.attempts).toBe(2);
    expect(s.tasks.docs!.last_attempt).toBe(a2.attempt);
    expect(s.attempts[a2.attempt]!.number).toBe(2);
    // The first attempt is finished and no longer the newest: the compact state drops it.
    expect(s.attempts[a1.attempt]).toBeUndefined();
  });

  it('task.completed and task.blocked set their flags', () => {
    const b = new EventBuilder();
    const a = b.attempt('three');
    const s = project(b.chain([b.completed('one'), b.blocked('two', 2), b.created(a), b.completed('three')]));
    // Completed with nothing open: settled at once.
    expect(s.done).toStrictEqual({ one: { attempts: 0 } });
    expect(taskSummary(s, 'one')).toMatchObject({ completed: true, blocked: false });
    expect(s.tasks.two).toMatchObject({ completed: false, blocked: true });
    // Completed while an attempt is open: stays in play, flagged.
    expect(s.tasks.three).toMatchObject({ completed: true, blocked: false, attempts: 1 });
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
    expect(s.done).toEqual({});
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

  it('attemptCount counts every attempt ever created; latestAttempt is the newest one', () => {
    const { s, ids } = busy();
    expect(attemptCount(s, 'x')).toBe(2);
    expect(latestAttempt(s, 'x')?.id).toBe(ids[1]);
    expect(latestAttempt(s, 'w')).toMatchObject({ id: ids[4], status: 'succeeded', pr: 9 });
    expect(attemptCount(s, 'nobody')).toBe(0);
    expect(latestAttempt(s, 'nobody')).toBeUndefined();
    expect(attemptCount(s, 'constructor')).toBe(0);
    expect(taskSummary(s, 'constructor')).toBeUndefined();
    expect(taskSummary(s, '__proto__')).toBeUndefined();
  });

  it('attemptCount and taskSummary also answer for settled tasks', () => {
    const b = new EventBuilder();
    const [a1, a2] = [b.attempt('t'), b.attempt('t')];
    const s = project(
      b.chain([b.created(a1), b.failed(a1), ...b.delivered(a2, 3), b.prMerged('t', 3), b.completed('t', 3)]),
    );
    expect(s.done).toStrictEqual({ t: { attempts: 2, pr: 3 } });
    expect(attemptCount(s, 't')).toBe(2);
    expect(latestAttempt(s, 't')).toBeUndefined();
    expect(taskSummary(s, 't')).toMatchObject({ id: 't', attempts: 2, completed: true, pr: { number: 3 } });
    // A PR closed unmerged is not kept for a settled task: the status table shows none.
    const c = new EventBuilder();
    const a = c.attempt('c');
    const closed = project(c.chain([...c.delivered(a, 4), c.prClosed('c', 4), c.completed('c')]));
    expect(closed.done).toStrictEqual({ c: { attempts: 1 } });
    expect(taskSummary(closed, 'c')?.pr).toBeUndefined();
  });
});

describe('compact projection', () => {
  it('drops a finished attempt once a newer one exists; an older one still open stays until it ends', () => {
    const b = new EventBuilder();
    const [a1, a2] = [b.attempt('t'), b.attempt('t')];
    const both = project(b.chain([b.created(a1), b.created(a2)]));
    expect(Object.keys(both.attempts)).toEqual([a1.attempt, a2.attempt]);
    const s = project(b.chain([b.failed(a1, 'verify_failed', 'leviathan-wip/t/1')]), both);
    expect(Object.keys(s.attempts)).toEqual([a2.attempt]);
    expect(s.tasks.t).toMatchObject({ attempts: 2, last_attempt: a2.attempt, failures: 1 });
    expect(s.breaker.consecutive_failures).toBe(1);
    // The newest attempt is kept when it ends, with what `status` shows of it.
    const ended = project(b.chain([b.timedOut(a2, 'leviathan-wip/t/2')]), s);
    expect(ended.attempts[a2.attempt]).toMatchObject({
      status: 'timed_out',
      reason: 'timeout',
      wip_branch: 'leviathan-wip/t/2',
    });
  });

  it('a completed task stays in play while its PR or an attempt is open, and settles once nothing is', () => {
    const b = new EventBuilder();
    const a = b.attempt('t');
    const prOpen = project(b.chain([...b.delivered(a, 5), b.completed('t')]));
    expect(prOpen.tasks.t).toMatchObject({ completed: true, pr: { number: 5, state: 'open' } });
    expect(prOpen.done).toEqual({});
    const merged = project(b.chain([b.prMerged('t', 5)]), prOpen);
    expect(merged.tasks).toEqual({});
    expect(merged.attempts).toEqual({});
    expect(merged.done).toStrictEqual({ t: { attempts: 1, pr: 5 } });

    const c = new EventBuilder();
    const r = c.attempt('r');
    const running = project(c.chain([c.created(r), c.started(r), c.completed('r')]));
    expect(running.tasks.r).toMatchObject({ completed: true, attempts: 1 });
    expect(openAttempts(running).map((x) => x.id)).toEqual([r.attempt]);
    const over = project(c.chain([c.failed(r)]), running);
    expect(over.done).toStrictEqual({ r: { attempts: 1 } });
    expect(over.tasks).toEqual({});
    expect(over.attempts).toEqual({});
    expect(over.breaker.consecutive_failures).toBe(1);
  });

  it('a settled task comes back into play with a new attempt or PR, its count continued', () => {
    const b = new EventBuilder();
    const [a1, a2] = [b.attempt('t'), b.attempt('t')];
    const settled = project(b.chain([...b.delivered(a1, 1), b.prMerged('t', 1), b.completed('t', 1)]));
    expect(settled.done).toStrictEqual({ t: { attempts: 1, pr: 1 } });
    const again = project(b.chain([b.created(a2)]), settled);
    expect(again.done).toEqual({});
    expect(again.tasks.t).toStrictEqual({
      id: 't',
      attempts: 2,
      failures: 0,
      completed: true,
      blocked: false,
      pr: { number: 1, branch: '', state: 'merged' },
      last_attempt: a2.attempt,
    });
    expect(again.attempts[a2.attempt]).toMatchObject({ number: 2, status: 'created' });
    const twice = project(b.chain([b.failed(a2), b.completed('u')]), again);
    expect(twice.done).toStrictEqual({ t: { attempts: 2, pr: 1 }, u: { attempts: 0 } });
    const p = project(b.chain([b.prCreated(b.attempt('u'), 7)]), twice);
    expect(p.done).toStrictEqual({ t: { attempts: 2, pr: 1 } });
    expect(p.tasks.u).toMatchObject({ attempts: 0, completed: true, pr: { number: 7, state: 'open' } });
  });

  it('events about a settled task’s finished PR or attempts change nothing but the position', () => {
    const b = new EventBuilder();
    const a = b.attempt('t');
    const settled = project(b.chain([...b.delivered(a, 4), b.prMerged('t', 4), b.completed('t', 4)]));
    const after = project(
      b.chain([
        b.prClosed('t', 4),
        b.prClosed('t', 9),
        b.prMerged('t', 9),
        b.blocked('t', 1),
        b.completed('t'),
        b.failed(a),
        b.dispatched(a),
      ]),
      settled,
    );
    expect({ ...after, seq: 0, hash: null, ts: null }).toStrictEqual({
      ...settled,
      seq: 0,
      hash: null,
      ts: null,
    });
  });

  it('prunes dispatch counters when the hour moves, also across a snapshot', () => {
    const b = new EventBuilder('2026-01-01T10:00:00.000Z');
    const first = b.chain([b.created(b.attempt('t'))]);
    b.at('2026-01-03T10:30:00.000Z');
    const sameHourAsCutoff = b.chain([b.configInvalid()]);
    b.at('2026-01-03T10:59:59.999Z');
    const stillWithin = b.chain([b.configInvalid()]);
    b.at('2026-01-03T11:00:00.000Z');
    const past = b.chain([b.configInvalid()]);
    const snap = jsonCopy(project([...first, ...sameHourAsCutoff]));
    expect(snap.dispatches).toStrictEqual({ '2026-01-01T10': 1 });
    expect(project(stillWithin, snap).dispatches).toStrictEqual({ '2026-01-01T10': 1 });
    expect(project([...stillWithin, ...past], snap).dispatches).toStrictEqual({});
  });

  it('prunes hour by hour, after a long gap, and with a clock behind the last event', () => {
    const b = new EventBuilder('2026-01-01T10:00:00.000Z');
    const at = (iso: string) => b.chain([b.at(iso).created(b.attempt('t'))]);
    const events = [
      ...at('2026-01-01T10:00:00.000Z'),
      ...at('2026-01-01T12:00:00.000Z'),
      ...at('2026-01-01T11:59:59.000Z'), // a writer whose clock is behind, still in hour 11
      ...at('2026-01-03T11:30:00.000Z'), // hour 10 leaves the window
    ];
    expect(project(events).dispatches).toStrictEqual({
      '2026-01-01T11': 1,
      '2026-01-01T12': 1,
      '2026-01-03T11': 1,
    });
    const later = [...events, ...at('2026-01-03T12:10:00.000Z'), ...at('2026-01-03T12:00:00.000Z')];
    expect(project(later).dispatches).toStrictEqual({
      '2026-01-01T12': 1,
      '2026-01-03T11': 1,
      '2026-01-03T12': 2,
    });
    // Days later, in one step: everything older than 48 hours goes.
    const gap = [...later, ...at('2026-01-09T00:00:00.000Z')];
    expect(project(gap).dispatches).toStrictEqual({ '2026-01-09T00': 1 });
    // Wherever a snapshot is taken, the counters come out the same.
    for (let k = 0; k <= gap.length; k++) {
      expect(project(gap.slice(k), jsonCopy(project(gap.slice(0, k)))).dispatches).toStrictEqual({
        '2026-01-09T00': 1,
      });
    }
  });
});

describe('state size is bounded by what scheduling needs, not by history', () => {
  /**
   * `attempts` attempts over `tasks` tasks, round robin: every third fails, the others deliver a PR that is
   * merged and complete their task (a later attempt brings it back into play). The last attempt of every task
   * is left open, in one of the three open statuses.
   */
  function history(attempts: number, tasks: number) {
    const b = new EventBuilder('2026-01-01T00:00:00.000Z', 60_000);
    const drafts = [];
    const open: Array<{ attempt: string; status: string }> = [];
    let pr = 0;
    for (let i = 0; i < attempts; i++) {
      const task = `task-${i % tasks}`;
      const a = b.attempt(task);
      drafts.push(b.created(a));
      if (i >= attempts - tasks) {
        const which = i % 3;
        if (which >= 1) drafts.push(b.dispatched(a));
        if (which >= 2) drafts.push(b.started(a));
        open.push({ attempt: a.attempt, status: ['created', 'dispatched', 'running'][which] as string });
        continue;
      }
      drafts.push(b.dispatched(a), b.started(a));
      if (i % 3 === 0) {
        drafts.push(b.failed(a, 'verify_failed', `leviathan-wip/${task}/${a.attempt}`));
      } else {
        pr += 1;
        drafts.push(b.prCreated(a, pr), b.succeeded(a, pr), b.prMerged(task, pr), b.completed(task, pr));
      }
    }
    return { events: b.chain(drafts), open };
  }

  it('20,000 attempts over 50 tasks: about the size of 1,000, every open attempt present', () => {
    const small = history(1_000, 50);
    const large = history(20_000, 50);
    const s1 = project(small.events);
    const s2 = project(large.events);
    const size1 = JSON.stringify(s1).length;
    const size2 = JSON.stringify(s2).length;
    expect(size2).toBeLessThan(size1 * 1.3);
    for (const { s, open } of [
      { s: s1, open: small.open },
      { s: s2, open: large.open },
    ]) {
      expect(openAttempts(s).map((a) => ({ attempt: a.id, status: a.status }))).toEqual(open);
      // Only open attempts are kept: each is its task's newest.
      expect(Object.keys(s.attempts)).toHaveLength(50);
      expect(Object.keys(s.tasks)).toHaveLength(50);
      expect(s.done).toEqual({});
      expect(Object.keys(s.dispatches).length).toBeLessThanOrEqual(49);
    }
    expect(s2.tasks['task-7']).toMatchObject({ attempts: 400, completed: true });
    // Still a faithful snapshot: a JSON round trip, or a cut anywhere, folds to the same state.
    expect(JSON.stringify(jsonCopy(s2))).toBe(JSON.stringify(s2));
    const cut = Math.floor(large.events.length / 3);
    expect(
      JSON.stringify(project(large.events.slice(cut), jsonCopy(project(large.events.slice(0, cut))))),
    ).toBe(JSON.stringify(s2));
  }, 60_000);

  it('a settled task costs a done entry of a few bytes', () => {
    /** `settled` tasks delivered, merged and completed, then 20 attempts left open on other tasks. */
    const fold = (settled: number) => {
      const b = new EventBuilder('2026-01-01T00:00:00.000Z', 60_000);
      const drafts = [];
      for (let i = 0; i < settled; i++) {
        const task = `task-${i}`;
        drafts.push(
          ...b.delivered(b.attempt(task), i + 1),
          b.prMerged(task, i + 1),
          b.completed(task, i + 1),
        );
      }
      for (let i = 0; i < 20; i++) drafts.push(b.created(b.attempt(`open-${i}`)));
      return project(b.chain(drafts));
    };
    const none = fold(0);
    const many = fold(5_000);
    expect(Object.keys(many.done)).toHaveLength(5_000);
    expect(many.done['task-4999']).toStrictEqual({ attempts: 1, pr: 5_000 });
    expect(Object.keys(many.tasks)).toHaveLength(20);
    expect(openAttempts(many)).toHaveLength(20);
    // `"task-1234":{"attempts":1,"pr":1235},` is 38 bytes.
    const perTask = (JSON.stringify(many).length - JSON.stringify(none).length) / 5_000;
    expect(perTask).toBeLessThan(40);
  }, 60_000);
});
