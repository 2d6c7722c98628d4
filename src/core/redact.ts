/**
 * Redaction of output before it is logged, stored in an event or put in a pull request body: every secret
 * value the process knows, the forms in which git and HTTP carry them, and the shapes of common tokens even
 * when their value is unknown to us.
 */

import { INVISIBLE_ALL } from './invisible.js';
import { secretForms } from './secret-forms.js';
import { TOKEN_SHAPES } from './token-shapes.js';

export const REDACTED = '[REDACTED]';

/** Shorter values are not redacted: `1`, `true` or a short word would wipe ordinary text. */
export const MIN_SECRET_LENGTH = 8;

/**
 * What is redacted whatever its value: a whole PEM private key, every token shape (core/token-shapes.ts), and
 * the credentials of an HTTP authorization header or a `user:password@` URL.
 */
const REDACTED_SHAPES: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  ...TOKEN_SHAPES.map(({ re }) => new RegExp(re.source, 'g')),
  // An HTTP authorization header's credentials (git's extraheader, curl -v).
  /\b((?:authorization|proxy-authorization)\s*:\s*(?:basic|bearer|token)\s+)[A-Za-z0-9+/=._~-]{8,}/gi,
  // user:password@ in a URL.
  /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)[^\s/@]{3,}(@)/gi,
];

/**
 * What a terminal interprets rather than shows: ANSI/VT escape sequences (CSI, OSC, DCS/PM/APC and two-byte
 * ones), C0 and C1 controls (tab and newline kept) and invisible format characters (zero-width, bidi). Left in,
 * `secr<ESC>[0mvalue` or `secr<U+200B>value` escapes a value match yet shows the secret whole on a maintainer's
 * terminal, and a task could drive that terminal; so output is cleaned before it is matched.
 */
const TERMINAL_CONTROLS = new RegExp(
  [
    '\\u001b\\[[0-?]*[ -/]*[@-~]?',
    '\\u001b\\][^\\u0007\\u001b]*(?:\\u0007|\\u001b\\\\)?',
    '\\u001b[P^_X][^\\u001b]*(?:\\u001b\\\\)?',
    '\\u001b[ -~]?',
    '\\u009b[0-?]*[ -/]*[@-~]?',
    '\\u009d[^\\u0007\\u001b\\u009c]*(?:\\u0007|\\u009c)?',
    '[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]',
    INVISIBLE_ALL.source,
  ].join('|'),
  'g',
);

/** Text as a terminal would show it, minus everything it would interpret; CR and CRLF become newlines. */
export function stripTerminalControls(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(TERMINAL_CONTROLS, '');
}

/** The ways a known secret commonly appears besides itself: base64 (git's basic auth header) and URL-encoded. */
function variants(secret: string): string[] {
  const out = [secret];
  const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
  try {
    out.push(
      b64(secret),
      b64(`x-access-token:${secret}`),
      b64(`x-access-token:${secret}`).replace(/=+$/, ''),
    );
  } catch {
    // btoa cannot fail on bytes; kept defensive for exotic runtimes.
  }
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) out.push(encoded);
  // Hex and base64 at any alignment (core/secret-forms.ts), as the threat scan looks for them in a diff.
  out.push(...secretForms(secret, MIN_SECRET_LENGTH));
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export type Redactor = (text: string) => string;

export interface RedactorOptions {
  /** Secret values to remove wherever they appear (empty and too short values are ignored). */
  secrets?: readonly (string | undefined)[];
  /** Default `MIN_SECRET_LENGTH`. */
  minLength?: number;
}

/** A redactor for these secrets and the common token shapes. Longer secrets are replaced first. */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  const min = options.minLength ?? MIN_SECRET_LENGTH;
  const values = new Set<string>();
  for (const secret of options.secrets ?? []) {
    if (secret === undefined) continue;
    // A value with surrounding whitespace is printed trimmed as often as not.
    for (const s of new Set([secret, secret.trim()])) {
      if (s.length < min) continue;
      for (const v of variants(s)) if (v.length >= min) values.add(v);
    }
  }
  const known =
    values.size > 0
      ? new RegExp(
          [...values]
            .sort((a, b) => b.length - a.length)
            // A value folded over lines (`fold -w 10`) is the same value to whoever reads the log.
            .map((v) => [...v].map(escapeRegExp).join('\\n?'))
            .join('|'),
          'g',
        )
      : null;
  return (text: string): string => {
    if (text === '') return text;
    const shown = stripTerminalControls(text);
    let out = known ? shown.replace(known, REDACTED) : shown;
    for (const shape of REDACTED_SHAPES) {
      out = out.replace(shape, (...m: unknown[]) => {
        const groups = m.slice(1, -2).filter((g): g is string => typeof g === 'string');
        // Shapes with a kept prefix (header name, URL user) keep it and their closing part.
        if (groups.length === 2) return `${groups[0]}${REDACTED}${groups[1]}`;
        if (groups.length === 1) return `${groups[0]}${REDACTED}`;
        return REDACTED;
      });
    }
    return out;
  };
}

/** Names of variables whose values count as secrets when the process knows them. */
export interface SecretSources {
  /** The process environment (or the source the agent's environment is built from). */
  env: Record<string, string | undefined>;
  /** Which names look like credentials (agent-env's rule). */
  isSecretName: (name: string) => boolean;
  /** `executor.env_allowlist`: passed to the agent, so whatever they hold may be printed. */
  allowlist?: readonly string[];
  /** Tokens held outside the environment (the forge token given on the command line). */
  extra?: readonly (string | undefined)[];
}

/** Every value the process knows that must never be shown: secret-named and allow-listed variables, tokens. */
export function knownSecrets(sources: SecretSources): string[] {
  const allow = new Set(sources.allowlist ?? []);
  const out: string[] = [];
  for (const [name, value] of Object.entries(sources.env)) {
    if (value !== undefined && (allow.has(name) || sources.isSecretName(name))) out.push(value);
  }
  for (const value of sources.extra ?? []) if (value) out.push(value);
  return out;
}
