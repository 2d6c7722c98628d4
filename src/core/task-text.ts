import type { Task } from './backlog.js';
import { HIDDEN_CHARS } from './invisible.js';

/**
 * Task text as it may reach an agent or a reviewer (issue 11): hidden instructions live in HTML comments
 * (invisible once Markdown is rendered, an unclosed `<!--` included) and in zero-width or bidirectional
 * control characters (they hide or reorder what a human reads). Both are removed, and what was removed is
 * counted so the PR body can say so.
 */

export type RemovedKind = 'html_comment' | 'bidi_control' | 'zero_width';

export interface Removal {
  /** `title`, `description` or `acceptance_criteria[N]`. */
  field: string;
  kind: RemovedKind;
  count: number;
}

export interface SanitizedTask {
  task: Task;
  removed: Removal[];
}

/** Bidirectional marks, embeddings, overrides and isolates, and the Arabic letter mark. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Zero-width and other invisible format characters: zero-width space/joiners, word joiner and invisible
 * operators, deprecated format characters, the byte-order mark, soft hyphen, Mongolian vowel separator and
 * the Hangul fillers, the combining grapheme joiner and the tag block (core/invisible.ts; bidi counted apart).
 */
const ZERO_WIDTH = new RegExp(HIDDEN_CHARS.source, 'g');

/** A comment, or an unclosed one to the end of the text. */
const COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
/** Leftover halves, which nesting tricks (`<!<!-- x -->-- y -->`) leave behind. */
const HALF = /<!--|-->/g;

function count(text: string, re: RegExp): number {
  return text.match(re)?.length ?? 0;
}

/** One piece of text, clean, with what was removed from it. */
export function sanitizeText(text: string): {
  text: string;
  removed: Array<{ kind: RemovedKind; count: number }>;
} {
  const bidi = count(text, BIDI);
  const zeroWidth = count(text.replace(BIDI, ''), ZERO_WIDTH);
  let out = text.replace(BIDI, '').replace(ZERO_WIDTH, '');
  let comments = 0;
  // Whole comments until none is left (removing one can close up another), then any stray half.
  for (let whole = count(out, COMMENT); whole > 0; whole = count(out, COMMENT)) {
    comments += whole;
    out = out.replace(COMMENT, '');
  }
  comments += count(out, HALF);
  out = out.replace(HALF, '');
  const removed: Array<{ kind: RemovedKind; count: number }> = [];
  if (comments > 0) removed.push({ kind: 'html_comment', count: comments });
  if (bidi > 0) removed.push({ kind: 'bidi_control', count: bidi });
  if (zeroWidth > 0) removed.push({ kind: 'zero_width', count: zeroWidth });
  return { text: out, removed };
}

/** The task with clean title, description and acceptance criteria, and a list of what was removed. */
export function sanitizeTask(task: Task): SanitizedTask {
  const removed: Removal[] = [];
  const clean = (field: string, text: string): string => {
    const result = sanitizeText(text);
    for (const r of result.removed) removed.push({ field, ...r });
    return result.text;
  };
  const title = clean('title', task.title);
  const description = clean('description', task.description);
  const acceptance = task.acceptance_criteria.map((c, i) => clean(`acceptance_criteria[${i}]`, c));
  return {
    task: { ...task, title: title.trim() || task.id, description, acceptance_criteria: acceptance },
    removed,
  };
}

/** One line for a reader: "2 HTML comments and 1 bidirectional control character from description". */
export function describeRemovals(removed: readonly Removal[]): string[] {
  const names: Record<RemovedKind, [string, string]> = {
    html_comment: ['HTML comment', 'HTML comments'],
    bidi_control: ['bidirectional control character', 'bidirectional control characters'],
    zero_width: ['zero-width or invisible character', 'zero-width or invisible characters'],
  };
  const byField = new Map<string, Removal[]>();
  for (const r of removed) byField.set(r.field, [...(byField.get(r.field) ?? []), r]);
  return [...byField].map(([field, rs]) => {
    const parts = rs.map((r) => `${r.count} ${names[r.kind][r.count === 1 ? 0 : 1]}`);
    return `${parts.join(' and ')} from the ${field.replace(/_/g, ' ')}`;
  });
}
