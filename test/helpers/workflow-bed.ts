/**
 * The workflow file as `leviathan init` writes it, run by the workflow runner against the GitHub emulator and
 * the real git server, all over HTTP and git: a `schedule` event runs the tick job, the emulator's dispatch
 * hook starts the worker jobs through the same runner, every job with a token minted for its `permissions:`.
 *
 *   const bed = await workflowBed('loop', { config, backlog });
 *   const tick = await bed.tick();                  // the tick job's run (schedule)
 *   await bed.emu.idle();                           // the dispatched worker runs have ended
 *   bed.dispatched;                                 // their WorkflowRuns, in dispatch order
 *   await bed.stop();
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LeviathanEvent } from '../../src/core/events.js';
import { GitServer } from '../harness/git-server.js';
import { type EmulatedRun, GitHubEmulator } from '../harness/github/emulator.js';
import { TokenAuthority } from '../harness/github/tokens.js';
import { makeTempDir } from '../harness/repo.js';
import { type RunnerOptions, type WorkflowRun, WorkflowRunner } from '../harness/runner/runner.js';
import { CLI, eventsOf, runNode, type SeedInput, seedTarget, type Target } from './loop.js';

export const ACTIONS_REPO = 'leviathan-dev/leviathan';
/** What the App token stand-in is granted (the App's installation permissions). */
export const APP_PERMISSIONS = { contents: 'write', 'pull-requests': 'write', issues: 'write' } as const;

export interface WorkflowBed {
  server: GitServer;
  target: Target;
  emu: GitHubEmulator;
  authority: TokenAuthority;
  runner: WorkflowRunner;
  /** The workflow text `init` wrote. */
  workflow: string;
  /** Runs the emulator's dispatches started, in dispatch order (each resolves when its run ended). */
  dispatched: Array<{ run: EmulatedRun; result: Promise<WorkflowRun> }>;
  tick(): Promise<WorkflowRun>;
  dispatch(inputs: Record<string, unknown>): Promise<WorkflowRun>;
  /** Dispatches stay queued in the emulator from now on (no job starts), until `work` runs one. */
  pause(): void;
  /** Runs the worker for a dispatch the emulator recorded, as its hook would have. */
  work(run: EmulatedRun): Promise<WorkflowRun>;
  /** Every dispatched run that ended, after `emu.idle()`. */
  settled(): Promise<WorkflowRun[]>;
  /** The event log as the origin holds it (fetched over HTTP, chain verified). */
  events(): Promise<LeviathanEvent[]>;
  stop(): Promise<void>;
}

const initWorkflows = new Map<string, Promise<string>>();

/** `leviathan init` in an empty directory, once per test file and flags: the workflow a user commits. */
export function workflowFromInit(flags: readonly string[] = []): Promise<string> {
  const key = flags.join(' ');
  let workflow = initWorkflows.get(key);
  if (!workflow) {
    workflow = (async () => {
      const dir = await makeTempDir('init');
      const r = await runNode([CLI, 'init', '--dir', dir, ...flags], {
        cwd: dir,
        env: {},
        timeoutMs: 60_000,
      });
      if (r.code !== 0) throw new Error(`leviathan init failed: ${r.stderr}`);
      return readFile(join(dir, '.github/workflows/leviathan.yml'), 'utf8');
    })();
    initWorkflows.set(key, workflow);
  }
  return workflow;
}

export async function workflowBed(
  name: string,
  seed: SeedInput,
  options: {
    vars?: Record<string, string>;
    /** Flags for `leviathan init` (e.g. `--dashboard`). */
    init?: string[];
    /** Edits the workflow `init` wrote before it is committed and run (a docs recipe spliced in). */
    workflow?: (text: string) => string;
    runner?: Partial<RunnerOptions>;
    /** Told of every token minted for a job (a test leaking one to a hostile script). */
    onMint?: (name: string, token: string) => void | Promise<void>;
  } = {},
): Promise<WorkflowBed> {
  const initWorkflow = await workflowFromInit(options.init);
  const workflow = options.workflow ? options.workflow(initWorkflow) : initWorkflow;
  const authority = new TokenAuthority();
  const server = await GitServer.start();
  const target = await seedTarget(server, name, {
    ...seed,
    files: { '.github/workflows/leviathan.yml': workflow, ...seed.files },
  });
  // Public repository: anyone fetches; a push needs a token with contents: write.
  server.access = (token) => {
    if (token === null) return { as: null, level: 'read' };
    const grant = authority.lookup(token);
    return grant
      ? { as: grant.name, level: grant.permissions.contents ?? 'none' }
      : { as: null, level: 'none' };
  };
  const emu = await GitHubEmulator.start({ git: server, repo: name, authority });
  // Every run's directories (workspaces, temp, artifacts) under the target's root: one machine, as a
  // self-hosted runner is, so a hostile job can look at what other jobs left there.
  const runsRoot = join(target.root, 'runs');
  await mkdir(runsRoot);
  const runner = new WorkflowRunner({
    workflowFile: '.github/workflows/leviathan.yml',
    content: workflow,
    checkout: resolve('.'),
    actionsRepo: ACTIONS_REPO,
    repository: `${emu.owner}/${name}`,
    cloneUrl: () => target.url,
    root: runsRoot,
    serverUrl: emu.serverUrl,
    apiUrl: emu.apiUrl,
    tokens: {
      forJob: async (permissions, job) => {
        const token = authority.mint(`job:${job}`, permissions);
        await options.onMint?.(`job:${job}`, token);
        return token;
      },
      forApp: () => authority.mint('app', APP_PERMISSIONS),
    },
    vars: { LEVIATHAN_APP_ID: '4242', ...options.vars },
    secrets: { LEVIATHAN_APP_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----fake' },
    ...options.runner,
  });
  const dispatched: WorkflowBed['dispatched'] = [];
  emu.onDispatch(async (run) => {
    const result = runner.trigger('workflow_dispatch', {
      inputs: run.inputs as Record<string, unknown>,
      ref: run.ref,
    });
    dispatched.push({ run, result });
    return (await result).conclusion;
  });
  return {
    server,
    target,
    emu,
    authority,
    runner,
    workflow,
    dispatched,
    tick: () => runner.trigger('schedule'),
    pause: () => emu.offAll(),
    work: async (run) => {
      emu.startRun(run.id);
      const result = await runner.trigger('workflow_dispatch', {
        inputs: run.inputs as Record<string, unknown>,
        ref: run.ref,
      });
      emu.completeRun(run.id, result.conclusion);
      return result;
    },
    dispatch: (inputs) => runner.trigger('workflow_dispatch', { inputs }),
    settled: async () => {
      await emu.idle();
      return Promise.all(dispatched.map((d) => d.result));
    },
    events: () => eventsOf(target.dir),
    stop: async () => {
      await emu.stop();
      await server.stop();
    },
  };
}

/** A job's log without the runner's own step markers: what a human reads in the Actions tab. */
export function jobLog(run: WorkflowRun, job: string): string {
  return run.jobs[job]?.log ?? '';
}
