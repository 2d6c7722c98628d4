/** The state at a `RefView` for reads and appends: the sealed snapshot when trustworthy, else a verified replay. */
import { hashEvent } from '../core/chain.js';
import { initialState, STATE_VERSION } from '../core/state.js';
import type { State } from '../core/state-types.js';
import { DAY_FILE, EVENTS_DIR, parseAppendMessage, STATE_FILE } from './log-format.js';
import { anchorVerdict, hashAtSeq, sealProblem, sha256Text } from './log-trust.js';
import { ChainBrokenError, type LogSnapshot, type TrustContext } from './log-types.js';
import { beyondChain, checkView } from './log-verify.js';
import type { RefView } from './ref-store-types.js';

export interface Loaded {
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

export function rolledBack(seq: number, detail: string): ChainBrokenError {
  return new ChainBrokenError(seq, 'rolled_back', detail);
}

/** The state at a view: the sealed snapshot if every check passes, else a verified replay. */
export async function loadState(view: RefView, trust: TrustContext, forAppend = false): Promise<Loaded> {
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

function lastLine(text: string): string | null {
  const trimmed = text.replace(/\n+$/, '');
  if (trimmed === '') return null;
  return trimmed.slice(trimmed.lastIndexOf('\n') + 1);
}
