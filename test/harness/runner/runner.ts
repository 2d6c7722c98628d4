/**
 * A small interpreter for our own workflow files, so tests exercise the YAML a user commits:
 *
 *   const runner = new WorkflowRunner({ workflowFile: 'templates/leviathan.yml', repository: 'o/r', … });
 *   const run = await runner.trigger('schedule');
 *   run.jobs.tick.result;                       // 'success' | 'failure' | 'cancelled' | 'skipped'
 *   run.jobs.tick.log;                          // everything its steps printed (annotations, groups)
 *
 * Jobs run in `needs` order with their `if:`; steps get the environment a hosted runner gives (`GITHUB_*`,
 * `RUNNER_TEMP`, `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`, `INPUT_*` with action.yml defaults, …). Our actions
 * run from this checkout; the third-party ones get stand-ins; any other `uses:` fails. Each job gets only the
 * token its `permissions:` grant, minted by the test's token issuer.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConcurrencyGroups } from './concurrency.js';
import { condition, type ExpressionScope, interpolate, type JobStatus, stringify } from './expressions.js';
import { parseKeyValueFile } from './files.js';
import { STAND_INS } from './stand-ins.js';
import {
  type ActionDef,
  type JobDef,
  loadAction,
  loadWorkflow,
  type Permissions,
  type StepDef,
  type WorkflowDef,
} from './workflow.js';

export type JobResult = 'success' | 'failure' | 'cancelled' | 'skipped';

export interface TokenIssuer {
  /** The `GITHUB_TOKEN` of one job: exactly the permissions it was granted. */
  forJob(permissions: Permissions, job: string): Promise<string> | string;
  /** An App installation token (create-github-app-token). */
  forApp?(inputs: Record<string, string>): Promise<string> | string;
}

export interface RunnerOptions {
  workflowFile: string;
  /** The workflow text, when it is not the file as committed (e.g. what `init` wrote). */
  content?: string;
  /** This repository: `uses: <actionsRepo>/actions/<name>@<ref>` runs `<checkout>/actions/<name>`. */
  checkout: string;
  actionsRepo: string;
  /** The repository the workflow runs in (`owner/name`) and how to clone a repository from the git server. */
  repository: string;
  cloneUrl: (repository: string) => string;
  defaultBranch?: string;
  serverUrl?: string;
  apiUrl?: string;
  tokens: TokenIssuer;
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  /** Extra environment every step sees (a runner machine's own environment). */
  env?: Record<string, string>;
  /** Milliseconds per `timeout-minutes` minute (tests shrink it). */
  minuteMs?: number;
  /** Called before each step; return `'cancel'` to cancel the run there (as a user pressing Cancel). */
  beforeStep?: (
    job: string,
    step: StepDef,
    run: WorkflowRun,
  ) => Promise<'cancel' | undefined> | 'cancel' | undefined;
  /** Where each run's directories go (default the system temp dir). */
  root?: string;
}

export interface StepRun {
  id: string;
  name: string;
  outcome: 'success' | 'failure' | 'cancelled' | 'skipped';
  outputs: Record<string, string>;
}

export interface JobRun {
  id: string;
  result: JobResult;
  outputs: Record<string, string>;
  steps: StepRun[];
  log: string;
  summary: string;
  runsOn: string;
  permissions: Permissions;
  token?: string;
}

export interface WorkflowRun {
  id: number;
  event: string;
  inputs: Record<string, unknown>;
  jobs: Record<string, JobRun>;
  conclusion: 'success' | 'failure' | 'cancelled';
  artifacts: string;
}

const ALL_SCOPES = [
  'actions',
  'checks',
  'contents',
  'deployments',
  'id-token',
  'issues',
  'discussions',
  'packages',
  'pages',
  'pull-requests',
  'repository-projects',
  'security-events',
  'statuses',
];

/** What a job's `permissions:` (or the workflow's) grant; GitHub's restricted default when neither says. */
export function effectivePermissions(job: JobDef, workflow: WorkflowDef): Permissions {
  const p = job.permissions ?? workflow.permissions;
  if (p === undefined) return { contents: 'read', packages: 'read', metadata: 'read' };
  if (p === 'read-all' || p === 'write-all') {
    const level = p === 'read-all' ? 'read' : 'write';
    return Object.fromEntries([...ALL_SCOPES, 'metadata'].map((s) => [s, level])) as Permissions;
  }
  return { metadata: 'read', ...p };
}

let runCounter = 1000;

export class WorkflowRunner {
  readonly groups = new ConcurrencyGroups();
  private workflow: WorkflowDef | null = null;
  private readonly actions = new Map<string, ActionDef>();

  constructor(readonly options: RunnerOptions) {}

  async load(): Promise<WorkflowDef> {
    this.workflow ??= await loadWorkflow(this.options.workflowFile, this.options.content);
    return this.workflow;
  }

  /** Starts the workflow for one event and resolves when every job it started has ended. */
  async trigger(
    event: 'schedule' | 'workflow_dispatch',
    given: { inputs?: Record<string, unknown>; ref?: string } = {},
  ): Promise<WorkflowRun> {
    const workflow = await this.load();
    if (!(event in workflow.on)) throw new Error(`${workflow.file} has no ${event} trigger`);
    const id = ++runCounter;
    const root = await mkdtemp(join(this.options.root ?? tmpdir(), `leviathan-run-${id}-`));
    const artifacts = join(root, 'artifacts');
    await mkdir(artifacts);
    const inputs = event === 'workflow_dispatch' ? this.dispatchInputs(workflow, given.inputs ?? {}) : {};
    const defaultBranch = this.options.defaultBranch ?? 'main';
    const ref = given.ref ?? defaultBranch;
    const [owner, name] = this.options.repository.split('/');
    const eventPayload = {
      ...(event === 'schedule'
        ? { schedule: String((workflow.on.schedule as { cron: string }[])[0]?.cron) }
        : { inputs, ref: `refs/heads/${ref}` }),
      repository: {
        full_name: this.options.repository,
        name,
        owner: { login: owner },
        default_branch: defaultBranch,
      },
      sender: { login: 'octocat' },
    };
    await writeFile(join(root, 'event.json'), JSON.stringify(eventPayload));
    const run: WorkflowRun = { id, event, inputs, jobs: {}, conclusion: 'success', artifacts };
    const shared: Shared = { run, root, ref, eventPayload, workflow, cancelled: false };

    // Workflow-level concurrency holds its group for the whole run, before any job starts.
    const runScope: ExpressionScope = {
      contexts: this.baseContexts(shared, workflow.jobs[0]!, {}),
      status: 'success',
    };
    const runGroup = this.concurrencyOf(workflow.concurrency, runScope);
    if (runGroup) {
      const admitted = await this.groups.acquire(runGroup.group, runGroup.cancelInProgress, () => {
        shared.cancelled = true;
      });
      if (!admitted) {
        run.conclusion = 'cancelled';
        return run;
      }
    }
    try {
      await this.runJobs(workflow, shared);
    } finally {
      if (runGroup) this.groups.release(runGroup.group);
    }
    const results = Object.values(run.jobs).map((j) => j.result);
    run.conclusion = results.includes('cancelled')
      ? 'cancelled'
      : results.includes('failure')
        ? 'failure'
        : 'success';
    return run;
  }

  private async runJobs(workflow: WorkflowDef, shared: Shared): Promise<void> {
    const { run } = shared;
    const remaining = new Map(workflow.jobs.map((j) => [j.id, j]));
    const active = new Map<string, Promise<void>>();
    while (remaining.size > 0 || active.size > 0) {
      for (const job of [...remaining.values()]) {
        if (!job.needs.every((n) => run.jobs[n])) continue;
        remaining.delete(job.id);
        active.set(
          job.id,
          this.runJob(job, shared).then((r) => {
            run.jobs[job.id] = r;
            active.delete(job.id);
          }),
        );
      }
      if (active.size === 0 && remaining.size > 0)
        throw new Error(`jobs with unmet needs: ${[...remaining.keys()].join(', ')}`);
      if (active.size > 0) await Promise.race(active.values());
    }
  }

  private dispatchInputs(workflow: WorkflowDef, given: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, def] of Object.entries(workflow.dispatchInputs)) {
      const raw = key in given ? given[key] : def.default;
      if (def.required && (raw === undefined || raw === '')) throw new Error(`input ${key} is required`);
      out[key] =
        def.type === 'boolean' ? raw === true || raw === 'true' : raw === undefined ? '' : String(raw);
    }
    for (const key of Object.keys(given)) {
      if (!(key in workflow.dispatchInputs)) throw new Error(`Unexpected inputs provided: ["${key}"]`);
    }
    return out;
  }

  private async runJob(job: JobDef, shared: Shared): Promise<JobRun> {
    const { run, workflow } = shared;
    const needs = Object.fromEntries(
      job.needs.map((n) => [n, { result: run.jobs[n]!.result, outputs: run.jobs[n]!.outputs }]),
    );
    const needResults = job.needs.map((n) => run.jobs[n]!.result);
    const jobStatus: JobStatus | 'skipped' =
      shared.cancelled || needResults.includes('cancelled')
        ? 'cancelled'
        : needResults.includes('failure')
          ? 'failure'
          : needResults.includes('skipped')
            ? 'skipped'
            : 'success';
    const permissions = effectivePermissions(job, workflow);
    const base = this.baseContexts(shared, job, needs);
    const jobScope: ExpressionScope = { contexts: base, status: jobStatus as JobStatus };
    const skipped: JobRun = {
      id: job.id,
      result: 'skipped',
      outputs: {},
      steps: [],
      log: '',
      summary: '',
      runsOn: '',
      permissions,
    };
    if (!condition(job.if, jobScope)) return skipped;

    const concurrency = this.concurrencyOf(job.concurrency, jobScope);
    let cancel = () => {};
    const cancelled = { value: false };
    if (concurrency) {
      const admitted = await this.groups.acquire(concurrency.group, concurrency.cancelInProgress, () => {
        cancelled.value = true;
        cancel();
      });
      if (!admitted)
        return {
          ...skipped,
          result: 'cancelled',
          log: `cancelled: a newer run is pending in ${concurrency.group}\n`,
        };
    }
    try {
      const token = await this.options.tokens.forJob(permissions, job.id);
      const jobDir = join(shared.root, job.id);
      const workspace = join(jobDir, 'workspace');
      const temp = join(jobDir, 'temp');
      const home = join(jobDir, 'home');
      await Promise.all([workspace, temp, home].map((d) => mkdir(d, { recursive: true })));
      const state: JobState = {
        job,
        token,
        workspace,
        temp,
        home,
        log: [],
        summary: [],
        env: {},
        path: [],
        steps: {},
        stepRuns: [],
        status: 'success',
        deadline:
          Date.now() +
          Number(interpolate(job['timeout-minutes'] ?? 360, jobScope)) * (this.options.minuteMs ?? 60_000),
        cancelled,
        setCancel: (fn) => {
          cancel = fn;
        },
        shared,
      };
      base.github = { ...(base.github as object), token, workspace };
      base.secrets = { ...(base.secrets as object), GITHUB_TOKEN: token };
      base.runner = { ...(base.runner as object), temp };
      const runsOn = stringify(interpolate(job['runs-on'], jobScope));
      const jobEnv = this.envOf({ ...workflow.env, ...job.env }, { contexts: base, status: 'success' });
      await this.runSteps(job.steps, state, base, jobEnv, job.defaults ?? workflow.defaults, null);
      const result: JobResult = cancelled.value
        ? 'cancelled'
        : state.status === 'success'
          ? 'success'
          : state.status === 'cancelled'
            ? 'cancelled'
            : 'failure';
      const outputs = Object.fromEntries(
        Object.entries(job.outputs ?? {}).map(([k, v]) => [
          k,
          stringify(interpolate(v, { contexts: { ...base, steps: state.steps }, status: 'success' })),
        ]),
      );
      if (result === 'cancelled') shared.cancelled = shared.cancelled || !concurrency;
      return {
        id: job.id,
        result,
        outputs,
        steps: state.stepRuns,
        log: state.log.join(''),
        summary: state.summary.join(''),
        runsOn,
        permissions,
        token,
      };
    } finally {
      if (concurrency) this.groups.release(concurrency.group);
    }
  }

  private concurrencyOf(
    def: JobDef['concurrency'],
    scope: ExpressionScope,
  ): { group: string; cancelInProgress: boolean } | null {
    if (!def) return null;
    if (typeof def === 'string')
      return { group: stringify(interpolate(def, scope)), cancelInProgress: false };
    return {
      group: stringify(interpolate(def.group, scope)),
      cancelInProgress: Boolean(interpolate(def['cancel-in-progress'] ?? false, scope)),
    };
  }

  private baseContexts(
    shared: { run: WorkflowRun; ref: string; eventPayload: object; root: string; workflow: WorkflowDef },
    job: JobDef,
    needs: object,
  ): Record<string, unknown> {
    const o = this.options;
    return {
      github: {
        event_name: shared.run.event,
        event: shared.eventPayload,
        repository: o.repository,
        repository_owner: o.repository.split('/')[0],
        ref: `refs/heads/${shared.ref}`,
        ref_name: shared.ref,
        run_id: String(shared.run.id),
        run_number: String(shared.run.id),
        run_attempt: '1',
        workflow: shared.workflow.name ?? 'workflow',
        job: job.id,
        actor: 'octocat',
        server_url: o.serverUrl ?? 'https://github.com',
        api_url: o.apiUrl ?? 'https://api.github.com',
      },
      inputs: shared.run.inputs,
      vars: o.vars ?? {},
      secrets: { ...o.secrets },
      needs,
      env: {},
      steps: {},
      job: { status: 'success' },
      runner: { os: 'Linux', arch: 'X64', name: 'leviathan-test-runner', temp: '' },
      matrix: {},
      strategy: {},
    };
  }

  private envOf(env: Record<string, unknown> | undefined, scope: ExpressionScope): Record<string, string> {
    return Object.fromEntries(
      Object.entries(env ?? {}).map(([k, v]) => [k, stringify(interpolate(v, scope))]),
    );
  }

  /** The environment a hosted runner gives every step. */
  private runnerEnv(state: JobState, contexts: Record<string, unknown>): Record<string, string> {
    const g = contexts.github as Record<string, string>;
    return {
      PATH: [...state.path, process.env.PATH ?? '/usr/bin:/bin'].join(':'),
      HOME: state.home,
      LANG: 'C.UTF-8',
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: g.repository!,
      GITHUB_REPOSITORY_OWNER: g.repository_owner!,
      GITHUB_EVENT_NAME: g.event_name!,
      GITHUB_EVENT_PATH: join(state.shared.root, 'event.json'),
      GITHUB_REF: g.ref!,
      GITHUB_REF_NAME: g.ref_name!,
      GITHUB_RUN_ID: g.run_id!,
      GITHUB_RUN_NUMBER: g.run_number!,
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_WORKFLOW: g.workflow!,
      GITHUB_JOB: state.job.id,
      GITHUB_ACTOR: 'octocat',
      GITHUB_SERVER_URL: g.server_url!,
      GITHUB_API_URL: g.api_url!,
      GITHUB_WORKSPACE: state.workspace,
      RUNNER_TEMP: state.temp,
      RUNNER_OS: 'Linux',
      RUNNER_ARCH: 'X64',
      RUNNER_NAME: 'leviathan-test-runner',
      ...this.options.env,
    };
  }

  private async runSteps(
    steps: StepDef[],
    state: JobState,
    contexts: Record<string, unknown>,
    inheritedEnv: Record<string, string>,
    defaults: JobDef['defaults'],
    action: ActionDef | null,
  ): Promise<void> {
    const localSteps: Record<
      string,
      { outputs: Record<string, string>; outcome: string; conclusion: string }
    > = action ? {} : state.steps;
    for (const [index, step] of steps.entries()) {
      const id = step.id ?? `__step${index}`;
      const scope = (): ExpressionScope => ({
        contexts: {
          ...contexts,
          steps: localSteps,
          env: { ...inheritedEnv, ...state.env },
          job: { status: state.status },
        },
        status: state.cancelled.value ? 'cancelled' : state.status,
      });
      const name = step.name ?? step.run?.split('\n')[0] ?? step.uses ?? id;
      if ((await this.options.beforeStep?.(state.job.id, step, state.shared.run)) === 'cancel')
        state.cancelled.value = true;
      if (
        !condition(step.if, scope()) ||
        (state.cancelled.value && !/always\(\)|cancelled\(\)/.test(String(step.if ?? '')))
      ) {
        state.stepRuns.push({ id, name, outcome: 'skipped', outputs: {} });
        localSteps[id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
        continue;
      }
      state.log.push(`##[step] ${name}\n`);
      const env = { ...inheritedEnv, ...state.env, ...this.envOf(step.env, scope()) };
      let outputs: Record<string, string> = {};
      let ok = true;
      try {
        if (step.run !== undefined) {
          const script = stringify(interpolate(step.run, scope()));
          const shell = step.shell ?? defaults?.run?.shell ?? 'bash';
          const cwd = resolve(
            state.workspace,
            step['working-directory'] ?? defaults?.run?.['working-directory'] ?? '.',
          );
          outputs = await this.runScript(state, contexts, script, shell, cwd, env, action);
        } else if (step.uses) {
          const withInputs = Object.fromEntries(
            Object.entries(step.with ?? {}).map(([k, v]) => [k, stringify(interpolate(v, scope()))]),
          );
          outputs = await this.runUses(state, contexts, step.uses, withInputs, env);
        }
      } catch (error) {
        ok = false;
        state.log.push(`##[error]${(error as Error).message}\n`);
      }
      const continueOnError = Boolean(interpolate(step['continue-on-error'] ?? false, scope()));
      const outcome = state.cancelled.value ? 'cancelled' : ok ? 'success' : 'failure';
      if (outcome === 'failure' && !continueOnError) state.status = 'failure';
      state.stepRuns.push({ id, name, outcome, outputs });
      localSteps[id] = {
        outputs,
        outcome,
        conclusion: outcome === 'failure' && continueOnError ? 'success' : outcome,
      };
    }
    if (action) contexts.__composite_steps = localSteps;
  }

  private async runScript(
    state: JobState,
    contexts: Record<string, unknown>,
    script: string,
    shell: string,
    cwd: string,
    env: Record<string, string>,
    action: ActionDef | null,
  ): Promise<Record<string, string>> {
    const file = join(state.temp, `${randomUUID()}.sh`);
    await writeFile(file, script);
    const argv =
      shell === 'bash'
        ? ['bash', '--noprofile', '--norc', '-eo', 'pipefail', file]
        : shell === 'sh'
          ? ['sh', '-e', file]
          : [...shell.replace('{0}', file).split(' ')];
    return this.exec(state, contexts, argv, cwd, {
      ...env,
      ...(action ? { GITHUB_ACTION_PATH: action.dir } : {}),
    });
  }

  private async runUses(
    state: JobState,
    contexts: Record<string, unknown>,
    uses: string,
    withInputs: Record<string, string>,
    env: Record<string, string>,
  ): Promise<Record<string, string>> {
    const [path, ref] = uses.split('@');
    const ours = path!.startsWith(`${this.options.actionsRepo}/`)
      ? path!.slice(this.options.actionsRepo.length + 1)
      : path!.startsWith('./')
        ? path!
        : null;
    if (ours === null) {
      const standIn = STAND_INS[path!.split('/').slice(0, 2).join('/')];
      if (!standIn)
        throw new Error(
          `uses: ${uses} is not an action this test runner knows; add a stand-in or do not use it`,
        );
      if (!/^[0-9a-f]{40}$/.test(ref ?? ''))
        throw new Error(`uses: ${uses} is not pinned to a full commit SHA`);
      const g = contexts.github as Record<string, string>;
      return standIn({
        inputs: withInputs,
        workspace: state.workspace,
        artifacts: state.shared.run.artifacts,
        jobToken: state.token,
        repository: g.repository!,
        ref: state.shared.ref,
        cloneUrl: this.options.cloneUrl,
        ...(this.options.tokens.forApp
          ? { mintAppToken: this.options.tokens.forApp.bind(this.options.tokens) }
          : {}),
        log: (line) => state.log.push(`${line}\n`),
      });
    }
    const dir = resolve(this.options.checkout, ours);
    let action = this.actions.get(dir);
    if (!action) {
      action = await loadAction(dir);
      this.actions.set(dir, action);
    }
    const scope: ExpressionScope = { contexts: { ...contexts, env }, status: 'success' };
    const inputs: Record<string, string> = {};
    for (const [key, def] of Object.entries(action.inputs)) {
      inputs[key] = key in withInputs ? withInputs[key]! : stringify(interpolate(def.default ?? '', scope));
      if (def.required && inputs[key] === '') throw new Error(`${uses}: input ${key} is required`);
    }
    for (const key of Object.keys(withInputs)) {
      if (!(key in action.inputs))
        state.log.push(
          `##[warning]Unexpected input(s) '${key}', valid inputs are [${Object.keys(action.inputs).join(', ')}]\n`,
        );
    }
    if (action.runs.using === 'composite') {
      const inner: Record<string, unknown> = {
        ...contexts,
        inputs,
        github: { ...(contexts.github as object), action_path: dir },
      };
      const before = state.status;
      await this.runSteps(action.runs.steps, state, inner, { ...env }, undefined, action);
      const steps = inner.__composite_steps as Record<string, unknown>;
      const outputs = Object.fromEntries(
        Object.entries(action.outputs).map(([k, v]) => [
          k,
          stringify(interpolate(v.value ?? '', { contexts: { ...inner, steps }, status: 'success' })),
        ]),
      );
      if (state.status !== 'success' && before === 'success')
        throw Object.assign(new Error(`${uses}: a step of the composite action failed`), { outputs });
      return outputs;
    }
    const inputEnv = Object.fromEntries(
      Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v]),
    );
    return this.exec(state, contexts, [process.execPath, join(dir, action.runs.main)], state.workspace, {
      ...env,
      ...inputEnv,
      GITHUB_ACTION_PATH: dir,
      GITHUB_ACTION_REPOSITORY: this.options.actionsRepo,
    });
  }

  /** Runs one process with the runner's files; its output goes to the job log; its outputs are returned. */
  private async exec(
    state: JobState,
    contexts: Record<string, unknown>,
    argv: string[],
    cwd: string,
    env: Record<string, string>,
  ): Promise<Record<string, string>> {
    const files = Object.fromEntries(
      ['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY', 'GITHUB_STATE'].map((k) => [
        k,
        join(state.temp, `${k.toLowerCase()}-${randomUUID()}`),
      ]),
    );
    await Promise.all(Object.values(files).map((f) => writeFile(f, '')));
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      env: { ...this.runnerEnv(state, contexts), ...env, ...files },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    state.setCancel(kill);
    const timer = setTimeout(
      () => {
        state.log.push('##[error]The job has exceeded the maximum execution time\n');
        state.cancelled.value = true;
        kill();
      },
      Math.max(0, state.deadline - Date.now()),
    );
    child.stdout.on('data', (c: Buffer) => state.log.push(c.toString()));
    child.stderr.on('data', (c: Buffer) => state.log.push(c.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    clearTimeout(timer);
    state.setCancel(() => {});
    const read = (k: string) => readFile(files[k]!, 'utf8');
    Object.assign(state.env, parseKeyValueFile(await read('GITHUB_ENV')));
    state.path.unshift(...(await read('GITHUB_PATH')).split('\n').filter(Boolean));
    state.summary.push(await read('GITHUB_STEP_SUMMARY'));
    const outputs = parseKeyValueFile(await read('GITHUB_OUTPUT'));
    if (code !== 0)
      throw Object.assign(new Error(`Process completed with exit code ${code ?? 'signal'}.`), { outputs });
    return outputs;
  }
}

interface Shared {
  run: WorkflowRun;
  root: string;
  ref: string;
  eventPayload: object;
  workflow: WorkflowDef;
  cancelled: boolean;
}

interface JobState {
  job: JobDef;
  token: string;
  workspace: string;
  temp: string;
  home: string;
  log: string[];
  summary: string[];
  env: Record<string, string>;
  path: string[];
  steps: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }>;
  stepRuns: StepRun[];
  status: JobStatus;
  deadline: number;
  cancelled: { value: boolean };
  setCancel: (fn: () => void) => void;
  shared: { run: WorkflowRun; root: string; ref: string };
}
