/**
 * The sandbox and redaction through the real worker against the real git server (issue 7 §1): no sandbox
 * means no attempt, secrets a failing command prints never reach the events branch or the job log, and an
 * attempt run with `executor.sandbox: none` says so in its pull request and summary.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { REDACTED } from '../../src/core/redact.js';
import { renderAttemptMarkdown } from '../../src/worker/summary.js';
import { GitServer } from '../harness/git-server.js';
import { git, removeDir } from '../harness/repo.js';
import { dispatchAndWork } from '../helpers/attempt-run.js';
import { ofType, originRefs, pullsOf, seedTarget, type Target } from '../helpers/loop.js';
import { HOSTILE, pathWithout } from '../helpers/sandbox.js';

const TOKEN = 'lev-token-8d7c6b5a4f3e2d1c';
const API_KEY = 'demo-key-5f4e3d2c1b0a';
const GHP = `ghp_${'A'.repeat(36)}`;

let server: GitServer;
let scratch: string;
const targets: Target[] = [];

beforeAll(async () => {
  server = await GitServer.start();
  scratch = await mkdtemp(join(tmpdir(), 'lev-sbx-e2e-'));
});

afterAll(async () => {
  await server?.stop();
  for (const t of targets) await removeDir(t.root);
  await rm(scratch, { recursive: true, force: true });
});

async function attempt(name: string, config: string, backlog: string, env: Record<string, string> = {}) {
  const target = await seedTarget(server, name, { config, backlog });
  targets.push(target);
  const run = await dispatchAndWork(target, { env });
  // Everything on the events branch as stored: every version of every file.
  const history = await git(target.bare, ['log', '-p', '--format=%B', 'leviathan-events']);
  return { target, ...run, history };
}

it('auto with neither bwrap nor unshare fails the attempt closed with executor_error; the command never runs', async () => {
  const bin = await pathWithout(scratch, ['bwrap', 'unshare']);
  const backlog = `tasks:
  - id: boxless
    title: Would run unsandboxed
    ready: true
    allowed_paths: [docs/ran.md]
    run: ["echo ran > docs/ran.md"]
`;
  const { target, result, events } = await attempt(
    'boxless',
    'version: 1\nscope:\n  allowed_paths: ["docs/**"]\n',
    backlog,
    {
      PATH: bin,
    },
  );
  expect(result.outcome).toMatchObject({ status: 'failed', reason: 'executor_error' });
  const failed = ofType(events, 'attempt.failed', 'boxless');
  expect(failed).toHaveLength(1);
  expect(JSON.stringify(failed[0]!.data)).toMatch(/install bubblewrap/);
  // Nothing ran, so there is no work to keep and no branch of the task on the origin.
  expect(result.outcome).not.toHaveProperty('wip_branch');
  expect([...(await originRefs(target)).keys()].filter((r) => r.includes('boxless'))).toEqual([]);
});

it('secrets a failing command prints reach neither the events branch nor the live output', async () => {
  const config = `version: 1
scope:
  allowed_paths: ["docs/**"]
executor:
  env_allowlist: [DEMO_API_KEY]
`;
  const backlog = `tasks:
  - id: leaky
    title: Prints secrets and fails
    ready: true
    allowed_paths: [docs/**]
    run: ["sh ${HOSTILE}/print-secrets.sh"]
`;
  const { result, history, live, events } = await attempt('leaky', config, backlog, {
    DEMO_API_KEY: API_KEY,
    LEVIATHAN_TOKEN: TOKEN,
    // The script lives in this checkout, which the sandbox hides like any other.
    LEVIATHAN_SANDBOX_SHOW: HOSTILE,
  });
  expect(result.outcome).toMatchObject({ status: 'failed', reason: 'executor_error' });
  const failed = ofType(events, 'attempt.failed', 'leaky')[0]!;
  const tail = (failed.data as { output_tail?: string }).output_tail ?? '';
  // The command ran and printed: what it printed is there, the secrets are not.
  expect(tail).toContain('allow-listed key:');
  expect(tail).toContain(REDACTED);
  for (const text of [history, live, tail]) {
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(GHP);
    expect(text).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(text).not.toContain('b3BlbnNzaC1rZXktdjEAAAAA');
  }
});

it('an attempt run with executor.sandbox: none says so in its PR and summary; the PR body holds no token', async () => {
  const config = `version: 1
scope:
  allowed_paths: ["docs/**"]
executor:
  sandbox: none
`;
  const backlog = `tasks:
  - id: open
    title: Writes a page unsandboxed
    description: "Use the token ${GHP} to check (pasted by mistake)."
    ready: true
    allowed_paths: [docs/page.md]
    run: ["echo page > docs/page.md"]
`;
  const { target, result } = await attempt('unboxed', config, backlog);
  expect(result.outcome).toMatchObject({ status: 'succeeded', pr: 1 });
  const [pull] = await pullsOf(target.dir);
  expect(pull!.body).toMatch(/without a sandbox.*executor\.sandbox: none/);
  expect(pull!.body).not.toContain(GHP);
  expect(renderAttemptMarkdown(result)).toMatch(/\(unsandboxed\)[\s\S]*without a sandbox/);
});
