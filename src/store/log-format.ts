/** The layout of `leviathan-events`: its paths and day-file names, the append commit message, state.json text. */
import type { State } from '../core/state-types.js';

export const EVENTS_BRANCH = 'leviathan-events';
export const STATE_FILE = 'state.json';
export const EVENTS_DIR = 'events';
/**
 * A copy of the newest day file at the root: the same blob as `events/<day>.ndjson`, so it costs no storage.
 * Never read (readers take the day file by its path); it is there so a fresh fetch that brings only the
 * root's blobs (`RefStoreOptions.rootBlobs`) brings the newest day file's blob too, in the same session.
 */
export const NEWEST_COPY = 'newest.ndjson';
export const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.ndjson$/;
const APPEND_MESSAGE =
  /^events (\d+)\.\.(\d+) ([0-9a-f]{64})\n\nLeviathan-Tree: ([0-9a-f]{40,64})(?:\nLeviathan-[A-Za-z]+: [^\n]*)*$/;

export function appendMessage(first: number, last: number, hash: string, tree: string): string {
  return `events ${first}..${last} ${hash}\n\nLeviathan-Tree: ${tree}`;
}

export function parseAppendMessage(
  message: string,
): { first: number; last: number; hash: string; tree: string } | null {
  const m = APPEND_MESSAGE.exec(message.replace(/\n+$/, ''));
  if (!m) return null;
  return { first: Number(m[1]), last: Number(m[2]), hash: m[3] as string, tree: m[4] as string };
}

/** state.json text: compact (it is rewritten by every append), one trailing newline. */
export function serializeState(state: State): string {
  return `${JSON.stringify(state)}\n`;
}
