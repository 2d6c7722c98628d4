/**
 * The index of the pulls ref, carried in each commit's message (issue 10): the next pull number and the open
 * pull of each branch, so an upsert reads no record but the branch's own (none when it opens a new pull)
 * however many pulls the ref holds. The index is sealed by the commit's own root tree (`Leviathan-Tree:`): a
 * commit that copies a sealed message onto another tree, and one without a sealed index (an older writer, a
 * human), are read in full as before. The seal is no signature (anyone with push access can compute a
 * tree's id and write a matching index), so the index is only ever a shortcut the tree must agree with: a
 * record it names is checked to be that branch's open pull, and a new pull's number must be past every
 * record the tree holds, so a forged index can never make an upsert overwrite a record.
 *
 *   pull #7: created (leviathan/docs)
 *
 *   Leviathan-Pulls-Next: 8
 *   Leviathan-Pulls-Open: 3 leviathan/api
 *   Leviathan-Pulls-Open: 7 leviathan/docs
 *   Leviathan-Tree: <the commit's root tree>
 */
import type { FileChanges, RefView } from '../store/ref-store-types.js';
import {
  NEXT_FILE,
  type PullRecord,
  type PullsData,
  parsePullFiles,
  pullNumberOf,
  pullPath,
  sortedPulls,
} from './pull-records.js';

export interface PullsIndex {
  next: number;
  /** Branch → the number of its open pull. */
  open: Map<string, number>;
}

/** The index of complete data; null when a branch has two open pulls (readers then read everything). */
export function indexOf(data: PullsData): PullsIndex | null {
  const open = new Map<string, number>();
  for (const p of sortedPulls(data)) {
    if (p.state !== 'open') continue;
    if (open.has(p.head)) return null;
    open.set(p.head, p.number);
  }
  return { next: data.next, open };
}

/** `index` after `record` was written (created with number `index.next`, or changed). */
export function indexWith(index: PullsIndex, record: PullRecord, next: number): PullsIndex {
  const open = new Map(index.open);
  for (const [branch, number] of open) if (number === record.number) open.delete(branch);
  if (record.state === 'open') open.set(record.head, record.number);
  return { next: Math.max(index.next, next, record.number + 1), open };
}

/** The message `subject` with `index` sealed by the commit's root tree `tree`. */
export function sealedMessage(subject: string, index: PullsIndex | null, tree: string): string {
  if (index === null) return subject;
  const lines = [`Leviathan-Pulls-Next: ${index.next}`];
  for (const [branch, number] of [...index.open].sort((a, b) => a[1] - b[1]))
    lines.push(`Leviathan-Pulls-Open: ${number} ${branch}`);
  lines.push(`Leviathan-Tree: ${tree}`);
  return `${subject}\n\n${lines.join('\n')}`;
}

/** The index a commit's message carries, if it is sealed by that commit's tree; else null. */
export function parseIndex(message: string, tree: string | null): PullsIndex | null {
  if (tree === null) return null;
  const lines = message.split('\n');
  const seal = lines.filter((l) => l.startsWith('Leviathan-Tree: '));
  if (seal.length !== 1 || seal[0] !== `Leviathan-Tree: ${tree}`) return null;
  const nexts = lines.filter((l) => l.startsWith('Leviathan-Pulls-Next: '));
  const next = Number(nexts[0]?.slice('Leviathan-Pulls-Next: '.length));
  if (nexts.length !== 1 || !Number.isInteger(next) || next < 1) return null;
  const open = new Map<string, number>();
  for (const l of lines) {
    if (!l.startsWith('Leviathan-Pulls-Open: ')) continue;
    const m = /^Leviathan-Pulls-Open: ([1-9][0-9]*) (\S+)$/.exec(l);
    if (!m) return null;
    const number = Number(m[1]);
    if (number >= next || open.has(m[2] as string)) return null;
    open.set(m[2] as string, number);
  }
  return { next, open };
}

/**
 * The pulls a view holds, as much as a decision about `branch` needs: with a sealed index, only the branch's
 * open record (nothing when it has none) and the index; without one (or with a record that does not match
 * it), every record. Without `branch`, every record.
 */
export async function readPulls(
  view: RefView,
  branch?: string,
): Promise<{ data: PullsData; index: PullsIndex | null }> {
  const index = branch === undefined ? null : parseIndex(view.message, view.tree);
  if (index && branch !== undefined) {
    const number = index.open.get(branch);
    if (number === undefined) {
      // Names only (no record is read): a number the tree already holds means the index lies.
      const held = (await view.list('pulls')).map((e) => pullNumberOf(e.path) ?? 0);
      if (held.every((n) => n < index.next)) return { data: { next: index.next, pulls: new Map() }, index };
      return { data: parsePullFiles(await view.readAll()), index: null };
    }
    const files = await view.readMany([pullPath(number)]);
    const text = files.get(pullPath(number));
    const record =
      text == null ? undefined : parsePullFiles(new Map([[pullPath(number), text]])).pulls.get(number);
    if (record?.state === 'open' && record.head === branch)
      return { data: { next: index.next, pulls: new Map([[number, record]]) }, index };
  }
  return { data: parsePullFiles(await view.readAll()), index: null };
}

/**
 * The index after `changes` (pull records and `next`, as this forge writes them) on what `readPulls` gave:
 * the read index moved by the changed records, or the index of the complete data with them applied.
 */
export function indexAfter(
  read: { data: PullsData; index: PullsIndex | null },
  changes: FileChanges,
): PullsIndex | null {
  const records: PullRecord[] = [];
  let next = 1;
  for (const [path, content] of changes) {
    if (content === null) return null;
    const text = content.toString();
    if (path === NEXT_FILE) next = Math.max(next, Number(text.trim()));
    else records.push(...parsePullFiles(new Map([[path, text]])).pulls.values());
  }
  if (read.index) return records.reduce((index, r) => indexWith(index, r, next), read.index);
  const pulls = new Map(read.data.pulls);
  for (const r of records) pulls.set(r.number, r);
  const all = { next: Math.max(read.data.next, next, ...records.map((r) => r.number + 1)), pulls };
  return indexOf(all);
}
