import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Scalar, type YAMLMap } from 'yaml';
import { parseFastYaml } from './yaml-fast.js';

/**
 * Returns the backlog text with `status: done` set on one task, changing nothing else byte-for-byte
 * (comments, quoting, flow style). Edits the source at the node's range instead of re-serialising the
 * document, because a re-serialised file would show unrelated churn in the PR diff.
 */
export function markTaskDone(text: string, taskId: string): string {
  return markInItem(text, taskId) ?? markInDocument(text, taskId);
}

/** The edit with the whole document parsed with positions (every backlog; exported for the tests). */
export function markInDocument(text: string, taskId: string): string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { keepSourceTokens: true, lineCounter });
  if (doc.errors.length > 0) throw new Error(`backlog is not valid YAML: ${doc.errors[0]?.message}`);
  const tasks = doc.get('tasks', true);
  if (!isSeq(tasks)) throw new Error('backlog has no tasks list');
  for (const item of tasks.items) {
    if (!isMap(item) || item.get('id') !== taskId) continue;
    return markItem(text, item, lineCounter, taskId);
  }
  throw new Error(`task ${taskId} is not in the backlog`);
}

/** The edit on one task's map; `text` is the source its ranges point into. */
function markItem(text: string, item: YAMLMap, lineCounter: LineCounter, taskId: string): string {
  const status = item.items.find((pair) => isScalar(pair.key) && pair.key.value === 'status');
  if (status && isScalar(status.value) && status.value.range) {
    const [start, end] = (status.value as Scalar).range!;
    return `${text.slice(0, start)}done${text.slice(end)}`;
  }
  if (item.flow) return addToFlowMap(text, item.range, taskId);
  const idPair = item.items.find((pair) => isScalar(pair.key) && pair.key.value === 'id');
  const key = idPair?.key;
  if (!isScalar(key) || !key.range) throw new Error(`task ${taskId} has no id key`);
  // Insert a sibling line right after the id line, at the id key's column.
  const { col } = lineCounter.linePos(key.range[0]);
  const lineEnd = text.indexOf('\n', key.range[0]);
  const insertAt = lineEnd === -1 ? text.length : lineEnd;
  return `${text.slice(0, insertAt)}\n${' '.repeat(col - 1)}status: done${text.slice(insertAt)}`;
}

/**
 * The same edit with only the task's own lines parsed with positions, for a backlog in the plain subset
 * `parseFastYaml` reads (a positioned parse of a whole 200-task backlog costs an attempt tens of
 * milliseconds). Null, and the whole document is parsed, unless the task's lines read alone give exactly
 * the value the whole document gives it (exported for the tests).
 */
export function markInItem(text: string, taskId: string): string | null {
  const fast = parseFastYaml(text);
  const root = fast?.value as { tasks?: unknown } | null | undefined;
  const tasks = root && typeof root === 'object' ? root.tasks : undefined;
  if (!Array.isArray(tasks)) return null;
  const index = tasks.findIndex(
    (t) => t !== null && typeof t === 'object' && (t as { id?: unknown }).id === taskId,
  );
  if (index < 0) return null;
  const items = itemLines(text);
  if (items === null || items.starts.length !== tasks.length) return null;
  const start = items.starts[index] as number;
  const end = index + 1 < items.starts.length ? (items.starts[index + 1] as number) : items.end;
  const slice = text.slice(start, end);
  const lineCounter = new LineCounter();
  const doc = parseDocument(slice, { keepSourceTokens: true, lineCounter });
  if (doc.errors.length > 0 || !isSeq(doc.contents) || doc.contents.items.length !== 1) return null;
  const item = doc.contents.items[0];
  if (!isMap(item) || JSON.stringify(item.toJSON()) !== JSON.stringify(tasks[index])) return null;
  return `${text.slice(0, start)}${markItem(slice, item, lineCounter, taskId)}${text.slice(end)}`;
}

/**
 * Where each item of the top-level `tasks` block sequence starts (a `-` at the sequence's indentation) and
 * where the sequence ends (the next line with content at that indentation or less that is not an item), or
 * null when there is no such sequence.
 */
function itemLines(text: string): { starts: number[]; end: number } | null {
  const starts: number[] = [];
  let seqIndent = -1;
  let inTasks = false;
  for (let at = 0; at < text.length; ) {
    const nl = text.indexOf('\n', at);
    const next = nl < 0 ? text.length : nl + 1;
    let indent = 0;
    while (text.charCodeAt(at + indent) === 32) indent++;
    const c = text.charCodeAt(at + indent);
    const blank = at + indent >= (nl < 0 ? text.length : nl) || c === 35; /* # */
    if (!blank) {
      if (!inTasks) {
        if (indent === 0 && /^tasks:(?:[ ]+#.*)?[ ]*$/.test(text.slice(at, nl < 0 ? text.length : nl))) {
          inTasks = true;
        }
      } else {
        const item = c === 45 /* - */ && (text[at + indent + 1] === ' ' || at + indent + 1 >= next - 1);
        if (seqIndent < 0) {
          if (!item) return null;
          seqIndent = indent;
        }
        if (indent < seqIndent || (indent === seqIndent && !item)) return { starts, end: at };
        if (indent === seqIndent) starts.push(at);
      }
    }
    at = next;
  }
  return inTasks && seqIndent >= 0 ? { starts, end: text.length } : null;
}

/** `{ id: a, title: A }` → `{ id: a, title: A, status: done }`: the pair goes in before the closing brace. */
function addToFlowMap(text: string, range: readonly number[] | null | undefined, taskId: string): string {
  const [start = -1, end = -1] = range ?? [];
  const close = start >= 0 ? text.lastIndexOf('}', end - 1) : -1;
  if (close < start || start < 0) throw new Error(`task ${taskId} has no closing brace`);
  const body = text.slice(start + 1, close);
  const trimmed = body.trimEnd();
  const at = start + 1 + trimmed.length;
  const separator = trimmed.endsWith(',') || trimmed.trim() === '' ? ' ' : ', ';
  return `${text.slice(0, at)}${separator}status: done${text.slice(at)}`;
}
