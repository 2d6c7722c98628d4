import { describe, expect, it } from '@jest/globals';
import { BacklogSchema } from '../../src/core/backlog.js';
import { type Config, ConfigSchema } from '../../src/core/config.js';
import type { EventDraft } from '../../src/core/events.js';
import { select } from '../../src/core/select.js';
import { daySpend, SPEND_WINDOW_DAYS, taskSpend } from '../../src/core/spend.js';
import { project } from '../../src/core/state.js';
import { type AttemptRef, EventBuilder } from '../helpers/events.js';

const M = 1_000_000;

function cost(b: EventBuilder, a: AttemptRef, usd: number | undefined, ok = false): EventDraft {
  const usage = usd === undefined ? {} : { usage: { cost_usd_micros: Math.round(usd * M), turns: 2 } };
  return ok
    ? b.draft('attempt.succeeded', { pr: 1, ...usage }, a)
    : b.draft('attempt.failed', { reason: 'verify_failed', ...usage }, a);
}

describe('spend in the fold', () => {
  it('adds reported costs per task and per UTC day; no report is unknown spend', () => {
    const b = new EventBuilder('2026-01-01T23:50:00.000Z');
    const x1 = b.attempt('x');
    const y1 = b.attempt('y');
    const drafts = [b.created(x1), cost(b, x1, 1.25), b.created(y1), cost(b, y1, undefined)];
    b.at('2026-01-02T00:10:00.000Z');
    const x2 = b.attempt('x');
    drafts.push(b.created(x2), cost(b, x2, 0.5, true));
    const state = project(b.chain(drafts));
    expect(taskSpend(state, 'x')).toEqual({ micros: 1_750_000, unknown: 0 });
    expect(taskSpend(state, 'y')).toEqual({ micros: 0, unknown: 1 });
    expect(daySpend(state, new Date('2026-01-01T12:00:00Z'))).toEqual({ micros: 1_250_000, unknown: 1 });
    expect(daySpend(state, new Date('2026-01-02T23:59:59Z'))).toEqual({ micros: 500_000, unknown: 0 });
    expect(daySpend(state, new Date('2026-01-03T00:00:00Z'))).toEqual({ micros: 0, unknown: 0 });
  });

  it('a timed-out attempt is unknown spend; a late result that reports a cost still counts it', () => {
    const b = new EventBuilder();
    const a = b.attempt('x');
    const state = project(b.chain([b.created(a), b.timedOut(a), cost(b, a, 2)]));
    expect(taskSpend(state, 'x')).toEqual({ micros: 2 * M, unknown: 1 });
  });

  it('a repeated terminal event without a cost changes nothing', () => {
    const b = new EventBuilder();
    const a = b.attempt('x');
    const once = project(b.chain([b.created(a), cost(b, a, 1)]));
    const twice = project(b.chain([cost(b, a, undefined)]), once);
    expect(taskSpend(twice, 'x')).toEqual({ micros: M, unknown: 0 });
  });

  it('keeps only the last days of counters', () => {
    const b = new EventBuilder('2026-01-01T10:00:00.000Z');
    const drafts: EventDraft[] = [];
    for (let day = 1; day <= 12; day++) {
      b.at(`2026-01-${String(day).padStart(2, '0')}T10:00:00.000Z`);
      const a = b.attempt(`t${day}`);
      drafts.push(b.created(a), cost(b, a, 1));
    }
    const state = project(b.chain(drafts));
    expect(Object.keys(state.spend)).toHaveLength(SPEND_WINDOW_DAYS);
    expect(Object.keys(state.spend).sort()[0]).toBe('2026-01-05');
  });
});

function cfg(limits: Partial<Config['limits']>): Config {
  return ConfigSchema.parse({
    limits: { max_open_prs: 5, max_running_attempts: 5, max_dispatches_per_hour: 50, ...limits },
  });
}

const bl = BacklogSchema.parse({
  tasks: ['x', 'y'].map((id) => ({ id, title: id, ready: true, allowed_paths: [`docs/${id}.md`] })),
});

function reasons(state: ReturnType<typeof project>, limits: Partial<Config['limits']>, now: string) {
  const d = select({ backlog: bl, config: cfg(limits), state, openPulls: [], now: new Date(now) });
  return Object.fromEntries(d.reasons.map((r) => [r.task, r.reason]));
}

describe('select and the spend budget', () => {
  const b = new EventBuilder('2026-01-01T10:00:00.000Z');
  const a = b.attempt('x');
  const spent = project(b.chain([b.created(a), cost(b, a, 5)]));
  const noon = '2026-01-01T12:00:00.000Z';

  it('0 is unlimited (the default)', () => {
    expect(reasons(spent, {}, noon)).toEqual({ x: 'selected', y: 'queued' });
  });

  it('budget_task refuses a task whose reported spend reached its limit; others go on', () => {
    expect(reasons(spent, { max_cost_usd_per_task: 5 }, noon)).toEqual({ x: 'budget_task', y: 'selected' });
    expect(reasons(spent, { max_cost_usd_per_task: 5.01 }, noon)).toEqual({ x: 'selected', y: 'queued' });
  });

  it('budget_day refuses every dispatch for the rest of the UTC day, and the next day dispatches again', () => {
    expect(reasons(spent, { max_cost_usd_per_day: 4 }, noon)).toEqual({ x: 'budget_day', y: 'budget_day' });
    expect(reasons(spent, { max_cost_usd_per_day: 4 }, '2026-01-01T23:59:59.999Z').y).toBe('budget_day');
    expect(reasons(spent, { max_cost_usd_per_day: 4 }, '2026-01-02T00:00:00.000Z')).toEqual({
      x: 'selected',
      y: 'queued',
    });
  });

  it('unknown spend never blocks', () => {
    const u = new EventBuilder('2026-01-01T10:00:00.000Z');
    const drafts: EventDraft[] = [];
    for (let i = 0; i < 5; i++) {
      const at = u.attempt('x');
      drafts.push(u.created(at), cost(u, at, undefined, true));
    }
    const state = project(u.chain(drafts));
    expect(
      reasons(
        state,
        { max_cost_usd_per_day: 0.01, max_cost_usd_per_task: 0.01, max_attempts_per_task: 9 },
        noon,
      ),
    ).toEqual({ x: 'selected', y: 'queued' });
  });

  it('the config refuses negative or non-numeric limits', () => {
    expect(ConfigSchema.safeParse({ limits: { max_cost_usd_per_day: -1 } }).success).toBe(false);
    expect(ConfigSchema.safeParse({ limits: { max_cost_usd_per_task: '5' } }).success).toBe(false);
    expect(ConfigSchema.parse({}).limits).toMatchObject({
      max_cost_usd_per_task: 0,
      max_cost_usd_per_day: 0,
    });
  });
});
