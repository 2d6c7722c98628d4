import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Task } from '../core/backlog.js';
import { markTaskDone } from '../core/backlog-writeback.js';
import type { Config } from '../core/config.js';
import { BACKLOG_FILE } from '../core/documents.js';
import { UserError } from '../core/errors.js';
import type { EventDraft, FailureReason } from '../core/events.js';
import { renderPullBody } from '../core/pr-body.js';
import { openPullsOf, wipBranch } from '../core/reconcile.js';
import type { RunContext } from '../core/run-context.js';
import { maxAttemptsFor } from '../core/select.js';
import { buildAgentEnv, createTaskDir, writeTaskFiles } from '../executor/agent-env.js';
import { collectChanges } from '../executor/changes.js';
import { checkDiff, type GuardReport } from '../executor/diff-guard.js';
import { type RunCommandsResult, runCommands } from '../executor/run-commands.js';
import type { Forge } from '../forge/forge.js';
import { observePulls } from '../forge/observe.js';
import { loadBaseDocuments } from '../store/base-branch.js';
import type { EventStore } from '../store/event-store.js';
import type { Git } from '../store/git.js';
import { commitFileChange, commitMessage, commitTree, pushBranch } from './branch.js';
import { claimedAttempt, claimManually } from './claim.js';
import { restoreGitConfig, type SavedGitConfig, saveGitConfig } from './git-hygiene.js';

export interface WorkerDeps extends RunContext {
  /** The checkout the attempt works in, in place (the Actions workspace or a temporary clone). */
  git: Git;
  forge: Forge;
  events: EventStore;
  runUrl?: string;
  /** Environment the agent's scrubbed environment is built from; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Live output of the task's commands. */
  onOutput?: (chunk: string) => void;
}

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
  gitConfig: SavedGitConfig;
}

export type AttemptOutcome =
  | { status: 'succeeded'; pr: number; url: string; created: boolean; report: GuardReport }
  | { status: 'failed'; reason: FailureReason; detail: string; wip_branch?: string; report?: GuardReport };

export interface AttemptResult {
  context: AttemptContext;
  outcome: AttemptOutcome;
}

function draft(deps: RunContext, ctx: AttemptContext, rest: Pick<EventDraft, 'type' | 'data'>): EventDraft {
  return {
    id: deps.newId(),
    ts: deps.now().toISOString(),
    actor: deps.actor,
    task: ctx.task.id,
    attempt: ctx.attempt,
    ...rest,
  } as EventDraft;
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
  const defaultBranch = await deps.forge.defaultBranch();
  say(`loading the backlog from ${defaultBranch}`);
  const docs = await loadBaseDocuments(deps.git, defaultBranch);
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
  const started = await deps.events.append(
    [
      {
        id: deps.newId(),
        ts: deps.now().toISOString(),
        actor: deps.actor,
        task: taskId,
        attempt: id,
        type: 'attempt.started',
        data: { base_sha: docs.sha },
      },
    ],
    // Two workers for one attempt: only the first start counts.
    (s) => {
      const a = Object.hasOwn(s.attempts, id) ? s.attempts[id] : undefined;
      return a && (a.status === 'created' || a.status === 'dispatched')
        ? true
        : `attempt is ${a?.status ?? 'unknown'}`;
    },
  );
  if (!started.ok) throw new UserError(`attempt ${id} cannot start: ${started.refused}`);

  const branch = `${docs.config.pr.branch_prefix}${task.id}`;
  say(`checking out ${branch} at ${docs.base} ${docs.sha.slice(0, 7)}`);
  await deps.git.run(['checkout', '--quiet', '--force', '-B', branch, docs.sha]);
  const maxAttempts = maxAttemptsFor(task, docs.config);
  const timeoutSeconds = Math.max(
    0,
    Math.floor((Date.parse(claimed.deadline) - deps.now().getTime()) / 1000),
  );
  const taskDir = await createTaskDir(deps.env?.RUNNER_TEMP);
  const files = await writeTaskFiles(
    taskDir,
    task,
    { id, number: claimed.number, maxAttempts, timeoutSeconds },
    { scope: docs.config.scope, limits: docs.config.limits, checkout: deps.git.cwd },
  );
  const gitConfig = await saveGitConfig(deps.git, taskDir);
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
    taskDir,
    ...files,
    gitConfig,
  };
}

/** What running the commands needs: no forge and no event log (the agent job has neither). */
export type ExecuteDeps = Omit<WorkerDeps, 'forge' | 'events'>;

function agentEnv(deps: ExecuteDeps, ctx: AttemptContext) {
  return buildAgentEnv({
    source: deps.env ?? process.env,
    allowlist: ctx.config.executor.env_allowlist,
    promptFile: ctx.promptFile,
    taskFile: ctx.taskFile,
    taskId: ctx.task.id,
    attemptId: ctx.attempt,
    timeoutSeconds: remainingMs(deps, ctx) / 1000,
  }).env;
}

function remainingMs(deps: RunContext, ctx: AttemptContext): number {
  return Math.max(0, Date.parse(ctx.deadline) - deps.now().getTime());
}

/** The commands the attempt runs: the task's own `run`, else the configured agent command. */
export function executorCommands(ctx: AttemptContext): string[] {
  if (ctx.task.run) return ctx.task.run;
  return ctx.config.executor.command ? [ctx.config.executor.command] : [];
}

/** SPEC §3.2 step 3 for commands and `executor.command` (an agent action in Actions runs between steps). */
export async function executeAttempt(deps: ExecuteDeps, ctx: AttemptContext): Promise<RunCommandsResult> {
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
  (deps.progress ?? (() => {}))(`running ${commands.length} command(s) for ${ctx.task.id}`);
  return runCommands({
    commands,
    cwd: deps.git.cwd,
    env: agentEnv(deps, ctx),
    timeoutMs: remainingMs(deps, ctx),
    ...(deps.onOutput ? { onOutput: (chunk: string) => deps.onOutput?.(chunk) } : {}),
  });
}

/**
 * SPEC §3.2 steps 4–7: check the diff, verify, commit, push, open or update the PR and record the outcome.
 * Every failure keeps the work on `leviathan-wip/<task>/<attempt>` before it is recorded.
 */
export async function finishAttempt(
  deps: WorkerDeps,
  ctx: AttemptContext,
  executed?: RunCommandsResult,
  /** Why the agent's work was refused before it reached the checkout (a crafted artifact). */
  refusal?: { reason: FailureReason; detail: string },
): Promise<AttemptOutcome> {
  const say = deps.progress ?? (() => {});
  await restoreGitConfig(ctx.gitConfig);
  const { git } = deps;
  const { config, task } = ctx;
  say('collecting the changes');
  const changes = await collectChanges(git, ctx.baseSha);
  const wip = wipBranch(task.id, ctx.attempt);
  const subject = commitMessage(task.title, task.id, ctx.attempt);

  const fail = async (
    reason: FailureReason,
    detail: string,
    extra: { output_tail?: string; report?: GuardReport } = {},
  ) => {
    let kept: string | undefined;
    if (changes.changes.length > 0) {
      try {
        const commit = await commitTree(git, changes.tree, ctx.baseSha, `WIP: ${subject}`);
        await pushBranch(git, commit, wip, config.pr.branch_prefix, ctx.base);
        kept = wip;
      } catch (error) {
        detail = `${detail}; the WIP push failed too: ${(error as Error).message}`;
      }
    }
    const data = {
      reason,
      detail,
      ...(kept ? { wip_branch: kept } : {}),
      ...(extra.output_tail !== undefined ? { output_tail: extra.output_tail } : {}),
    };
    await appendOrThrow(deps, [draft(deps, ctx, { type: 'attempt.failed', data })]);
    await rm(ctx.taskDir, { recursive: true, force: true });
    const outcome: AttemptOutcome = {
      status: 'failed',
      reason,
      detail,
      ...(kept ? { wip_branch: kept } : {}),
    };
    return extra.report ? { ...outcome, report: extra.report } : outcome;
  };

  if (refusal) return fail(refusal.reason, refusal.detail);
  if (executed && executed.status === 'timeout') {
    return fail(
      'timeout',
      `the attempt's time limit ran out during: ${executed.failedCommand ?? 'the executor'}`,
      {
        output_tail: executed.outputTail,
      },
    );
  }
  if (executed && executed.status === 'failed') {
    const why = executed.error ?? `exit ${executed.exitCode ?? executed.signal}`;
    return fail('executor_error', `${executed.failedCommand ?? 'executor'} failed (${why})`, {
      output_tail: executed.outputTail,
    });
  }

  say('checking the diff against the guardrails');
  const guard = checkDiff(changes.changes, {
    taskGlobs: task.allowed_paths,
    scope: config.scope,
    maxFiles: config.limits.max_files_changed,
    maxBytes: config.limits.max_diff_bytes,
  });
  if (!guard.ok)
    return fail(guard.reason, guard.violations.join('; ') || guard.reason, { report: guard.report });

  const verify = task.verify ?? config.executor.verify;
  if (verify) {
    say(`verifying: ${verify}`);
    const verified = await runCommands({
      commands: [verify],
      cwd: git.cwd,
      env: agentEnv(deps, ctx),
      timeoutMs: remainingMs(deps, ctx),
    });
    if (verified.status !== 'ok') {
      const reason: FailureReason = verified.status === 'timeout' ? 'timeout' : 'verify_failed';
      return fail(reason, `verify \`${verify}\` ${verified.status === 'timeout' ? 'timed out' : 'failed'}`, {
        output_tail: verified.outputTail,
        report: guard.report,
      });
    }
  }

  say(`committing and pushing ${ctx.branch}`);
  let head: string;
  try {
    head = await commitTree(git, changes.tree, ctx.baseSha, subject);
    if (config.pr.mark_done_in_backlog) {
      const backlog = await git.readFile(head, BACKLOG_FILE);
      if (backlog !== null) {
        head = await commitFileChange(
          git,
          head,
          BACKLOG_FILE,
          markTaskDone(backlog, task.id),
          commitMessage(`Mark ${task.id} done in the backlog`, task.id, ctx.attempt),
          join(ctx.taskDir, 'writeback.index'),
        );
      }
    }
    await pushBranch(git, head, ctx.branch, config.pr.branch_prefix, ctx.base);
  } catch (error) {
    return fail('push_error', (error as Error).message, { report: guard.report });
  }

  say('opening the pull request');
  let pull: Awaited<ReturnType<Forge['upsertPull']>>;
  try {
    pull = await deps.forge.upsertPull({
      branch: ctx.branch,
      base: ctx.base,
      title: task.title,
      body: renderPullBody({
        task,
        attempt: ctx.attempt,
        attemptNumber: ctx.number,
        maxAttempts: ctx.maxAttempts,
        checks: guard.report.checks,
        ...(deps.runUrl ? { runUrl: deps.runUrl } : {}),
      }),
      draft: config.pr.draft,
      labels: [...new Set([...config.pr.labels, ...task.labels])],
      reviewers: config.pr.reviewers,
    });
  } catch (error) {
    return fail('pr_error', (error as Error).message, { report: guard.report });
  }
  await appendOrThrow(deps, [
    draft(deps, ctx, {
      type: 'pr.created',
      data: { number: pull.pull.number, branch: ctx.branch, url: pull.pull.url, updated: !pull.created },
    }),
    draft(deps, ctx, { type: 'attempt.succeeded', data: { pr: pull.pull.number, commit: head } }),
  ]);
  await rm(ctx.taskDir, { recursive: true, force: true });
  return {
    status: 'succeeded',
    pr: pull.pull.number,
    url: pull.pull.url,
    created: pull.created,
    report: guard.report,
  };
}

async function appendOrThrow(deps: WorkerDeps, drafts: EventDraft[]): Promise<void> {
  const result = await deps.events.append(drafts);
  if (!result.ok) throw new UserError(`could not record the attempt's outcome: ${result.refused}`);
}

/** One whole attempt with the task's commands: start → execute → finish. */
export async function runAttempt(
  deps: WorkerDeps,
  taskId: string,
  attemptId?: string,
): Promise<AttemptResult> {
  const context = await startAttempt(deps, taskId, attemptId);
  const executed = await executeAttempt(deps, context);
  return { context, outcome: await finishAttempt(deps, context, executed) };
}
