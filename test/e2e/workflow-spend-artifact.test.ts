/**
 * The spend the agent job reports travels to finish beside the work-tree archive (`leviathan-result.json`),
 * and the agent job controls everything it uploads. So finish reads that file as the agent's data: a link
 * (to a valid report elsewhere), an oversized file and figures that are not sane counts are each ignored with
 * a warning, the attempt is still judged on its work (a PR), and its spend is unknown, never the forged one.
 */

import { mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { ofType } from '../helpers/loop.js';
import { type WorkflowBed, workflowBed } from '../helpers/workflow-bed.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  max_open_prs: 5
  max_dispatches_per_hour: 10
`;

const VALID = '{"cost_usd": 0.5, "turns": 2}';
/** What the hostile agent job puts in place of the report it uploads, by task. */
const FORGED: Record<string, (file: string) => Promise<void>> = {
  link: async (file) => {
    await writeFile(`${file}.elsewhere`, VALID);
    await symlink(`${file}.elsewhere`, file);
  },
  huge: (file) => writeFile(file, `{"cost_usd": 0.5, "pad": "${'x'.repeat(128 * 1024)}"}`),
  insane: (file) => writeFile(file, '{"cost_usd": -1e308, "input_tokens": "lots", "turns": 1e300}'),
};

let bed: WorkflowBed;
beforeAll(async () => {
  const tasks = [...Object.keys(FORGED), 'honest'].map((id) => ({
    id,
    title: `Page ${id}`,
    ready: true,
    allowed_paths: [`docs/${id}.md`],
    // An honest report in the sandbox; the job's upload is what gets forged.
    run: [`echo '# ${id}' > docs/${id}.md`, `echo '${VALID}' > "$LEVIATHAN_RESULT_FILE"`],
  }));
  bed = await workflowBed(
    'wf-spend-artifact',
    { config: CONFIG, backlog: stringify({ version: 1, tasks }) },
    {
      runner: {
        beforeStep: async (job, step, run) => {
          const forge = FORGED[String(run.inputs.task ?? '')];
          if (job !== 'finish' || !step.uses?.startsWith('actions/download-artifact') || !forge) return;
          const dir = (await readdir(run.artifacts)).find((d) => d.startsWith('leviathan-worktree-'));
          const target = join(run.artifacts, dir ?? 'leviathan-worktree-x');
          await mkdir(target, { recursive: true });
          const file = join(target, 'leviathan-result.json');
          await rm(file, { force: true });
          await forge(file);
          return undefined;
        },
      },
    },
  );
});
afterAll(() => bed?.stop());

describe("finish reads the agent job's spend report as data", () => {
  it.each(Object.keys(FORGED))('a forged report (%s) is ignored: PR opened, spend unknown', async (task) => {
    const run = await bed.dispatch({ task });
    expect(run.jobs.finish?.result).toBe('success');
    const [succeeded] = ofType(await bed.events(), 'attempt.succeeded', task);
    expect(succeeded).toBeDefined();
    expect((succeeded as { data: { usage?: unknown } }).data.usage).toBeUndefined();
    expect(run.jobs.finish!.log).toMatch(/::warning::.*result file/);
  });

  it('the honest report of the same job shape reaches the event', async () => {
    const run = await bed.dispatch({ task: 'honest' });
    expect(run.jobs.finish?.result).toBe('success');
    const [succeeded] = ofType(await bed.events(), 'attempt.succeeded', 'honest');
    expect((succeeded as { data: { usage?: unknown } }).data.usage).toEqual({
      cost_usd_micros: 500_000,
      turns: 2,
    });
  });
});
