import type { LeviathanEvent } from './events.js';
import { own } from './own-key.js';
import type { Spend, State, TaskState } from './state-types.js';
import { formatUsd, usdToMicros } from './usage.js';

/**
 * Spend across runs (issue 11, "Spend budget"): what attempts reported in their terminal events, per task in
 * play and per UTC day. An attempt whose terminal event reports no cost counts as unknown spend: shown, never
 * blocking. A late result that reports a cost after the attempt was timed out is counted too (the money was
 * spent), so its attempt may show both as unknown and as known.
 */

/** How many UTC days of spend counters are kept, counting the newest event's day. */
export const SPEND_WINDOW_DAYS = 8;

const DAY_MS = 86_400_000;

/** UTC day key `YYYY-MM-DD` of a date or ISO timestamp. */
export function dayKey(date: Date | string): string {
  return (typeof date === 'string' ? date : date.toISOString()).slice(0, 10);
}

/**
 * `dayKey(ts)`, the same string object while the day is the same (a key string used before is found at once;
 * a new one is first looked up among all of V8's key strings).
 */
let lastDayKey = '';
function dayKeyOf(ts: string): string {
  if (lastDayKey.length !== 10 || !ts.startsWith(lastDayKey)) lastDayKey = ts.slice(0, 10);
  return lastDayKey;
}

function add(spend: Spend, micros: number | undefined): void {
  if (micros === undefined) spend.unknown += 1;
  else spend.micros += micros;
}

function emptySpend(): Spend {
  return { micros: 0, unknown: 0 };
}

/**
 * Charges a terminal attempt event (to the day and to `task`, the event's task in play). `first`: the event ends the attempt (else it is a late or repeated one,
 * charged only for a reported cost).
 */
export function chargeSpend(
  state: State,
  e: LeviathanEvent,
  first: boolean,
  task: TaskState | undefined,
): void {
  if (e.type !== 'attempt.succeeded' && e.type !== 'attempt.failed' && e.type !== 'attempt.timed_out') return;
  const micros = e.type === 'attempt.timed_out' ? undefined : e.data.usage?.cost_usd_micros;
  if (micros === undefined && !first) return;
  const day = dayKeyOf(e.ts);
  let today = own(state.spend, day);
  if (!today) {
    // A day key is the first 10 characters of a schema-checked ISO timestamp: never `__proto__`.
    today = emptySpend();
    state.spend[day] = today;
  }
  add(today, micros);
  if (task) {
    task.spend ??= emptySpend();
    add(task.spend, micros);
  }
}

/** Drops day counters older than the window before `ts`'s day (a handful of keys at most). */
export function pruneSpend(state: State, ts: string): void {
  const cutoff = dayKey(new Date(Date.parse(ts) - (SPEND_WINDOW_DAYS - 1) * DAY_MS));
  for (const key of Object.keys(state.spend)) if (key < cutoff) delete state.spend[key];
}

/** What the task in play has spent so far (a settled or unknown task: nothing). */
export function taskSpend(state: State, taskId: string): Spend {
  const t = own(state.tasks, taskId)?.spend;
  return t ? { ...t } : emptySpend();
}

/** What was spent on the UTC day that contains `now`. */
export function daySpend(state: State, now: Date): Spend {
  const d = own(state.spend ?? {}, dayKey(now));
  return d ? { ...d } : emptySpend();
}

/** Spend so far as `status` and the tick report it: today's (UTC) and each task's in play that spent. */
export interface SpendReport {
  /** The UTC day `today` is of. */
  day: string;
  today: Spend;
  tasks: Record<string, Spend>;
}

export function spendReport(state: State, now: Date, taskIds: readonly string[]): SpendReport {
  const tasks: Record<string, Spend> = {};
  for (const id of taskIds) {
    const t = own(state.tasks, id)?.spend;
    if (t && id !== '__proto__') tasks[id] = { ...t };
  }
  return { day: dayKey(now), today: daySpend(state, now), tasks };
}

/** `$5.00 of $4.00 per day, 1 attempt with unknown spend`: one phrase for summaries. */
export function describeSpend(spend: Spend, limitUsd: number, per: 'day' | 'task'): string {
  const usd = (m: number) => formatUsd(m);
  const limit = limitUsd > 0 ? ` of ${usd(usdToMicros(limitUsd))} per ${per}` : ' (no limit)';
  const unknown =
    spend.unknown > 0 ? `, ${spend.unknown} attempt${spend.unknown === 1 ? '' : 's'} with unknown spend` : '';
  return `${usd(spend.micros)}${limit}${unknown}`;
}
