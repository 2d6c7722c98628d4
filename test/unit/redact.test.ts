import { describe, expect, it } from '@jest/globals';
import { createRedactor, knownSecrets, REDACTED, stripTerminalControls } from '../../src/core/redact.js';
import { isSecretLikeName } from '../../src/executor/agent-env.js';

const TOKEN = 'tok-9f8e7d6c5b4a3210';

describe('createRedactor', () => {
  it('removes every known secret wherever it appears, and its base64 and URL-encoded forms', () => {
    const redact = createRedactor({ secrets: [TOKEN, 'p@ss word/123'] });
    const header = `AUTHORIZATION: basic ${btoa(`x-access-token:${TOKEN}`)}`;
    const out = redact(`a ${TOKEN} b ${TOKEN}\n${btoa(TOKEN)}\nx p%40ss%20word%2F123 y\n${header}`);
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain(btoa(TOKEN));
    expect(out).not.toContain('p%40ss');
    expect(out).not.toContain(btoa(`x-access-token:${TOKEN}`));
    expect(out.split(REDACTED)).toHaveLength(6);
  });

  it('leaves short values alone so they do not wipe ordinary text', () => {
    const redact = createRedactor({ secrets: ['1', 'true', 'main', ''] });
    expect(redact('exit 1: true on main')).toBe('exit 1: true on main');
  });

  it('removes the common token shapes even when their value is unknown', () => {
    const redact = createRedactor();
    const samples = [
      `ghp_${'a'.repeat(36)}`,
      `ghs_${'B1'.repeat(18)}`,
      `gho_${'c'.repeat(36)}`,
      `github_pat_11ABCDEFG0${'x'.repeat(60)}`,
      'AKIAIOSFODNN7EXAMPLE',
      `sk-${'q'.repeat(40)}`,
      `sk-proj-${'Z9'.repeat(24)}`,
      'xoxb-1234567890-abcdefghij',
    ];
    for (const s of samples) expect(redact(`before ${s} after`)).toBe(`before ${REDACTED} after`);
    const key = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----';
    expect(redact(`k:\n${key}\nrest`)).toBe(`k:\n${REDACTED}\nrest`);
    expect(redact('curl -H "Authorization: Bearer abcdefgh12345678"')).toBe(
      `curl -H "Authorization: Bearer ${REDACTED}"`,
    );
    expect(redact('https://user:hunter22@example.com/repo')).toBe(
      `https://user:${REDACTED}@example.com/repo`,
    );
  });

  it('keeps ordinary output, hashes and ids intact', () => {
    const text =
      'commit 3f9c2a7d41e8b6c0d1e2f3a4b5c6d7e8f9a0b1c2\nattempt 01KB2G8Z0000000000000000AB\nok: 6 tasks';
    expect(createRedactor({ secrets: [TOKEN] })(text)).toBe(text);
  });
});

describe('knownSecrets', () => {
  it('takes credential-like and allow-listed variables and extra tokens, nothing else', () => {
    const secrets = knownSecrets({
      env: {
        LEVIATHAN_TOKEN: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        DEMO_API: 'c',
        PATH: '/usr/bin',
        HOME: '/root',
      },
      isSecretName: isSecretLikeName,
      allowlist: ['DEMO_API'],
      extra: ['d', undefined],
    });
    expect(secrets.sort()).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('terminal controls', () => {
  const redact = createRedactor({ secrets: ['supersecret-XYZ-123'] });

  it.each([
    ['an SGR reset in the middle', 'supersecret\u001b[0m-XYZ-123'],
    ['a cursor move in the middle', 'supersecret\u001b[1C-XYZ-123'],
    ['an OSC title in the middle', 'supersecret\u001b]0;x\u0007-XYZ-123'],
    ['a zero-width space in the middle', 'supersecret\u200b-XYZ-123'],
    ['a C1 CSI', 'supersecret\u009b0m-XYZ-123'],
    ['a combining grapheme joiner after every letter', [...'supersecret-XYZ-123'].join('\u034f')],
    ['a fold over two lines', 'supersecre\nt-XYZ-123'],
  ])('a secret split by %s is still redacted, and no control is left', (_what, text) => {
    const out = redact(`key: ${text}\n`);
    expect(out).toBe(`key: ${REDACTED}\n`);
  });

  it('keeps tabs and newlines, turns CR and CRLF into newlines, drops the rest', () => {
    expect(stripTerminalControls('a\tb\r\nc\rd\u001b[31me\u0007\u001bcf\u0008')).toBe('a\tb\nc\ndef');
  });
});

describe('encoded forms of a known secret', () => {
  const SECRET = 'supersecret-XYZ-123';
  const redact = createRedactor({ secrets: [SECRET] });
  const b64 = (s: string) => btoa(s);
  const hex = (s: string) =>
    [...new TextEncoder().encode(s)].map((b) => b.toString(16).padStart(2, '0')).join('');

  it.each([
    ['hex', hex(SECRET)],
    ['upper-case hex', hex(SECRET).toUpperCase()],
    ['base64 one byte in', b64(`a${SECRET}`)],
    ['base64 two bytes in', b64(`ab${SECRET}`)],
    ['URL-safe base64 one byte in', b64(`a${SECRET}`).replace(/\+/g, '-').replace(/\//g, '_')],
  ])('redacts its %s', (_how, written) => {
    expect(redact(`x ${written} y`)).not.toContain(written);
    expect(redact(`x ${written} y`)).toContain(REDACTED);
  });
});
