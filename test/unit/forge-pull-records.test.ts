import { describe, expect, it } from '@jest/globals';
import { ForgeError, type PullInput } from '../../src/forge/forge.js';
import {
  closed,
  matchesQuery,
  merged,
  NEXT_FILE,
  openPullFor,
  type PullRecord,
  type PullsData,
  parsePullFiles,
  planUpsert,
  pullPath,
  requireOpen,
  requirePull,
  serializePull,
  toPullRequest,
  withComment,
} from '../../src/forge/pull-records.js';

const T0 = new Date('2026-11-26T10:00:00.000Z');
const T1 = new Date('2026-11-26T11:00:00.000Z');

function input(over: Partial<PullInput> = {}): PullInput {
  return {
    branch: 'leviathan/docs-guide',
    base: 'main',
    title: 'Write the guide',
    body: 'body',
    draft: true,
    labels: ['leviathan'],
    reviewers: [],
    ...over,
  };
}

function empty(): PullsData {
  return { next: 1, pulls: new Map() };
}

function created(data: PullsData, over: Partial<PullInput> = {}, now = T0): PullRecord {
  const out = planUpsert(data, input(over), now);
  if (out.kind !== 'created') throw new Error(`expected created, got ${out.kind}`);
  data.pulls.set(out.record.number, out.record);
  data.next = out.next;
  return out.record;
}

describe('parsePullFiles', () => {
  it('reads records and the next counter; an empty ref starts at 1', () => {
    expect(parsePullFiles(new Map())).toEqual({ next: 1, pulls: new Map() });
    const rec = created(empty());
    const data = parsePullFiles(new Map([[pullPath(1), serializePull(rec)]]));
    expect(data.next).toBe(2);
    expect(data.pulls.get(1)).toEqual(rec);
  });

  it('never reuses a number: next wins over max+1 when a record was deleted', () => {
    expect(parsePullFiles(new Map([[NEXT_FILE, '7\n']])).next).toBe(7);
  });

  it('ignores unknown files but fails closed on a malformed record', () => {
    expect(parsePullFiles(new Map([['README', 'hi']])).pulls.size).toBe(0);
    expect(() => parsePullFiles(new Map([[pullPath(1), '{nope']]))).toThrow(
      /pulls\/1.json is not valid JSON/,
    );
    expect(() => parsePullFiles(new Map([[pullPath(1), '{"v":1}']]))).toThrow(ForgeError);
    expect(() => parsePullFiles(new Map([[NEXT_FILE, 'x']]))).toThrow(/not a positive integer/);
  });

  it('rejects a record stored under another number', () => {
    const rec = created(empty());
    expect(() => parsePullFiles(new Map([[pullPath(2), serializePull(rec)]]))).toThrow(/holds pull #1/);
  });
});

describe('planUpsert', () => {
  it('creates with the next number and timestamps from the clock', () => {
    const data = empty();
    const rec = created(data);
    expect(rec).toMatchObject({
      number: 1,
      state: 'open',
      head: 'leviathan/docs-guide',
      created_at: T0.toISOString(),
      updated_at: T0.toISOString(),
      merged_at: null,
    });
    expect(created(data, { branch: 'leviathan/other' }).number).toBe(2);
  });

  it('updates the open pull of the branch in place, unchanged when identical', () => {
    const data = empty();
    created(data);
    expect(planUpsert(data, input(), T1).kind).toBe('unchanged');
    const out = planUpsert(data, input({ title: 'New', draft: false, labels: ['extra'] }), T1);
    expect(out.kind).toBe('updated');
    expect(out.record).toMatchObject({
      number: 1,
      title: 'New',
      draft: false,
      labels: ['leviathan', 'extra'],
      created_at: T0.toISOString(),
      updated_at: T1.toISOString(),
    });
  });

  it('opens a new number when the branch only has a closed pull', () => {
    const data = empty();
    const first = created(data);
    data.pulls.set(1, closed(first, T1));
    expect(created(data).number).toBe(2);
  });
});

describe('state changes', () => {
  it('close and merge only an open pull', () => {
    const rec = created(empty());
    const c = closed(rec, T1);
    expect(c).toMatchObject({ state: 'closed', closed_at: T1.toISOString(), merged_at: null });
    expect(() => closed(c, T1)).toThrow(/is closed; only an open pull can be closed/);
    expect(() => requireOpen(c, 'merge')).toThrow(/is closed; only an open pull can be merged/);
    expect(() => requireOpen(rec, 'merge')).not.toThrow();
    const m = merged(rec, 'abc', T1);
    expect(m).toMatchObject({ state: 'merged', merged_at: T1.toISOString(), merge_commit: 'abc' });
  });

  it('comments are appended and bump updated_at', () => {
    const rec = withComment(withComment(created(empty()), 'one', T0), 'two', T1);
    expect(rec.comments.map((c) => c.body)).toEqual(['one', 'two']);
    expect(rec.updated_at).toBe(T1.toISOString());
  });

  it('requirePull names an unknown number', () => {
    expect(() => requirePull(empty(), 9)).toThrow('pull #9 does not exist in refs/leviathan/pulls');
  });

  it('two open pulls for one branch is a corrupted store', () => {
    const data = empty();
    const a = created(data);
    data.pulls.set(2, { ...a, number: 2 });
    expect(() => openPullFor(data, a.head)).toThrow(/2 open pulls/);
  });
});

describe('matchesQuery and toPullRequest', () => {
  const query = { branchPrefix: 'leviathan/', labels: ['leviathan'], closedSince: T1 };

  it('marks by prefix or label; closed ones only if recent', () => {
    const data = empty();
    const rec = created(data, { labels: [] });
    expect(matchesQuery(rec, query)).toBe(true);
    expect(matchesQuery({ ...rec, head: 'feature/x' }, query)).toBe(false);
    expect(matchesQuery({ ...rec, head: 'feature/x', labels: ['leviathan'] }, query)).toBe(true);
    expect(matchesQuery(closed(rec, T0), query)).toBe(false);
    expect(matchesQuery(closed(rec, T1), query)).toBe(true);
  });

  it('the public view has no internals', () => {
    const pr = toPullRequest(withComment(created(empty()), 'c', T0), 'local:pull/1');
    expect(pr).not.toHaveProperty('comments');
    expect(pr).not.toHaveProperty('merge_commit');
    expect(pr.url).toBe('local:pull/1');
  });
});
