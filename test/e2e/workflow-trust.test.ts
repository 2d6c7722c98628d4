/**
 * The job boundary is the trust boundary, through the workflow file as `leviathan init` writes it: every job
 * gets a token minted for exactly its `permissions:`, the emulator answers a write with a read token 403 and
 * the git server refuses its push. A hostile agent in the agent job, holding that job's token, cannot push,
 * append to leviathan-events, open a pull request or dispatch, and finds no write token on the machine; an
 * artifact the agent job crafts is refused by finish as scope_violation or limit_exceeded.
 * (`executor.sandbox: none`: the agent reaches the servers, so what stops it is the token, not the sandbox.)
 */

import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeTempDir } from '../harness/repo.js';
import { ofType, originRefs } from '../helpers/loop.js';
import { type CraftedMember, craftTar } from '../helpers/tar.js';
import { type WorkflowBed, workflowBed } from '../helpers/workflow-bed.js';

const CRAFTED: Record<string, { members: () => CraftedMember[]; reason: string }> = {
  dotdot: { members: () => [{ name: '../escape.md', body: 'x' }], reason: 'scope_violation' },
  symlink: {
    members: () => [{ name: 'docs/out', type: '2', linkTarget: '../../../../etc/passwd' }],
    reason: 'scope_violation',
  },
  huge: { members: () => [{ name: 'docs/big.bin', declaredSize: 10 * 1024 ** 3 }], reason: 'limit_exceeded' },
  bomb: {
    members: () => Array.from({ length: 50_001 }, (_, i) => ({ name: `docs/b${i}` })),
    reason: 'limit_exceeded',
  },
};

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  max_open_prs: 5
  max_running_attempts: 5
  max_dispatches_per_hour: 20
  circuit_breaker_failures: 10
executor:
  sandbox: none
`;

let bed: WorkflowBed;
let hostileDir: string;
let cfgFile: string;

function backlog(): string {
  const art = Object.keys(CRAFTED)
    .map(
      (k) =>
        `  - id: art-${k}\n    title: Artifact ${k}\n    ready: true\n    allowed_paths: ["docs/**"]\n    run: ["echo ${k} > docs/${k}.md"]\n`,
    )
    .join('');
  return `version: 1
tasks:
  - id: hostile
    title: Hostile agent
    ready: true
    allowed_paths: [docs/hostile.md]
    run: ["node tools/hostile.mjs ${cfgFile}"]
${art}`;
}

beforeAll(async () => {
  hostileDir = await makeTempDir('hostile');
  cfgFile = join(hostileDir, 'cfg.json');
  const tokenFile = join(hostileDir, 'leaked-token');
  bed = await workflowBed(
    'wf-trust',
    {
      config: CONFIG,
      backlog: backlog(),
      files: { 'tools/hostile.mjs': await readFile('test/fixtures/hostile/workflow-agent.mjs', 'utf8') },
    },
    {
      // The agent job's own GITHUB_TOKEN, leaked to the agent (as `${{ github.token }}` could be).
      onMint: async (name, token) => {
        if (name === 'job:agent') await writeFile(tokenFile, token);
      },
      runner: {
        // The agent job controls what it uploads: swap in the crafted archive for the art-* tasks.
        beforeStep: async (job, step, run) => {
          const kind = String(run.inputs.task ?? '').replace(/^art-/, '');
          if (job !== 'finish' || !step.uses?.startsWith('actions/download-artifact') || !CRAFTED[kind])
            return;
          const dir = (await readdir(run.artifacts)).find((d) => d.startsWith('leviathan-worktree-'));
          const target = join(run.artifacts, dir ?? 'leviathan-worktree-x');
          await mkdir(target, { recursive: true });
          await writeFile(join(target, 'leviathan-worktree.tar'), craftTar(CRAFTED[kind]!.members()));
          return undefined;
        },
      },
    },
  );
  await writeFile(
    cfgFile,
    JSON.stringify({
      tokenFile,
      gitUrl: bed.target.url,
      apiUrl: bed.emu.apiUrl,
      repo: `${bed.emu.owner}/wf-trust`,
      scanRoots: [bed.target.root, hostileDir],
      results: join(hostileDir, 'results.json'),
    }),
  );
});
afterAll(() => bed?.stop());

describe('the agent job cannot write', () => {
  it('mints each job a token for exactly its permissions; a hostile agent with the agent token gets nothing', async () => {
    const refsBefore = await originRefs(bed.target);
    const run = await bed.dispatch({ task: 'hostile' });
    expect(Object.fromEntries(Object.values(run.jobs).map((j) => [j.id, j.result]))).toMatchObject({
      start: 'success',
      agent: 'success',
      finish: 'success',
    });

    // One token per job, each exactly its grant (metadata: read is implicit, as on GitHub).
    const byJob = Object.fromEntries(bed.authority.minted.map((m) => [m.name, m.permissions]));
    expect(byJob).toEqual({
      'job:start': { metadata: 'read', contents: 'write', 'pull-requests': 'read' },
      'job:agent': { metadata: 'read', contents: 'read' },
      'job:finish': { metadata: 'read', contents: 'write', 'pull-requests': 'write' },
      app: { metadata: 'read', contents: 'write', 'pull-requests': 'write', issues: 'write' },
    });
    const tokens = ['start', 'agent', 'finish'].map((j) => run.jobs[j]!.token);
    expect(new Set(tokens).size).toBe(3);

    const results = JSON.parse(await readFile(join(hostileDir, 'results.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    // Every write was refused: git exits non-zero, the API answers 403.
    expect(results).toMatchObject({ openPull: 403, dispatch: 403 });
    expect([results.pushWithJobToken, results.pushAnonymous, results.appendEvents]).not.toContain(0);
    const agentGit = bed.server.requests.filter((r) => r.service === 'git-receive-pack' && r.refused);
    expect(agentGit.map((r) => [r.as, r.refused])).toEqual([
      ['job:agent', 403],
      [null, 401],
      ['job:agent', 403],
    ]);
    const agentApi = bed.emu.requests.filter((r) => r.as === 'job:agent');
    expect(agentApi.map((r) => [r.operation, r.status])).toEqual([
      ['pulls/create', 403],
      ['actions/create-workflow-dispatch', 403],
    ]);
    // It could read its own (leaked) read token, and no token with write access anywhere on the machine.
    const found = results.tokens as string[];
    expect(found).toContain(run.jobs.agent!.token);
    const writers = bed.authority.writeTokens().map((m) => m.token);
    expect(found.filter((t) => writers.includes(t))).toEqual([]);

    // Nothing it tried landed: no new branch, no forged event, one PR (finish's), one run (this one's).
    const refsAfter = await originRefs(bed.target);
    expect(refsAfter.has('refs/heads/hostile')).toBe(false);
    // start created the events branch (the first attempt of this repository); finish pushed the PR branch.
    expect([...refsAfter.keys()].filter((r) => !refsBefore.has(r)).sort()).toEqual([
      'refs/heads/leviathan-events',
      'refs/heads/leviathan/hostile',
    ]);
    const events = await bed.events();
    expect(ofType(events, 'task.completed', 'hostile')).toEqual([]);
    expect(ofType(events, 'attempt.succeeded', 'hostile')).toHaveLength(1);
    expect(bed.emu.runs).toHaveLength(0);
    expect(bed.emu.violations).toEqual([]);
  }, 60_000);

  it('finish refuses a crafted artifact (.., symlink out, 10 GiB member, tar bomb) as scope_violation or limit_exceeded', async () => {
    // Four attempts at once (different tasks, max_running_attempts: 5): one test's wall time instead of four.
    const kinds = Object.keys(CRAFTED);
    const runs = await Promise.all(kinds.map((k) => bed.dispatch({ task: `art-${k}` })));
    const events = await bed.events();
    for (const [i, kind] of kinds.entries()) {
      const run = runs[i]!;
      expect([kind, run.jobs.agent?.result, run.jobs.finish?.result]).toEqual([kind, 'success', 'failure']);
      const failed = ofType(events, 'attempt.failed', `art-${kind}`);
      expect([kind, failed.map((e) => (e.data as { reason: string }).reason)]).toEqual([
        kind,
        [CRAFTED[kind]!.reason],
      ]);
    }
    expect(bed.emu.violations).toEqual([]);
  }, 90_000);
});
