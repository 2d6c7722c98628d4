/**
 * The CLI bundle with `--forge github` against the emulator, as a maintainer runs it from a laptop: tick,
 * the dispatched run's `work`, status, events, verify — and a rejected token. The tokens must never appear in
 * any output, in any event, in any pull body or in any request body the emulator recorded.
 */

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parsePullMarker } from '../../src/core/pr-body.js';
import { git } from '../harness/repo.js';
import { type GitHubBed, githubBed, PR_TOKEN, READ_TOKEN } from '../helpers/github.js';
import { type ChildResult, CLI, cloneTarget, eventsOf, runNode } from '../helpers/loop.js';

const WRONG_TOKEN = 'ghp_wrongTOKENabcdefghijklmnop0123456789';
const CONFIG = 'version: 1\nscope:\n  allowed_paths: ["docs/**"]\n';
const BACKLOG = `version: 1
tasks:
  - id: intro
    title: Write the introduction
    ready: true
    allowed_paths: [docs/intro.md]
    run: ["echo intro > docs/intro.md"]
`;

let bed: GitHubBed;
const outputs: ChildResult[] = [];

function cli(args: string[], dir: string, env: Record<string, string>) {
  return runNode([CLI, ...args], {
    cwd: dir,
    env: { ...bed.emu.env(READ_TOKEN), LEVIATHAN_PR_TOKEN: PR_TOKEN, GITHUB_ACTIONS: '', ...env },
    timeoutMs: 120_000,
  }).then((r) => {
    outputs.push(r);
    return r;
  });
}

beforeAll(async () => {
  // The CLI runs on the wall clock: the emulator does too.
  bed = await githubBed(
    'tokens',
    { config: CONFIG, backlog: BACKLOG },
    { emulator: { now: () => new Date() } },
  );
  bed.emu.onDispatch(async (run) => {
    const dir = await cloneTarget(bed.target, 'run');
    const r = await cli(
      [
        'work',
        '--forge',
        'github',
        '--task',
        String(run.inputs.task),
        '--attempt',
        String(run.inputs.attempt),
        '--dir',
        dir,
      ],
      dir,
      {},
    );
    return r.code === 0 ? 'success' : 'failure';
  });
});
afterAll(() => bed?.stop());

describe('tokens with --forge github', () => {
  it('runs the loop from the CLI and never shows a token anywhere', async () => {
    const dir = bed.target.dir;
    const tick = await cli(['tick', '--forge', 'github', '--dir', dir], dir, {});
    expect(tick.code).toBe(0);
    await bed.emu.idle();
    expect(bed.emu.runs[0]).toMatchObject({ status: 'completed', conclusion: 'success' });
    for (const args of [['status'], ['events'], ['verify']]) {
      const r = await cli([...args, '--forge', 'github', '--dir', dir], dir, {});
      expect(r.code).toBe(0);
    }
    const rejected = await cli(['tick', '--forge', 'github', '--dir', dir], dir, {
      LEVIATHAN_TOKEN: WRONG_TOKEN,
    });
    expect(rejected.code).toBe(1);
    // One line of reason (progress lines aside).
    expect(rejected.stderr.split('\n').filter((l) => l.startsWith('leviathan:'))).toHaveLength(1);
    expect(rejected.stderr).toMatch(/rejected the token .*401.*LEVIATHAN_TOKEN/);
    const faulted = await cli(['status', '--forge', 'github', '--dir', dir], dir, {
      LEVIATHAN_TOKEN: WRONG_TOKEN,
    });
    expect(faulted.code).toBe(1);

    const pulls = [...bed.emu.issues.values()].filter((i) => i.pull);
    expect(pulls).toHaveLength(1);
    // The PR branch went up with the PR token (so CI runs on it), and only with it; the rest with none.
    const pushes = bed.server.requests.filter((r) => r.service === 'git-receive-pack' && r.method === 'POST');
    const prPushes = pushes.filter((r) => r.refs?.includes('refs/heads/leviathan/intro'));
    expect(prPushes.length).toBeGreaterThan(0);
    expect(prPushes.map((r) => r.as)).toEqual(prPushes.map(() => 'pr'));
    expect(
      pushes.filter((r) => r.refs?.includes('refs/heads/leviathan-events')).map((r) => r.as),
    ).not.toContain('pr');
    // Every commit and blob on every branch of the origin (the log, the PR branch, any WIP).
    const history = await git(bed.target.bare, ['log', '--all', '-p', '--format=%H%n%an <%ae>%n%B']);
    expect(history).toContain('Leviathan-Task: intro');
    const everything = [
      history,
      ...outputs.flatMap((o) => [o.stdout, o.stderr]),
      JSON.stringify(await eventsOf(dir)),
      ...pulls.map((p) => p.body ?? ''),
      ...bed.emu.requests.map((r) => `${r.path} ${r.body}`),
    ].join('\n');
    expect(pulls.every((p) => parsePullMarker(p.body ?? '')?.task === 'intro')).toBe(true);
    for (const token of [READ_TOKEN, PR_TOKEN, WRONG_TOKEN]) {
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(Buffer.from(`x-access-token:${token}`).toString('base64'));
    }
    expect(bed.emu.violations).toEqual([]);
  });
});
