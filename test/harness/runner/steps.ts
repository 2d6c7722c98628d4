/**
 * One job's steps as a hosted runner runs them: `run:` in bash (or the given shell) with the runner's
 * environment and files (`GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH`, `GITHUB_STEP_SUMMARY`), `uses:` of our
 * own actions from this checkout (JavaScript under this Node, composite recursively) with `INPUT_*` and
 * action.yml defaults, and the third-party stand-ins; `if:`, `continue-on-error`, cancellation and the job's
 * deadline.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { envOf } from './contexts.js';
import { condition, type ExpressionScope, interpolate, stringify } from './expressions.js';
import { parseKeyValueFile } from './files.js';
import { STAND_INS } from './stand-ins.js';
import type { JobState, RunnerOptions } from './types.js';
import { type ActionDef, type JobDef, loadAction, type StepDef } from './workflow.js';

export class StepRunner {
  private readonly actions = new Map<string, ActionDef>();

  constructor(private readonly options: RunnerOptions) {}

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

  async runSteps(
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
      const env = { ...inheritedEnv, ...state.env, ...envOf(step.env, scope()) };
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
        env: { ...this.runnerEnv(state, contexts), ...env },
        temp: state.temp,
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
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, name);
      } catch {
        /* already gone */
      }
    };
    // The hosted runner's way to stop a step: SIGINT, a grace, SIGTERM, the rest of it, SIGKILL.
    const grace = this.options.cancelGraceMs ?? 2000;
    const timers: NodeJS.Timeout[] = [];
    const kill = () => {
      signal('SIGINT');
      timers.push(setTimeout(() => signal('SIGTERM'), grace * 0.75));
      timers.push(setTimeout(() => signal('SIGKILL'), grace));
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
    for (const t of timers) clearTimeout(t);
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
