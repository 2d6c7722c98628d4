import { z } from 'zod';
import { parsePullMarker } from '../core/pr-body.js';
import { ForgeError, type ListPullsQuery, type PullInput, type PullRequest } from './forge.js';

/**
 * The local forge's pull requests as files on `refs/leviathan/pulls` (pure: no I/O, so every rule here is unit
 * tested without git). Layout:
 *   pulls/<number>.json   one record per pull
 *   next                  the next number to hand out
 * `next` is kept besides deriving max+1 so a number is never reused, even if a record is deleted by hand.
 */

export const PULLS_REF = 'refs/leviathan/pulls';
export const NEXT_FILE = 'next';
const PULL_FILE = /^pulls\/([1-9][0-9]*)\.json$/;

export function pullPath(number: number): string {
  return `pulls/${number}.json`;
}

/** The number of a record's path (`pulls/7.json` → 7), or null for any other path. */
export function pullNumberOf(path: string): number | null {
  const match = PULL_FILE.exec(path);
  return match ? Number(match[1]) : null;
}

const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not an ISO timestamp');

export const PullCommentSchema = z.strictObject({ body: z.string(), created_at: iso });
export type PullComment = z.infer<typeof PullCommentSchema>;

export const PullRecordSchema = z.strictObject({
  v: z.literal(1),
  number: z.number().int().min(1),
  title: z.string(),
  body: z.string(),
  head: z.string().min(1),
  base: z.string().min(1),
  state: z.enum(['open', 'closed', 'merged']),
  draft: z.boolean(),
  labels: z.array(z.string()),
  reviewers: z.array(z.string()),
  created_at: iso,
  updated_at: iso,
  closed_at: iso.nullable(),
  merged_at: iso.nullable(),
  /** The merge commit on the base branch once merged. */
  merge_commit: z.string().nullable(),
  /** The commit Leviathan judged and pushed; a merge takes exactly this one (absent on older records). */
  head_sha: z
    .string()
    .regex(/^[0-9a-f]{40,64}$/)
    .optional(),
  comments: z.array(PullCommentSchema),
});
export type PullRecord = z.infer<typeof PullRecordSchema>;

/** Everything on the pulls ref, parsed. */
export interface PullsData {
  next: number;
  pulls: Map<number, PullRecord>;
}

/** Parses the ref's files; a malformed record fails closed (the scheduler must not act on a guess). */
export function parsePullFiles(files: ReadonlyMap<string, string>): PullsData {
  const pulls = new Map<number, PullRecord>();
  let next = 1;
  for (const [path, text] of files) {
    if (path === NEXT_FILE) {
      const n = Number(text.trim());
      if (!Number.isInteger(n) || n < 1) {
        throw new ForgeError(`${PULLS_REF}:${path} is not a positive integer`, 'read');
      }
      next = Math.max(next, n);
      continue;
    }
    const match = PULL_FILE.exec(path);
    if (!match) continue; // unknown files are left alone, not fatal
    const number = Number(match[1]);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ForgeError(`${PULLS_REF}:${path} is not valid JSON`, 'read');
    }
    const parsed = PullRecordSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ForgeError(
        `${PULLS_REF}:${path} is not a valid pull record (${issue?.path.join('.') || 'record'}: ${issue?.message})`,
        'read',
      );
    }
    if (parsed.data.number !== number) {
      throw new ForgeError(`${PULLS_REF}:${path} holds pull #${parsed.data.number}`, 'read');
    }
    pulls.set(number, parsed.data);
    next = Math.max(next, number + 1);
  }
  return { next, pulls };
}

/** Stable, readable on-disk form (`git show refs/leviathan/pulls:pulls/1.json`). */
export function serializePull(record: PullRecord): string {
  return `${JSON.stringify(PullRecordSchema.parse(record), null, 2)}\n`;
}

/** The public view: what the Forge interface returns (no comments, no internals). */
export function toPullRequest(record: PullRecord, url: string): PullRequest {
  return {
    number: record.number,
    title: record.title,
    body: record.body,
    head: record.head,
    base: record.base,
    state: record.state,
    draft: record.draft,
    labels: [...record.labels],
    url,
    created_at: record.created_at,
    updated_at: record.updated_at,
    closed_at: record.closed_at,
    merged_at: record.merged_at,
  };
}

/** Pulls sorted by number, ascending. */
export function sortedPulls(data: PullsData): PullRecord[] {
  return [...data.pulls.values()].sort((a, b) => a.number - b.number);
}

/** The open pull for `branch`; more than one would be a corrupted store, so that fails closed. */
export function openPullFor(data: PullsData, branch: string): PullRecord | null {
  const open = sortedPulls(data).filter((p) => p.state === 'open' && p.head === branch);
  if (open.length > 1) {
    throw new ForgeError(
      `${PULLS_REF} has ${open.length} open pulls for ${branch} (#${open.map((p) => p.number).join(', #')})`,
      'read',
    );
  }
  return open[0] ?? null;
}

/**
 * A Leviathan pull is one whose head has the prefix or that carries one of the labels; closed and merged ones
 * count only when updated at or after `closedSince`.
 */
export function matchesQuery(record: PullRecord, query: ListPullsQuery): boolean {
  const marked =
    record.head.startsWith(query.branchPrefix) ||
    record.labels.some((l) => query.labels.includes(l)) ||
    parsePullMarker(record.body) !== null;
  if (!marked) return false;
  if (record.state === 'open') return true;
  return Date.parse(record.updated_at) >= query.closedSince.getTime();
}

function uniq(values: readonly string[]): string[] {
  return [...new Set(values)];
}

export type UpsertOutcome =
  | { kind: 'created'; record: PullRecord; next: number }
  | { kind: 'updated'; record: PullRecord }
  | { kind: 'unchanged'; record: PullRecord };

/**
 * Create the pull for `input.branch`, or update the open one's title/body/labels/draft/reviewers.
 * `unchanged` means nothing needs writing (idempotent re-run). The base of an open pull is kept.
 */
export function planUpsert(data: PullsData, input: PullInput, now: Date): UpsertOutcome {
  const stamp = now.toISOString();
  const existing = openPullFor(data, input.branch);
  if (existing) {
    const changed: PullRecord = {
      ...existing,
      ...(input.headSha ? { head_sha: input.headSha } : {}),
      title: input.title,
      body: input.body,
      draft: input.draft,
      labels: uniq([...existing.labels, ...input.labels]),
      reviewers: uniq([...existing.reviewers, ...input.reviewers]),
    };
    const same =
      changed.head_sha === existing.head_sha &&
      changed.title === existing.title &&
      changed.body === existing.body &&
      changed.draft === existing.draft &&
      changed.labels.length === existing.labels.length &&
      changed.reviewers.length === existing.reviewers.length;
    if (same) return { kind: 'unchanged', record: existing };
    return { kind: 'updated', record: { ...changed, updated_at: stamp } };
  }
  const number = data.next;
  return {
    kind: 'created',
    next: number + 1,
    record: {
      v: 1,
      number,
      title: input.title,
      body: input.body,
      head: input.branch,
      base: input.base,
      state: 'open',
      draft: input.draft,
      labels: uniq(input.labels),
      reviewers: uniq(input.reviewers),
      created_at: stamp,
      updated_at: stamp,
      closed_at: null,
      merged_at: null,
      merge_commit: null,
      ...(input.headSha ? { head_sha: input.headSha } : {}),
      comments: [],
    },
  };
}

/** The record or a clear error naming the number. */
export function requirePull(data: PullsData, number: number): PullRecord {
  const record = data.pulls.get(number);
  if (!record) {
    throw new ForgeError(`pull #${number} does not exist in ${PULLS_REF}`, 'read', 404);
  }
  return record;
}

/** Guards merge/close: only an open pull can change state. */
export function requireOpen(record: PullRecord, operation: 'merge' | 'close'): void {
  if (record.state !== 'open') {
    throw new ForgeError(
      `pull #${record.number} is ${record.state}; only an open pull can be ${operation}d`,
      operation,
      409,
    );
  }
}

export function withComment(record: PullRecord, body: string, now: Date): PullRecord {
  const stamp = now.toISOString();
  return { ...record, comments: [...record.comments, { body, created_at: stamp }], updated_at: stamp };
}

export function closed(record: PullRecord, now: Date): PullRecord {
  requireOpen(record, 'close');
  const stamp = now.toISOString();
  return { ...record, state: 'closed', closed_at: stamp, updated_at: stamp };
}

/**
 * Marks the pull merged. Not guarded by `requireOpen`: it records a merge commit that is already on the base
 * branch, which must win even if the pull was closed meanwhile (callers check `requireOpen` before merging).
 */
export function merged(record: PullRecord, mergeCommit: string, now: Date): PullRecord {
  const stamp = now.toISOString();
  return {
    ...record,
    state: 'merged',
    closed_at: stamp,
    merged_at: stamp,
    merge_commit: mergeCommit,
    updated_at: stamp,
  };
}
