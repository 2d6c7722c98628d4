/**
 * The forms in which a known secret value leaks most often, for the redactor and the threat scan alike: the
 * value itself, hex (either case), and base64 at each of the three byte alignments (a secret inside a longer
 * base64 string starts at any offset; only the characters that depend on the secret's bytes alone are kept,
 * as GitHub's own log masking does), with the URL-safe alphabet too. Encodings beyond these (rot13, reversal,
 * compression) are not chased: no scan stops an agent that means to encode; the network fence does.
 */

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

/** The base64 characters fixed by the secret's bytes alone when it starts `offset` bytes into a stream. */
function alignedBase64(bytes: Uint8Array, offset: number): string {
  const padded = new Uint8Array(offset + bytes.length);
  padded.set(bytes, offset);
  const text = base64(padded);
  const from = offset === 0 ? 0 : 4;
  const whole = Math.floor(padded.length / 3) * 4;
  return text.slice(from, whole);
}

/** Every form of `secret` worth matching, each at least `minLength` characters long. */
export function secretForms(secret: string, minLength: number): string[] {
  const bytes = new TextEncoder().encode(secret);
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  const forms = [secret, hex, hex.toUpperCase(), base64(bytes).replace(/=+$/, '')];
  for (const offset of [0, 1, 2]) forms.push(alignedBase64(bytes, offset));
  const urlSafe = forms.map((f) => f.replace(/\+/g, '-').replace(/\//g, '_'));
  return [...new Set([...forms, ...urlSafe])].filter((f) => f.length >= minLength);
}
