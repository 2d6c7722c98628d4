/**
 * git's rules for reference names (`git help check-ref-format`), as a pure check, so a task id that would make
 * an invalid branch (`x.lock`, `a..b`, `a.`) is refused by `validate` instead of aborting an attempt in git.
 */

/** Why `name` (a full ref such as `refs/heads/leviathan/x`) is not a valid reference name, or null. */
export function refFormatError(name: string): string | null {
  if (name === '' || name === '@') return 'is empty or "@"';
  if (name.startsWith('/') || name.endsWith('/')) return 'begins or ends with "/"';
  if (name.includes('//')) return 'has an empty component ("//")';
  if (name.endsWith('.')) return 'ends with "."';
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  for (const ch of name) {
    const code = ch.codePointAt(0) as number;
    if (code < 0x20 || code === 0x7f) return 'contains a control character';
    if (' ~^:?*[\\'.includes(ch)) return `contains ${JSON.stringify(ch)}`;
  }
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return `has a component beginning with "." (${component})`;
    if (component.endsWith('.lock')) return `has a component ending in ".lock" (${component})`;
  }
  if (!name.includes('/')) return 'has no "/"';
  return null;
}

/** Why `branch` (a short name such as `leviathan/x`) cannot be a branch, as `git check-ref-format --branch`. */
export function branchNameError(branch: string): string | null {
  if (branch.startsWith('-')) return 'begins with "-"';
  return refFormatError(`refs/heads/${branch}`);
}
