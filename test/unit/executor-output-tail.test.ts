import { describe, expect, it } from '@jest/globals';
import { TailBuffer, utf8Tail } from '../../src/executor/output-tail.js';

describe('utf8Tail / TailBuffer', () => {
  it('returns short output unchanged', () => {
    expect(utf8Tail(Buffer.from('hello €'))).toBe('hello €');
  });

  it('never starts or ends inside a multi-byte character', () => {
    // '€' is 3 bytes: a 10-byte window over "€€€€" starts mid-character.
    expect(utf8Tail(Buffer.from('€€€€'), 10)).toBe('€€€');
    const cutEnd = Buffer.from('ab€').subarray(0, 4); // "ab" + first byte of '€'
    expect(utf8Tail(cutEnd, 100)).toBe('ab');
    expect(utf8Tail(Buffer.from('a😀'), 4)).toBe('😀');
    expect(utf8Tail(Buffer.from('a😀'), 3)).toBe('');
  });

  it('stays within the bound for binary output', () => {
    const binary = Buffer.alloc(5000, 0xff);
    const text = utf8Tail(binary, 4096);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4096);
    expect(text.length).toBeGreaterThan(1000);
  });

  it('keeps the last bytes of many small chunks in bounded memory', () => {
    const tail = new TailBuffer(16);
    for (let i = 0; i < 1000; i++) tail.push(`${i % 10}`);
    tail.push('-END');
    expect(tail.toString()).toBe('890123456789-END');
  });
});
