/**
 * The event log on the orphan branch `leviathan-events` (SPEC §4).
 *
 * Layout of every commit on the branch:
 *   events/YYYY-MM-DD.ndjson   one chained event per line; the file of an event is the UTC day of its `ts`,
 *                              or the newest file's day when that is later (writers' clocks may disagree by a
 *                              few milliseconds; a file never holds an event older than one in an earlier file)
 *   state.json                 project(all events): the snapshot at the tip, with the seq and hash it covers
 *
 * Each append is one commit authored by Leviathan whose message is
 *   events <first>..<last> <hash of last>
 *
 *   Leviathan-Tree: <the commit's own root tree>
 * The tree line seals the commit: an amended or hand-made commit (even one that copies the message) has
 * another tree, so readers stop trusting `state.json` and replay and verify everything instead.
 *
 * An append reads `state.json` and the newest daily file only (shallow, blob-less fetch plus those two blobs),
 * so its cost does not grow with history; it rewrites `state.json` and appends lines, then publishes with the
 * compare-and-swap of `RefStore`. On a lost race it re-reads, re-chains seq/prev and re-checks the caller's
 * precondition.
 */
import {
  type ChainTip,
  ChainVerifier,
  canonicalJson,
  chainEvents,
  hashEvent,
  parseEventLines,
  splitEventLines,
  type VerifyFailure,
} from '../core/chain.js';
import type { EventDraft, LeviathanEvent } from '../core/events.js';
import { initialState, project, STATE_VERSION } from '../core/state.js';
import type { State } from '../core/state-types.js';
import type { AppendResult, EventStore } from './event-store.js';
import { RefStore, type RefStoreOptions, type RefView } from './ref-store.js';

export const EVENTS_BRANCH = 'leviathan-events';
export const STATE_FILE = 'state.json';
export const EVENTS_DIR = 'events';
const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.ndjson$/;
const APPEND_MESSAGE = /^events (\d+)\.\.(\d+) ([0-9a-f]{64})\n\nLeviathan-Tree: ([0-9a-f]{40,64})$/;

export type { AppendResult } from './event-store.js';

/** Why a log is not trustworthy, beyond the chain's own reasons. */
export type LogFailure =
  | VerifyFailure
  /** A file under events/ that is not a day file. */
  | 'bad_file'
  /** An event in a file of an earlier day than its timestamp. */
  | 'misplaced'
  /** state.json covers events that are no longer in the files. */
  | 'truncated'
  /** state.json disagrees with the events (hash at its seq, or content ≠ the replayed projection). */
  | 'snapshot_mismatch'
  /** The tip commit's message names another last event than the files hold. */
  | 'message_mismatch';

/** The event chain cannot be trusted: readers fail closed (SPEC §1.5). */
export class ChainBrokenError extends Error {
  override readonly name = 'ChainBrokenError';
  constructor(
    /** The first seq that is wrong (where the chain first breaks). */
    readonly seq: number,
    readonly reason: LogFailure,
    readonly detail: string,
  ) {
    super(`event chain broken at seq ${seq}: ${reason}: ${detail}`);
  }
}

export type LogVerifyResult =
  | {
      ok: true;
      count: number;
      last: ChainTip | null;
      /** The branch tip verified (null: no branch yet). */
      tip: string | null;
      /** Harmless findings, e.g. a tip commit that was not written by Leviathan. */
      warnings: string[];
    }
  | { ok: false; seq: number; reason: LogFailure; detail: string; tip: string | null };

export interface LogSnapshot {
  state: State;
  /** The branch tip the state is at (null: no branch yet). */
  tip: string | null;
  /** How the state was obtained: nothing to read, the sealed snapshot, or a full replay. */
  source: 'empty' | 'snapshot' | 'replay';
}

export interface LogContents {
  events: LeviathanEvent[];
  state: State;
  tip: string | null;
}

export interface EventLogOptions {
  /** The target repository (a checkout or a bare repository). */
  dir: string;
  token?: string;
  /** Default `leviathan-events`. */
  branch?: string;
  remote?: string;
  /** Compare-and-swap tries per append (default 10). */
  maxTries?: number;
  backoff?: RefStoreOptions['backoff'];
}

export type Precondition = (state: State) => true | string;

export class EventLog implements EventStore {
  readonly store: RefStore;
  /** What this instance last wrote, so its next append or read of that tip needs no git reads. */
  private last: {
    commit: string;
    stateText: string;
    /** The same state, frozen: appends use it as is, readers get a copy. */
    state: State;
    newest: NonNullable<Loaded['newest']>;
  } | null = null;

  constructor(options: EventLogOptions) {
    const { branch = EVENTS_BRANCH, ...rest } = options;
    this.store = new RefStore({ ...rest, ref: `refs/heads/${branch}` });
  }

  /** The state at the tip: the sealed snapshot when trustworthy, else a full replay. Throws ChainBrokenError. */
  async read(): Promise<LogSnapshot> {
    const view = await this.store.fetch();
    const loaded = await this.load(view, false);
    return { state: loaded.state, tip: view.commit, source: loaded.source };
  }

  /**
   * The state at the tip (as `read`) and up to `count` of the newest events, from the newest day file only:
   * what `status` shows, at a cost that does not grow with the history.
   */
  async readRecent(count: number): Promise<LogSnapshot & { recent: LeviathanEvent[] }> {
    const view = await this.store.fetch();
    const loaded = await this.load(view, false);
    const tail = splitEventLines(loaded.newest?.text ?? '').slice(-count);
    const recent = parseEventLines(tail.join('\n')).filter(
      (e): e is LeviathanEvent => typeof (e as { seq?: unknown } | null)?.seq === 'number',
    );
    return { state: loaded.state, tip: view.commit, source: loaded.source, recent };
  }

  /**
   * Appends `drafts` atomically (all or none), if `precondition` accepts the state they would land on (given
   * frozen). `precondition` runs again after every lost race. Retrying an append whose drafts (by id) are already the
   * newest events returns those events instead of writing them twice. Throws ChainBrokenError on a broken
   * chain (nothing is written) and RefStoreError when the store cannot be reached or stays contended.
   */
  async append(drafts: EventDraft[], precondition?: Precondition): Promise<AppendResult> {
    if (drafts.length === 0) return { ok: true, events: [] };
    const written: { value?: { stateText: string; state: State; newest: NonNullable<Loaded['newest']> } } =
      {};
    const result = await this.store.update<LeviathanEvent[]>(async (view) => {
      const loaded = await this.load(view, true);
      const stored = alreadyAppended(drafts, loaded.newest?.text ?? '');
      if (stored) return { kind: 'skip', value: stored };
      if (precondition) {
        const verdict = precondition(loaded.state);
        if (verdict !== true) return { kind: 'refuse', reason: verdict };
      }
      const tip = loaded.state.seq > 0 ? { seq: loaded.state.seq, hash: loaded.state.hash as string } : null;
      const events = chainEvents(tip, drafts);
      const changes = new Map<string, string>();
      let day = loaded.newest?.day ?? '';
      let path = '';
      for (const e of events) {
        const own = new Date(e.ts).toISOString().slice(0, 10);
        if (own > day) day = own;
        path = `${EVENTS_DIR}/${day}.ndjson`;
        const before = changes.get(path) ?? (path === loaded.newest?.path ? loaded.newest.text : '');
        changes.set(path, `${before}${JSON.stringify(e)}\n`);
      }
      const next = project(events, loaded.state);
      const stateText = serializeState(next);
      changes.set(STATE_FILE, stateText);
      written.value = { stateText, state: next, newest: { path, day, text: changes.get(path) as string } };
      const first = events[0] as LeviathanEvent;
      const last = events[events.length - 1] as LeviathanEvent;
      return {
        kind: 'commit',
        changes,
        message: (tree: string) => appendMessage(first.seq, last.seq, last.hash, tree),
        value: events,
      };
    });
    if (result.ok && result.committed && written.value && result.commit) {
      this.last = { commit: result.commit, ...written.value, state: deepFreeze(written.value.state) };
    }
    return result.ok ? { ok: true, events: result.value } : { ok: false, refused: result.refused };
  }

  /**
   * The state at `view`. For an append it is frozen: the precondition sees exactly what the new snapshot is
   * folded from and cannot change it. Readers get a state of their own.
   */
  private async load(view: RefView, forAppend: boolean): Promise<Loaded> {
    const last = this.last;
    if (last && view.commit === last.commit) {
      const state = forAppend ? last.state : (JSON.parse(last.stateText) as State);
      return { state, source: 'snapshot', newest: last.newest };
    }
    const loaded = await loadState(view);
    if (forAppend) deepFreeze(loaded.state);
    return loaded;
  }

  /** Every event, verified, with the replayed state. Throws ChainBrokenError (fails closed). */
  async readAll(): Promise<LogContents> {
    const view = await this.store.fetch();
    const checked = await checkView(view, true);
    if (!checked.ok) throw new ChainBrokenError(checked.seq, checked.reason, checked.detail);
    if (checked.fatal)
      throw new ChainBrokenError(checked.fatal.seq, checked.fatal.reason, checked.fatal.detail);
    return { events: checked.events, state: checked.state, tip: view.commit };
  }

  /** Verifies the whole chain, the day files, state.json against the replay, and the tip commit's message. */
  async verify(): Promise<LogVerifyResult> {
    const view = await this.store.fetch();
    return verifyView(view, await checkView(view, false));
  }

  /** Same as `verify` (the name in docs/architecture.md). */
  verifyAll(): Promise<LogVerifyResult> {
    return this.verify();
  }
}

// --- format ----------------------------------------------------------------------------------------------

export function appendMessage(first: number, last: number, hash: string, tree: string): string {
  return `events ${first}..${last} ${hash}\n\nLeviathan-Tree: ${tree}`;
}

export function parseAppendMessage(
  message: string,
): { first: number; last: number; hash: string; tree: string } | null {
  const m = APPEND_MESSAGE.exec(message.replace(/\n+$/, ''));
  if (!m) return null;
  return { first: Number(m[1]), last: Number(m[2]), hash: m[3] as string, tree: m[4] as string };
}

/** state.json text: compact (it is rewritten by every append), one trailing newline. */
export function serializeState(state: State): string {
  return `${JSON.stringify(state)}\n`;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function lastLine(text: string): string | null {
  const trimmed = text.replace(/\n+$/, '');
  if (trimmed === '') return null;
  return trimmed.slice(trimmed.lastIndexOf('\n') + 1);
}

// --- reading ---------------------------------------------------------------------------------------------

interface Loaded {
  state: State;
  source: LogSnapshot['source'];
  newest: { path: string; day: string; text: string } | null;
}

/** The state at a view: the sealed snapshot if every check passes, else a verified replay. */
async function loadState(view: RefView): Promise<Loaded> {
  if (view.commit === null) return { state: initialState(), source: 'empty', newest: null };
  // One listing of the root and events/: state.json and the newest day file are then read in one go.
  const names = (await view.list('', EVENTS_DIR)).filter(
    (e) => e.type === 'blob' && e.path.startsWith(`${EVENTS_DIR}/`) && DAY_FILE.test(e.name),
  );
  const newestEntry = names[names.length - 1];
  const paths = [STATE_FILE, ...(newestEntry ? [newestEntry.path] : [])];
  const texts = await view.readMany(paths);
  const newest = newestEntry
    ? { path: newestEntry.path, day: newestEntry.name.slice(0, 10), text: texts.get(newestEntry.path) ?? '' }
    : null;
  const trusted = trustedSnapshot(view, texts.get(STATE_FILE) ?? null, newest?.text ?? '');
  if (trusted) return { state: trusted, source: 'snapshot', newest };
  const checked = await checkView(view, false);
  if (!checked.ok) throw new ChainBrokenError(checked.seq, checked.reason, checked.detail);
  if (checked.fatal)
    throw new ChainBrokenError(checked.fatal.seq, checked.fatal.reason, checked.fatal.detail);
  return { state: checked.state, source: 'replay', newest };
}

/**
 * The snapshot, if the tip is a sealed Leviathan append whose message, state.json and the newest file's last
 * line all name the same last event.
 */
function trustedSnapshot(view: RefView, stateText: string | null, newestText: string): State | null {
  const m = parseAppendMessage(view.message);
  if (!m || m.tree !== view.tree || stateText === null) return null;
  let state: State;
  let last: Record<string, unknown>;
  try {
    state = JSON.parse(stateText) as State;
    last = JSON.parse(lastLine(newestText) ?? 'null') as Record<string, unknown>;
  } catch {
    return null;
  }
  if (state?.v !== STATE_VERSION || state.seq !== m.last || state.hash !== m.hash) return null;
  if (!last || last.seq !== m.last || last.hash !== m.hash || hashEvent(last) !== m.hash) return null;
  return state;
}

/** If every draft id is among the newest file's events (a retried append that had landed), those events. */
function alreadyAppended(drafts: readonly EventDraft[], newestText: string): LeviathanEvent[] | null {
  if (newestText === '') return null;
  const wanted = new Set(drafts.map((d) => d.id));
  const found = new Map<string, LeviathanEvent>();
  for (const value of parseEventLines(newestText)) {
    const id = (value as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && wanted.has(id)) found.set(id, value as LeviathanEvent);
  }
  if (found.size === 0) return null;
  if (found.size < wanted.size) {
    throw new Error(
      `some of these event ids are already in the log, others not: ${[...found.keys()].join(', ')}`,
    );
  }
  return drafts.map((d) => found.get(d.id) as LeviathanEvent);
}

type Checked = CheckLogResult;

async function checkView(view: RefView, keepEvents: boolean): Promise<Checked> {
  if (view.commit === null) return checkLog({ files: new Map(), stateText: null, keepEvents });
  const files = await view.readAll(EVENTS_DIR);
  const stateText = await view.read(STATE_FILE);
  return checkLog({ files, stateText, keepEvents });
}

function verifyView(view: RefView, checked: Checked): LogVerifyResult {
  const tip = view.commit;
  if (!checked.ok)
    return { ok: false, seq: checked.seq, reason: checked.reason, detail: checked.detail, tip };
  const problem = checked.fatal ?? checked.snapshotProblem;
  if (problem) return { ok: false, ...problem, tip };
  const warnings: string[] = [];
  if (tip !== null) {
    const m = parseAppendMessage(view.message);
    const last = checked.last;
    const lastSeq = last?.seq ?? 0;
    if (!m) {
      warnings.push(
        `the tip commit ${tip.slice(0, 12)} was not written by Leviathan (hand-made or rewritten)`,
      );
    } else {
      if (!last || m.last !== last.seq || m.hash !== last.hash) {
        return {
          ok: false,
          seq: m.last > lastSeq ? lastSeq + 1 : m.last < lastSeq ? m.last + 1 : m.last,
          reason: 'message_mismatch',
          detail: `the tip commit says it appended up to seq ${m.last} (${m.hash.slice(0, 12)}), the files end at ${last ? `seq ${last.seq} (${last.hash.slice(0, 12)})` : 'no event'}`,
          tip,
        };
      }
      if (m.tree !== view.tree) {
        warnings.push(
          `the tip commit ${tip.slice(0, 12)} was changed after Leviathan wrote it (its tree is not the sealed one)`,
        );
      }
    }
  }
  return { ok: true, count: checked.count, last: checked.last, tip, warnings };
}

// --- the pure check --------------------------------------------------------------------------------------

export interface CheckLogInput {
  /** Files under events/ (path → text); other entries are reported as `bad_file`. */
  files: ReadonlyMap<string, string>;
  /** state.json's text, or null when absent. */
  stateText: string | null;
  /** Keep the parsed events in the result (readAll); verification alone does not need them. */
  keepEvents?: boolean;
}

interface Problem {
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
    }
  | ({ ok: false } & Problem);

/**
 * Verifies a log given as file texts: day-file names, the chain across all files in name order, ids unique
 * over the whole log, each event in a file not earlier than its day, and state.json against the replay.
 */
export function checkLog(input: CheckLogInput): CheckLogResult {
  const paths = [...input.files.keys()].sort();
  const kept: LeviathanEvent[] = [];
  // Written by the generator below (a closure, so kept in one object the type checker can follow).
  const run: { tip: ChainTip | null; count: number; failure: Problem | null; hashAtSnapshot: string | null } =
    {
      tip: null,
      count: 0,
      failure: null,
      hashAtSnapshot: null,
    };

  let snapshot: State | null = null;
  let snapshotError: string | null = null;
  if (input.stateText !== null) {
    try {
      snapshot = JSON.parse(input.stateText) as State;
      if (typeof snapshot?.seq !== 'number') throw new Error('no seq');
    } catch (error) {
      snapshot = null;
      snapshotError = `state.json is not a state: ${(error as Error).message}`;
    }
  }

  // Verified events stream straight into one fold: no copy of a growing state, no list of all events.
  const chain = new ChainVerifier(null);
  function* verified(): Generator<LeviathanEvent> {
    for (const path of paths) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      const day = DAY_FILE.exec(name)?.[1];
      if (path !== `${EVENTS_DIR}/${name}` || !day) {
        run.failure = {
          seq: (chain.tip?.seq ?? 0) + 1,
          reason: 'bad_file',
          detail: `unexpected file ${path}`,
        };
        return;
      }
      const { events, failure, reused } = chain.lines(splitEventLines(input.files.get(path) as string));
      // Checks the chain does not make, on the events it accepted, so the earliest problem is reported.
      // The schema admits only UTC (`Z`) timestamps, so the first ten characters are the UTC day: a later
      // day sorts after `dayEnd`, the same day or an earlier one before it.
      const dayEnd = `${day}\uffff`;
      for (let i = 0; i < events.length; i++) {
        const e = events[i] as LeviathanEvent;
        if (i === reused) {
          run.failure = { seq: e.seq, reason: 'duplicate_id', detail: `event id ${e.id} is used twice` };
          return;
        }
        if (e.ts > dayEnd) {
          run.failure = { seq: e.seq, reason: 'misplaced', detail: `event of ${e.ts} in ${path}` };
          return;
        }
        if (snapshot && e.seq === snapshot.seq) run.hashAtSnapshot = e.hash;
      }
      if (failure) {
        run.failure = { seq: failure.seq, reason: failure.reason, detail: `${path}: ${failure.detail}` };
        return;
      }
      run.count += events.length;
      run.tip = chain.tip;
      if (input.keepEvents) for (const e of events) kept.push(e);
      yield* events;
    }
  }
  const state = project(verified());
  if (run.failure) return { ok: false, ...run.failure };
  const { tip, count, hashAtSnapshot } = run;

  let fatal: Problem | null = null;
  let snapshotProblem: Problem | null = null;
  const lastSeq = tip?.seq ?? 0;
  if (snapshot) {
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
    } else if (
      input.stateText !== serializeState(state) &&
      canonicalJson(snapshot) !== canonicalJson(state)
    ) {
      // (Byte equality first: it is what Leviathan writes, and canonicalising a large state is slow.)
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
  return { ok: true, count, last: tip, state, events: kept, fatal, snapshotProblem };
}
