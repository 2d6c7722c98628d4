/**
 * The seal of an append to the event log: what a signing key signs, and how it is written in the commit
 * message. Pure: the signature itself is made and checked by `store/log-seal.ts` (node:crypto, Ed25519).
 *
 * A seal covers the ref, the seq range appended, the hash of the last event (which chains every earlier one)
 * and the SHA-256 of `state.json`: so a reader that checks it may trust the snapshot without a replay, and no
 * one without the key can re-chain history, append, or edit the snapshot and still pass.
 */

export const SEAL_ALGORITHM = 'ed25519';
/** `ed25519:<base64 of the 32-byte public key>`, as `events.public_key` holds it. */
export const PUBLIC_KEY_PATTERN = /^ed25519:[A-Za-z0-9+/]{43}=$/;

export interface SealClaim {
  ref: string;
  first: number;
  last: number;
  /** Hash of the last event appended. */
  hash: string;
  /** SHA-256 (hex) of the `state.json` text written with it. */
  state: string;
}

export interface Seal {
  keyId: string;
  /** base64. */
  signature: string;
}

/** The exact bytes a seal signs. */
export function sealPayload(claim: SealClaim): string {
  return `leviathan-seal/1\n${claim.ref}\n${claim.first}..${claim.last}\n${claim.hash}\n${claim.state}\n`;
}

/** The trailer lines an append's message carries after `Leviathan-Tree`. */
export function sealTrailers(stateSha: string, seal: Seal | null): string {
  const lines = [`Leviathan-State: ${stateSha}`];
  if (seal) lines.push(`Leviathan-Seal: ${SEAL_ALGORITHM} ${seal.keyId} ${seal.signature}`);
  return lines.join('\n');
}

export interface ParsedTrailers {
  state: string | null;
  seal: Seal | null;
}

export function parseSealTrailers(message: string): ParsedTrailers {
  const state = /^Leviathan-State: ([0-9a-f]{64})$/m.exec(message)?.[1] ?? null;
  const m = /^Leviathan-Seal: ed25519 ([0-9a-f]{16}) ([A-Za-z0-9+/]+={0,2})$/m.exec(message);
  return { state, seal: m ? { keyId: m[1] as string, signature: m[2] as string } : null };
}
