import { describe, expect, it } from '@jest/globals';
import { createRedactor, knownSecrets, REDACTED } from '../../src/core/redact.js';
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
