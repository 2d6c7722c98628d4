import { describe, expect, it } from '@jest/globals';
import { assertOwnBranch, ForbiddenPushError } from '../../src/worker/branch.js';

const PREFIX = 'leviathan/';
const BASE = 'main';

describe('assertOwnBranch: Leviathan pushes only its own branches (SPEC §1.2)', () => {
  it.each([
    'leviathan/x',
    'leviathan/docs-guide',
    'leviathan-wip/x/y',
    'leviathan-wip/docs-guide/01KB0000000000000000000000',
    'leviathan-events',
  ])('accepts %s', (branch) => {
    expect(() => assertOwnBranch(branch, PREFIX, BASE)).not.toThrow();
  });

  it.each([
    ['main', 'the base branch'],
    ['master', 'another branch'],
    ['refs/heads/x', 'a full ref name'],
    ['refs/heads/leviathan/x', 'a full ref name under the prefix'],
    ['leviathan/../main', 'a name climbing out with ..'],
    ['leviathan/x..y', 'a name with ..'],
    ['leviathan-wip/../main', 'a WIP name with ..'],
    ['leviathan/', 'the bare prefix'],
    ['leviathan-wip/', 'the bare WIP prefix'],
    ['-leviathan/x', 'an option'],
    ['leviathan/x:refs/heads/main', 'a refspec smuggling a destination'],
    ['leviathan/x y', 'a name with a space'],
    ['', 'nothing'],
  ])('refuses %s (%s)', (branch) => {
    expect(() => assertOwnBranch(branch, PREFIX, BASE)).toThrow(ForbiddenPushError);
  });

  it('refuses the configured base even when it looks like one of its own', () => {
    expect(() => assertOwnBranch('leviathan/base', PREFIX, 'leviathan/base')).toThrow(
      'refusing to push to leviathan/base',
    );
    expect(() => assertOwnBranch('develop', PREFIX, 'develop')).toThrow(ForbiddenPushError);
  });

  it('follows a custom branch prefix', () => {
    expect(() => assertOwnBranch('bots/lev/x', 'bots/lev/', BASE)).not.toThrow();
    expect(() => assertOwnBranch('leviathan/x', 'bots/lev/', BASE)).toThrow(ForbiddenPushError);
  });
});
