/** Every workflow and action we ship passes actionlint and GitHub's own parser. */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadWorkflow, validateActionFile } from '../harness/runner/workflow.js';
import { actionlint } from '../helpers/actionlint.js';

const workflows = [
  'templates/leviathan.yml',
  ...readdirSync('.github/workflows').map((f) => join('.github/workflows', f)),
];
const actions = readdirSync('actions').map((d) => join('actions', d, 'action.yml'));

describe('shipped workflows and actions', () => {
  // Every workflow in one actionlint process: its start-up is most of what linting costs.
  let linting: Promise<Record<string, string[]>> | undefined;
  const lintAll = () => {
    linting ??= actionlint(Object.fromEntries(workflows.map((f) => [f, readFileSync(f, 'utf8')])));
    return linting;
  };

  it.each(workflows)('%s passes actionlint and @actions/workflow-parser', async (file) => {
    expect((await lintAll())[file]).toEqual([]);
    await loadWorkflow(file);
  });

  it.each(actions)('%s is a valid action', async (file) => {
    await validateActionFile(file);
  });

  it('pins every third-party action of the template to a full commit SHA with its version', () => {
    const uses = [...readFileSync('templates/leviathan.yml', 'utf8').matchAll(/uses: (\S+)(.*)/g)];
    const thirdParty = uses.filter(([, u]) => !u!.startsWith('leviathan-dev/leviathan/'));
    expect(thirdParty.length).toBeGreaterThanOrEqual(4);
    for (const [, ref, comment] of thirdParty) {
      expect(ref).toMatch(/@[0-9a-f]{40}$/);
      expect(comment).toMatch(/# v\d+\.\d+\.\d+/);
    }
  });
});
