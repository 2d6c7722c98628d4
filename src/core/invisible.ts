/**
 * Characters a reader does not see: one list for the threat scan (a finding), the task text given to an agent
 * (removed) and redaction (removed before matching, so `s\u034Fecret` is still the secret). Beyond the
 * zero-width and bidirectional controls: soft hyphen, combining grapheme joiner, Hangul and Mongolian fillers,
 * invisible operators, interlinear annotation marks and the Unicode tag block (U+E0000–U+E007F, "ASCII
 * smuggling": invisible copies of every ASCII character that models read and humans do not).
 */

/** Invisible characters that hide or reorder text; a finding in a changed file, removed from task text. */
export const HIDDEN_CHARS = new RegExp(
  [
    '[\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180b-\\u180f\\u200b-\\u200f\\u202a-\\u202e]',
    '[\\u2060-\\u206f\\u3164\\ufe00-\\ufe0e\\ufeff\\ufff9-\\ufffb\\uffa0]',
    '\\udb40[\\udc00-\\udc7f]',
  ].join('|'),
);

/** The same, global, plus the emoji presentation selector (only ever removed before matching a secret). */
export const INVISIBLE_ALL = new RegExp(`${HIDDEN_CHARS.source}|\\ufe0f`, 'g');

/** `text` without any invisible character: what a reader sees, for matching known secrets. */
export function withoutInvisible(text: string): string {
  return text.replace(INVISIBLE_ALL, '');
}
