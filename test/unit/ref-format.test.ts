import { execFileSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { branchNameError, refFormatError } from '../../src/core/ref-format.js';

/** git's own verdict on a full ref name. */
function gitAccepts(ref: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', ref], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const NAMES = [
  'leviathan/x',
  'leviathan/x.lock',
  'leviathan/x.lock.y',
  'leviathan/a..b',
  'leviathan/a.',
  'leviathan/.a',
  'leviathan/a.b',
  'leviathan/a-b_c.d',
  'leviathan//a',
  'leviathan/a/',
  '/leviathan/a',
  'leviathan/a@{1}',
  'leviathan/a@b',
  'leviathan/@',
  'leviathan/a b',
  'leviathan/a~1',
  'leviathan/a^',
  'leviathan/a:b',
  'leviathan/a?',
  'leviathan/a*',
  'leviathan/a[',
  'leviathan/a\\b',
  'leviathan/a\tb',
  'leviathan/a\x7fb',
  'leviathan-wip/x/01JABC',
  'leviathan-wip/x.lock/01JABC',
  'leviathan/1',
  'leviathan/-x',
];

describe('refFormatError', () => {
  it.each(NAMES)('agrees with git check-ref-format on refs/heads/%j', (name) => {
    const ref = `refs/heads/${name}`;
    expect(refFormatError(ref) === null).toBe(gitAccepts(ref));
  });

  it('names the rule a task id breaks', () => {
    expect(branchNameError('leviathan/x.lock')).toMatch(/\.lock/);
    expect(branchNameError('leviathan/a..b')).toMatch(/\.\./);
    expect(branchNameError('leviathan/a.')).toMatch(/ends with/);
    expect(branchNameError('-x')).toMatch(/begins with "-"/);
    expect(branchNameError('leviathan/docs-intro')).toBeNull();
  });
});
