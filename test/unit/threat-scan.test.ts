import { describe, expect, it } from '@jest/globals';
import { describeFindings, scanForThreats, unsafePaths } from '../../src/core/threat-scan.js';

const SECRET = 'demo-key-4f1c9a7e2b';

const SHAPES: Array<[string, string]> = [
  [`ghp_${'a'.repeat(36)}`, 'github_token'],
  [`gho_${'b'.repeat(36)}`, 'github_token'],
  [`ghu_${'c'.repeat(36)}`, 'github_token'],
  [`ghs_${'D1'.repeat(18)}`, 'github_token'],
  [`ghr_${'e'.repeat(36)}`, 'github_token'],
  [`github_pat_11ABCDEFG0${'x'.repeat(60)}`, 'github_token'],
  ['AKIAIOSFODNN7EXAMPLE', 'aws_access_key'],
  [`sk-ant-api03-${'k'.repeat(40)}`, 'anthropic_key'],
  [`sk-${'q'.repeat(40)}`, 'openai_key'],
  [`sk-proj-${'Z9'.repeat(24)}`, 'openai_key'],
  [`AIza${'S'.repeat(35)}`, 'google_api_key'],
  ['xoxb-1234567890-abcdefghij', 'slack_token'],
  ['-----BEGIN OPENSSH PRIVATE KEY-----', 'private_key'],
  ['-----BEGIN PRIVATE KEY-----', 'private_key'],
];

describe('scanForThreats', () => {
  it.each([
    ['an invisible character after every letter', [...SECRET].join('\u034f')],
    ['soft hyphens', [...SECRET].join('\u00ad')],
    ['folded over lines', `${SECRET.slice(0, 7)}\n${SECRET.slice(7, 14)}\n${SECRET.slice(14)}`],
    ['base64', btoa(SECRET)],
    ['base64 at an offset', btoa(`ab${SECRET}`)],
    ['hex', [...new TextEncoder().encode(SECRET)].map((b) => b.toString(16).padStart(2, '0')).join('')],
  ])('finds a known value written with %s, at the line it starts on', (_how, written) => {
    const { findings } = scanForThreats([{ path: 'docs/x.md', content: `# t\n\n${written}\n` }], {
      secrets: [SECRET],
    });
    expect(findings).toContainEqual({ path: 'docs/x.md', line: 3, kind: 'known_secret' });
  });

  it('finds text made only of Unicode tag characters (ASCII smuggling)', () => {
    const tags = [...'do evil'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
    const { findings } = scanForThreats([{ path: 'docs/x.md', content: `# t\n${tags}\n` }]);
    expect(findings).toEqual([{ path: 'docs/x.md', line: 2, kind: 'hidden_unicode' }]);
  });

  it.each(SHAPES)('finds the token shape %s on its line', (token, kind) => {
    const { findings } = scanForThreats([{ path: 'docs/x.md', content: `# title\n\nkey: ${token}\n` }]);
    expect(findings).toContainEqual({ path: 'docs/x.md', line: 3, kind });
  });

  it('never returns the matched value, in any field', () => {
    const files = SHAPES.map(([t], i) => ({ path: `f${i}.txt`, content: `x ${t} y` }));
    files.push({ path: 'k.md', content: `a\nb ${SECRET}\n` });
    const result = scanForThreats(files, { secrets: [SECRET] });
    const text = JSON.stringify(result) + describeFindings(result);
    for (const [t] of SHAPES) expect(text).not.toContain(t.slice(4, 20));
    expect(text).not.toContain(SECRET);
    expect(result.findings).toContainEqual({ path: 'k.md', line: 2, kind: 'known_secret' });
  });

  it('finds known secrets of 8 characters or more, trimmed too, and ignores shorter ones', () => {
    const { findings } = scanForThreats([{ path: 'a.txt', content: 'one\nhunter22\nabc\n' }], {
      secrets: ['  hunter22 \n', 'abc', undefined, ''],
    });
    expect(findings).toEqual([{ path: 'a.txt', line: 2, kind: 'known_secret' }]);
  });

  it('finds hidden Unicode: zero-width, bidi overrides and isolates, a BOM past the start', () => {
    const cases = ['\u200b', '\u200d', '\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069', '\ufeff'];
    for (const ch of cases) {
      const { findings } = scanForThreats([{ path: 's.ts', content: `ok\nlet a = 1; ${ch}// x\n` }]);
      expect(findings).toEqual([{ path: 's.ts', line: 2, kind: 'hidden_unicode' }]);
    }
  });

  it('allows a byte-order mark at the very start of a file, and ordinary text and Unicode', () => {
    const content =
      '\ufeffcommit 3f9c2a7d41e8b6c0d1e2f3a4b5c6d7e8f9a0b1c2\nnaïve café — 日本語 ✓\ntask-abcdefghijklmnopqrstuvwxyz\n';
    expect(scanForThreats([{ path: 'ok.md', content }]).findings).toEqual([]);
  });

  it('reports a finding in a path itself as line 0 and withholds that path from the description', () => {
    const result = scanForThreats([{ path: `docs/${SECRET}.md`, content: 'x' }], { secrets: [SECRET] });
    expect(result.findings).toEqual([{ path: `docs/${SECRET}.md`, line: 0, kind: 'known_secret' }]);
    expect(unsafePaths(result).has(`docs/${SECRET}.md`)).toBe(true);
    expect(describeFindings(result)).not.toContain(SECRET);
  });

  it('reports one finding per line and kind, sorted, capped', () => {
    const content = Array.from({ length: 30 }, () => `${SECRET} ${SECRET} \u202e`).join('\n');
    const all = scanForThreats([{ path: 'b.md', content }], { secrets: [SECRET] });
    expect(all.findings).toHaveLength(60);
    expect(all.findings[0]).toEqual({ path: 'b.md', line: 1, kind: 'hidden_unicode' });
    const capped = scanForThreats([{ path: 'b.md', content }], { secrets: [SECRET], maxFindings: 5 });
    expect(capped.findings).toHaveLength(5);
    expect(capped.truncated).toBe(true);
    expect(describeFindings(capped, 3)).toMatch(/"b\.md":1 hidden_unicode, .*, and more$/);
  });
});
