/**
 * This repository's own CI (`.github/workflows/dogfood.yml`) runs the scheduler action, as built in `dist/`,
 * against this repository's own `.leviathan/` in dry-run mode. Here that workflow runs through the workflow
 * runner against the GitHub emulator and the real git server, seeded with exactly the files committed here:
 * the job succeeds, the decision is `dry_run`, the summary gives every task of our backlog its reason, and
 * nothing on the origin changed.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GitServer } from '../harness/git-server.js';
import { GitHubEmulator } from '../harness/github/emulator.js';
import { TokenAuthority } from '../harness/github/tokens.js';
import { type WorkflowRun, WorkflowRunner } from '../harness/runner/runner.js';
import { originRefs, seedTarget, type Target } from '../helpers/loop.js';

const WORKFLOW = '.github/workflows/dogfood.yml';
const own = (path: string) => readFile(resolve(path), 'utf8');

let server: GitServer;
let emu: GitHubEmulator;
let target: Target;
let runner: WorkflowRunner;
let refsBefore: Map<string, string>;
let run: WorkflowRun;

beforeAll(async () => {
  const authority = new TokenAuthority();
  server = await GitServer.start();
  const workflow = await own(WORKFLOW);
  target = await seedTarget(server, 'dogfood', {
    config: await own('.leviathan/config.yaml'),
    backlog: await own('.leviathan/backlog.yaml'),
    files: { [WORKFLOW]: workflow },
  });
  // A read token is all the workflow asks for; a push with it would be refused.
  server.access = (token) => {
    const grant = token === null ? null : authority.lookup(token);
    return { as: grant?.name ?? null, level: grant?.permissions.contents ?? (token ? 'none' : 'read') };
  };
  emu = await GitHubEmulator.start({ git: server, repo: 'dogfood', authority });
  runner = new WorkflowRunner({
    workflowFile: WORKFLOW,
    content: workflow,
    checkout: resolve('.'),
    actionsRepo: 'leviathan-dev/leviathan',
    repository: `${emu.owner}/dogfood`,
    cloneUrl: () => target.url,
    root: target.root,
    serverUrl: emu.serverUrl,
    apiUrl: emu.apiUrl,
    tokens: { forJob: (permissions, job) => authority.mint(`job:${job}`, permissions) },
  });
  refsBefore = await originRefs(target);
  run = await runner.trigger('workflow_dispatch');
}, 120_000);
afterAll(async () => {
  await emu?.stop();
  await server?.stop();
});

describe('dogfood: our CI ticks our own backlog in dry-run mode', () => {
  it('the job succeeds with the dry_run decision', () => {
    const job = run.jobs['dry-run']!;
    expect({ result: job.result, log: job.result === 'success' ? '' : job.log }).toEqual({
      result: 'success',
      log: '',
    });
    expect(job.steps.find((s) => s.id === 'tick')?.outputs.decision).toBe('dry_run');
  });

  it('the summary gives each task of our backlog its reason', () => {
    const summary = run.jobs['dry-run']!.summary;
    expect(summary).toContain('dry run');
    expect(summary).toMatch(/\| docs-faq \| ready \|[^\n]*\| selected \|/);
    expect(summary).toMatch(/\| docs-glossary \| not_ready \|[^\n]*\| not_ready \|/);
  });

  it('writes nothing: no ref on the origin changed and nothing was dispatched', async () => {
    expect(await originRefs(target)).toEqual(refsBefore);
    expect(emu.runs).toHaveLength(0);
  });
});
