import { describe, expect, it } from '@jest/globals';
import { formatUsd, parseResultFile, RESULT_FILE_MAX_BYTES, resultFileOf } from '../../src/core/usage.js';

describe('parseResultFile', () => {
  it('reads the figures an agent reports, money as integer micro-dollars', () => {
    expect(
      parseResultFile('{"cost_usd": 0.123456, "input_tokens": 1200, "output_tokens": 34, "turns": 3}'),
    ).toEqual({ usage: { cost_usd_micros: 123456, input_tokens: 1200, output_tokens: 34, turns: 3 } });
    expect(parseResultFile(Buffer.from('{"cost_usd": 5}'))).toEqual({
      usage: { cost_usd_micros: 5_000_000 },
    });
  });

  it('ignores other keys of an agent own JSON output and keeps what is known', () => {
    expect(parseResultFile('{"type":"result","cost_usd":0.5,"session_id":"x","usage":{}}')).toEqual({
      usage: { cost_usd_micros: 500_000 },
    });
  });

  it('a missing or empty file, or one with no figures, is no report and no warning', () => {
    expect(parseResultFile(null)).toEqual({});
    expect(parseResultFile('  \n')).toEqual({});
    expect(parseResultFile('{"model":"m"}')).toEqual({});
  });

  it.each([
    ['not JSON', '{"cost_usd": 1', /not JSON/],
    ['an array', '[1,2]', /not a usage report/],
    ['null', 'null', /not a usage report/],
    ['a string cost', '{"cost_usd": "5"}', /cost_usd/],
    ['a negative cost', '{"cost_usd": -1}', /cost_usd/],
    ['a boolean count', '{"turns": true}', /turns/],
    ['a null count', '{"input_tokens": null}', /input_tokens/],
    ['a cost too large for micro-dollars', '{"cost_usd": 1e300}', /cost_usd/],
    ['a token count past safe integers', '{"output_tokens": 1e20}', /output_tokens/],
  ])('ignores %s with a warning, never throws', (_name, text, warning) => {
    const r = parseResultFile(text);
    expect(r.usage).toBeUndefined();
    expect(r.warning).toMatch(warning);
  });

  it('caps the size: a file over the cap is not parsed', () => {
    const big = `{"cost_usd": 1, "pad": "${'x'.repeat(RESULT_FILE_MAX_BYTES)}"}`;
    const r = parseResultFile(big);
    expect(r.usage).toBeUndefined();
    expect(r.warning).toMatch(/over 65536 bytes/);
  });

  it('does not choke on bytes that are not UTF-8', () => {
    expect(parseResultFile(Buffer.from([0xff, 0xfe, 0x7b]))).toMatchObject({ warning: expect.any(String) });
  });
});

describe('formatUsd', () => {
  it('formats micro-dollars without float arithmetic', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(5_000_000)).toBe('$5.00');
    expect(formatUsd(1_230_000)).toBe('$1.23');
    expect(formatUsd(123_456)).toBe('$0.123456');
    expect(formatUsd(10_000)).toBe('$0.01');
  });
});

describe('resultFileOf', () => {
  it('writes checked usage back in the result-file form, which reads back the same (between jobs)', () => {
    for (const usage of [
      { cost_usd_micros: 42_100, input_tokens: 1200, output_tokens: 340, turns: 3 },
      { cost_usd_micros: 1 },
      { input_tokens: 7 },
      {},
    ]) {
      expect(parseResultFile(resultFileOf(usage))).toEqual(Object.keys(usage).length > 0 ? { usage } : {});
    }
    expect(resultFileOf({ cost_usd_micros: 42_100 })).toBe('{"cost_usd":0.0421}\n');
  });
});
