/** The workflow runner itself: contexts, outputs, `if:`, env levels, permissions → tokens, concurrency. */

import { resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { annotationsIn } from '../harness/runner/files.js';
import { type RunnerOptions, WorkflowRunner } from '../harness/runner/runner.js';
import type { Permissions } from '../harness/runner/workflow.js';

function runner(content: string, extra: Partial<RunnerOptions> = {}) {
  const minted: { job: string; permissions: Permissions }[] = [];
  const r = new WorkflowRunner({
    workflowFile: 'test.yml',
    content,
    checkout: resolve('.'),
    actionsRepo: 'leviathan-dev/leviathan',
    repository: 'octo/target',
    cloneUrl: () => 'http://127.0.0.1:1/none.git',
    tokens: {
      forJob: (permissions, job) => {
        minted.push({ job, permissions });
        return `token-${job}`;
      },
    },
    ...extra,
  });
  return { r, minted };
}

const BASIC = `
on:
  schedule: [{ cron: '3-59/5 * * * *' }]
  workflow_dispatch:
    inputs:
      task: { type: string, default: '' }
      dry-run: { type: boolean, default: false }
env: { LEVEL: workflow, KEEP: w }
permissions: {}
jobs:
  first:
    if: \${{ !inputs.task }}
    runs-on: \${{ vars.RUNS_ON || 'ubuntu-latest' }}
    permissions: { contents: write }
    env: { LEVEL: job }
    outputs:
      said: \${{ steps.say.outputs.word }}
    steps:
      - id: say
        env: { LEVEL: step }
        run: |
          echo "word=hello-$LEVEL-$KEEP" >> "$GITHUB_OUTPUT"
          echo "FROM_ENV=set" >> "$GITHUB_ENV"
          echo "::error file=a.yaml,line=3::bad thing"
      - run: test "$FROM_ENV" = set && test "$GITHUB_EVENT_NAME" = "\${{ github.event_name }}" && test -f "$GITHUB_EVENT_PATH"
  second:
    needs: first
    runs-on: ubuntu-latest
    steps:
      - run: test "\${{ needs.first.outputs.said }}" = hello-step-w && exit 3
      - if: always()
        run: echo "ran after failure; token \${{ github.token }}"
      - run: echo never
  manual:
    if: \${{ inputs.task != '' }}
    runs-on: ubuntu-latest
    steps:
      - run: echo "task=\${{ inputs.task }} dry=\${{ inputs.dry-run }}"
`;

describe('workflow runner', () => {
  it('runs jobs per event with outputs, env levels, if:, failure and always()', async () => {
    const { r, minted } = runner(BASIC, { vars: { RUNS_ON: 'leviathan' } });
    const run = await r.trigger('schedule');
    expect(run.jobs.manual?.result).toBe('skipped');
    expect(run.jobs.first?.result).toBe('success');
    expect(run.jobs.first?.runsOn).toBe('leviathan');
    expect(run.jobs.first?.outputs).toEqual({ said: 'hello-step-w' });
    expect(annotationsIn(run.jobs.first!.log)).toEqual([
      { level: 'error', message: 'bad thing', properties: { file: 'a.yaml', line: '3' } },
    ]);
    expect(run.jobs.second?.result).toBe('failure');
    expect(run.jobs.second?.steps.map((s) => s.outcome)).toEqual(['failure', 'success', 'skipped']);
    expect(run.jobs.second?.log).toContain('token token-second');
    expect(run.conclusion).toBe('failure');
    // permissions: {} at the top, contents: write for one job: each token carries exactly its grant.
    expect(minted).toEqual([
      { job: 'first', permissions: { metadata: 'read', contents: 'write' } },
      { job: 'second', permissions: { metadata: 'read' } },
    ]);
  });

  it('passes typed dispatch inputs and refuses unknown ones', async () => {
    const { r } = runner(BASIC);
    const run = await r.trigger('workflow_dispatch', { inputs: { task: 'docs', 'dry-run': true } });
    expect(run.jobs.first?.result).toBe('skipped');
    expect(run.jobs.second?.result).toBe('skipped');
    expect(run.jobs.manual?.log).toContain('task=docs dry=true');
    await expect(r.trigger('workflow_dispatch', { inputs: { nope: '1' } })).rejects.toThrow(
      /Unexpected inputs/,
    );
  });

  it('fails an unknown or unpinned uses:', async () => {
    const wf = (uses: string) =>
      `on: workflow_dispatch\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ${uses}\n`;
    const unknown = await runner(wf('someone/thing@0123456789012345678901234567890123456789')).r.trigger(
      'workflow_dispatch',
    );
    expect(unknown.jobs.j?.result).toBe('failure');
    expect(unknown.jobs.j?.log).toContain('is not an action this test runner knows');
    const unpinned = await runner(wf('actions/checkout@v4')).r.trigger('workflow_dispatch');
    expect(unpinned.jobs.j?.log).toContain('not pinned to a full commit SHA');
  });

  it('rejects a workflow the parser rejects', async () => {
    await expect(runner('on: push\njobs:\n  j:\n    steps: 3\n').r.load()).rejects.toThrow(
      /not a valid workflow/,
    );
  });

  it('keeps one job running and one pending per concurrency group; a newer pending replaces the older', async () => {
    const wf = `on: workflow_dispatch
jobs:
  j:
    runs-on: ubuntu-latest
    concurrency: { group: one, cancel-in-progress: false }
    steps:
      - run: |
          echo start >> "${'$'}{{ vars.LOG }}"
          while [ ! -f "${'$'}{{ vars.GATE }}" ]; do sleep 0.05; done
          echo end >> "${'$'}{{ vars.LOG }}"
`;
    const { mkdtemp, readFile, writeFile } = await import('node:fs/promises');
    const dir = await mkdtemp(resolve(process.env.TMPDIR ?? '/tmp', 'runner-cc-'));
    const vars = { LOG: `${dir}/log`, GATE: `${dir}/gate` };
    const { r } = runner(wf, { vars });
    const first = r.trigger('workflow_dispatch');
    // Wait until the first run holds the group before queueing two more.
    while (!(await readFile(vars.LOG, 'utf8').catch(() => '')).includes('start'))
      await new Promise((x) => setTimeout(x, 20));
    const second = r.trigger('workflow_dispatch');
    const third = r.trigger('workflow_dispatch');
    await writeFile(vars.GATE, '');
    const results = await Promise.all([first, second, third]);
    // The first ran; of the two queued behind it, one was replaced by the other (which one depends on which
    // reached the group first).
    expect(results[0]?.jobs.j?.result).toBe('success');
    expect(
      results
        .slice(1)
        .map((x) => x.jobs.j?.result)
        .sort(),
    ).toEqual(['cancelled', 'success']);
    expect((await readFile(vars.LOG, 'utf8')).trim().split('\n')).toEqual(['start', 'end', 'start', 'end']);
  });
});
