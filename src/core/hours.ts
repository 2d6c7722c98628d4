/** The hour keys of the dispatch counters (`State.dispatches`), computed without a Date per event. */
import type { State } from './state-types.js';

/** How long per-hour dispatch counters are kept, relative to the newest event's hour. */
export const DISPATCH_WINDOW_HOURS = 48;

const HOUR_MS = 3_600_000;

/**
 * The hour key of an hour index (hours since the epoch), as `new Date(hour * HOUR_MS).toISOString()` begins.
 * Computed from the civil date (H. Hinnant's days-to-date) for the years 0..9999 a key has four digits for:
 * the fold asks once per hour of history, and a Date per ask was a good part of its cost.
 */
export function hourKeyAt(hour: number): string {
  const days = Math.floor(hour / 24);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (!Number.isSafeInteger(hour) || year < 0 || year > 9999) {
    return new Date(hour * HOUR_MS).toISOString().slice(0, 13);
  }
  const h = hour - days * 24;
  return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(h)}`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `Date.parse(ts)` in hours since the epoch (rounded down), for the last two timestamps asked about. */
let lastTs: [string, number, string, number] = ['', 0, '', 0];
function hourOf(ts: string): number {
  if (ts === lastTs[0]) return lastTs[1];
  if (ts === lastTs[2]) return lastTs[3];
  const hour = Math.floor(Date.parse(ts) / HOUR_MS);
  lastTs = [ts, hour, lastTs[0], lastTs[1]];
  return hour;
}

/**
 * Drops dispatch counters of hours more than the window before `ts`'s hour. The fold keeps every key at or
 * after the previous event's cutoff, so only the hours between that cutoff and the new one need a look
 * (usually one): no enumeration of the counters, which `delete` has turned into a slow dictionary.
 */
export function pruneDispatches(state: State, ts: string): void {
  const keep = hourOf(ts) - DISPATCH_WINDOW_HOURS;
  const kept = state.ts === null ? null : hourOf(state.ts) - DISPATCH_WINDOW_HOURS;
  if (kept !== null && keep <= kept) return; // the same hour, or a clock behind the last event's
  if (kept !== null && keep - kept <= DISPATCH_WINDOW_HOURS) {
    for (let hour = kept; hour < keep; hour++) {
      const key = hourKeyAt(hour);
      if (Object.hasOwn(state.dispatches, key)) delete state.dispatches[key];
    }
    return;
  }
  const cutoff = hourKeyAt(keep);
  for (const key of Object.keys(state.dispatches)) {
    // Hour keys are fixed-width, so string order is time order.
    if (key < cutoff) delete state.dispatches[key];
  }
}

/**
 * The hour key of a timestamp (its first 13 characters), the same string object while the hour is the same:
 * a key string used before is found at once, a new one is first looked up among all of V8's key strings.
 */
let lastHourKey = '';
export function hourKeyOf(ts: string): string {
  if (!samePrefix(lastHourKey, ts, 13)) lastHourKey = ts.slice(0, 13);
  return lastHourKey;
}

/** Whether `a` and `b` have the same first `n` characters (both at least `n` long). */
export function samePrefix(a: string, b: string, n: number): boolean {
  if (a.length < n || b.length < n) return false;
  for (let i = 0; i < n; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return true;
}
