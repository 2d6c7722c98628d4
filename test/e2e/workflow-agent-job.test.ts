/**
 * The agent job's two ways out besides success. What its agent reported it spent reaches `finish` as a job
 * output, parsed there as data again, and rides on the terminal event. And a timed-out agent job, through the workflow `leviathan init` writes: the agent job's `timeout-minutes`
 * (the attempt's time left plus a margin, from `start`) runs out while the agent still works. The runner stops
 * the step as GitHub's does (SIGINT, SIGTERM, SIGKILL), the agent step packs the work tree as it is, the upload
 * runs (`if: always()`), and `finish` records `attempt.failed` with that work on a WIP branch. Only the agent
 * job's minutes are shrunk, so every other job keeps its time.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { git } from '../harness/repo.js';
import { ofType, originRefs } from '../helpers/loop.js';
import { type WorkflowBed, workflowBed } from '../helpers/workflow-bed.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  attempt_timeout_minutes: 10
  max_open_prs: 3
`;
const BACKLOG = `version: 1
tasks:
  - id: slow
    title: An agent that never finishes
    ready: true
    allowed_paths: ["docs/**"]
    run: ["echo partial > docs/slow.md && sleep 600"]
  - id: paid
    title: An agent that reports its spend
    ready: true
    allowed_paths: ["docs/**"]
    run: ["echo paid > docs/paid.md && echo '{\\"cost_usd\\": 1.25, \\"turns\\": 3}' > \\"$LEVIATHAN_RESULT_FILE\\""]
`;

let bed: WorkflowBed;
beforeAll(async () => {
  // 10 minutes left + the margin: about 15 "minutes" of 1 s each for the agent job alone (its set-up
  // takes a few of them on a loaded machine, before the agent writes its partial work).
  bed = await workflowBed(
    'wf-timeout',
    { config: CONFIG, backlog: BACKLOG },
    { runner: { jobMinuteMs: { agent: 1000 }, cancelGraceMs: 3000 } },
  );
}, 60_000);
afterAll(() => bed?.stop());

describe('the agent job', () => {
  it("hands its agent's reported spend to finish, which records it on attempt.succeeded", async () => {
    const run = await bed.dispatch({ task: 'paid' });
    expect({ agent: run.jobs.agent!.result, finish: run.jobs.finish!.result }).toEqual({
      agent: 'success',
      finish: 'success',
    });
    const [done] = ofType(await bed.events(), 'attempt.succeeded', 'paid');
    expect((done!.data as { usage?: unknown }).usage).toEqual({ cost_usd_micros: 1_250_000, turns: 3 });
  }, 120_000);

  it('that times out ends in attempt.failed with what the agent wrote kept on a WIP branch', async () => {
    const run = await bed.dispatch({ task: 'slow' });
    expect({ start: run.jobs.start!.result, agent: run.jobs.agent!.result }).toEqual({
      start: 'success',
      agent: 'cancelled',
    });
    expect(run.jobs.agent!.log).toContain('The job has exceeded the maximum execution time');
    expect(run.jobs.agent!.log).toMatch(/the agent step was stopped \(SIGINT\)/);
    expect(run.jobs.finish!.result).toBe('failure');
    const failed = ofType(await bed.events(), 'attempt.failed', 'slow');
    expect(failed).toHaveLength(1);
    const data = failed[0]!.data as { reason: string; detail: string; wip_branch?: string };
    expect(data.detail).toContain('the agent job was cancelled');
    expect(data.wip_branch).toMatch(/^leviathan-wip\/slow\//);
    expect((await originRefs(bed.target)).has(`refs/heads/${data.wip_branch}`)).toBe(true);
    expect(await git(bed.target.bare, ['show', `${data.wip_branch}:docs/slow.md`])).toBe('partial');
  }, 120_000);
});
