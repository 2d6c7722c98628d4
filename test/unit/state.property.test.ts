import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { chainEvents } from '../../src/core/chain.js';
import type { LeviathanEvent } from '../../src/core/events.js';
import { Fold } from '../../src/core/fold.js';
import {
  applyEvent,
  attemptsCharged,
  DISPATCH_WINDOW_HOURS,
  hourKey,
  hourKeyAt,
  initialState,
  isOpenStatus,
  latestAttempt,
  openAttempts,
  project,
  taskSummary,
} from '../../src/core/state.js';
import type { AttemptState, AttemptStatus, PullState } from '../../src/core/state-types.js';
import { draftsArbitrary, jsonCopy } from '../helpers/events.js';

const RUNS = { numRuns: Number(process.env.PROP_RUNS ?? 300) };
const logArbitrary = draftsArbitrary({ maxLength: 60 }).map((d) => chainEvents(null, d));

describe('projection properties', () => {
  it('folding in batches (a full verify, one day file at a time) gives what one projection gives', () => {
    fc.assert(
      fc.property(logArbitrary, fc.array(fc.nat(8), { maxLength: 12 }), (events, cuts) => {
        const fold = new Fold(initialState());
        let at = 0;
        for (const size of cuts) {
          fold.add(events.slice(at, at + size));
          at += size;
        }
        fold.add(events.slice(at));
        // Byte for byte, key order included: state.json is compared as bytes with the replay.
        expect(JSON.stringify(fold.result())).toBe(JSON.stringify(project(events)));
      }),
      RUNS,
    );
  });

  it('one event at a time through snapshots (what appends write) gives the bytes one replay gives (what verify computes)', () => {
    fc.assert(
      fc.property(logArbitrary, (events) => {
        let state = initialState();
        for (const e of events) state = JSON.parse(JSON.stringify(project([e], state)));
        expect(JSON.stringify(state)).toBe(JSON.stringify(project(events)));
      }),
      RUNS,
    );
  });

  it('hour keys are the first 13 characters of the ISO time, across the four-digit years and past them', () => {
    const iso = (hour: number) => new Date(hour * 3_600_000).toISOString().slice(0, 13);
    // 0000-01-01T00 and 9999-12-31T23 in hours since the epoch, and some way beyond both.
    const first = -62_167_219_200_000 / 3_600_000;
    const last = 253_402_300_799_999 / 3_600_000;
    fc.assert(
      fc.property(fc.integer({ min: Math.floor(first) - 1000, max: Math.ceil(last) + 1000 }), (hour) => {
        expect(hourKeyAt(hour)).toBe(iso(hour));
      }),
      { numRuns: 5000 },
    );
    for (const hour of [
      Math.floor(first),
      Math.floor(first) - 1,
      Math.floor(last),
      Math.floor(last) + 1,
      0,
      -1,
    ]) {
      expect(hourKeyAt(hour)).toBe(iso(hour));
    }
    // Leap days: 2000 (divisible by 400), 1900 and 2100 (by 100 only), 2024 (by 4).
    for (const day of ['2000-02-29', '1900-03-01', '2100-03-01', '2024-02-29', '2023-03-01']) {
      const hour = Date.parse(`${day}T05:00:00Z`) / 3_600_000;
      expect(hourKeyAt(hour)).toBe(`${day}T05`);
    }
  });

  it('replaying the same events twice gives deep-equal states', () => {
    fc.assert(
      fc.property(logArbitrary, (events) => {
        const a = project(events);
        const b = project(jsonCopy(events));
        expect(a).toStrictEqual(b);
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      }),
      RUNS,
    );
  });

  it('the state survives a JSON round trip unchanged', () => {
    fc.assert(
      fc.property(logArbitrary, (events) => {
        const s = project(events);
        expect(jsonCopy(s)).toStrictEqual(s);
      }),
      RUNS,
    );
  });

  it('snapshot then replay equals a full replay, wherever the snapshot is taken', () => {
    fc.assert(
      fc.property(logArbitrary, fc.nat(), (events, cut) => {
        const k = events.length === 0 ? 0 : cut % (events.length + 1);
        const snapshot = jsonCopy(project(events.slice(0, k)));
        expect(project(events.slice(k), snapshot)).toStrictEqual(project(events));
      }),
      RUNS,
    );
  });

  it('applyEvent step by step equals project and never mutates its input', () => {
    fc.assert(
      fc.property(logArbitrary, (events) => {
        let s = initialState();
        for (const e of events) {
          const before = JSON.stringify(s);
          const next = applyEvent(s, e);
          expect(JSON.stringify(s)).toBe(before);
          s = next;
        }
        expect(s).toStrictEqual(project(events));
      }),
      { numRuns: 150 },
    );
  });

  it('keeps its invariants', () => {
    fc.assert(
      fc.property(logArbitrary, (events) => {
        const s = project(events);
        const last = events[events.length - 1];
        expect(s.seq).toBe(last?.seq ?? 0);
        expect(s.hash).toBe(last?.hash ?? null);
        for (const [id, t] of Object.entries(s.tasks)) {
          expect(t.id).toBe(id);
          // A task in play has its newest attempt at hand, unless none was ever created or it was settled
          // (attempts dropped) and came back with a PR only.
          if (t.attempts === 0) expect(t.last_attempt).toBeUndefined();
          if (t.last_attempt === undefined && t.attempts > 0) expect(t.completed).toBe(true);
          if (t.last_attempt !== undefined) expect(s.attempts[t.last_attempt]?.task).toBe(id);
          // A completed task is in play only while something of it is open.
          if (t.completed) {
            const open = openAttempts(s).some((a) => a.task === id);
            expect(open || t.pr?.state === 'open').toBe(true);
          }
          expect(Object.hasOwn(s.done, id)).toBe(false);
        }
        // Attempts kept: the open ones and each task's newest, all of tasks in play.
        for (const [id, a] of Object.entries(s.attempts)) {
          expect(a.id).toBe(id);
          const task = s.tasks[a.task];
          expect(task).toBeDefined();
          expect(isOpenStatus(a.status) || task?.last_attempt === id).toBe(true);
          expect(a.number).toBeGreaterThanOrEqual(1);
        }
        for (const d of Object.values(s.done))
          expect(Number.isInteger(d.attempts) && d.attempts >= 0).toBe(true);
        // Every attempt.created the fold accepted is counted once, in play or settled.
        const counted =
          Object.values(s.tasks).reduce((sum, t) => sum + t.attempts, 0) +
          Object.values(s.done).reduce((sum, d) => sum + d.attempts, 0);
        expect(counted).toBeLessThanOrEqual(events.filter((e) => e.type === 'attempt.created').length);
        expect(counted === 0).toBe(!events.some((e) => e.type === 'attempt.created' && e.task));
        expect(s.breaker.consecutive_failures).toBeLessThanOrEqual(
          events.filter((e) => ['attempt.failed', 'attempt.timed_out'].includes(e.type)).length,
        );
        expect(s.breaker.open).toBe(s.breaker.tripped_at !== undefined);
        for (const a of openAttempts(s)) expect(['created', 'dispatched', 'running']).toContain(a.status);
        if (s.ts !== null) {
          const oldest = hourKey(new Date(Date.parse(s.ts) - DISPATCH_WINDOW_HOURS * 3_600_000));
          for (const [key, n] of Object.entries(s.dispatches)) {
            expect(key >= oldest).toBe(true);
            expect(n).toBeGreaterThan(0);
          }
        }
      }),
      RUNS,
    );
  });

  it('answers every scheduling query like a fold that keeps the whole history', () => {
    fc.assert(
      fc.property(logArbitrary, (events) => {
        const s = project(events);
        const ref = fullHistoryFold(events);
        for (const id of ['alpha', 'beta', 'gamma']) {
          const t = ref.tasks.get(id);
          const summary = taskSummary(s, id);
          expect(summary?.attempts ?? 0).toBe(t?.attempts.length ?? 0);
          if (!t || !ref.settled(t)) {
            expect(attemptsCharged(s, id)).toBe((t?.attempts.length ?? 0) - (t?.retryBase ?? 0));
          }
          expect(summary?.completed ?? false).toBe(t?.completed ?? false);
          // Blocking matters only until completion (select answers `done` first).
          if (!t?.completed) expect(summary?.blocked ?? false).toBe(t?.blocked ?? false);
          // What queries read of a PR; a settled task keeps only a merged one, without branch or attempt.
          const pr = (p?: PullState) => p && { number: p.number, state: p.state };
          if (t && ref.settled(t))
            expect(pr(summary?.pr)).toStrictEqual(t.pr?.state === 'merged' ? pr(t.pr) : undefined);
          else expect(pr(summary?.pr)).toStrictEqual(pr(t?.pr));
          if (t && !ref.settled(t)) {
            const last = t.attempts.length > t.from ? t.attempts[t.attempts.length - 1] : undefined;
            expect(latestAttempt(s, id)).toStrictEqual(last);
          } else {
            expect(latestAttempt(s, id)).toBeUndefined();
          }
        }
        expect(openAttempts(s)).toStrictEqual(ref.all.filter((a) => RANK[a.status] < 3));
        expect(s.breaker).toStrictEqual(ref.breaker);
        const cutoff =
          s.ts === null ? '' : hourKey(new Date(Date.parse(s.ts) - DISPATCH_WINDOW_HOURS * 3_600_000));
        expect(s.dispatches).toStrictEqual(
          Object.fromEntries([...ref.dispatches].filter(([hour]) => hour >= cutoff)),
        );
      }),
      RUNS,
    );
  });
});

const RANK: Record<AttemptStatus, number> = {
  created: 0,
  dispatched: 1,
  running: 2,
  succeeded: 3,
  failed: 3,
  timed_out: 3,
};

/**
 * A reference fold written from the rules, keeping every attempt of every task and every dispatch counter.
 * Settledness is derived from the whole history (completed, no open attempt, no open PR): events about a
 * settled task's PRs, blocking or completion change nothing, and a finished attempt that is not its task's
 * newest (or whose task is settled) is out of reach, as the compact fold documents.
 */
function fullHistoryFold(events: readonly LeviathanEvent[]) {
  interface RefTask {
    attempts: AttemptState[];
    /** Attempts before this index ended before the task last settled: out of reach. */
    from: number;
    completed: boolean;
    blocked: boolean;
    /** Attempts created before the last retry do not count toward max_attempts. */
    retryBase: number;
    pr?: PullState;
  }
  const tasks = new Map<string, RefTask>();
  const byId = new Map<string, AttemptState>();
  const all: AttemptState[] = [];
  const dispatches = new Map<string, number>();
  let breaker: { open: boolean; consecutive_failures: number; tripped_at?: string } = {
    open: false,
    consecutive_failures: 0,
  };
  const isOpen = (a: AttemptState) => RANK[a.status] < 3;
  const settled = (t: RefTask) => t.completed && t.pr?.state !== 'open' && !t.attempts.some(isOpen);
  const task = (id: string) => {
    const t = tasks.get(id) ?? { attempts: [], from: 0, completed: false, blocked: false, retryBase: 0 };
    tasks.set(id, t);
    return t;
  };
  const reachable = (id: string | undefined) => {
    const a = id === undefined ? undefined : byId.get(id);
    if (!a) return undefined;
    const t = tasks.get(a.task) as RefTask;
    const newest = t.attempts.length > t.from && t.attempts[t.attempts.length - 1] === a;
    return isOpen(a) || (newest && !settled(t)) ? a : undefined;
  };
  const isSettled = (id: string | undefined) => {
    const t = id === undefined ? undefined : tasks.get(id);
    return t !== undefined && settled(t);
  };
  // A settled task keeps no attempt and a merged PR only: when it comes back, its earlier attempts and a PR
  // closed unmerged are forgotten.
  const reopen = (id: string | undefined) => {
    const t = id === undefined ? undefined : tasks.get(id);
    if (!t || !settled(t)) return;
    t.from = t.attempts.length;
    t.retryBase = 0;
    if (t.pr?.state === 'closed') delete t.pr;
  };
  for (const e of events) {
    const a = reachable(e.attempt);
    if (e.type === 'attempt.created' || e.type === 'pr.created') reopen(e.task);
    switch (e.type) {
      case 'attempt.created': {
        if (e.task === undefined || e.attempt === undefined || a) break;
        const created: AttemptState = {
          id: e.attempt,
          task: e.task,
          number: e.data.number,
          status: 'created',
          branch: e.data.branch,
          created_at: e.ts,
          deadline: e.data.deadline,
          manual: e.data.manual,
        };
        task(e.task).attempts.push(created);
        byId.set(e.attempt, created);
        all.push(created);
        const hour = hourKey(e.ts);
        dispatches.set(hour, (dispatches.get(hour) ?? 0) + 1);
        break;
      }
      case 'attempt.dispatched':
      case 'attempt.started': {
        const to = e.type === 'attempt.dispatched' ? 'dispatched' : 'running';
        if (a && e.type === 'attempt.dispatched' && e.data.run_id !== undefined && isOpen(a))
          a.run_id = e.data.run_id;
        if (a && RANK[a.status] < RANK[to]) a.status = to;
        break;
      }
      case 'attempt.succeeded':
        if (!a || !isOpen(a)) break;
        a.status = 'succeeded';
        a.pr = e.data.pr;
        breaker.consecutive_failures = 0;
        break;
      case 'attempt.failed':
      case 'attempt.timed_out':
        if (!a || !isOpen(a)) break;
        a.status = e.type === 'attempt.failed' ? 'failed' : 'timed_out';
        a.reason = e.type === 'attempt.failed' ? e.data.reason : 'timeout';
        if (e.type === 'attempt.failed' && e.data.detail !== '') a.detail = e.data.detail;
        if (e.data.wip_branch !== undefined) a.wip_branch = e.data.wip_branch;
        breaker.consecutive_failures += 1;
        break;
      case 'pr.created':
        if (e.task === undefined) break;
        task(e.task).pr = {
          number: e.data.number,
          branch: e.data.branch,
          state: 'open',
          ...(e.attempt !== undefined ? { attempt: e.attempt } : {}),
        };
        if (a) a.pr = e.data.number;
        break;
      case 'pr.merged':
      case 'pr.closed': {
        if (e.task === undefined || isSettled(e.task)) break;
        const t = task(e.task);
        const known = t.pr?.number === e.data.number ? t.pr : undefined;
        if (known && known.state !== 'open') break;
        const pr: PullState = known ?? {
          number: e.data.number,
          branch: '',
          state: 'open',
          ...(e.attempt !== undefined ? { attempt: e.attempt } : {}),
        };
        pr.state = e.type === 'pr.merged' ? 'merged' : 'closed';
        if (e.type === 'pr.closed') {
          // A human's rejection: the opener failed, the breaker does not count it.
          const opener = reachable(pr.attempt);
          if (opener?.status === 'succeeded') {
            opener.status = 'failed';
            opener.reason = 'pr_closed';
          }
        }
        t.pr = pr;
        break;
      }
      case 'task.completed':
        if (e.task !== undefined && !isSettled(e.task)) task(e.task).completed = true;
        break;
      case 'task.blocked':
        if (e.task !== undefined && !isSettled(e.task)) task(e.task).blocked = true;
        break;
      case 'task.retried': {
        const t = e.task === undefined ? undefined : tasks.get(e.task);
        if (!t || settled(t)) break;
        t.blocked = false;
        t.retryBase = t.attempts.length;
        if (t.pr?.state === 'closed') delete t.pr;
        break;
      }
      case 'breaker.tripped':
        breaker.open = true;
        breaker.tripped_at = e.ts;
        break;
      case 'breaker.reset':
        breaker = { open: false, consecutive_failures: 0 };
        break;
      case 'config.invalid':
        break;
    }
  }
  return { tasks, all, breaker, dispatches, settled };
}
