/**
 * Shared set-up for tests on the GitHub forge: the real git server, a seeded target repository, the GitHub
 * API emulator in front of it, and GitHub forges that talk to it with the test tokens.
 *
 *   const bed = await githubBed('contract', { config: CONFIG, backlog: BACKLOG });
 *   const forge = bed.forge();                       // GitHubForge on bed.emu, fast retries, no pacing
 *   afterEach(() => expect(bed.emu.violations).toEqual([]));
 *   await bed.stop();
 */
import { GitHubForge, type GitHubForgeOptions } from '../../src/forge/github.js';
import type { TickOptions } from '../../src/scheduler/tick.js';
import { runAttempt } from '../../src/worker/attempt.js';
import { GitServer } from '../harness/git-server.js';
import { type EmulatorOptions, GitHubEmulator } from '../harness/github/emulator.js';
import { git } from '../harness/repo.js';
import { Clock, type SeedInput, seedTarget, type Target, tickOptions, workerDeps } from './loop.js';

/** Recognisable fake tokens: the redaction tests grep every output for them. */
export const READ_TOKEN = 'ghs_readTOKEN0123456789abcdefABCDEF';
export const PR_TOKEN = 'ghs_prTOKEN9876543210fedcbaFEDCBA';

/** The worker workflow as the emulator checks dispatches against it (inputs `task` and `attempt`). */
export const WORKFLOW = `name: Leviathan
on:
  workflow_dispatch:
    inputs:
      task:
        required: true
      attempt:
        required: true
jobs:
  worker:
    runs-on: ubuntu-latest
    steps:
      - run: echo worker
`;

/** Client tuning for tests: waits scaled down a hundredfold, no write pacing, a short request timeout. */
export const FAST_CLIENT: NonNullable<GitHubForgeOptions['client']> = {
  timeoutMs: 1500,
  retryAfterBaseMs: 10,
  pacing: false,
};

export interface GitHubBed {
  server: GitServer;
  target: Target;
  emu: GitHubEmulator;
  clock: Clock;
  warnings: string[];
  forge(extra?: Partial<GitHubForgeOptions>): GitHubForge;
  /** Options for `new GitHubForge` (e.g. to build one in another process's environment). */
  forgeOptions(extra?: Partial<GitHubForgeOptions>): GitHubForgeOptions;
  /** A branch off `main` with one commit on it, on the origin. */
  pushBranch(branch: string, files?: Record<string, string>): Promise<string>;
  stop(): Promise<void>;
}

export async function githubBed(
  name: string,
  seed: SeedInput,
  options: { emulator?: Partial<EmulatorOptions>; clock?: Clock } = {},
): Promise<GitHubBed> {
  // Pushes record which test token they carried (never the token itself).
  const server = await GitServer.start({ tokens: { read: READ_TOKEN, pr: PR_TOKEN } });
  const target = await seedTarget(server, name, {
    ...seed,
    files: { '.github/workflows/leviathan.yml': WORKFLOW, ...seed.files },
  });
  const clock = options.clock ?? new Clock('2026-11-26T10:00:00.000Z');
  const emu = await GitHubEmulator.start({
    git: server,
    repo: name,
    tokens: { read: READ_TOKEN, pr: PR_TOKEN },
    now: clock.now,
    ...options.emulator,
  });
  const warnings: string[] = [];
  const forgeOptions = (extra: Partial<GitHubForgeOptions> = {}): GitHubForgeOptions => ({
    token: READ_TOKEN,
    repository: `${emu.owner}/${name}`,
    apiUrl: emu.apiUrl,
    serverUrl: emu.serverUrl,
    client: FAST_CLIENT,
    warn: (line) => warnings.push(line),
    ...extra,
  });
  return {
    server,
    target,
    emu,
    clock,
    warnings,
    forgeOptions,
    forge: (extra) => new GitHubForge(forgeOptions(extra)),
    pushBranch: async (branch, files = { [`notes/${branch.replace(/\//g, '-')}.md`]: `${branch}\n` }) => {
      await git(target.bare, ['update-ref', `refs/heads/${branch}`, 'refs/heads/main']);
      return emu.human.push(branch, files, `work on ${branch}`);
    },
    stop: async () => {
      await emu.stop();
      await server.stop();
    },
  };
}

/** Scheduler dependencies on the maintainer's clone, with a GitHub forge on the bed's emulator. */
export function githubTickOptions(bed: GitHubBed, extra: Partial<TickOptions> = {}): TickOptions {
  return tickOptions(bed.target.dir, bed.clock.now, { forge: bed.forge(), ...extra });
}

/**
 * Plugs the worker into the emulator's dispatch hook: each dispatched run does one attempt in a fresh clone
 * (as an Actions job would), with its own GitHub forge; the run concludes `success` when the attempt
 * succeeded. Returns what every run's attempt ended with.
 */
export function runWorkersOnDispatch(bed: GitHubBed): Array<{ run: number; outcome: string }> {
  const results: Array<{ run: number; outcome: string }> = [];
  bed.emu.onDispatch(async (run) => {
    const deps = await workerDeps(bed.target, bed.clock.now);
    const forge = bed.forge({ prToken: PR_TOKEN });
    try {
      const { outcome } = await runAttempt(
        { ...deps, forge, runUrl: run.html_url },
        String(run.inputs.task),
        String(run.inputs.attempt),
      );
      results.push({ run: run.id, outcome: outcome.status });
      return outcome.status === 'succeeded' ? 'success' : 'failure';
    } catch (error) {
      results.push({ run: run.id, outcome: `refused: ${(error as Error).message}` });
      return 'failure';
    }
  });
  return results;
}
