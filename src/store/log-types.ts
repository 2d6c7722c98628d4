/** What the event log reports: why a log is not trustworthy, its error, and the results of reads and verifies. */
import type { ChainTip, VerifyFailure } from '../core/chain.js';
import type { LeviathanEvent } from '../core/events.js';
import type { State } from '../core/state-types.js';
import type { Anchor } from './log-anchor.js';

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

/** What a load checks beyond the chain. */
export interface TrustContext {
  ref: string;
  publicKey: string;
  /** The anchor as it was before the tip was fetched: what the tip must extend. */
  anchor: Anchor | null;
  /** Whether a Leviathan process on this machine verified or wrote exactly this tip (the anchor as it is now). */
  verifiedHere: (commit: string, stateSha: string | null) => Promise<boolean>;
}
