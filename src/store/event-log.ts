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
import { UserError } from '../core/errors.js';
import type { EventDraft, LeviathanEvent } from '../core/events.js';
import { sealPayload, sealTrailers } from '../core/seal.js';
import { foldInto, initialState, project, STATE_VERSION } from '../core/state.js';
import type { State } from '../core/state-types.js';
import type { AppendResult, EventStore } from './event-store.js';
import type { Git } from './git.js';
import { type Anchor, AnchorFile } from './log-anchor.js';
import { keyIdOf, type Sealer } from './log-seal.js';
import { anchorVerdict, hashAtSeq, sealProblem, sha256Text } from './log-trust.js';
import { RefStore } from './ref-store.js';
import type { RefStoreOptions, RefView } from './ref-store-types.js';

export const EVENTS_BRANCH = 'leviathan-events';
export const STATE_FILE = 'state.json';
export const EVENTS_DIR = 'events';
const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.ndjson$/;
const APPEND_MESSAGE =
  /^events (\d+)\.\.(\d+) ([0-9a-f]{64})\n\nLeviathan-Tree: ([0-9a-f]{40,64})(?:\nLeviathan-[A-Za-z]+: [^\n]*)*$/;

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
  | 'message_mismatch'
  /** The config names a public key and the tip is not sealed by it (forged, unsigned or edited). */
  | 'unsealed'
  /** The log does not extend the last tip this machine verified (rolled back, rewritten or deleted). */
  | 'rolled_back';

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
      /** What could be proved: the hash chain, the tip's seal by the configured key, the anchor extended. */
      chained: true;
      signed: boolean;
      anchored: boolean;
      /** Checked against the attempts the forge's pulls and the origin's WIP branches name (see `CrossCheck`). */
      crosschecked: boolean;
      key_id: string | null;
    }
  | { ok: false; seq: number; reason: LogFailure; detail: string; tip: string | null };

/**
 * The log's replayed state checked against the outside world (core/log-freshness.ts): why the log is behind
 * what the forge and the origin name (one line), or null.
 */
export type CrossCheck = (state: State) => Promise<string | null>;

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
  /** Shares repository answers with the command's other readers (see RefStoreOptions.probe). */
  probe?: Git;
  /** Default `leviathan-events`. */
  branch?: string;
  remote?: string;
  /** Compare-and-swap tries per append (default 10). */
  maxTries?: number;
  backoff?: RefStoreOptions['backoff'];
  /** Seals every append (from LEVIATHAN_SIGNING_KEY). */
  sealer?: Sealer | null;
  /** The config's `events.public_key`: the tip must be sealed by it (see `trustKey`). */
  publicKey?: string;
  /** The local record of the last verified tip; default: one in the state directory for this origin. */
  anchor?: AnchorFile | null;
}

/** What a load checks beyond the chain. */
interface TrustContext {
  ref: string;
  publicKey: string;
  /** The anchor as it was before the tip was fetched: what the tip must extend. */
  anchor: Anchor | null;
  /** Whether a Leviathan process on this machine verified or wrote exactly this tip (the anchor as it is now). */
  verifiedHere: (commit: string, stateSha: string | null) => Promise<boolean>;
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
    verified: boolean;
  } | null = null;

  private readonly ref: string;
  private publicKey: string;
  private readonly sealer: Sealer | null;
  private anchorFile: AnchorFile | null | undefined;

  constructor(options: EventLogOptions) {
    const { branch = EVENTS_BRANCH, sealer = null, publicKey = '', anchor, ...rest } = options;
    this.ref = `refs/heads/${branch}`;
    this.store = new RefStore({ ...rest, ref: this.ref });
    this.sealer = sealer;
    this.publicKey = publicKey;
    this.anchorFile = anchor;
  }

  /** The config's `events.public_key` ('' = none): from now on every read requires the tip sealed by it. */
  trustKey(publicKey: string): void {
    this.publicKey = publicKey;
  }

  private async anchors(): Promise<AnchorFile | null> {
    if (this.anchorFile === undefined) {
      this.anchorFile = new AnchorFile(`${await this.store.location()}#${this.ref}`);
    }
    return this.anchorFile;
  }

  /** Read before the tip is fetched: an anchor written by a concurrent writer is then never ahead of it. */
  private async trust(): Promise<TrustContext> {
    const file = await this.anchors();
    const anchor = (await file?.read()) ?? null;
    const verifiedHere = async (commit: string, stateSha: string | null) => {
      const now = commit === anchor?.commit ? anchor : await file?.read();
      return now?.commit === commit && now.state === stateSha;
    };
    return { ref: this.ref, publicKey: this.publicKey, anchor, verifiedHere };
  }

  private async remember(commit: string | null, state: State, stateSha: string | null): Promise<void> {
    await (await this.anchors())?.write({ commit, seq: state.seq, hash: state.hash, state: stateSha });
  }

  /** The state at the tip: the sealed snapshot when trustworthy, else a full replay. Throws ChainBrokenError. */
  async read(): Promise<LogSnapshot> {
    const trust = await this.trust();
    const view = await this.store.fetch();
    const loaded = await this.load(view, false, trust);
    await this.remember(view.commit, loaded.state, loaded.stateSha);
    this.keep(view.commit, loaded);
    return { state: loaded.state, tip: view.commit, source: loaded.source };
  }

  /**
   * The state at the tip (as `read`) and up to `count` of the newest events, from the newest day file only:
   * what `status` shows, at a cost that does not grow with the history.
   */
  async readRecent(count: number): Promise<LogSnapshot & { recent: LeviathanEvent[] }> {
    const trust = await this.trust();
    const view = await this.store.fetch();
    const loaded = await this.load(view, false, trust);
    await this.remember(view.commit, loaded.state, loaded.stateSha);
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
    if (this.publicKey && this.sealer?.publicKey !== this.publicKey) {
      throw new UserError(
        this.sealer
          ? `LEVIATHAN_SIGNING_KEY is key ${this.sealer.keyId}, but the config's events.public_key is key ${keyIdOf(this.publicKey)}`
          : `the event log is sealed (events.public_key, key ${keyIdOf(this.publicKey)}): set LEVIATHAN_SIGNING_KEY to append`,
      );
    }
    const trust = await this.trust();
    const written: {
      value?: { stateText: string; state: State; newest: NonNullable<Loaded['newest']>; verified: boolean };
    } = {};
    const result = await this.store.update<LeviathanEvent[]>(async (view) => {
      const loaded = await this.load(view, true, trust);
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
      const stateSha = sha256Text(stateText);
      written.value = {
        stateText,
        state: next,
        newest: { path, day, text: changes.get(path) as string },
        verified: loaded.verified,
      };
      const first = events[0] as LeviathanEvent;
      const last = events[events.length - 1] as LeviathanEvent;
      return {
        kind: 'commit',
        changes,
        message: (tree: string) => {
          const claim = { ref: this.ref, first: first.seq, last: last.seq, hash: last.hash, state: stateSha };
          const seal = this.sealer ? this.sealer.seal(sealPayload(claim)) : null;
          return `${appendMessage(first.seq, last.seq, last.hash, tree)}\n${sealTrailers(stateSha, seal)}`;
        },
        value: events,
      };
    });
    if (result.ok && result.committed && written.value && result.commit) {
      this.last = { commit: result.commit, ...written.value, state: deepFreeze(written.value.state) };
      const { verified, stateText } = written.value;
      await this.remember(result.commit, written.value.state, verified ? sha256Text(stateText) : null);
    }
    return result.ok ? { ok: true, events: result.value } : { ok: false, refused: result.refused };
  }

  /**
   * A verified snapshot read at `commit`, kept like one this instance wrote: an append on the same tip (the
   * worker's `attempt.started` after its read) then needs no second listing and read of the same files.
   */
  private keep(commit: string | null, loaded: Loaded): void {
    if (commit === null || this.last?.commit === commit) return;
    if (loaded.source !== 'snapshot' || !loaded.verified || !loaded.newest || loaded.stateText === undefined)
      return;
    const state = deepFreeze(JSON.parse(loaded.stateText) as State);
    this.last = { commit, stateText: loaded.stateText, state, newest: loaded.newest, verified: true };
  }

  /**
   * The state at `view`. For an append it is frozen: the precondition sees exactly what the new snapshot is
   * folded from and cannot change it. Readers get a state of their own.
   */
  private async load(view: RefView, forAppend: boolean, trust: TrustContext): Promise<Loaded> {
    const last = this.last;
    if (last && view.commit === last.commit) {
      const state = forAppend ? last.state : (JSON.parse(last.stateText) as State);
      // What this instance wrote; another process may have verified further since (then the view is stale).
      const v = anchorVerdict(trust.anchor, state, hashAtSeq(last.newest.text, trust.anchor?.seq ?? 0));
      if (v !== 'unknown' && !v.ok) throw rolledBack(state.seq + 1, v.detail);
      const stateSha = sha256Text(last.stateText);
      return { state, source: 'snapshot', newest: last.newest, stateSha, verified: last.verified };
    }
    const loaded = await loadState(view, trust, forAppend);
    if (forAppend) deepFreeze(loaded.state);
    return loaded;
  }

  /** Every event, verified, with the replayed state. Throws ChainBrokenError (fails closed). */
  async readAll(): Promise<LogContents> {
    const trust = await this.trust();
    const view = await this.store.fetch();
    const checked = await checkView(view, true, trust.anchor?.seq);
    if (!checked.ok) throw new ChainBrokenError(checked.seq, checked.reason, checked.detail);
    if (checked.fatal)
      throw new ChainBrokenError(checked.fatal.seq, checked.fatal.reason, checked.fatal.detail);
    const problem = await beyondChain(view, checked, trust);
    if (problem) throw new ChainBrokenError(problem.seq, problem.reason, problem.detail);
    return { events: checked.events, state: checked.state, tip: view.commit };
  }

  /**
   * Verifies the whole chain, the day files, state.json against the replay, the tip commit's message, its
   * seal (when the config names a key) and that the log extends the last tip this machine verified.
   */
  async verify(crossCheck?: CrossCheck): Promise<LogVerifyResult> {
    const trust = await this.trust();
    const view = await this.store.fetch();
    const checked = await checkView(view, false, trust.anchor?.seq);
    const result = verifyView(view, checked);
    if (!result.ok || !checked.ok) return result;
    const problem = await beyondChain(view, checked, trust);
    if (problem) return { ok: false, ...problem, tip: view.commit };
    // The outside world before the anchor moves: a rolled-back tip is never recorded as verified here.
    const behind = crossCheck ? await crossCheck(checked.state) : null;
    if (behind) {
      const seq = (checked.last?.seq ?? 0) + 1;
      return { ok: false, seq, reason: 'rolled_back', detail: behind, tip: view.commit };
    }
    await this.remember(view.commit, checked.state, await stateShaOf(view));
    return {
      ...result,
      signed: trust.publicKey !== '' && view.commit !== null,
      anchored: trust.anchor !== null && trust.anchor.seq > 0,
      crosschecked: crossCheck !== undefined,
      key_id: trust.publicKey ? keyIdOf(trust.publicKey) : null,
    };
  }

  /** Same as `verify` (the name in docs/architecture.md). */
  verifyAll(crossCheck?: CrossCheck): Promise<LogVerifyResult> {
    return this.verify(crossCheck);
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
  /** SHA-256 of the tip's state.json text (null: none). */
  stateSha: string | null;
  /**
   * False when an append took an unauthenticated snapshot as it is (a full replay per append would cost
   * every writer the whole history): its successor is then not recorded as verified here, so the next
   * reader replays and catches a lie the append carried forward.
   */
  verified: boolean;
  /** The tip's state.json text when `state` is that very snapshot (source `snapshot`). */
  stateText?: string;
}

function rolledBack(seq: number, detail: string): ChainBrokenError {
  return new ChainBrokenError(seq, 'rolled_back', detail);
}

async function stateShaOf(view: RefView): Promise<string | null> {
  if (view.commit === null) return null;
  const text = await view.read(STATE_FILE);
  return text === null ? null : sha256Text(text);
}

/** The checks of a verified replay beyond the chain: the tip's seal and the anchor. */
async function beyondChain(
  view: RefView,
  checked: Extract<Checked, { ok: true }>,
  trust: TrustContext,
): Promise<Problem | null> {
  const lastSeq = checked.last?.seq ?? 0;
  if (trust.publicKey && view.commit !== null) {
    const why = sealProblem(
      trust.publicKey,
      trust.ref,
      view.message,
      parseAppendMessage(view.message),
      await view.read(STATE_FILE),
    );
    if (why) return { seq: lastSeq, reason: 'unsealed', detail: why };
  }
  const v = anchorVerdict(
    trust.anchor,
    { seq: lastSeq, hash: checked.last?.hash ?? null },
    checked.probeHash,
  );
  if (v === 'unknown' || !v.ok) {
    const detail = v === 'unknown' ? 'the event at the anchored seq is missing' : v.detail;
    return { seq: Math.min(lastSeq + 1, trust.anchor?.seq ?? 0), reason: 'rolled_back', detail };
  }
  return null;
}

/** The state at a view: the sealed snapshot if every check passes, else a verified replay. */
async function loadState(view: RefView, trust: TrustContext, forAppend = false): Promise<Loaded> {
  if (view.commit === null) {
    const v = anchorVerdict(trust.anchor, { seq: 0, hash: null }, undefined);
    if (v !== 'unknown' && !v.ok) throw rolledBack(1, v.detail);
    return { state: initialState(), source: 'empty', newest: null, stateSha: null, verified: true };
  }
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
  const stateText = texts.get(STATE_FILE) ?? null;
  const stateSha = stateText === null ? null : sha256Text(stateText);
  const claim = parseAppendMessage(view.message);
  if (trust.publicKey) {
    const why = sealProblem(trust.publicKey, trust.ref, view.message, claim, stateText);
    if (why) throw new ChainBrokenError(claim?.last ?? 0, 'unsealed', why);
  }
  const sealedLooking = trustedSnapshot(view, stateText, newest?.text ?? '');
  // Without a key nothing proves who wrote a snapshot: only the one this machine verified itself is trusted.
  const anchor = trust.anchor;
  const verified = Boolean(trust.publicKey) || (await trust.verifiedHere(view.commit, stateSha));
  const trusted = sealedLooking && (verified || forAppend) ? sealedLooking : null;
  if (trusted) {
    const v = anchorVerdict(anchor, trusted, anchor ? hashAtSeq(newest?.text ?? '', anchor.seq) : undefined);
    if (v !== 'unknown') {
      if (!v.ok) throw rolledBack(Math.min(trusted.seq + 1, anchor?.seq ?? 0), v.detail);
      return {
        state: trusted,
        source: 'snapshot',
        newest,
        stateSha,
        verified,
        stateText: stateText as string,
      };
    }
  }
  const checked = await checkView(view, false, anchor?.seq);
  if (!checked.ok) throw new ChainBrokenError(checked.seq, checked.reason, checked.detail);
  if (checked.fatal)
    throw new ChainBrokenError(checked.fatal.seq, checked.fatal.reason, checked.fatal.detail);
  if (sealedLooking && checked.snapshotProblem) {
    const p = checked.snapshotProblem;
    throw new ChainBrokenError(p.seq, p.reason, `the tip's state.json lies: ${p.detail}`);
  }
  const problem = await beyondChain(view, checked, { ...trust, publicKey: '' });
  if (problem) throw new ChainBrokenError(problem.seq, problem.reason, problem.detail);
  return { state: checked.state, source: 'replay', newest, stateSha, verified: true };
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

async function checkView(view: RefView, keepEvents: boolean, probe?: number): Promise<Checked> {
  const extra = probe === undefined ? {} : { probe };
  if (view.commit === null) return checkLog({ files: new Map(), stateText: null, keepEvents, ...extra });
  const files = await view.readAll(EVENTS_DIR);
  const stateText = await view.read(STATE_FILE);
  return checkLog({ files, stateText, keepEvents, ...extra });
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
  return {
    ok: true,
    count: checked.count,
    last: checked.last,
    tip,
    warnings,
    chained: true,
    signed: false,
    anchored: false,
    crosschecked: false,
    key_id: null,
  };
}

// --- the pure check --------------------------------------------------------------------------------------

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
 */
export function checkLog(input: CheckLogInput): CheckLogResult {
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
  const chain = new ChainVerifier(null);
  const state = initialState();
  /** The events each file holds, in order (all verified). */
  const counts: Array<[string, number]> = [];
  const failure = verifyFiles();
  if (failure) return { ok: false, ...failure };
  function verifyFiles(): Problem | null {
    for (const path of paths) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      const day = DAY_FILE.exec(name)?.[1];
      if (path !== `${EVENTS_DIR}/${name}` || !day) {
        return { seq: (chain.tip?.seq ?? 0) + 1, reason: 'bad_file', detail: `unexpected file ${path}` };
      }
      const { events, failure, reused } = chain.lines(splitEventLines(input.files.get(path) as string));
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
      foldInto(state, events);
      counts.push([path, events.length]);
      run.count += events.length;
      run.tip = chain.tip;
      if (input.keepEvents) for (const e of events) kept.push(e);
    }
    return null;
  }
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
