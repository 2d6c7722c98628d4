/**
 * Pull requests as tests and benchmarks make them: the input a worker hands the forge, and ready-made
 * records for a pulls ref with history. No jest here, so the benchmarks can import it.
 */
import type { PullInput } from '../../src/forge/forge.js';
import { indexOf, sealedMessage } from '../../src/forge/pull-index.js';
import { PULLS_REF, type PullRecord, pullPath, serializePull } from '../../src/forge/pull-records.js';
import { RefStore } from '../../src/store/ref-store.js';

/** The upsert a worker sends for `branch` (a draft with the leviathan label and the task marker). */
export function pullInput(branch: string, over: Partial<PullInput> = {}): PullInput {
  return {
    branch,
    base: 'main',
    title: `Task ${branch}`,
    body: `<!-- leviathan:task=${branch} attempt=a1 -->`,
    draft: true,
    labels: ['leviathan'],
    reviewers: [],
    ...over,
  };
}

/** A stored record in `state`; closed and merged ones are stamped at `at`. */
export function pullRecord(
  number: number,
  head: string,
  state: PullRecord['state'],
  over: Partial<PullRecord> & { at?: string } = {},
): PullRecord {
  const { at = '2026-11-20T10:00:00.000Z', ...rest } = over;
  return {
    v: 1,
    number,
    title: `Task ${number}`,
    body: `pull ${number}`,
    head,
    base: 'main',
    state,
    draft: false,
    labels: ['leviathan'],
    reviewers: [],
    created_at: at,
    updated_at: at,
    closed_at: state === 'open' ? null : at,
    merged_at: state === 'merged' ? at : null,
    merge_commit: null,
    comments: [],
    ...rest,
  };
}

/**
 * `records` as the origin's pulls ref holds them after Leviathan wrote them: one commit on `bare`, its message
 * sealing the index (forge/pull-index.ts), so a later upsert reads only its own branch's record.
 */
export async function seedPulls(bare: string, records: readonly PullRecord[]): Promise<void> {
  const pulls = new Map(records.map((r) => [r.number, r]));
  const next = Math.max(0, ...pulls.keys()) + 1;
  const changes = new Map<string, string>([['next', `${next}\n`]]);
  for (const [k, r] of pulls) changes.set(pullPath(k), serializePull(r));
  const index = indexOf({ next, pulls });
  const store = new RefStore({ dir: bare, ref: PULLS_REF });
  const message = (tree: string) => sealedMessage(`seed ${records.length} pulls`, index, tree);
  const commit = await store.commit(changes, message, null);
  if (!(await store.push(commit, null))) throw new Error('seeding the pulls lost a race');
}
