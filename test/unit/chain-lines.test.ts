/**
 * The fast path for canonical lines (core/event-line.ts, ChainVerifier.lines) against the general path:
 * the decoder is sound (whatever it accepts, JSON.parse + EventSchema + canonicalisation agree with it), and
 * verification of any log — canonical, re-serialised or tampered with — reports exactly what the reference
 * verification (parse, schema, canonicalise every event) reports.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import canonicalizeLib from 'canonicalize';
import fc from 'fast-check';
import {
  ChainVerifier,
  chainEvents,
  parseEventLines,
  sealEvent,
  splitEventLines,
  toEventLines,
  verifyChain,
  verifyEventLines,
} from '../../src/core/chain.js';
import { canonicalLineTypes, decodeCanonicalLine } from '../../src/core/event-line.js';
import {
  EVENT_TYPES,
  EventData,
  EventSchema,
  FAILURE_REASONS,
  type LeviathanEvent,
} from '../../src/core/events.js';
import { checkLog } from '../../src/store/log-check.js';
import { draftsArbitrary, EventBuilder, jsonCopy } from '../helpers/events.js';
import { referenceCheckFiles, referenceVerifyChain } from '../helpers/reference-verify.js';

const canonicalize = canonicalizeLib as unknown as (v: unknown) => string;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
type Json = Record<string, unknown>;

/** A line as the writer stores it: canonical JSON of the event without `hash`, `hash` appended last. */
function canonicalLine(e: Json): string {
  const { hash, ...rest } = e;
  const body = canonicalize(rest);
  return 'hash' in e
    ? `${body.slice(0, -1)}${body === '{}' ? '' : ','}"hash":${JSON.stringify(hash)}}`
    : body;
}

/**
 * Whatever the decoder accepts, the general path accepts as the same event (keys in the same order), and the
 * canonical text is the canonicalisation of the parsed line without `hash`. Only the formats of `prev` and
 * `hash` are left to the verifier, which compares them with well-formed values.
 */
function expectSound(line: string): boolean {
  const d = decodeCanonicalLine(line);
  if (d === null) return false;
  const raw = JSON.parse(line) as Json;
  const { hash: _hash, ...rest } = raw;
  expect(d.canonical).toBe(canonicalize(rest));
  const parsed = EventSchema.safeParse(raw);
  if (parsed.success) {
    expect(JSON.stringify(d.event)).toBe(JSON.stringify(parsed.data));
  } else {
    for (const issue of parsed.error.issues) expect(['prev', 'hash']).toContain(String(issue.path[0]));
  }
  return true;
}

const RUNS = { numRuns: 400 };

// --- values for near-valid events ------------------------------------------------------------------------

const oddString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom(
    '',
    'a"b',
    'back\\slash',
    'tab\there',
    'line\nbreak',
    '\u0000',
    '\u001f',
    '\u007f',
    '\u2028',
    'é',
    '😀',
    '\ud800',
    'x\udc00',
    '/',
    '{"type":"pr.closed"}',
    ',"type":"breaker.reset","v":1',
  ),
);
const oddInt = fc.oneof(
  fc.integer({ min: -3, max: 6 }),
  fc.constantFrom(-0, 1.5, 1e15, 999_999_999_999_999, 2 ** 53, 1e21, 0.1),
);
const oddTime = fc.oneof(
  fc
    .date({
      min: new Date('1999-01-01T00:00:00Z'),
      max: new Date('2100-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '2024-02-29T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T00:00:00.123456789Z',
    '2026-01-01T00:00:00+01:00',
    '2026-01-01 00:00:00Z',
    'yesterday',
  ),
);
const hex = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{64}$/),
  fc.constantFrom('A'.repeat(64), 'abc', '0'.repeat(65), `${'0'.repeat(63)}\n`),
);
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  oddString,
  oddInt,
  fc.boolean(),
  fc.constant(null),
  fc.array(oddString, { maxLength: 3 }),
  fc.constant({}),
);

/** A plausible value for a data field, by name, or anything. */
function fieldValue(type: string, key: string): fc.Arbitrary<unknown> {
  const byName: Record<string, fc.Arbitrary<unknown>> = {
    number: oddInt,
    pr: oddInt,
    attempts: oddInt,
    consecutive_failures: oddInt,
    threshold: oddInt,
    deadline: oddTime,
    manual: fc.boolean(),
    updated: fc.boolean(),
    errors: fc.array(oddString, { maxLength: 3 }),
    usage: fc.record(
      {
        cost_usd_micros: fc.oneof(oddInt, fc.constantFrom(5_000_000, 1.5, -1, 2 ** 53)),
        input_tokens: oddInt,
        output_tokens: oddInt,
        turns: fc.oneof(oddInt, oddString),
      },
      { requiredKeys: [] },
    ),
    via: fc.constantFrom('pr_merged', 'backlog_done', 'merged'),
    by: fc.constantFrom('manual', 'cooldown', 'robot'),
    reason:
      type === 'attempt.failed'
        ? fc.constantFrom(...FAILURE_REASONS, 'bored')
        : type === 'task.blocked'
          ? fc.constantFrom('max_attempts', 'other')
          : oddString,
  };
  return fc.oneof({ arbitrary: byName[key] ?? oddString, weight: 15 }, { arbitrary: anyJson, weight: 1 });
}

/** Maybe a value, maybe absent (undefined drops the key). */
const maybe = (a: fc.Arbitrary<unknown>, absent = 0.15) =>
  fc.oneof(
    { arbitrary: a, weight: Math.round((1 - absent) * 20) },
    { arbitrary: fc.constant(undefined), weight: Math.round(absent * 20) },
  );

const nearValidEvent: fc.Arbitrary<Json> = fc.constantFrom(...EVENT_TYPES).chain((type) => {
  const dataKeys = Object.keys(EventData[type].shape);
  const data = fc.record(Object.fromEntries(dataKeys.map((k) => [k, maybe(fieldValue(type, k), 0.1)])));
  return fc
    .record({
      v: fc.oneof({ arbitrary: fc.constant(1), weight: 9 }, { arbitrary: anyJson, weight: 1 }),
      seq: fc.oneof(
        { arbitrary: fc.integer({ min: 1, max: 99 }), weight: 9 },
        { arbitrary: oddInt, weight: 1 },
      ),
      id: oddString,
      ts: oddTime,
      type: fc.oneof(
        { arbitrary: fc.constant(type as unknown), weight: 19 },
        { arbitrary: oddString, weight: 1 },
      ),
      task: maybe(oddString, 0.4),
      attempt: maybe(oddString, 0.4),
      actor: fc.record({
        kind: fc.constantFrom('scheduler', 'worker', 'cli', 'human', 'robot'),
        run_url: maybe(oddString, 0.7),
      }),
      data,
      prev: fc.oneof(fc.constant(null), hex),
      hash: maybe(hex, 0.03),
      extra: maybe(anyJson, 0.95),
    })
    .map((e) => JSON.parse(JSON.stringify(e)) as Json);
});

// --- the decoder -----------------------------------------------------------------------------------------

describe('decodeCanonicalLine', () => {
  it('has a fast path for every event type', () => {
    expect(canonicalLineTypes().sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('decodes every line chainEvents writes, exactly as the schema parses it', () => {
    fc.assert(
      fc.property(draftsArbitrary({ maxLength: 30 }), (drafts) => {
        for (const e of chainEvents(null, drafts)) {
          const line = JSON.stringify(e);
          expect(expectSound(line)).toBe(true);
          const d = decodeCanonicalLine(line);
          expect(sha256(d?.canonical ?? '')).toBe(e.hash);
          expect(d?.event).toStrictEqual(EventSchema.parse(JSON.parse(line)));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('is sound on near-valid events of every type (odd strings, numbers, times, missing and extra keys)', () => {
    let decoded = 0;
    fc.assert(
      fc.property(nearValidEvent, (e) => {
        if (expectSound(canonicalLine(e))) decoded += 1;
      }),
      { numRuns: 4000 },
    );
    // The generator is near enough to valid that the fast path is really exercised.
    expect(decoded).toBeGreaterThan(350);
  });

  it('is sound on canonical lines edited character by character', () => {
    const edit = fc.record({
      at: fc.nat(),
      op: fc.constantFrom('insert', 'delete', 'replace'),
      char: fc.constantFrom(
        ' ',
        ',',
        '"',
        '\\',
        '{',
        '}',
        '[',
        ']',
        ':',
        '1',
        '0',
        '-',
        '.',
        'e',
        'a',
        '\n',
        'é',
        '\ud800',
      ),
    });
    fc.assert(
      fc.property(
        draftsArbitrary({ minLength: 1, maxLength: 3 }),
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        (drafts, edits) => {
          for (const e of chainEvents(null, drafts)) {
            let line = JSON.stringify(e);
            for (const { at, op, char } of edits) {
              const i = at % (line.length + 1);
              line =
                op === 'insert'
                  ? line.slice(0, i) + char + line.slice(i)
                  : op === 'delete'
                    ? line.slice(0, i) + line.slice(i + 1)
                    : line.slice(0, i) + char + line.slice(i + 1);
            }
            let json = true;
            try {
              JSON.parse(line);
            } catch {
              json = false;
            }
            if (!json) expect(decodeCanonicalLine(line)).toBeNull();
            else expectSound(line);
          }
        },
      ),
      RUNS,
    );
  });

  it('reads the type where it is, whatever the end of the line suggests (the type is guessed from the tail)', () => {
    fc.assert(
      fc.property(
        draftsArbitrary({ minLength: 1, maxLength: 4 }),
        fc.constantFrom(...EVENT_TYPES),
        fc.constantFrom('type', 'tail', 'hash-short', 'hash-long', 'v'),
        (drafts, other, op) => {
          const events = chainEvents(null, drafts);
          const lines = events.map((e) => JSON.stringify(e));
          const i = lines.length - 1;
          const line = lines[i] as string;
          const e = events[i] as LeviathanEvent;
          // Another type in the type's place, another type's name just before the tail, a hash of another
          // length (the tail is then not where a canonical line has it), another `v`.
          const edited =
            op === 'type'
              ? line.replace(`"type":"${e.type}"`, `"type":"${other}"`)
              : op === 'tail'
                ? line.replace(`,"v":1,"hash"`, `,"v":1,"x":"${other}","hash"`)
                : op === 'hash-short'
                  ? line.replace(`"hash":"${e.hash}"`, `"hash":"${e.hash.slice(1)}"`)
                  : op === 'hash-long'
                    ? line.replace(`"hash":"${e.hash}"`, `"hash":"${e.hash}0"`)
                    : line.replace('"v":1', '"v":11');
          const d = decodeCanonicalLine(edited);
          if (d !== null) {
            expectSound(edited);
            expect(d.event.type).toBe((JSON.parse(edited) as Json).type);
          }
          lines[i] = edited;
          const ndjson = `${lines.join('\n')}\n`;
          expect(verifyEventLines(ndjson)).toEqual(referenceVerifyChain(parseEventLines(ndjson)));
        },
      ),
      RUNS,
    );
  });

  it('declines lines that are valid but not canonical', () => {
    const b = new EventBuilder();
    const a = b.attempt('docs');
    const [created] = b.chain([b.created(a)]);
    const line = JSON.stringify(created);
    expect(decodeCanonicalLine(line)).not.toBeNull();
    const variants = [
      JSON.stringify(created, null, 1), // whitespace
      line.replace('{"actor"', '{ "actor"'),
      `${line} `,
      JSON.stringify(Object.fromEntries(Object.entries(created!).reverse())), // key order
      line.replace('"docs"', '"\\u0064ocs"'), // a needless escape
      line.replace('leviathan/docs', 'leviathan\\/docs'), // an escaped slash
      line.replace('"number":1', '"number":1.0'),
      line.replace('"number":1', '"number":1e0'),
      line.replace('"v":1', '"v":1,"v":1'), // a duplicate key
      line.replace('"manual":false,', ''), // a default left out: valid, but not what was hashed
    ];
    for (const v of variants) {
      expect(JSON.parse(v)).toBeTruthy();
      expect(decodeCanonicalLine(v)).toBeNull();
      // The general path judges them: the same event verifies, a changed one does not.
      expect(verifyEventLines(v)).toEqual(referenceVerifyChain(parseEventLines(v)));
    }
    expect(verifyEventLines(variants[4]!).ok).toBe(true);
    expect(verifyEventLines(variants[9]!)).toMatchObject({ ok: false, seq: 1, reason: 'hash_mismatch' });
  });

  it('takes linear time on long lines that fail late', () => {
    const b = new EventBuilder();
    const a = b.attempt('t');
    const tail = 'x'.repeat(1_000_000);
    const [failed] = b.chain([
      { ...b.failed(a), data: { reason: 'verify_failed', detail: tail, output_tail: tail } },
    ]);
    const line = JSON.stringify(failed);
    const t = performance.now();
    expect(decodeCanonicalLine(line)).not.toBeNull();
    expect(decodeCanonicalLine(`${line.slice(0, -1)} }`)).toBeNull();
    expect(decodeCanonicalLine(line.replace('"reason":"verify_failed"', '"reason":"bored"'))).toBeNull();
    expect(decodeCanonicalLine(line.replace('"v":1', '"v":2'))).toBeNull();
    // Quadratic or worse on a 1 MB line would take minutes; linear takes milliseconds, load or not.
    expect(performance.now() - t).toBeLessThan(20_000);
  });

  it('declines raw control characters and lone surrogates but reads escapes and surrogate pairs', () => {
    const b = new EventBuilder();
    const [reset] = b.chain([
      { ...b.reset(), data: { by: 'manual', reason: 'tab\there "quoted" 😀 \\ \u0001' } },
    ]);
    const line = JSON.stringify(reset);
    expect(expectSound(line)).toBe(true);
    expect(decodeCanonicalLine(line)?.event.data).toEqual({
      by: 'manual',
      reason: 'tab\there "quoted" 😀 \\ \u0001',
    });
    expect(decodeCanonicalLine(line.replace('\\t', '\t'))).toBeNull();
    expect(decodeCanonicalLine(line.replace('😀', '\ud83d'))).toBeNull();
  });
});

// --- verification: fast path ≡ reference -----------------------------------------------------------------

/** Edits of one parsed event (always to a different value). */
const EDITS: Array<(e: Json) => void> = [
  (e) => {
    e.seq = (e.seq as number) + 1;
  },
  (e) => {
    e.seq = (e.seq as number) - 1;
  },
  (e) => {
    e.id = `${e.id}-x`;
  },
  (e) => {
    e.ts = new Date(Date.parse(e.ts as string) + 86_400_000).toISOString();
  },
  (e) => {
    e.type = e.type === 'config.invalid' ? 'breaker.reset' : 'config.invalid';
  },
  (e) => {
    e.task = e.task === undefined ? 'zeta' : `${e.task}x`;
  },
  (e) => {
    e.actor = { kind: (e.actor as Json).kind === 'human' ? 'cli' : 'human' };
  },
  (e) => {
    e.prev = e.prev === null ? 'a'.repeat(64) : null;
  },
  (e) => {
    e.prev = 'A'.repeat(64);
  },
  (e) => {
    const h = e.hash as string;
    e.hash = (h[0] === '0' ? '1' : '0') + h.slice(1);
  },
  (e) => {
    e.hash = 'not hex';
  },
  (e) => {
    e.v = 2;
  },
  (e) => {
    const data = e.data as Json;
    const k = Object.keys(data)[0];
    if (k === undefined) data.extra = 1;
    else if (typeof data[k] === 'number') data[k] = (data[k] as number) + 1;
    else if (typeof data[k] === 'boolean') data[k] = !data[k];
    else if (Array.isArray(data[k])) data[k] = [...(data[k] as unknown[]), 'x'];
    else data[k] = `${data[k]}x`;
  },
  (e) => {
    const data = e.data as Json;
    const k = Object.keys(data)[0];
    if (k !== undefined) delete data[k];
  },
];

/** A tampering of a log given as lines: how a human with push access might edit a day file. */
const tamper = fc.record({
  op: fc.constantFrom(
    'none',
    'edit',
    'edit-rehash',
    'edit-rechain',
    'delete',
    'duplicate',
    'swap',
    'blank',
    'garbage',
    'crlf',
    'reserialise',
    'reorder-keys',
  ),
  at: fc.nat(),
  to: fc.nat(),
  edit: fc.nat(EDITS.length - 1),
});
type Tamper = typeof tamper extends fc.Arbitrary<infer T> ? T : never;

/** Re-seals events from `from` on, as a forger who recomputes every later hash would. */
function rechain(lines: string[], from: number): void {
  let prev: string | null = null;
  if (from > 0) {
    try {
      prev = (JSON.parse(lines[from - 1] as string) as Json).hash as string;
    } catch {
      return;
    }
  }
  for (let i = from; i < lines.length; i++) {
    let e: Json;
    try {
      e = JSON.parse(lines[i] as string) as Json;
    } catch {
      return;
    }
    if (typeof e !== 'object' || e === null) return;
    const { hash: _h, ...body } = e;
    const sealed = sealEvent({ ...body, prev }) as unknown as Json;
    lines[i] = JSON.stringify(sealed);
    prev = sealed.hash as string;
  }
}

function applyTamper(lines: string[], t: Tamper): string[] {
  const out = [...lines];
  if (out.length === 0 || t.op === 'none') return out;
  const i = t.at % out.length;
  const j = t.to % out.length;
  let value: unknown;
  try {
    value = JSON.parse(out[i] as string);
  } catch {
    value = null;
  }
  const isEvent = typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isEvent && ['edit', 'edit-rehash', 'edit-rechain', 'reserialise', 'reorder-keys'].includes(t.op))
    return out;
  const parsed = () => value as Json;
  switch (t.op) {
    case 'edit':
    case 'edit-rehash':
    case 'edit-rechain': {
      const e = parsed();
      EDITS[t.edit]?.(e);
      if (t.op === 'edit') {
        out[i] = JSON.stringify(e);
      } else {
        const { hash: _h, ...body } = e;
        out[i] = JSON.stringify(sealEvent(body));
        if (t.op === 'edit-rechain') rechain(out, i + 1);
      }
      return out;
    }
    case 'delete':
      out.splice(i, 1);
      return out;
    case 'duplicate':
      out.splice(j, 0, out[i] as string);
      return out;
    case 'swap':
      [out[i], out[j]] = [out[j] as string, out[i] as string];
      return out;
    case 'blank':
      out.splice(i, 0, '');
      return out;
    case 'garbage':
      out[i] = (out[i] as string).slice(0, (out[i] as string).length >> 1);
      return out;
    case 'crlf':
      return out.map((l) => `${l}\r`);
    case 'reserialise': {
      // Semantically the same event, not canonical text: must still verify.
      const e = parsed();
      const { actor, data, hash, ...rest } = e;
      out[i] = JSON.stringify({ hash, data, ...rest, actor }, null, t.to % 2 === 0 ? undefined : 1).replace(
        /\n/g,
        '',
      );
      return out;
    }
    case 'reorder-keys':
      out[i] = JSON.stringify(Object.fromEntries(Object.entries(parsed()).reverse()));
      return out;
  }
  return out;
}

describe('ChainVerifier on lines', () => {
  it('reports exactly what the reference verification reports, for any tampering', () => {
    fc.assert(
      fc.property(
        draftsArbitrary({ maxLength: 25 }),
        fc.array(tamper, { maxLength: 2 }),
        fc.nat(),
        (drafts, tampers, cut) => {
          const events = chainEvents(null, drafts);
          let lines = toEventLines(events).split('\n').slice(0, -1);
          for (const t of tampers) lines = applyTamper(lines, t);
          const text = lines.length > 0 ? `${lines.join('\n')}\n` : '';
          const expected = referenceVerifyChain(parseEventLines(text));
          expect(verifyEventLines(text)).toEqual(expected);
          expect(verifyChain(parseEventLines(text))).toEqual(expected);
          // In two segments from a tip: the tip of the first is where the second continues.
          const all = splitEventLines(text);
          const k = all.length === 0 ? 0 : cut % (all.length + 1);
          const head = referenceVerifyChain(parseEventLines(all.slice(0, k).join('\n')));
          if (head.ok) {
            const tail = all.slice(k).join('\n');
            const reference = referenceVerifyChain(parseEventLines(tail), head.last);
            expect(verifyEventLines(tail, head.last)).toEqual(reference);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('continues from a tip whose hash is not well formed without trusting it', () => {
    const b = new EventBuilder();
    const events = b.chain([b.reset(), b.reset()]);
    const bad = { seq: 1, hash: 'A'.repeat(64) };
    const second = { ...jsonCopy(events[1]!) } as Json;
    const { hash: _h, ...body } = second;
    const forged = sealEvent({ ...body, prev: bad.hash });
    const text = `${JSON.stringify(forged)}\n`;
    expect(verifyEventLines(text, bad)).toEqual(referenceVerifyChain(parseEventLines(text), bad));
    expect(verifyEventLines(text, bad)).toMatchObject({ ok: false, seq: 2, reason: 'invalid' });
  });

  it('notes an id an earlier segment used, and fails on one used twice within a segment', () => {
    const b = new EventBuilder();
    const [one, two, three] = b.chain([b.reset(), b.reset(), b.reset()]);
    const again = sealEvent({ ...jsonCopy(three!), id: one!.id, hash: undefined } as unknown as Json);
    const v = new ChainVerifier();
    expect(v.lines([JSON.stringify(one), JSON.stringify(two)])).toMatchObject({ failure: null, reused: -1 });
    expect(v.lines([JSON.stringify(again)])).toMatchObject({ failure: null, reused: 0 });
    const w = new ChainVerifier();
    const r = w.lines([JSON.stringify(one), JSON.stringify(two), JSON.stringify(again)]);
    expect(r.failure).toMatchObject({ seq: 3, reason: 'duplicate_id', index: 2 });
    expect(r.events).toHaveLength(2);
  });
});

// --- checkLog: fast path ≡ reference over day files -----------------------------------------------------

/** Day files as the writer fills them (the file of an event is its UTC day, or a later file's day). */
function toFiles(events: readonly LeviathanEvent[]): Array<{ day: string; lines: string[] }> {
  const files: Array<{ day: string; lines: string[] }> = [];
  for (const e of events) {
    const own = e.ts.slice(0, 10);
    const last = files[files.length - 1];
    if (last && last.day >= own) last.lines.push(JSON.stringify(e));
    else files.push({ day: own, lines: [JSON.stringify(e)] });
  }
  return files;
}

const logTamper = fc.record({
  op: fc.constantFrom('lines', 'move', 'copy', 'bad-name', 'later-day', 'reuse-id', 'empty-file'),
  file: fc.nat(),
  other: fc.nat(),
  line: tamper,
});

describe('checkLog', () => {
  it('reports exactly what the reference check reports, for any tampering of the day files', () => {
    fc.assert(
      fc.property(
        draftsArbitrary({ maxLength: 30 }),
        fc.array(logTamper, { maxLength: 2 }),
        (drafts, tampers) => {
          const files = toFiles(chainEvents(null, drafts));
          const names = files.map((f) => `events/${f.day}.ndjson`);
          for (const t of tampers) {
            if (files.length === 0) break;
            const f = t.file % files.length;
            const g = t.other % files.length;
            const file = files[f] as { day: string; lines: string[] };
            const all = () => files.flatMap((x) => x.lines);
            switch (t.op) {
              case 'lines':
                file.lines = applyTamper(file.lines, t.line);
                break;
              case 'move':
              case 'copy': {
                const line = file.lines[t.line.at % Math.max(1, file.lines.length)];
                if (line === undefined) break;
                if (t.op === 'move') file.lines.splice(file.lines.indexOf(line), 1);
                const target = files[g] as { lines: string[] };
                target.lines.splice(t.line.to % (target.lines.length + 1), 0, line);
                break;
              }
              case 'bad-name':
                names[f] = t.other % 2 === 0 ? 'events/notes.txt' : `events/${file.day}.json`;
                break;
              case 'later-day':
              case 'reuse-id': {
                // A forger who re-chains everything after the edit: only placement and ids can tell.
                const flat = all();
                const k = flat.indexOf(file.lines[t.line.at % Math.max(1, file.lines.length)] as string);
                if (k < 0) break;
                let e: Json;
                try {
                  e = JSON.parse(flat[k] as string) as Json;
                  if (typeof e?.ts !== 'string') break;
                } catch {
                  break;
                }
                if (t.op === 'later-day')
                  e.ts = new Date(Date.parse(e.ts as string) + 2 * 86_400_000).toISOString();
                else {
                  try {
                    e.id = (JSON.parse(flat[t.other % (k + 1)] as string) as Json).id;
                  } catch {
                    break;
                  }
                }
                flat[k] = JSON.stringify(e);
                rechain(flat, k);
                let n = 0;
                for (const x of files) {
                  const size = x.lines.length;
                  x.lines = flat.slice(n, n + size);
                  n += size;
                }
                break;
              }
              case 'empty-file':
                file.lines = [];
                break;
            }
          }
          const map = new Map<string, string>();
          files.forEach((x, i) => {
            map.set(names[i] as string, x.lines.length > 0 ? `${x.lines.join('\n')}\n` : '');
          });
          const expected = referenceCheckFiles(map);
          const actual = checkLog({ files: map, stateText: null });
          if (expected.ok) {
            expect(actual).toMatchObject({ ok: true, count: expected.count, last: expected.last });
          } else {
            expect(actual).toEqual({
              ok: false,
              seq: expected.seq,
              reason: expected.reason,
              detail: expected.detail,
            });
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});
