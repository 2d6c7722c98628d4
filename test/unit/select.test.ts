import { describe, expect, it } from '@jest/globals';
import { type Backlog, BacklogSchema } from '../../src/core/backlog.js';
import { type Config, type ConfigInput, ConfigSchema } from '../../src/core/config.js';
import type { EventDraft } from '../../src/core/events.js';
import {
  type Decision,
  maxAttemptsFor,
  type OpenPull,
  type SelectInput,
  select,
} from '../../src/core/select.js';
import { initialState, project } from '../../src/core/state.js';
import type { State } from '../../src/core/state-types.js';
import { EventBuilder, jsonCopy } from '../helpers/events.js';

const NOW = new Date('2026-01-01T12:30:00.000Z');

type TaskIn = { id: string } & Record<string, unknown>;

/** Ready tasks with one literal path each: a glob like `docs/**` could reach protected `docs/.env`. */
function backlog(...tasks: TaskIn[]): Backlog {
  return BacklogSchema.parse({
    tasks: tasks.map((t) => ({
      title: `Task ${t.id}`,
      ready: true,
      allowed_paths: [`docs/${t.id}.md`],
      ...t,
    })),
  });
}

function config(limits: Partial<Config['limits']> = {}, extra: ConfigInput = {}): Config {
  return ConfigSchema.parse({ ...extra, limits: { max_open_prs: 5, max_running_attempts: 5, ...limits } });
}

function input(over: Partial<SelectInput> & { backlog: Backlog }): SelectInput {
  return { config: config(), state: initialState(), openPulls: [], now: NOW, ...over };
}

function reasonsOf(d: Decision): Record<string, string> {
  return Object.fromEntries(d.reasons.map((r) => [r.task, r.reason]));
}

/** State from drafts built on one builder, starting two hours before NOW so no dispatch is in NOW's hour. */
function stateFrom(build: (b: EventBuilder) => EventDraft[], start = '2026-01-01T10:00:00.000Z'): State {
  const b = new EventBuilder(start);
  return project(b.chain(build(b)));
}

/** A task with `n` failed attempts. */
function failedTimes(b: EventBuilder, task: string, n: number): EventDraft[] {
  const out: EventDraft[] = [];
  for (let i = 0; i < n; i++) {
    const a = b.attempt(task);
    out.push(b.created(a), b.failed(a));
  }
  // A success elsewhere keeps the breaker from counting these in tests that are not about it.
  const ok = b.attempt('zz-elsewhere');
  out.push(b.created(ok), b.succeeded(ok, 99));
  return out;
}

describe('select: a reason for every task', () => {
  it('selects the only eligible task', () => {
    const d = select(input({ backlog: backlog({ id: 'a' }) }));
    expect(d.selected?.id).toBe('a');
    expect(d.reasons).toEqual([{ task: 'a', reason: 'selected' }]);
    expect(d.toBlock).toEqual([]);
    expect(d.breaker).toBe('closed');
  });

  it('returns nothing for an empty backlog', () => {
    expect(select(input({ backlog: backlog() }))).toEqual({
      selected: null,
      reasons: [],
      toBlock: [],
      rejected: [],
      breaker: 'closed',
    });
  });

  it('gives every task a reason, in backlog file order', () => {
    const d = select(
      input({
        backlog: backlog(
          { id: 'low', priority: 'low' },
          { id: 'off', ready: false },
          { id: 'high', priority: 'high' },
          { id: 'done', status: 'done' },
        ),
      }),
    );
    expect(d.reasons.map((r) => r.task)).toEqual(['low', 'off', 'high', 'done']);
    expect(reasonsOf(d)).toEqual({ low: 'queued', off: 'not_ready', high: 'selected', done: 'done' });
  });

  it('autonomy_disabled for every task when autonomy is off, and nothing else happens', () => {
    const state = stateFrom((b) => failedTimes(b, 'a', 2));
    const tripping = { ...state, breaker: { open: false, consecutive_failures: 9 } };
    const d = select(
      input({
        backlog: backlog({ id: 'a' }, { id: 'b', status: 'done' }, { id: 'c' }),
        config: config({}, { autonomy: { enabled: false } }),
        state: tripping,
      }),
    );
    expect(d.selected).toBeNull();
    expect(d.reasons.every((r) => r.reason === 'autonomy_disabled')).toBe(true);
    expect(d.reasons).toHaveLength(3);
    expect(d.toBlock).toEqual([]);
    expect(d.breaker).toBe('closed');
  });

  it('done when the backlog says done', () => {
    const d = select(input({ backlog: backlog({ id: 'a', status: 'done' }) }));
    expect(reasonsOf(d)).toEqual({ a: 'done' });
    expect(d.selected).toBeNull();
  });

  it('done when the state recorded task.completed', () => {
    const state = stateFrom((b) => [b.completed('a', 3)]);
    expect(reasonsOf(select(input({ backlog: backlog({ id: 'a' }), state })))).toEqual({ a: 'done' });
  });

  it('blocked when the backlog says blocked', () => {
    expect(reasonsOf(select(input({ backlog: backlog({ id: 'a', status: 'blocked' }) })))).toEqual({
      a: 'blocked',
    });
  });

  it('blocked when the state recorded task.blocked', () => {
    const state = stateFrom((b) => [b.blocked('a', 2)]);
    expect(reasonsOf(select(input({ backlog: backlog({ id: 'a' }), state })))).toEqual({ a: 'blocked' });
  });

  it('not_ready when ready is false (the default)', () => {
    const d = select(input({ backlog: backlog({ id: 'a', ready: false }) }));
    expect(reasonsOf(d)).toEqual({ a: 'not_ready' });
    const implicit = BacklogSchema.parse({ tasks: [{ id: 'b', title: 'B', allowed_paths: ['docs/b.md'] }] });
    expect(reasonsOf(select(input({ backlog: implicit })))).toEqual({ b: 'not_ready' });
  });

  it('dependency_pending names the first incomplete dependency', () => {
    const d = select(
      input({
        backlog: backlog(
          { id: 'base', status: 'done' },
          { id: 'mid', ready: false },
          { id: 'late', ready: false },
          { id: 'top', dependencies: ['base', 'mid', 'late'] },
        ),
      }),
    );
    expect(reasonsOf(d).top).toBe('dependency_pending:mid');
  });

  it('a dependency completed by a merged PR (task.completed) counts as complete', () => {
    const state = stateFrom((b) => [b.completed('dep', 4)]);
    const d = select(input({ backlog: backlog({ id: 'dep' }, { id: 'top', dependencies: ['dep'] }), state }));
    expect(reasonsOf(d)).toEqual({ dep: 'done', top: 'selected' });
  });

  it('a dependency with an open PR is still pending', () => {
    const d = select(
      input({
        backlog: backlog({ id: 'dep' }, { id: 'top', dependencies: ['dep'] }),
        openPulls: [{ number: 2, task: 'dep', branch: 'leviathan/dep' }],
      }),
    );
    expect(reasonsOf(d)).toEqual({ dep: 'pr_open:#2', top: 'dependency_pending:dep' });
  });

  it('out_of_scope names the task glob outside the fence', () => {
    const d = select(input({ backlog: backlog({ id: 'a', allowed_paths: ['docs/a.md', 'src/**'] }) }));
    expect(reasonsOf(d)).toEqual({ a: 'out_of_scope:src/**' });
    expect(d.selected).toBeNull();
  });

  it('out_of_scope when a task glob can reach a protected path', () => {
    const cfg = config({}, { scope: { allowed_paths: ['**'] } });
    const d = select(input({ backlog: backlog({ id: 'a', allowed_paths: ['.github/**'] }), config: cfg }));
    expect(reasonsOf(d)).toEqual({ a: 'out_of_scope:.github/**' });
  });

  it('max_attempts at the config limit', () => {
    const state = stateFrom((b) => failedTimes(b, 'a', 2));
    // The compact state keeps only the newest finished attempt; the limit counts every attempt created.
    expect(Object.values(state.attempts).filter((a) => a.task === 'a')).toHaveLength(1);
    expect(state.tasks.a?.attempts).toBe(2);
    const d = select(input({ backlog: backlog({ id: 'a' }), state }));
    expect(reasonsOf(d)).toEqual({ a: 'max_attempts' });
    expect(d.toBlock).toEqual(['a']);
  });

  it("a task's own max_attempts lowers the limit but never raises it", () => {
    const one = stateFrom((b) => failedTimes(b, 'a', 1));
    expect(reasonsOf(select(input({ backlog: backlog({ id: 'a', max_attempts: 1 }), state: one })))).toEqual({
      a: 'max_attempts',
    });
    const two = stateFrom((b) => failedTimes(b, 'a', 2));
    expect(reasonsOf(select(input({ backlog: backlog({ id: 'a', max_attempts: 5 }), state: two })))).toEqual({
      a: 'max_attempts',
    });
    const cfg = config({ max_attempts_per_task: 3 });
    expect(maxAttemptsFor(backlog({ id: 'x', max_attempts: 5 }).tasks[0]!, cfg)).toBe(3);
    expect(maxAttemptsFor(backlog({ id: 'x' }).tasks[0]!, cfg)).toBe(3);
    expect(maxAttemptsFor(backlog({ id: 'x', max_attempts: 2 }).tasks[0]!, cfg)).toBe(2);
  });

  it('below the limit a failed task is selected again', () => {
    const state = stateFrom((b) => failedTimes(b, 'a', 1));
    expect(select(input({ backlog: backlog({ id: 'a' }), state })).selected?.id).toBe('a');
  });

  it('pr_open from the forge', () => {
    const openPulls: OpenPull[] = [{ number: 17, task: 'a', branch: 'leviathan/a' }];
    const d = select(input({ backlog: backlog({ id: 'a' }, { id: 'b' }), openPulls }));
    expect(reasonsOf(d)).toEqual({ a: 'pr_open:#17', b: 'selected' });
  });

  it('pr_open from the state when the forge has not been reconciled', () => {
    const state = stateFrom((b) => b.delivered(b.attempt('a'), 8));
    expect(reasonsOf(select(input({ backlog: backlog({ id: 'a' }), state })))).toEqual({ a: 'pr_open:#8' });
  });

  it.each([
    ['created', (b: EventBuilder, a: ReturnType<EventBuilder['attempt']>) => [b.created(a)]],
    [
      'dispatched',
      (b: EventBuilder, a: ReturnType<EventBuilder['attempt']>) => [b.created(a), b.dispatched(a)],
    ],
    ['running', (b: EventBuilder, a: ReturnType<EventBuilder['attempt']>) => [b.created(a), b.started(a)]],
  ])('running while an attempt is %s', (_status, build) => {
    const state = stateFrom((b) => build(b, b.attempt('a')));
    const d = select(input({ backlog: backlog({ id: 'a' }), state }));
    expect(reasonsOf(d)).toEqual({ a: 'running' });
  });

  it('a failed attempt no longer counts as running', () => {
    const state = stateFrom((b) => {
      const a = b.attempt('a');
      return [b.created(a), b.started(a), b.timedOut(a)];
    });
    expect(reasonsOf(select(input({ backlog: backlog({ id: 'a' }), state })))).toEqual({ a: 'selected' });
  });
});

describe('select: global limits', () => {
  it('limit_open_prs counts every open Leviathan PR', () => {
    const openPulls: OpenPull[] = [{ number: 1, task: 'other', branch: 'leviathan/other' }];
    const d = select(
      input({ backlog: backlog({ id: 'a' }, { id: 'b' }), openPulls, config: config({ max_open_prs: 1 }) }),
    );
    expect(reasonsOf(d)).toEqual({ a: 'limit_open_prs', b: 'limit_open_prs' });
    expect(d.selected).toBeNull();
  });

  it('limit_running counts open attempts of any task', () => {
    const state = stateFrom((b) => [b.created(b.attempt('other'))]);
    const d = select(
      input({ backlog: backlog({ id: 'a' }), state, config: config({ max_running_attempts: 1 }) }),
    );
    expect(reasonsOf(d)).toEqual({ a: 'limit_running' });
  });

  it('limit_hourly counts dispatches in the current UTC hour only', () => {
    const build = (b: EventBuilder) => {
      const out: EventDraft[] = [];
      for (const t of ['x', 'y']) {
        const a = b.attempt(t);
        out.push(b.created(a), b.succeeded(a, t === 'x' ? 1 : 2));
      }
      return out;
    };
    const cfg = config({ max_dispatches_per_hour: 2 });
    const thisHour = stateFrom(build, '2026-01-01T12:00:00.000Z');
    expect(reasonsOf(select(input({ backlog: backlog({ id: 'a' }), state: thisHour, config: cfg })))).toEqual(
      {
        a: 'limit_hourly',
      },
    );
    const lastHour = stateFrom(build, '2026-01-01T11:50:00.000Z');
    expect(reasonsOf(select(input({ backlog: backlog({ id: 'a' }), state: lastHour, config: cfg })))).toEqual(
      {
        a: 'selected',
      },
    );
  });

  it('limits apply in order: breaker, open PRs, running, hourly', () => {
    const state = stateFrom(
      (b) => [b.created(b.attempt('o')), b.created(b.attempt('p'))],
      '2026-01-01T12:00:00.000Z',
    );
    const openPulls: OpenPull[] = [{ number: 1, task: 'q', branch: 'leviathan/q' }];
    const tight = { max_open_prs: 1, max_running_attempts: 1, max_dispatches_per_hour: 1 };
    const bl = backlog({ id: 'a' });
    const open = {
      ...state,
      breaker: { open: true, consecutive_failures: 2, tripped_at: NOW.toISOString() },
    };
    expect(reasonsOf(select(input({ backlog: bl, state: open, openPulls, config: config(tight) }))).a).toBe(
      'breaker_open',
    );
    expect(reasonsOf(select(input({ backlog: bl, state, openPulls, config: config(tight) }))).a).toBe(
      'limit_open_prs',
    );
    const roomy = { ...tight, max_open_prs: 3 };
    expect(reasonsOf(select(input({ backlog: bl, state, config: config(roomy) }))).a).toBe('limit_running');
    expect(
      reasonsOf(select(input({ backlog: bl, state, config: config({ ...roomy, max_running_attempts: 3 }) })))
        .a,
    ).toBe('limit_hourly');
  });

  it('attempts in flight hold PR slots; one on a task whose PR is open is not counted twice', () => {
    const state = stateFrom((b) => [b.created(b.attempt('o'))], '2026-01-01T12:00:00.000Z');
    const bl = backlog({ id: 'a' });
    const limits = { max_open_prs: 2, max_running_attempts: 5, max_dispatches_per_hour: 10 };
    const samePr: OpenPull[] = [{ number: 1, task: 'o', branch: 'leviathan/o' }];
    const otherPr: OpenPull[] = [{ number: 1, task: 'q', branch: 'leviathan/q' }];
    expect(
      reasonsOf(select(input({ backlog: bl, state, openPulls: samePr, config: config(limits) }))).a,
    ).toBe('selected');
    expect(
      reasonsOf(select(input({ backlog: bl, state, openPulls: otherPr, config: config(limits) }))).a,
    ).toBe('limit_open_prs');
  });

  it('per-task reasons win over global limits', () => {
    const openPulls: OpenPull[] = [{ number: 1, task: 'a', branch: 'leviathan/a' }];
    const d = select(
      input({
        backlog: backlog({ id: 'a' }, { id: 'b', ready: false }),
        openPulls,
        config: config({ max_open_prs: 1 }),
      }),
    );
    expect(reasonsOf(d)).toEqual({ a: 'pr_open:#1', b: 'not_ready' });
  });
});

describe('select: circuit breaker', () => {
  const twoFailures = (b: EventBuilder) => {
    const out: EventDraft[] = [];
    for (const t of ['x', 'y']) {
      const a = b.attempt(t);
      out.push(b.created(a), b.failed(a));
    }
    return out;
  };

  it('trips when consecutive failures reach the threshold, and selects nothing', () => {
    const state = stateFrom(twoFailures);
    const d = select(input({ backlog: backlog({ id: 'a' }, { id: 'b', ready: false }), state }));
    expect(d.breaker).toBe('trip');
    expect(d.selected).toBeNull();
    expect(reasonsOf(d)).toEqual({ a: 'breaker_open', b: 'not_ready' });
  });

  it('stays closed below the threshold', () => {
    const state = stateFrom(twoFailures);
    const d = select(
      input({ backlog: backlog({ id: 'a' }), state, config: config({ circuit_breaker_failures: 3 }) }),
    );
    expect(d.breaker).toBe('closed');
    expect(d.selected?.id).toBe('a');
  });

  it('stays open without a cooldown (manual reset only)', () => {
    const state = stateFrom((b) => [...twoFailures(b), b.tripped(2)]);
    const later = new Date('2027-01-01T00:00:00Z');
    const d = select(input({ backlog: backlog({ id: 'a' }), state, now: later }));
    expect(d.breaker).toBe('open');
    expect(reasonsOf(d)).toEqual({ a: 'breaker_open' });
  });

  it('stays open until the cooldown has passed', () => {
    const state = stateFrom((b) => [...twoFailures(b), b.tripped(2)]);
    const trippedAt = Date.parse(state.breaker.tripped_at!);
    const cfg = config({ breaker_cooldown_minutes: 30, max_dispatches_per_hour: 10 });
    const early = select(
      input({ backlog: backlog({ id: 'a' }), state, config: cfg, now: new Date(trippedAt + 29 * 60_000) }),
    );
    expect(early.breaker).toBe('open');
    expect(early.selected).toBeNull();
    const due = select(
      input({ backlog: backlog({ id: 'a' }), state, config: cfg, now: new Date(trippedAt + 30 * 60_000) }),
    );
    expect(due.breaker).toBe('cooldown_reset');
    expect(due.selected?.id).toBe('a');
    expect(reasonsOf(due)).toEqual({ a: 'selected' });
  });

  it('a reset breaker selects again', () => {
    const state = stateFrom((b) => [...twoFailures(b), b.tripped(2), b.reset()]);
    const d = select(input({ backlog: backlog({ id: 'a' }), state }));
    expect(d.breaker).toBe('closed');
    expect(d.selected?.id).toBe('a');
  });

  it('a success resets the count, so the breaker does not trip', () => {
    const state = stateFrom((b) => {
      const a = b.attempt('z');
      return [...twoFailures(b), b.created(a), b.succeeded(a, 3)];
    });
    expect(select(input({ backlog: backlog({ id: 'a' }), state })).breaker).toBe('closed');
  });
});

describe('select: order and precedence', () => {
  it('orders by priority high, medium, low', () => {
    const d = select(
      input({
        backlog: backlog({ id: 'l', priority: 'low' }, { id: 'm' }, { id: 'h', priority: 'high' }),
      }),
    );
    expect(d.selected?.id).toBe('h');
    expect(reasonsOf(d)).toEqual({ l: 'queued', m: 'queued', h: 'selected' });
  });

  it('keeps file order within one priority', () => {
    const d = select(
      input({
        backlog: backlog(
          { id: 'c', priority: 'high' },
          { id: 'a', priority: 'high' },
          { id: 'b', priority: 'high' },
        ),
      }),
    );
    expect(d.selected?.id).toBe('c');
  });

  it('skips ineligible tasks when choosing', () => {
    const d = select(
      input({
        backlog: backlog(
          { id: 'h1', priority: 'high', ready: false },
          { id: 'h2', priority: 'high', status: 'done' },
          { id: 'm1' },
          { id: 'm2' },
        ),
      }),
    );
    expect(d.selected?.id).toBe('m1');
  });

  it('done beats blocked beats not_ready beats dependency_pending', () => {
    const d = select(
      input({
        backlog: backlog(
          { id: 'd1', status: 'done', ready: false, dependencies: ['x'] },
          { id: 'b1', status: 'blocked', ready: false, dependencies: ['x'] },
          { id: 'n1', ready: false, dependencies: ['x'] },
          { id: 'x', ready: false },
        ),
      }),
    );
    expect(reasonsOf(d)).toEqual({ d1: 'done', b1: 'blocked', n1: 'not_ready', x: 'not_ready' });
  });

  it('dependency_pending beats out_of_scope beats pr_open beats max_attempts', () => {
    const state = stateFrom((b) => {
      const out = [...failedTimes(b, 'm', 2), ...failedTimes(b, 'p', 2)];
      const r = b.attempt('r');
      out.push(b.created(r));
      return out;
    });
    const openPulls: OpenPull[] = [
      { number: 4, task: 'p', branch: 'leviathan/p' },
      { number: 5, task: 'r', branch: 'leviathan/r' },
    ];
    const d = select(
      input({
        backlog: backlog(
          { id: 'x', ready: false },
          { id: 'dp', dependencies: ['x'], allowed_paths: ['src/**'] },
          { id: 'o', allowed_paths: ['src/**'] },
          { id: 'm' },
          { id: 'p', max_attempts: 5 },
          { id: 'r' },
        ),
        state,
        openPulls,
      }),
    );
    const r = reasonsOf(d);
    expect(r.dp).toBe('dependency_pending:x');
    expect(r.o).toBe('out_of_scope:src/**');
    expect(r.m).toBe('max_attempts');
    // The truth first: a task whose last attempt opened a PR shows it, even at its attempt limit.
    expect(r.p).toBe('pr_open:#4');
    expect(r.r).toBe('pr_open:#5');
  });

  it('does not modify its input', () => {
    const state = stateFrom((b) => failedTimes(b, 'a', 2));
    const i = input({
      backlog: backlog({ id: 'a' }, { id: 'b', priority: 'low' }, { id: 'c', priority: 'high' }),
      state,
    });
    const before = jsonCopy({ ...i, now: i.now.toISOString() });
    select(i);
    expect(jsonCopy({ ...i, now: i.now.toISOString() })).toStrictEqual(before);
  });
});

describe('select: toBlock', () => {
  it('lists tasks at max attempts that are not blocked yet', () => {
    const state = stateFrom((b) => [...failedTimes(b, 'a', 2), ...failedTimes(b, 'b', 2), b.blocked('b', 2)]);
    const d = select(input({ backlog: backlog({ id: 'a' }, { id: 'b' }, { id: 'c' }), state }));
    expect(d.toBlock).toEqual(['a']);
    expect(reasonsOf(d)).toEqual({ a: 'max_attempts', b: 'blocked', c: 'selected' });
  });

  it('never lists a completed task', () => {
    const state = stateFrom((b) => [...failedTimes(b, 'a', 2), b.completed('a', 1)]);
    const d = select(input({ backlog: backlog({ id: 'a' }), state }));
    expect(d.toBlock).toEqual([]);
    const doneInBacklog = stateFrom((b) => failedTimes(b, 'a', 2));
    expect(
      select(input({ backlog: backlog({ id: 'a', status: 'done' }), state: doneInBacklog })).toBlock,
    ).toEqual([]);
  });

  it('waits while the last attempt is still open or its PR is open', () => {
    const running = stateFrom((b) => {
      const a1 = b.attempt('a');
      const a2 = b.attempt('a');
      return [b.created(a1), b.failed(a1), b.created(a2), b.started(a2)];
    });
    expect(select(input({ backlog: backlog({ id: 'a' }), state: running })).toBlock).toEqual([]);
    const prOpen = stateFrom((b) => {
      const a1 = b.attempt('a');
      return [b.created(a1), b.failed(a1), ...b.delivered(b.attempt('a'), 6)];
    });
    const d = select(input({ backlog: backlog({ id: 'a' }), state: prOpen }));
    expect(d.toBlock).toEqual([]);
    expect(reasonsOf(d)).toEqual({ a: 'pr_open:#6' });
  });

  it('a PR closed unmerged rejects the task (pr_closed), whatever attempts are left', () => {
    const state = stateFrom((b) => {
      const a1 = b.attempt('a');
      return [b.created(a1), b.failed(a1), ...b.delivered(b.attempt('a'), 6), b.prClosed('a', 6)];
    });
    const d = select(input({ backlog: backlog({ id: 'a' }), state }));
    expect(d.toBlock).toEqual([]);
    expect(d.rejected).toEqual(['a']);
    expect(reasonsOf(d)).toEqual({ a: 'blocked' });
    const first = stateFrom((b) => [...b.delivered(b.attempt('a'), 2), b.prClosed('a', 2)]);
    const f = select(input({ backlog: backlog({ id: 'a', max_attempts: 2 }), state: first }));
    expect(f.rejected).toEqual(['a']);
    expect(f.selected).toBeNull();
  });

  it('a retried task is eligible again with a fresh budget', () => {
    const state = stateFrom((b) => [...failedTimes(b, 'a', 2), b.blocked('a', 2), b.retried('a')]);
    const d = select(input({ backlog: backlog({ id: 'a' }), state }));
    expect(d.selected?.id).toBe('a');
    expect(d.toBlock).toEqual([]);
  });

  it('also lists tasks that are not ready (blocking is about attempts, not readiness)', () => {
    const state = stateFrom((b) => failedTimes(b, 'a', 2));
    const d = select(input({ backlog: backlog({ id: 'a', ready: false }), state }));
    expect(d.toBlock).toEqual(['a']);
    expect(reasonsOf(d)).toEqual({ a: 'not_ready' });
  });
});
