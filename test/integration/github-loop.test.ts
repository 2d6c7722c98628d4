/**
 * The autonomy loop on the GitHub forge, over HTTP and git only: cron tick → workflow dispatch (a run in the
 * emulator) → the worker in that run → a draft PR → a human merges in the emulator → `pr.merged` +
 * `task.completed` → the dependent task is dispatched. Then GitHub Enterprise Server (API under `/api/v3`,
 * no `return_run_details`), a run that ended without a terminal event, and a dispatch whose answer was lost.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { parsePullMarker } from '../../src/core/pr-body.js';
import { tick } from '../../src/scheduler/tick.js';
import type { EmulatorOptions } from '../harness/github/emulator.js';
import { type GitHubBed, githubBed, githubTickOptions, runWorkersOnDispatch } from '../helpers/github.js';
import { eventsOf, ofType } from '../helpers/loop.js';

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
    run: ["echo '# Guide' > docs/guide.md"]
  - id: faq
    title: Write the FAQ
    ready: true
    dependencies: [guide]
    allowed_paths: [docs/faq.md]
    run: ["echo '# FAQ' > docs/faq.md"]
`;

function loop(label: string, emulator: Partial<EmulatorOptions> = {}) {
  describe(label, () => {
    let bed: GitHubBed;
    let results: ReturnType<typeof runWorkersOnDispatch>;
    beforeAll(async () => {
      bed = await githubBed(
        `loop-${label.replace(/\W+/g, '-')}`,
        { config: CONFIG, backlog: BACKLOG },
        { emulator },
      );
      results = runWorkersOnDispatch(bed);
    });
    afterAll(() => bed?.stop());
    afterEach(() => expect(bed.emu.violations).toEqual([]));

    it('dispatches, the run works and opens a draft PR, a human merge completes it and unblocks the next', async () => {
      const first = await tick(githubTickOptions(bed));
      expect(first).toMatchObject({ outcome: 'dispatched', task: 'guide' });
      await bed.emu.idle();
      expect(results).toEqual([{ run: bed.emu.runs[0]!.id, outcome: 'succeeded' }]);
      expect(bed.emu.runs[0]).toMatchObject({ status: 'completed', conclusion: 'success', ref: 'main' });
      expect(bed.emu.runs[0]!.inputs).toEqual({ task: 'guide', attempt: first.attempt });

      const pulls = [...bed.emu.issues.values()].filter((i) => i.pull);
      expect(pulls).toHaveLength(1);
      const pr = pulls[0]!;
      expect(pr).toMatchObject({ state: 'open', labels: ['leviathan'], user: 'leviathan-app[bot]' });
      expect(pr.pull).toMatchObject({ head: 'leviathan/guide', base: 'main', draft: true });
      expect(parsePullMarker(pr.body ?? '')).toMatchObject({ task: 'guide', attempt: first.attempt });
      expect(pr.body).toContain(bed.emu.runs[0]!.html_url);
      // The PR was opened with the PR token, so the repository's CI would run on it.
      expect(bed.emu.requests.filter((r) => r.operation === 'pulls/create').map((r) => r.as)).toEqual(['pr']);

      bed.clock.minutes(30);
      await bed.emu.human.merge(pr.number);
      bed.clock.minutes(1);
      const second = await tick(githubTickOptions(bed));
      expect(second).toMatchObject({ outcome: 'dispatched', task: 'faq' });
      await bed.emu.idle();
      expect(results.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded']);

      const events = await eventsOf(bed.target.dir);
      expect(ofType(events, 'pr.merged', 'guide')).toHaveLength(1);
      expect(ofType(events, 'task.completed', 'guide')).toHaveLength(1);
      expect(ofType(events, 'attempt.succeeded')).toHaveLength(2);
      const dispatched = ofType(events, 'attempt.dispatched').map((e) => e.data);
      if (emulator.returnRunDetails === false) {
        expect(dispatched).toEqual([{ forge: 'github' }, { forge: 'github' }]);
      } else {
        expect(dispatched).toEqual(
          bed.emu.runs.map((r) => ({ forge: 'github', run_id: String(r.id), run_url: r.html_url })),
        );
      }
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    });
  });
}

loop('github.com');
loop('GHES', { pathPrefix: '/api/v3', returnRunDetails: false });

const TWO_TASKS = `version: 1
tasks:
  - id: lost
    title: Dispatched with its answer lost
    ready: true
    allowed_paths: [docs/lost.md]
    run: ["echo lost > docs/lost.md"]
  - id: cancelled
    title: Its run is cancelled
    ready: true
    allowed_paths: [docs/cancelled.md]
    run: ["echo cancelled > docs/cancelled.md"]
`;

describe('worker runs that go wrong', () => {
  let bed: GitHubBed;
  beforeAll(async () => {
    bed = await githubBed('loop-runs', {
      config: `${CONFIG}limits:\n  max_open_prs: 3\n  max_dispatches_per_hour: 10\n`,
      backlog: TWO_TASKS,
    });
  });
  afterAll(() => bed?.stop());
  afterEach(() => expect(bed.emu.violations).toEqual([]));

  it('does not re-send a dispatch whose answer was lost, and a second run of one attempt is refused', async () => {
    const results = runWorkersOnDispatch(bed);
    bed.emu.fail('actions/create-workflow-dispatch', { kind: 'drop' });
    const runsBefore = bed.emu.runs.length;
    const claim = await tick(githubTickOptions(bed));
    expect(claim.outcome).toBe('dispatched');
    expect(bed.emu.calls('actions/create-workflow-dispatch')).toBe(1);
    expect(bed.emu.runs.length).toBe(runsBefore + 1);
    const dispatched = ofType(claim.appended, 'attempt.dispatched');
    expect(dispatched[0]?.data).toEqual({ forge: 'github', unconfirmed: true });
    await bed.emu.idle();
    // A second dispatch of the same attempt (a re-sent request, a human re-run): its worker is refused.
    await bed.forge().dispatchWorker({ task: claim.task!, attempt: claim.attempt!, ref: 'main' });
    await bed.emu.idle();
    expect(results.map((r) => r.outcome)).toEqual([
      'succeeded',
      expect.stringContaining(`refused: attempt ${claim.attempt} of lost is already succeeded`),
    ]);
    const events = await eventsOf(bed.target.dir);
    expect(ofType(events, 'attempt.started').filter((e) => e.attempt === claim.attempt)).toHaveLength(1);
    expect(ofType(events, 'attempt.succeeded').filter((e) => e.attempt === claim.attempt)).toHaveLength(1);
    bed.emu.offAll();
  });

  it('notices a run that ended without a terminal event after the grace, with one extra call', async () => {
    const claim = await tick(githubTickOptions(bed));
    expect(claim.outcome).toBe('dispatched');
    const run = bed.emu.runs.at(-1)!;
    bed.emu.completeRun(run.id, 'cancelled');
    bed.clock.minutes(1);
    bed.emu.resetCounts();
    const early = await tick(githubTickOptions(bed));
    expect(early.appended).toEqual([]);
    expect(bed.emu.calls('actions/get-workflow-run')).toBe(0);
    bed.clock.minutes(2);
    bed.emu.resetCounts();
    const noticed = await tick(githubTickOptions(bed));
    expect(bed.emu.calls('actions/get-workflow-run')).toBe(1);
    const timedOut = ofType(noticed.appended, 'attempt.timed_out');
    expect(timedOut).toHaveLength(1);
    expect(timedOut[0]).toMatchObject({ attempt: claim.attempt, data: { conclusion: 'cancelled' } });
  });
});
