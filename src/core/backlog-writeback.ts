import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Scalar } from 'yaml';

/**
 * Returns the backlog text with `status: done` set on one task, changing nothing else byte-for-byte
 * (comments, quoting, flow style). Edits the source at the node's range instead of re-serialising the
 * document, because a re-serialised file would show unrelated churn in the PR diff.
 */
export function markTaskDone(text: string, taskId: string): string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { keepSourceTokens: true, lineCounter });
  if (doc.errors.length > 0) throw new Error(`backlog is not valid YAML: ${doc.errors[0]?.message}`);
  const tasks = doc.get('tasks', true);
  if (!isSeq(tasks)) throw new Error('backlog has no tasks list');
  for (const item of tasks.items) {
    if (!isMap(item) || item.get('id') !== taskId) continue;
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
  throw new Error(`task ${taskId} is not in the backlog`);
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
