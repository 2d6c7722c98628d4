/**
 * What a reader of the event log may trust beyond the hash chain: the seal of the tip (when the config names
 * a public key) and the anchor (the last tip this machine verified). Both fail closed with one line.
 */
import { createHash } from 'node:crypto';
import { splitEventLines } from '../core/chain.js';
import { parseSealTrailers, sealPayload } from '../core/seal.js';
import type { Anchor } from './log-anchor.js';
import { keyIdOf, verifySeal } from './log-seal.js';

export function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface TipClaim {
  first: number;
  last: number;
  hash: string;
}

/**
 * Why the tip commit is not sealed by `publicKey` over this state.json (null: it is). `claim` is the parsed
 * append message (null: not a Leviathan append at all).
 */
export function sealProblem(
  publicKey: string,
  ref: string,
  message: string,
  claim: TipClaim | null,
  stateText: string | null,
): string | null {
  const keyId = keyIdOf(publicKey);
  if (!claim) return `the tip commit is not a sealed append (the log is sealed with key ${keyId})`;
  const trailers = parseSealTrailers(message);
  if (!trailers.seal)
    return `the tip commit (events ${claim.first}..${claim.last}) carries no seal of key ${keyId}`;
  const state = stateText === null ? null : sha256Text(stateText);
  if (state === null || trailers.state !== state) {
    return 'state.json is not the snapshot the tip commit seals (edited after it was written)';
  }
  const payload = sealPayload({ ref, first: claim.first, last: claim.last, hash: claim.hash, state });
  if (!verifySeal(publicKey, payload, trailers.seal)) {
    return `the seal of the tip commit (events ${claim.first}..${claim.last}) is not a signature of key ${keyId}: forged or made with another key`;
  }
  return null;
}

/** The hash of event `seq` if a line of `ndjson` holds it (lines are not verified here), else undefined. */
export function hashAtSeq(ndjson: string, seq: number): string | undefined {
  const needle = `"seq":${seq},`;
  for (const line of splitEventLines(ndjson)) {
    if (!line.includes(needle)) continue;
    try {
      const e = JSON.parse(line) as { seq?: unknown; hash?: unknown };
      if (e.seq === seq && typeof e.hash === 'string') return e.hash;
    } catch {
      // not an event line: the chain check reports it
    }
  }
  return undefined;
}

/**
 * Whether a log ending at `last` (seq, hash) extends `anchor`, given the hash it holds at the anchor's seq
 * (undefined: not looked up). 'unknown' asks the caller to look the hash up.
 */
export function anchorVerdict(
  anchor: Anchor | null,
  last: { seq: number; hash: string | null },
  hashAtAnchor: string | undefined,
): { ok: true } | { ok: false; detail: string } | 'unknown' {
  if (!anchor || anchor.seq === 0) return { ok: true };
  const seen = `this machine last verified seq ${anchor.seq} (${String(anchor.hash).slice(0, 12)})`;
  if (last.seq < anchor.seq) {
    return {
      ok: false,
      detail:
        last.seq === 0
          ? `the events branch is gone or empty, but ${seen}: the log was deleted or rolled back`
          : `the log ends at seq ${last.seq}, but ${seen}: the log was rolled back`,
    };
  }
  const at = last.seq === anchor.seq ? (last.hash ?? undefined) : hashAtAnchor;
  if (at === undefined) return 'unknown';
  if (at !== anchor.hash) {
    return {
      ok: false,
      detail: `the log has ${at.slice(0, 12)} at seq ${anchor.seq}, but ${seen}: history was rewritten`,
    };
  }
  return { ok: true };
}
