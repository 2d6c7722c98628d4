/**
 * The event log on the orphan branch `leviathan-events` (SPEC §4).
 *
 * Layout of every commit on the branch:
 *   events/YYYY-MM-DD.ndjson   one chained event per line; the file of an event is the UTC day of its `ts`,
 *                              or the newest file's day when that is later (writers' clocks may disagree by a
 *                              few milliseconds; a file never holds an event older than one in an earlier file)
 *   state.json                 project(all events): the snapshot at the tip, with the seq and hash it covers
 *   newest.ndjson              a copy of the newest day file (the same blob, so no storage): never read, it
 *                              only makes a fresh fetch of the root's files (`rootBlobs`) bring that blob
 *                              too, so a first read costs one session; logs written before it lack it
 *
 * Each append is one commit authored by Leviathan whose message is
 *   events <first>..<last> <hash of last>
 *
 *   Leviathan-Tree: <the commit's own root tree>
 * The tree line seals the commit: an amended or hand-made commit (even one that copies the message) has
 * another tree, so readers stop trusting `state.json` and replay and verify everything instead.
 *
 * An append reads `state.json` and the newest daily file only (shallow, blob-less fetch plus those two blobs;
 * with `rootBlobs`, one fetch that brings the root's blobs, which are those two), so its cost does not grow
 * with history; it rewrites `state.json`, `newest.ndjson` and appends lines, then publishes with the
 * compare-and-swap of `RefStore`. On a lost race it re-reads, re-chains seq/prev and re-checks the caller's
 * precondition.
 */
import { chainEvents, parseEventLines, splitEventLines } from '../core/chain.js';
import { UserError } from '../core/errors.js';
import type { EventDraft, LeviathanEvent } from '../core/events.js';
import { sealPayload, sealTrailers } from '../core/seal.js';
import { project } from '../core/state.js';
import type { State } from '../core/state-types.js';
import type { AppendResult, EventStore } from './event-store.js';
import type { Git } from './git.js';
import { AnchorFile } from './log-anchor.js';
import {
  appendMessage,
  EVENTS_BRANCH,
  EVENTS_DIR,
  NEWEST_COPY,
  STATE_FILE,
  serializeState,
} from './log-format.js';
import { type Loaded, loadState, rolledBack } from './log-load.js';
import { keyIdOf, type Sealer } from './log-seal.js';
import { anchorVerdict, hashAtSeq, sha256Text } from './log-trust.js';
import {
  ChainBrokenError,
  type CrossCheck,
  type LogContents,
  type LogSnapshot,
  type LogVerifyResult,
  type TrustContext,
} from './log-types.js';
import { beyondChain, checkView, stateShaOf, verifyView } from './log-verify.js';
import { RefStore } from './ref-store.js';
import type { RefStoreOptions, RefView, StorePublish } from './ref-store-types.js';

export type { AppendResult } from './event-store.js';

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
  /** A first read fetches the root's files in one session (see RefStoreOptions.rootBlobs; not GitHub). */
  rootBlobs?: boolean;
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
    const { view, loaded } = await this.readTip(trust);
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
    const { view, loaded } = await this.readTip(trust);
    await this.remember(view.commit, loaded.state, loaded.stateSha);
    const tail = splitEventLines(loaded.newest?.text ?? '').slice(-count);
    const recent = parseEventLines(tail.join('\n')).filter(
      (e): e is LeviathanEvent => typeof (e as { seq?: unknown } | null)?.seq === 'number',
    );
    return { state: loaded.state, tip: view.commit, source: loaded.source, recent };
  }

  /**
   * The tip and its state for a reader. A tip behind the anchor is asked of the origin once more before it
   * counts as rolled back: the command's listing that let the fetch be skipped may predate the anchor read
   * just before it (another process appended and verified in between).
   */
  private async readTip(trust: TrustContext): Promise<{ view: RefView; loaded: Loaded }> {
    const view = await this.store.fetch();
    try {
      return { view, loaded: await this.load(view, false, trust) };
    } catch (error) {
      if (!(error instanceof ChainBrokenError) || error.reason !== 'rolled_back') throw error;
      const again = await this.store.fetch(true);
      if (again.commit === view.commit) throw error;
      return { view: again, loaded: await this.load(again, false, trust) };
    }
  }

  /**
   * Appends `drafts` atomically (all or none), if `precondition` accepts the state they would land on (given
   * frozen). `precondition` runs again after every lost race. Retrying an append whose drafts (by id) are already the
   * newest events returns those events instead of writing them twice. Throws ChainBrokenError on a broken
   * chain (nothing is written) and RefStoreError when the store cannot be reached or stays contended.
   */
  async append(
    drafts: EventDraft[],
    precondition?: Precondition,
    publish?: StorePublish,
  ): Promise<AppendResult> {
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
      const stored = alreadyAppended(drafts, await appendedTexts(view, drafts, loaded.newest));
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
      // The same text as the newest day file, so the same blob (see NEWEST_COPY).
      changes.set(NEWEST_COPY, changes.get(path) as string);
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
    }, publish);
    if (result.ok && result.committed && written.value && result.commit) {
      this.last = { commit: result.commit, ...written.value, state: deepFreeze(written.value.state) };
      const { verified, stateText } = written.value;
      await this.remember(result.commit, written.value.state, verified ? sha256Text(stateText) : null);
    }
    return result.ok ? { ok: true, events: result.value } : { ok: false, refused: result.refused };
  }

  pushSource(): Promise<{ url: string; objects: string } | null> {
    return this.store.pushSource();
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

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The day files that may hold `drafts` had they landed: the newest, and those from the day of the earliest
 * draft on when the log has rolled to a later day since (another writer's append after midnight, or drafts
 * straddling it); usually the newest file alone, read already.
 */
async function appendedTexts(
  view: RefView,
  drafts: readonly EventDraft[],
  newest: Loaded['newest'],
): Promise<string> {
  if (!newest) return '';
  const first = drafts.map((d) => d.ts.slice(0, 10)).sort()[0] ?? newest.day;
  if (first >= newest.day) return newest.text;
  const earlier = (await view.list(EVENTS_DIR))
    .filter((e) => e.type === 'blob' && e.path !== newest.path && e.name.slice(0, 10) >= first)
    .map((e) => e.path);
  const texts = await view.readMany(earlier);
  return [...earlier.map((path) => texts.get(path) ?? ''), newest.text].join('');
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
