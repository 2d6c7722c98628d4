/**
 * Runs a maintainer starts, and runs that go wrong, through the workflow file as `leviathan init` writes it:
 * `dry-run: true` writes nothing and summarises every task's reason; two scheduled ticks started together
 * make exactly one claim (the `leviathan-scheduler` group queues the second); a failing agent job still ends
 * in `attempt.failed` with a WIP branch; `workflow_dispatch` with `task` claims under the same limits;
 * `reset-breaker: true` appends `breaker.reset`; a broken backlog on the default branch fails the tick job
 * with a file-and-line annotation and dispatches nothing. One bed, in that order.
 */

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { git } from '../harness/repo.js';
import { annotationsIn } from '../harness/runner/files.js';
import { ofType, originRefs } from '../helpers/loop.js';
import { type WorkflowBed, workflowBed } from '../helpers/workflow-bed.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  max_open_prs: 2
  max_running_attempts: 1
  max_dispatches_per_hour: 20
  circuit_breaker_failures: 3
`;
const task = (id: string, run: string) =>
  `  - id: ${id}\n    title: Task ${id}\n    ready: true\n    allowed_paths: ["docs/**"]\n    run: [${JSON.stringify(run)}]\n`;
const BACKLOG = `version: 1
tasks:
${task('sched', 'echo sched > docs/sched.md')}${task('fails', 'echo partial > docs/partial.md && exit 3')}${task('stops', 'echo stops > docs/stops.md')}${task('manual', 'echo manual > docs/manual.md')}${task('second', 'echo second > docs/second.md')}`;

const results = (run: Awaited<ReturnType<WorkflowBed['tick']>>) =>
  Object.fromEntries(Object.values(run.jobs).map((j) => [j.id, j.result]));

let bed: WorkflowBed;
beforeAll(async () => {
  bed = await workflowBed('wf-manual', { config: CONFIG, backlog: BACKLOG });
});
afterAll(() => bed?.stop());

describe('manual and concurrent runs', () => {
  it('dry-run: true writes nothing, dispatches nothing and summarises every task', async () => {
    const before = await originRefs(bed.target);
    const run = await bed.dispatch({ 'dry-run': true });
    expect(results(run)).toEqual({ tick: 'success', start: 'skipped', agent: 'skipped', finish: 'skipped' });
    expect(run.jobs.tick!.steps.find((s) => s.id === 'tick')?.outputs.decision).toBe('dry_run');
    expect(await originRefs(bed.target)).toEqual(before);
    expect(bed.emu.runs).toHaveLength(0);
    for (const id of ['sched', 'fails', 'stops', 'manual', 'second'])
      expect(run.jobs.tick!.summary).toContain(id);
    expect(run.jobs.tick!.summary).toContain('dry run');
  }, 30_000);

  it('two scheduled ticks started together make exactly one claim; the second waits in the group', async () => {
    bed.pause(); // leave the dispatched worker queued, so the attempt is still running for the second tick
    const history = bed.runner.groups.history;
    const from = history.length;
    const [a, b] = await Promise.all([bed.tick(), bed.tick()]);
    expect([a!.jobs.tick?.result, b!.jobs.tick?.result]).toEqual(['success', 'success']);
    expect(history.slice(from).filter((h) => h.endsWith(' leviathan-scheduler'))).toEqual([
      'run leviathan-scheduler',
      'queue leviathan-scheduler',
      'release leviathan-scheduler',
      'run leviathan-scheduler',
      'release leviathan-scheduler',
    ]);
    const decisions = [a, b].map((r) => r!.jobs.tick!.steps.find((s) => s.id === 'tick')?.outputs.decision);
    expect(decisions.sort()).toEqual(['dispatched', 'idle']);
    expect(ofType(await bed.events(), 'attempt.created')).toHaveLength(1);
    expect(bed.emu.runs).toHaveLength(1);
    const work = await bed.work(bed.emu.runs[0]!);
    expect(results(work)).toMatchObject({ start: 'success', agent: 'success', finish: 'success' });
  }, 60_000);

  it('a failing agent job still ends in attempt.failed with its work on a WIP branch', async () => {
    const run = await bed.dispatch({ task: 'fails' });
    expect(results(run)).toMatchObject({ start: 'success', agent: 'failure', finish: 'failure' });
    const failed = ofType(await bed.events(), 'attempt.failed', 'fails');
    expect(failed).toHaveLength(1);
    const data = failed[0]!.data as { reason: string; detail: string; wip_branch?: string };
    // finish knows only the agent job's result (it runs none of its code): the job failed.
    expect(data).toMatchObject({
      reason: 'executor_error',
      detail: expect.stringContaining('the agent job failed'),
    });
    expect(data.wip_branch).toMatch(/^leviathan-wip\/fails\//);
    expect((await originRefs(bed.target)).has(`refs/heads/${data.wip_branch}`)).toBe(true);
    expect(run.jobs.finish!.summary).toContain(`Work kept on \`${data.wip_branch}\``);
    // The WIP branch holds what the agent left in its artifact.
    expect(await git(bed.target.bare, ['show', `${data.wip_branch}:docs/partial.md`])).toBe('partial');
    // The reason is the job's last line of its own (the runner's `##[error]Process completed…` follows it).
    const own = run.jobs.finish!.log.split('\n').filter((l) => l && !l.startsWith('##['));
    expect(own.at(-1)).toMatch(
      /^::error::leviathan: attempt failed \(executor_error\): the agent job failed.*leviathan-wip\/fails\//,
    );
  }, 60_000);

  it('a cancelled agent job still ends in attempt.failed, finish running as if: always() says', async () => {
    // A user presses Cancel as the agent step starts.
    bed.runner.options.beforeStep = (job, step) =>
      job === 'agent' && step.id === 'agent' ? 'cancel' : undefined;
    const run = await bed.dispatch({ task: 'stops' });
    delete bed.runner.options.beforeStep;
    expect(results(run)).toMatchObject({ start: 'success', agent: 'cancelled', finish: 'failure' });
    const failed = ofType(await bed.events(), 'attempt.failed', 'stops');
    expect(failed.map((e) => e.data)).toEqual([
      expect.objectContaining({ reason: 'executor_error', detail: expect.stringContaining('was cancelled') }),
    ]);
  }, 60_000);

  it('workflow_dispatch with a task claims it under the same limits', async () => {
    const run = await bed.dispatch({ task: 'manual' });
    expect(results(run)).toMatchObject({ start: 'success', agent: 'success', finish: 'success' });
    expect(ofType(await bed.events(), 'attempt.created', 'manual')).toHaveLength(1);
    // Two open PRs now (max_open_prs: 2): a manual run for another task is refused, nothing claimed.
    const refused = await bed.dispatch({ task: 'second' });
    expect(results(refused)).toMatchObject({ start: 'failure', agent: 'skipped', finish: 'skipped' });
    expect(refused.jobs.start!.log).toContain(
      '::error::leviathan: task second cannot be claimed now: limit_open_prs',
    );
    expect(ofType(await bed.events(), 'attempt.created', 'second')).toEqual([]);
    expect(bed.emu.violations).toEqual([]);
  }, 60_000);

  it('reset-breaker: true appends breaker.reset', async () => {
    const run = await bed.dispatch({ 'reset-breaker': true });
    expect(run.jobs.tick?.result).toBe('success');
    const resets = ofType(await bed.events(), 'breaker.reset');
    expect(resets.map((e) => e.data)).toEqual([{ reason: 'workflow_dispatch reset-breaker', by: 'manual' }]);
  }, 30_000);

  it('a broken backlog on the default branch fails the tick with file-and-line annotations, dispatching nothing', async () => {
    await bed.emu.human.push('main', {
      '.leviathan/backlog.yaml': 'version: 1\ntasks:\n  - id: broken\n    title: Broken\n    ready: maybe\n',
    });
    const runs = bed.emu.runs.length;
    const run = await bed.tick();
    expect(run.jobs.tick?.result).toBe('failure');
    const errors = annotationsIn(run.jobs.tick!.log).filter((a) => a.level === 'error');
    expect(errors.length).toBeGreaterThan(0);
    expect(
      errors.some((e) => e.properties.file === '.leviathan/backlog.yaml' && Number(e.properties.line) > 0),
    ).toBe(true);
    expect(bed.emu.runs).toHaveLength(runs);
    expect(bed.emu.violations).toEqual([]);
  }, 30_000);
});
