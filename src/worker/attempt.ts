import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Task } from '../core/backlog.js';
import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { FailureReason } from '../core/events.js';
import { previousFailure, renderFeedback } from '../core/feedback.js';
import { openPullsOf } from '../core/reconcile.js';
import type { RunContext } from '../core/run-context.js';
import { maxAttemptsFor } from '../core/select.js';
import { attemptById } from '../core/state.js';
import type { State } from '../core/state-types.js';
import { createTaskDir, resultFileIn, writeTaskFiles } from '../executor/agent-env.js';
import type { GuardReport } from '../executor/diff-guard.js';
import type { RefusedHost } from '../executor/egress-proxy.js';
import { readResultFile } from '../executor/result-file.js';
import type { RunSandboxedResult } from '../executor/sandboxed-run.js';
import type { Forge } from '../forge/forge.js';
import { observePulls } from '../forge/observe.js';
import { loadBaseDocuments } from '../store/base-branch.js';
import type { EventStore } from '../store/event-store.js';
import type { Git } from '../store/git.js';
import { PrivateRepo, type PushTarget } from '../store/private-repo.js';
import { attemptRedactor, runAgentCommands } from './agent-run.js';
import { attemptDraft } from './attempt-events.js';
import { claimedAttempt, claimManually } from './claim.js';
import { agentEnv, type DeliveryRefusal, deliverWorkTree, remainingMs } from './deliver.js';

export interface WorkerDeps extends RunContext {
  /**
   * The checkout Leviathan reads the base from and borrows objects of (the Actions workspace or a scratch
   * clone). The agent never works in it: it gets a fresh work tree of its own.
   */
  git: Git;
  forge: Forge;
  events: EventStore;
  runUrl?: string;
  /** Environment the agent's scrubbed environment is built from; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Live output of the task's commands, redacted. */
  onOutput?: (chunk: string) => void;
  /** Paths the agent must not see besides Leviathan's own (e.g. the user's checkout a scratch clone came from). */
  hide?: string[];
  /** Secrets held outside `env` (a token given on the command line), redacted from every output. */
  secrets?: string[];
}

/** What running the commands needs: no forge and no event log (the agent job has neither). */
export type ExecuteDeps = Omit<WorkerDeps, 'forge' | 'events'>;

/** Everything `finish` needs; plain JSON so worker-start and worker-finish can be separate steps. */
export interface AttemptContext {
  task: Task;
  config: Config;
  attempt: string;
  number: number;
  maxAttempts: number;
  deadline: string;
  base: string;
  baseSha: string;
  branch: string;
  taskDir: string;
  promptFile: string;
  taskFile: string;
  /** On a retry: the previous attempt's failure as Markdown (`LEVIATHAN_FEEDBACK_FILE`). */
  feedbackFile?: string;
  /** The agent's fresh work tree (its own disposable `.git`, no remote). */
  workTree: string;
  /** Where pushes go, captured before the agent ran. */
  pushTarget: PushTarget;
  /** The PR branch's commit on the origin before the agent ran (the push's lease); null when absent. */
  branchAt: string | null;
}

export type AttemptOutcome =
  | { status: 'succeeded'; pr: number; url: string; created: boolean; report: GuardReport }
  | {
      status: 'failed';
      reason: FailureReason;
      detail: string;
      wip_branch?: string;
      report?: GuardReport;
      /** The failing command's last output (redacted), as recorded in `attempt.failed`. */
      output_tail?: string;
    };

export interface AttemptResult {
  context: AttemptContext;
  outcome: AttemptOutcome;
  /** `executor.network: allowlist`: the hosts the egress proxy refused the agent (redacted), once each. */
  egress_refused?: RefusedHost[];
}

/**
 * SPEC §3.2 steps 1–2: refuse an unclaimed attempt (or claim one for a manual run), record
 * `attempt.started`, put the checkout on `leviathan/<task>` at the base tip and write the task files.
 */
export async function startAttempt(
  deps: WorkerDeps,
  taskId: string,
  attemptId?: string,
): Promise<AttemptContext> {
  const say = deps.progress ?? (() => {});
  let defaultBranch: string;
  try {
    defaultBranch = await deps.forge.defaultBranch();
  } catch (error) {
    throw await unstartable(deps, taskId, attemptId, error);
  }
  say(`loading the backlog from ${defaultBranch}`);
  const docs = await loadBaseDocuments(deps.git, defaultBranch);
  deps.events.trustKey?.(docs.config.events.public_key);
  const task = docs.backlog.tasks.find((t) => t.id === taskId);
  if (!task) throw new UserError(`task ${taskId} is not in the backlog on ${docs.base}`);

  let attempt = attemptId;
  if (!attempt) {
    say(`claiming ${taskId} under the scheduler's limits`);
    const pulls = await observePulls(deps.forge, docs.config, deps.now());
    const open = openPullsOf(pulls, docs.config.pr.branch_prefix);
    attempt = await claimManually(deps.events, task, docs.backlog, docs.config, open, deps);
  }
  const { state } = await deps.events.read();
  const claimed = claimedAttempt(state, taskId, attempt);
  const id = attempt;
  const branch = `${docs.config.pr.branch_prefix}${task.id}`;
  // Where pushes go and the PR branch's tip (the lease), read before anything is pushed: the forge's listing
  // of the origin above already saw that tip, and a push makes that listing stale.
  let target: { pushTarget: PushTarget; branchAt: string | null | undefined } | Error;
  try {
    const pushTarget = await PrivateRepo.pushTarget(deps.git, deps.forge.pushToken?.());
    target = { pushTarget, branchAt: PrivateRepo.listedBranch(pushTarget, branch) };
  } catch (error) {
    target = error as Error;
  }
  const started = await deps.events.append(
    [
      attemptDraft(
        deps,
        { task: { id: taskId }, attempt: id },
        { type: 'attempt.started', data: { base_sha: docs.sha } },
      ),
    ],
    // Two workers for one attempt: only the first start counts.
    (s) => notStarted(s, id),
  );
  if (!started.ok) throw new UserError(`attempt ${id} cannot start: ${started.refused}`);

  const maxAttempts = maxAttemptsFor(task, docs.config);
  const timeoutSeconds = Math.max(
    0,
    Math.floor((Date.parse(claimed.deadline) - deps.now().getTime()) / 1000),
  );
  say(`making a fresh work tree at ${docs.base} ${docs.sha.slice(0, 7)}`);
  let prepared: { workTree: string; pushTarget: PushTarget; branchAt: string | null; taskDir: string };
  let files: Awaited<ReturnType<typeof writeTaskFiles>>;
  try {
    if (target instanceof Error) throw target;
    const repo = await PrivateRepo.create(deps.git);
    try {
      const { pushTarget } = target;
      const branchAt =
        target.branchAt !== undefined ? target.branchAt : await repo.remoteBranch(pushTarget, branch);
      const workTree = await mkdtemp(join(tmpdir(), 'leviathan-agent-'));
      await repo.checkoutWorkTree(docs.sha, workTree, docs.base);
      const taskDir = await createTaskDir(deps.env?.RUNNER_TEMP);
      prepared = { workTree, pushTarget, branchAt, taskDir };
    } finally {
      await repo.remove();
    }
    // A retry is told why the attempt before it failed (redacted again with what this worker knows).
    const previous = previousFailure(state, taskId, id);
    files = await writeTaskFiles(
      prepared.taskDir,
      task,
      { id, number: claimed.number, maxAttempts, timeoutSeconds },
      {
        scope: docs.config.scope,
        limits: docs.config.limits,
        checkout: prepared.workTree,
        ...(previous ? { feedback: renderFeedback(previous, attemptRedactor(deps, docs)) } : {}),
      },
    );
  } catch (error) {
    // Started but unable to run: a failed attempt, so the slot is freed and the loop goes on.
    const detail = `the attempt could not be prepared: ${(error as Error).message}`;
    await deps.events.append([
      attemptDraft(
        deps,
        { task: { id: taskId }, attempt: id },
        { type: 'attempt.failed', data: { reason: 'executor_error', detail } },
      ),
    ]);
    throw new UserError(`attempt ${id} failed: ${detail}`);
  }
  return {
    task,
    config: docs.config,
    attempt: id,
    number: claimed.number,
    maxAttempts,
    deadline: claimed.deadline,
    base: docs.base,
    baseSha: docs.sha,
    branch,
    ...prepared,
    ...files,
  };
}

/**
 * The forge could not be read before the attempt started: a claimed attempt nobody has started yet fails
 * with the reason (one line), so its slot is freed now rather than at the deadline; a started one (another
 * worker has it) is left alone. Returns the error to throw.
 */
async function unstartable(
  deps: WorkerDeps,
  taskId: string,
  attemptId: string | undefined,
  error: unknown,
): Promise<UserError> {
  const detail = `the worker could not read the default branch from the ${deps.forge.kind} forge: ${(error as Error).message}`;
  if (!attemptId) return new UserError(detail);
  const failed = await deps.events
    .append(
      [
        attemptDraft(
          deps,
          { task: { id: taskId }, attempt: attemptId },
          {
            type: 'attempt.failed',
            data: { reason: 'executor_error', detail },
          },
        ),
      ],
      (s) => notStarted(s, attemptId),
    )
    .catch(() => ({ ok: false }));
  return new UserError(failed.ok ? `attempt ${attemptId} failed: ${detail}` : detail);
}

/** A claimed attempt that no worker has started yet. */
function notStarted(state: State, id: string): true | string {
  const a = attemptById(state, id);
  return a && (a.status === 'created' || a.status === 'dispatched')
    ? true
    : `attempt is ${a?.status ?? 'unknown'}`;
}

/**
 * The commands the attempt runs: the task's own `run`, else its `executor.command` (a per-task agent), else
 * the configured agent command.
 */
export function executorCommands(ctx: Pick<AttemptContext, 'task' | 'config'>): string[] {
  if (ctx.task.run) return ctx.task.run;
  const command = ctx.task.executor?.command ?? ctx.config.executor.command;
  return command ? [command] : [];
}

/**
 * SPEC §3.2 step 3 for commands and `executor.command` (an agent action in Actions runs between steps), in
 * the sandbox of `executor.sandbox`; when none can be made the result is a failure and nothing runs.
 */
export async function executeAttempt(deps: ExecuteDeps, ctx: AttemptContext): Promise<RunSandboxedResult> {
  const commands = executorCommands(ctx);
  if (commands.length === 0) {
    // Nothing can do the work here (no agent step either): a failed attempt, recorded like any other.
    return {
      status: 'failed',
      exitCode: null,
      error: `task ${ctx.task.id} has no run commands and executor.command is empty`,
      outputTail: '',
      durationMs: 0,
    };
  }
  const { sandbox, network, network_allow } = ctx.config.executor;
  const net = network === 'allowlist' && network_allow.length === 0 ? 'none (empty allowlist)' : network;
  const where = sandbox === 'none' ? 'UNSANDBOXED (executor.sandbox: none)' : `sandboxed, network ${net}`;
  (deps.progress ?? (() => {}))(`running ${commands.length} command(s) for ${ctx.task.id}, ${where}`);
  const result = await runAgentCommands(deps, ctx, {
    commands,
    env: agentEnv(deps, ctx),
    deadline: Date.now() + remainingMs(deps, ctx),
  });
  // The agent's own report of its spend: data, checked; a bad one is a warning and unknown spend.
  const reading = await readResultFile(resultFileIn(ctx.taskDir));
  if (reading.warning) (deps.progress ?? (() => {}))(`warning: ${reading.warning}`);
  return reading.usage ? { ...result, usage: reading.usage } : result;
}

/**
 * SPEC §3.2 steps 4–7: the work tree read as data, judged, verified, pushed and recorded (see deliver.ts).
 * Every failure keeps what it may of the work on `leviathan-wip/<task>/<attempt>` before it is recorded.
 */
export async function finishAttempt(
  deps: WorkerDeps,
  ctx: AttemptContext,
  executed?: RunSandboxedResult,
  refusal?: DeliveryRefusal,
): Promise<AttemptOutcome> {
  try {
    return await deliverWorkTree(deps, ctx, ctx.workTree, executed, refusal);
  } finally {
    await rm(ctx.taskDir, { recursive: true, force: true }).catch(() => {});
    await rm(ctx.workTree, { recursive: true, force: true }).catch(() => {});
  }
}

/** One whole attempt with the task's commands: start → execute → finish. */
export async function runAttempt(
  deps: WorkerDeps,
  taskId: string,
  attemptId?: string,
): Promise<AttemptResult> {
  const context = await startAttempt(deps, taskId, attemptId);
  const executed = await executeAttempt(deps, context);
  const outcome = await finishAttempt(deps, context, executed);
  return { context, outcome, ...(executed.egressRefused ? { egress_refused: executed.egressRefused } : {}) };
}
