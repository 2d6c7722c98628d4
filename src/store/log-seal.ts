/**
 * Ed25519 keys for sealing the event log (node:crypto). The secret (`LEVIATHAN_SIGNING_KEY`, an Actions
 * secret) is `ed25519-sk:<base64 32-byte seed>`; the public key (`events.public_key` in the config) is
 * `ed25519:<base64 32 bytes>`; the key id is the first 16 hex digits of SHA-256 over the public key's bytes.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import { UserError } from '../core/errors.js';
import { PUBLIC_KEY_PATTERN, type Seal } from '../core/seal.js';

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const SECRET = /^ed25519-sk:([A-Za-z0-9+/]{43}=)$/;

export interface Sealer {
  keyId: string;
  publicKey: string;
  seal(payload: string): Seal;
}

export function keyIdOf(publicKey: string): string {
  const raw = Buffer.from(publicKey.slice('ed25519:'.length), 'base64');
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** A sealer from the secret; a malformed secret is a one-line user error (never echoed). */
export function sealerFromSecret(secret: string): Sealer {
  const m = SECRET.exec(secret.trim());
  const seed = m ? Buffer.from(m[1] as string, 'base64') : null;
  if (seed?.length !== 32) {
    throw new UserError(
      'LEVIATHAN_SIGNING_KEY is not a Leviathan signing key (ed25519-sk:…); make one with `leviathan key new`',
    );
  }
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const publicKey = `ed25519:${spki.subarray(SPKI_ED25519.length).toString('base64')}`;
  const keyId = keyIdOf(publicKey);
  return {
    keyId,
    publicKey,
    seal: (payload) => ({ keyId, signature: sign(null, Buffer.from(payload), key).toString('base64') }),
  };
}

/** True when `seal` is `publicKey`'s signature of `payload`. */
export function verifySeal(publicKey: string, payload: string, seal: Seal): boolean {
  if (!PUBLIC_KEY_PATTERN.test(publicKey) || seal.keyId !== keyIdOf(publicKey)) return false;
  const raw = Buffer.from(publicKey.slice('ed25519:'.length), 'base64');
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: 'der', type: 'spki' });
  try {
    return verify(null, Buffer.from(payload), key, Buffer.from(seal.signature, 'base64'));
  } catch {
    return false;
  }
}

/** A fresh key pair. */
export function newSigningKey(): { secret: string; publicKey: string; keyId: string } {
  const secret = `ed25519-sk:${randomBytes(32).toString('base64')}`;
  const { publicKey, keyId } = sealerFromSecret(secret);
  return { secret, publicKey, keyId };
}

/** The sealer of the environment's `LEVIATHAN_SIGNING_KEY`, or null when it is not set. */
export function sealerFromEnv(env: NodeJS.ProcessEnv = process.env): Sealer | null {
  const secret = env.LEVIATHAN_SIGNING_KEY;
  return secret ? sealerFromSecret(secret) : null;
}
