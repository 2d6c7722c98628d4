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
 *
 * This module picks the jobs an event starts and runs them (needs, `if:`, concurrency, tokens, outputs);
 * `steps.ts` runs one job's steps, `contexts.ts` builds what expressions see, `types.ts` holds the shapes.
 */
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConcurrencyGroups } from './concurrency.js';
import { baseContexts, effectivePermissions, envOf } from './contexts.js';
import { condition, type ExpressionScope, interpolate, type JobStatus, stringify } from './expressions.js';
import { StepRunner } from './steps.js';
import type { JobResult, JobRun, JobState, RunnerOptions, Shared, WorkflowRun } from './types.js';
import { type JobDef, loadWorkflow, type WorkflowDef } from './workflow.js';

export { effectivePermissions } from './contexts.js';
export type { JobResult, JobRun, RunnerOptions, StepRun, TokenIssuer, WorkflowRun } from './types.js';

let runCounter = 1000;

export class WorkflowRunner {
  readonly groups = new ConcurrencyGroups();
  private workflow: WorkflowDef | null = null;
  private readonly steps: StepRunner;

  constructor(readonly options: RunnerOptions) {
    this.steps = new StepRunner(options);
  }

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
    // As on a runner, where RUNNER_TEMP is reachable: run as root, the agent's sandbox runs as nobody.
    await chmod(root, 0o711);
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
      contexts: baseContexts(this.options, shared, workflow.jobs[0]!, {}),
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
    const base = baseContexts(this.options, shared, job, needs);
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
          Number(interpolate(job['timeout-minutes'] ?? 360, jobScope)) *
            (this.options.jobMinuteMs?.[job.id] ?? this.options.minuteMs ?? 60_000),
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
      const jobEnv = envOf({ ...workflow.env, ...job.env }, { contexts: base, status: 'success' });
      await this.steps.runSteps(job.steps, state, base, jobEnv, job.defaults ?? workflow.defaults, null);
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
}
