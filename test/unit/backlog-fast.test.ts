import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { BacklogSchema } from '../../src/core/backlog.js';
import { fastBacklog } from '../../src/core/backlog-fast.js';

type Raw = Record<string, unknown>;

const REQUIRED = new Set(['id', 'title', 'allowed_paths']);

/** What documents.ts hands zod: a null for a key with a default (or an optional one) is dropped. */
function dropNulls(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const out: Raw = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === null && (k === 'version' || k === 'tasks')) continue;
    out[k] = k === 'tasks' && Array.isArray(v) ? v.map(dropTaskNulls) : v;
  }
  return out;
}

function dropTaskNulls(t: unknown): unknown {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return t;
  const out: Raw = {};
  for (const [k, v] of Object.entries(t)) {
    if (v === null && !REQUIRED.has(k)) continue;
    if (k === 'executor' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null));
    } else out[k] = v;
  }
  return out;
}

const anyValue = fc.constantFrom<unknown>(
  null,
  '',
  'x',
  'docs/**',
  0,
  1,
  7,
  -1,
  2.5,
  true,
  false,
  [],
  ['a'],
  {},
);
const strs = fc.oneof(
  fc.array(fc.constantFrom('a', 'docs/**', 'page-1'), { maxLength: 3 }),
  fc.constant(['', 'a']),
  fc.constant([1]),
  fc.constant([null]),
  anyValue,
);
const field: Record<string, fc.Arbitrary<unknown>> = {
  id: fc.oneof(fc.constantFrom('page-1', 'a.b_c', 'A', '-x', 'x'.repeat(65)), anyValue),
  title: fc.oneof(fc.constantFrom('Write it', 'x'.repeat(200), 'x'.repeat(201)), anyValue),
  description: fc.oneof(fc.constantFrom('text\n'), anyValue),
  ready: anyValue,
  status: fc.oneof(fc.constantFrom('pending', 'done', 'blocked', 'Done'), anyValue),
  priority: fc.oneof(fc.constantFrom('high', 'medium', 'low', 'urgent'), anyValue),
  dependencies: strs,
  allowed_paths: strs,
  acceptance_criteria: strs,
  labels: strs,
  run: strs,
  verify: anyValue,
  max_attempts: fc.oneof(fc.constantFrom(1, 3, 0, 2 ** 60), anyValue),
  timeout_minutes: fc.oneof(fc.constantFrom(1, 3, 0), anyValue),
  executor: fc.oneof(
    fc.record(
      {
        command: fc.constantFrom<unknown>('agent', '', null, 3),
        timeout_minutes: fc.constantFrom<unknown>(5, 0, null, 'x'),
        model: fc.constant('x'),
      },
      { requiredKeys: [] },
    ),
    anyValue,
  ),
  stauts: fc.constant('done'),
};
const valid: Record<string, fc.Arbitrary<unknown>> = {
  id: fc.constantFrom('page-1', 'a.b_c'),
  title: fc.constantFrom('Write it', 'x'),
  allowed_paths: fc.constant(['docs/a.md', 'docs/img/**']),
};
const task = fc.oneof(
  fc.record(field, { requiredKeys: [] }),
  // Mostly valid: the required keys right, the rest from the pool.
  fc.tuple(fc.record(valid), fc.record(field, { requiredKeys: [] })).map(([v, rest]) => {
    const { id: _i, title: _t, allowed_paths: _a, stauts: _s, ...others } = rest as Raw;
    return { ...v, ...others };
  }),
);
const backlog = fc.oneof(
  fc.record(
    {
      version: fc.constantFrom<unknown>(1, null, 2, '1'),
      tasks: fc.oneof(fc.array(task, { maxLength: 4 }), fc.constantFrom<unknown>(null, 'x', {})),
      extra: fc.constant(1),
    },
    { requiredKeys: [] },
  ),
  anyValue,
);

describe('fastBacklog: the schema without zod', () => {
  it('returns what the schema returns, keys in the same order, or leaves it to zod', () => {
    let fast = 0;
    let schemaOk = 0;
    fc.assert(
      fc.property(backlog, (raw) => {
        const ref = BacklogSchema.safeParse(dropNulls(raw));
        const got = fastBacklog(raw);
        if (ref.success) schemaOk += 1;
        if (got === null) return;
        fast += 1;
        expect(ref.success).toBe(true);
        expect(JSON.stringify(got)).toBe(JSON.stringify(ref.data));
      }),
      { numRuns: 5000 },
    );
    // Every value the schema accepts is one fastBacklog handles too (it only gives up on what zod refuses).
    expect(fast).toBe(schemaOk);
    expect(fast).toBeGreaterThan(200);
  });

  it('fills in the defaults of a minimal task', () => {
    expect(fastBacklog({ version: 1, tasks: [{ id: 'a', title: 'A', allowed_paths: ['docs/**'] }] })).toEqual(
      {
        version: 1,
        tasks: [
          {
            id: 'a',
            title: 'A',
            description: '',
            ready: false,
            status: 'pending',
            priority: 'medium',
            dependencies: [],
            allowed_paths: ['docs/**'],
            acceptance_criteria: [],
            labels: [],
          },
        ],
      },
    );
    expect(fastBacklog({})).toEqual({ tasks: [] });
  });
});
