/**
 * Builders for event drafts and chained events, shared by unit tests.
 *
 *   const b = new EventBuilder();            // ids e0001…, ts one minute apart from 2026-01-01T10:00Z
 *   const a = b.attempt('docs-guide');        // attempt ids a0001…
 *   const events = b.chain([b.created(a), b.dispatched(a), b.failed(a, 'verify_failed')]);
 */
import fc from 'fast-check';
import { chainEvents } from '../../src/core/chain.js';
import {
  type Actor,
  type BlockReason,
  EVENT_TYPES,
  type EventDraft,
  type EventType,
  FAILURE_REASONS,
  type FailureReason,
  type LeviathanEvent,
} from '../../src/core/events.js';

type DraftOf<T extends EventType> = Extract<EventDraft, { type: T }>;

export interface AttemptRef {
  task: string;
  attempt: string;
  number: number;
}

export const BASE_TIME = '2026-01-01T10:00:00.000Z';

export class EventBuilder {
  private nextId = 1;
  private nextAttempt = 1;
  private readonly numbers = new Map<string, number>();
  /** The clock every new draft gets; `advance`/`at` move it. */
  now: number;
  /** The chain tip after the last `chain` call. */
  tip: { seq: number; hash: string } | null = null;

  constructor(
    start: string = BASE_TIME,
    private readonly stepMs = 60_000,
    readonly actor: Actor = { kind: 'scheduler' },
  ) {
    this.now = Date.parse(start);
  }

  /** Moves the clock forward. */
  advance(ms: number): this {
    this.now += ms;
    return this;
  }

  /** Sets the clock. */
  at(iso: string): this {
    this.now = Date.parse(iso);
    return this;
  }

  /** A fresh attempt for a task (numbers count per task). */
  attempt(task: string): AttemptRef {
    const number = (this.numbers.get(task) ?? 0) + 1;
    this.numbers.set(task, number);
    return { task, attempt: `a${String(this.nextAttempt++).padStart(4, '0')}`, number };
  }

  /** The envelope part of a draft: a fresh id and the current clock (which then advances by one step). */
  private base() {
    const ts = new Date(this.now).toISOString();
    this.now += this.stepMs;
    return { id: `e${String(this.nextId++).padStart(4, '0')}`, ts, actor: this.actor };
  }

  draft<T extends EventType>(
    type: T,
    data: DraftOf<T>['data'],
    refs: { task?: string; attempt?: string } = {},
  ) {
    const d: Record<string, unknown> = { ...this.base(), type };
    if (refs.task !== undefined) d.task = refs.task;
    if (refs.attempt !== undefined) d.attempt = refs.attempt;
    d.data = data;
    return d as DraftOf<T>;
  }

  created(a: AttemptRef, opts: { manual?: boolean; timeoutMinutes?: number } = {}) {
    const deadline = new Date(this.now + (opts.timeoutMinutes ?? 15) * 60_000).toISOString();
    return this.draft(
      'attempt.created',
      { number: a.number, branch: `leviathan/${a.task}`, deadline, ...(opts.manual ? { manual: true } : {}) },
      a,
    );
  }
  dispatched(a: AttemptRef) {
    return this.draft('attempt.dispatched', { forge: 'local' }, a);
  }
  started(a: AttemptRef) {
    return this.draft('attempt.started', {}, a);
  }
  succeeded(a: AttemptRef, pr: number) {
    return this.draft('attempt.succeeded', { pr }, a);
  }
  failed(a: AttemptRef, reason: FailureReason = 'verify_failed', wip?: string) {
    return this.draft('attempt.failed', { reason, ...(wip ? { wip_branch: wip } : {}) }, a);
  }
  timedOut(a: AttemptRef, wip?: string) {
    return this.draft(
      'attempt.timed_out',
      { deadline: new Date(this.now).toISOString(), ...(wip ? { wip_branch: wip } : {}) },
      a,
    );
  }
  prCreated(a: AttemptRef, number: number) {
    return this.draft('pr.created', { number, branch: `leviathan/${a.task}` }, a);
  }
  prMerged(task: string, number: number) {
    return this.draft('pr.merged', { number }, { task });
  }
  prClosed(task: string, number: number) {
    return this.draft('pr.closed', { number }, { task });
  }
  completed(task: string, pr?: number) {
    return this.draft('task.completed', pr ? { via: 'pr_merged', pr } : { via: 'backlog_done' }, { task });
  }
  blocked(task: string, attempts: number, reason: BlockReason = 'max_attempts') {
    return this.draft('task.blocked', { reason, attempts }, { task });
  }
  retried(task: string, reason = '') {
    return this.draft('task.retried', { reason }, { task });
  }
  tripped(consecutive: number, threshold = 2) {
    return this.draft('breaker.tripped', { consecutive_failures: consecutive, threshold });
  }
  reset(by: 'manual' | 'cooldown' = 'manual') {
    return this.draft('breaker.reset', { by });
  }
  configInvalid() {
    return this.draft('config.invalid', { file: '.leviathan/config.yaml', errors: ['x'] });
  }

  /** The full happy path of one attempt: created → dispatched → started → pr.created → succeeded. */
  delivered(a: AttemptRef, pr: number): EventDraft[] {
    return [
      this.created(a),
      this.dispatched(a),
      this.started(a),
      this.prCreated(a, pr),
      this.succeeded(a, pr),
    ];
  }

  /** Chains drafts after the builder's current tip and moves the tip. */
  chain(drafts: readonly EventDraft[]): LeviathanEvent[] {
    const events = chainEvents(this.tip, drafts);
    const last = events[events.length - 1];
    if (last) this.tip = { seq: last.seq, hash: last.hash };
    return events;
  }
}

/** A deep, JSON-shaped copy (what the store would read back). */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** One random step for `draftsArbitrary`: which event, on which of a few tasks/attempts, how much later. */
const stepArbitrary = fc.record({
  type: fc.constantFrom(...EVENT_TYPES),
  task: fc.constantFrom('alpha', 'beta', 'gamma'),
  attempt: fc.nat(5),
  number: fc.integer({ min: 1, max: 4 }),
  pr: fc.integer({ min: 1, max: 4 }),
  reason: fc.constantFrom(...FAILURE_REASONS),
  flag: fc.boolean(),
  // Up to 10 hours between events, so long sequences cross the 48-hour dispatch window.
  minutes: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 600 })),
  ms: fc.integer({ min: 0, max: 999 }),
});
type Step = typeof stepArbitrary extends fc.Arbitrary<infer S> ? S : never;

function stepToDraft(s: Step, index: number, time: number): EventDraft {
  const ts = new Date(time).toISOString();
  const base = { id: `ev-${index}`, ts, actor: { kind: s.flag ? 'worker' : 'scheduler' } as Actor };
  const task = s.task;
  const attempt = `att-${s.attempt}`;
  const later = new Date(time + 15 * 60_000).toISOString();
  const wip = s.flag ? { wip_branch: `leviathan-wip/${task}/${attempt}` } : {};
  switch (s.type) {
    case 'attempt.created':
      return {
        ...base,
        type: s.type,
        task,
        attempt,
        data: { number: s.number, branch: `leviathan/${task}`, deadline: later, manual: s.flag },
      };
    case 'attempt.dispatched':
      return {
        ...base,
        type: s.type,
        task,
        attempt,
        data: { forge: 'local', ...(s.flag ? { run_id: '9' } : {}) },
      };
    case 'attempt.started':
      return { ...base, type: s.type, task, attempt, data: {} };
    case 'attempt.succeeded':
      return {
        ...base,
        type: s.type,
        task,
        attempt,
        data: s.flag
          ? { pr: s.pr, usage: { cost_usd_micros: s.number * 1_250_000, turns: s.number } }
          : { pr: s.pr },
      };
    case 'attempt.failed':
      return {
        ...base,
        type: s.type,
        task,
        attempt,
        data: {
          reason: s.reason,
          detail: 'd',
          ...wip,
          ...(s.flag ? { usage: { input_tokens: s.number } } : {}),
        },
      };
    case 'attempt.timed_out':
      return { ...base, type: s.type, task, attempt, data: { deadline: ts, ...wip } };
    case 'pr.created':
      return {
        ...base,
        type: s.type,
        task,
        attempt,
        data: { number: s.pr, branch: `leviathan/${task}`, updated: s.flag },
      };
    case 'pr.merged':
      return { ...base, type: s.type, task, data: { number: s.pr } };
    case 'pr.closed':
      return { ...base, type: s.type, task, data: { number: s.pr } };
    case 'task.completed':
      return {
        ...base,
        type: s.type,
        task,
        data: s.flag ? { via: 'pr_merged', pr: s.pr } : { via: 'backlog_done' },
      };
    case 'task.blocked':
      return {
        ...base,
        type: s.type,
        task,
        data: { reason: s.flag ? 'max_attempts' : 'pr_closed', attempts: s.number, entry: `e${s.number}` },
      };
    case 'task.retried':
      return { ...base, type: s.type, task, data: { reason: s.flag ? 'try again' : '' } };
    case 'breaker.tripped':
      return { ...base, type: s.type, data: { consecutive_failures: s.number, threshold: 2 } };
    case 'breaker.reset':
      return { ...base, type: s.type, data: { by: s.flag ? 'manual' : 'cooldown' } };
    case 'config.invalid':
      return { ...base, type: s.type, data: { file: '.leviathan/config.yaml', errors: [`e${s.number}`] } };
  }
}

/**
 * Random schema-valid drafts of every type over a few tasks and attempts, with unique ids and timestamps that
 * never go backwards. Not a realistic lifecycle on purpose: the fold must be total over any valid order.
 */
export function draftsArbitrary(
  opts: { minLength?: number; maxLength?: number } = {},
): fc.Arbitrary<EventDraft[]> {
  return fc
    .array(stepArbitrary, { minLength: opts.minLength ?? 0, maxLength: opts.maxLength ?? 40 })
    .map((steps) => {
      let time = Date.parse(BASE_TIME);
      return steps.map((s, i) => {
        time += s.minutes * 60_000 + s.ms;
        return stepToDraft(s, i + 1, time);
      });
    });
}
