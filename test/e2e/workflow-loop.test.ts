/**
 * The main loop on GitHub, through the workflow file as `leviathan init` writes it: a `schedule` event runs
 * the tick job, the emulator records one dispatch with schema-valid inputs, its dispatch hook runs the worker
 * jobs (start → agent → finish) through the runner, a draft PR exists with its branch pushed with the App
 * token, a human merges it, and the next scheduled tick records the merge and dispatches the dependent task.
 * Parameterised over `LEVIATHAN_RUNS_ON` (issue 12: the ARC scale set's name): the same loop, `runs-on:
 * leviathan`.
 */

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parsePullMarker } from '../../src/core/pr-body.js';
import { annotationsIn } from '../harness/runner/files.js';
import { ofType, originRefs } from '../helpers/loop.js';
import { type WorkflowBed, workflowBed } from '../helpers/workflow-bed.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
pr:
  labels: [leviathan]
`;
const BACKLOG = `version: 1
tasks:
  - id: guide
    title: Write the guide
    ready: true
    allowed_paths: [docs/guide.md]
    acceptance_criteria: [The guide has a title]
    run: ["echo '# Guide' > docs/guide.md"]
  - id: faq
    title: Write the FAQ
    ready: true
    dependencies: [guide]
    allowed_paths: [docs/faq.md]
    run: ["echo '# FAQ' > docs/faq.md"]
`;

describe.each([
  { label: 'hosted', vars: {} as Record<string, string>, runsOn: 'ubuntu-latest' },
  { label: 'ARC scale set', vars: { LEVIATHAN_RUNS_ON: 'leviathan' }, runsOn: 'leviathan' },
])('the scheduled loop ($label)', ({ label, vars, runsOn }) => {
  let bed: WorkflowBed;
  beforeAll(async () => {
    bed = await workflowBed(
      `wf-loop-${label.replace(/\W+/g, '-')}`,
      { config: CONFIG, backlog: BACKLOG },
      { vars },
    );
  });
  afterAll(() => bed?.stop());

  it('tick → dispatch → start/agent/finish → draft PR → human merge → tick dispatches the dependent task', async () => {
    const tick = await bed.tick();
    const tickJob = tick.jobs.tick!;
    expect(tickJob.result).toBe('success');
    expect(['start', 'agent', 'finish'].map((j) => tick.jobs[j]?.result)).toEqual([
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect(tickJob.runsOn).toBe(runsOn);
    expect(tickJob.outputs).toEqual({});
    expect(tickJob.steps.find((s) => s.id === 'tick')?.outputs).toMatchObject({
      decision: 'dispatched',
      task: 'guide',
    });
    expect(annotationsIn(tickJob.log)).toEqual([
      expect.objectContaining({
        level: 'notice',
        message: expect.stringContaining('dispatched a worker for guide'),
      }),
    ]);
    expect(tickJob.summary).toContain('guide');

    // One dispatch, as the tick job's token, with the inputs the workflow declares (schema-checked).
    expect(bed.emu.runs).toHaveLength(1);
    const dispatch = bed.emu.requests.filter((r) => r.operation === 'actions/create-workflow-dispatch');
    expect(dispatch.map((r) => [r.as, r.status])).toEqual([['job:tick', 200]]);
    const attempt = tickJob.steps.find((s) => s.id === 'tick')!.outputs.attempt!;
    expect(bed.emu.runs[0]!.inputs).toEqual({ task: 'guide', attempt });

    const [work] = await bed.settled();
    expect(bed.emu.runs[0]).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(Object.fromEntries(Object.values(work!.jobs).map((j) => [j.id, j.result]))).toEqual({
      tick: 'skipped',
      start: 'success',
      agent: 'success',
      finish: 'success',
    });
    for (const j of ['start', 'agent', 'finish']) expect(work!.jobs[j]!.runsOn).toBe(runsOn);
    // What a human reads: one group per phase, the decision, a notice; the summaries with the graph and PR.
    expect(tickJob.log).toMatch(
      /::group::reading the event log[\s\S]*::group::dispatching a worker for guide/,
    );
    expect(tickJob.log).toContain('decision: dispatched a worker: guide');
    expect(tickJob.summary).toContain('```mermaid');
    expect(work!.jobs.finish!.summary).toContain('guide attempt 1/2 succeeded');

    const pulls = [...bed.emu.issues.values()].filter((i) => i.pull);
    expect(pulls).toHaveLength(1);
    const pr = pulls[0]!;
    expect(pr).toMatchObject({ state: 'open', labels: ['leviathan'], user: 'leviathan-app[bot]' });
    expect(pr.pull).toMatchObject({ head: 'leviathan/guide', base: 'main', draft: true });
    expect(parsePullMarker(pr.body ?? '')).toMatchObject({ task: 'guide', attempt });
    expect(pr.body).toContain('- [ ] The guide has a title');
    expect(work!.jobs.finish!.summary).toContain(`Pull request: [#${pr.number}](`);
    // The PR and its branch came from the App token (so the repository's CI runs on it), never the job's.
    expect(bed.emu.requests.filter((r) => r.operation === 'pulls/create').map((r) => r.as)).toEqual(['app']);
    const refs = await originRefs(bed.target);
    expect(refs.has('refs/heads/leviathan/guide')).toBe(true);
    const pushers = new Set(
      bed.server.requests
        .filter((r) => r.service === 'git-receive-pack' && r.method === 'POST')
        .map((r) => r.as),
    );
    expect(pushers).toContain('app');
    expect(pushers).not.toContain('job:agent');

    // A human merges; the next scheduled tick records it and dispatches the dependent task.
    await bed.emu.human.merge(pr.number);
    bed.emu.offAll(); // the second worker run is not this test's subject: leave it queued
    const next = await bed.tick();
    expect(next.jobs.tick?.result).toBe('success');
    const events = await bed.events();
    expect(ofType(events, 'pr.merged', 'guide')).toHaveLength(1);
    expect(ofType(events, 'task.completed', 'guide')).toHaveLength(1);
    expect(ofType(events, 'attempt.created', 'faq')).toHaveLength(1);
    expect(bed.emu.runs).toHaveLength(2);
    expect(bed.emu.runs[1]!.inputs).toMatchObject({ task: 'faq' });
    expect(bed.emu.violations).toEqual([]);
  }, 60_000);
});
