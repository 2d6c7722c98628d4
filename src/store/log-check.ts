/** The pure check of a log given as file texts: the chain, the day files and state.json against the replay. */
import { type ChainTip, ChainVerifier, canonicalJson, splitEventLines } from '../core/chain.js';
import type { LeviathanEvent } from '../core/events.js';
import { Fold } from '../core/fold.js';
import { initialState, STATE_VERSION } from '../core/state.js';
import type { State } from '../core/state-types.js';
import { DAY_FILE, EVENTS_DIR, serializeState } from './log-format.js';
import type { LogFailure } from './log-types.js';

export interface CheckLogInput {
  /** Files under events/ (path → text); other entries are reported as `bad_file`. */
  files: ReadonlyMap<string, string>;
  /** state.json's text, or null when absent. */
  stateText: string | null;
  /** Keep the parsed events in the result (readAll); verification alone does not need them. */
  keepEvents?: boolean;
  /** A seq whose hash the result reports (`probeHash`): the anchor's. */
  probe?: number;
}

export interface Problem {
  seq: number;
  reason: LogFailure;
  detail: string;
}

export type CheckLogResult =
  | {
      ok: true;
      count: number;
      last: ChainTip | null;
      /** The replayed projection. */
      state: State;
      events: LeviathanEvent[];
      /** A disagreement that means events were removed or rewritten: readers fail closed on it. */
      fatal: Problem | null;
      /** state.json is stale or edited but the events are intact: `verify` fails, readers use the replay. */
      snapshotProblem: Problem | null;
      /** The hash of event `probe`, if the log has it. */
      probeHash?: string;
    }
  | ({ ok: false } & Problem);

/**
 * The replay as a snapshot of `snapshot`'s format would hold it. A v2 snapshot (written before the fold kept
 * each task's `last_failure` and the spend) is compared without those fields: readers never trust it (they replay), the next
 * append rewrites it, and an edit of it is still caught. Any other format is compared as is.
 */
function inFormatOf(snapshot: State, state: State): State {
  if ((snapshot.v as number) !== 2 || STATE_VERSION !== 3) return state;
  const older = JSON.parse(serializeState(state)) as State;
  (older as { v: number }).v = 2;
  for (const task of Object.values(older.tasks)) {
    delete task.last_failure;
    delete task.spend;
  }
  delete (older as { spend?: unknown }).spend;
  return older;
}

/** Whether the timestamp `ts` is of a later day than `day` (YYYY-MM-DD); compared in place, no new string. */
function laterDay(ts: string, day: string): boolean {
  if (ts.length < day.length) return !ts.startsWith(day) && ts > day;
  for (let i = 0; i < day.length; i++) {
    const a = ts.charCodeAt(i);
    const b = day.charCodeAt(i);
    if (a !== b) return a > b;
  }
  return false;
}

/**
 * Verifies a log given as file texts: day-file names, the chain across all files in name order, ids unique
 * over the whole log, each event in a file not earlier than its day, and state.json against the replay.
 *
 * First as a pass that defers the id check to one sort at the end (`ChainVerifier`'s `deferIds`): for a log
 * Leviathan wrote, that pass stands. When it does not (a line off the fast path, a possible duplicate id), the
 * check is redone with ids checked as they come, so what is reported is always what that check reports.
 */
export function checkLog(input: CheckLogInput): CheckLogResult {
  return checkWith(input, true) ?? (checkWith(input, false) as CheckLogResult);
}

/** The check; with `deferIds`, null when the deferred pass does not stand. */
function checkWith(input: CheckLogInput, deferIds: boolean): CheckLogResult | null {
  const paths = [...input.files.keys()].sort();
  const kept: LeviathanEvent[] = [];
  // Written by `verifyFiles` below (a closure, so kept in one object the type checker can follow).
  const run: {
    tip: ChainTip | null;
    count: number;
    hashAtProbe?: string;
  } = {
    tip: null,
    count: 0,
  };

  // Each day file's verified events go straight into one fold: no copy of a growing state, no list of all
  // events, no iterator between the two.
  const chain = new ChainVerifier(null, { deferIds });
  const fold = new Fold(initialState());
  /** The events each file holds, in order (all verified). */
  const counts: Array<[string, number]> = [];
  const failure = verifyFiles();
  if (!chain.settled()) return null;
  if (failure) return { ok: false, ...failure };
  function verifyFiles(): Problem | null {
    for (const path of paths) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      const day = DAY_FILE.exec(name)?.[1];
      if (path !== `${EVENTS_DIR}/${name}` || !day) {
        return { seq: (chain.tip?.seq ?? 0) + 1, reason: 'bad_file', detail: `unexpected file ${path}` };
      }
      const { events, failure, reused } = chain.text(input.files.get(path) as string);
      if (chain.stopped) return null;
      // Checks the chain does not make, on the events it accepted, so the earliest problem is reported.
      // The schema admits only UTC (`Z`) timestamps, so the first ten characters are the UTC day: an event
      // of the file's day starts with it, one of a later day sorts after it, one of an earlier day before.
      for (let i = 0; i < events.length; i++) {
        const e = events[i] as LeviathanEvent;
        if (i === reused)
          return { seq: e.seq, reason: 'duplicate_id', detail: `event id ${e.id} is used twice` };
        if (laterDay(e.ts, day)) {
          return { seq: e.seq, reason: 'misplaced', detail: `event of ${e.ts} in ${path}` };
        }
        if (e.seq === input.probe) run.hashAtProbe = e.hash;
      }
      if (failure) {
        return { seq: failure.seq, reason: failure.reason, detail: `${path}: ${failure.detail}` };
      }
      fold.add(events);
      counts.push([path, events.length]);
      run.count += events.length;
      run.tip = chain.tip;
      if (input.keepEvents) for (const e of events) kept.push(e);
    }
    return null;
  }
  const state = fold.result();
  const { tip, count } = run;
  const lastSeq = tip?.seq ?? 0;

  // state.json is read once the events are verified: when it is byte for byte the replay's (what Leviathan
  // writes), it is the replay — same seq, same hash at that seq, same content — and needs no parse.
  const replayText = serializeState(state);
  let snapshot: State | null = null;
  let snapshotError: string | null = null;
  if (input.stateText !== null && input.stateText !== replayText) {
    try {
      snapshot = JSON.parse(input.stateText) as State;
      if (typeof snapshot?.seq !== 'number') throw new Error('no seq');
    } catch (error) {
      snapshot = null;
      snapshotError = `state.json is not a state: ${(error as Error).message}`;
    }
  }
  /** The hash of the verified event `seq` (null: no such event), read back from its line. */
  const hashAt = (seq: number): string | null => {
    if (!Number.isInteger(seq) || seq < 1 || seq > lastSeq) return null;
    let before = 0;
    for (const [path, n] of counts) {
      if (seq <= before + n) {
        const line = splitEventLines(input.files.get(path) as string)[seq - before - 1] as string;
        return (JSON.parse(line) as LeviathanEvent).hash;
      }
      before += n;
    }
    return null;
  };

  let fatal: Problem | null = null;
  let snapshotProblem: Problem | null = null;
  const sameBytes = input.stateText !== null && input.stateText === replayText;
  if (sameBytes) {
    // The replay itself: nothing to report.
  } else if (snapshot) {
    const hashAtSnapshot = snapshot.seq > lastSeq ? null : hashAt(snapshot.seq);
    if (snapshot.seq > lastSeq) {
      fatal = {
        seq: lastSeq + 1,
        reason: 'truncated',
        detail: `state.json covers seq ${snapshot.seq} but the files end at seq ${lastSeq}: events were removed`,
      };
    } else if (snapshot.seq > 0 && snapshot.hash !== hashAtSnapshot) {
      fatal = {
        seq: snapshot.seq,
        reason: 'snapshot_mismatch',
        detail: `state.json records hash ${String(snapshot.hash).slice(0, 12)} at seq ${snapshot.seq}, the chain has ${String(hashAtSnapshot).slice(0, 12)}: events were rewritten or state.json edited`,
      };
    } else if (canonicalJson(snapshot) !== canonicalJson(inFormatOf(snapshot, state))) {
      // (Byte equality was tried first: it is what Leviathan writes, and canonicalising a large state is slow.)
      snapshotProblem = {
        seq: snapshot.seq === lastSeq ? lastSeq : snapshot.seq + 1,
        reason: 'snapshot_mismatch',
        detail:
          snapshot.seq === lastSeq
            ? `state.json differs from the replay of seq 1..${lastSeq}`
            : `state.json is at seq ${snapshot.seq}, the log at seq ${lastSeq}`,
      };
    }
  } else if (lastSeq > 0) {
    snapshotProblem = {
      seq: lastSeq,
      reason: 'snapshot_mismatch',
      detail: snapshotError ?? 'state.json is missing',
    };
  }
  const probed = run.hashAtProbe === undefined ? {} : { probeHash: run.hashAtProbe };
  return { ok: true, count, last: tip, state, events: kept, fatal, snapshotProblem, ...probed };
}
