/**
 * The worker as three jobs: `finish` runs on a fresh runner, so it rebuilds the attempt's context from
 * trusted sources only — the event log and the base commit the `start` job recorded — never from anything
 * the agent job could have touched.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { maxAttemptsFor } from '../core/select.js';
import { attemptById } from '../core/state.js';
import { createTaskDir, writeTaskFiles } from '../executor/agent-env.js';
import type { RunSandboxedResult } from '../executor/sandboxed-run.js';
import { readDocumentsAt } from '../store/base-branch.js';
import { PrivateRepo } from '../store/private-repo.js';
import type { AttemptContext, WorkerDeps } from './attempt.js';

export async function resumeAttempt(
  deps: WorkerDeps,
  taskId: string,
  attempt: string,
  baseSha: string,
  base: string,
): Promise<AttemptContext> {
  if (!/^[0-9a-f]{40}$/.test(baseSha))
    throw new UserError(`base-sha ${JSON.stringify(baseSha)} is not a commit id`);
  const docs = await readDocumentsAt(deps.git, baseSha);
  const task = docs.backlog.tasks.find((t) => t.id === taskId);
  if (!task) throw new UserError(`task ${taskId} is not in the backlog at ${baseSha.slice(0, 7)}`);
  const { state } = await deps.events.read();
  const found = attemptById(state, attempt);
  if (!found || found.task !== taskId)
    throw new UserError(`attempt ${attempt} of ${taskId} was never claimed`);
  if (found.status !== 'running') {
    throw new UserError(`attempt ${attempt} of ${taskId} is ${found.status}, not running; nothing to finish`);
  }
  const branch = `${docs.config.pr.branch_prefix}${task.id}`;
  // A fresh work tree at the base (the artifact is unpacked over it), written by a private repository.
  const repo = await PrivateRepo.create(deps.git);
  let prepared: { workTree: string; pushTarget: AttemptContext['pushTarget']; branchAt: string | null };
  try {
    const pushTarget = await PrivateRepo.pushTarget(deps.git, deps.forge.pushToken?.());
    const branchAt = await repo.remoteBranch(pushTarget, branch);
    const workTree = await mkdtemp(join(tmpdir(), 'leviathan-agent-'));
    await repo.checkoutWorkTree(baseSha, workTree, base);
    prepared = { workTree, pushTarget, branchAt };
  } finally {
    await repo.remove();
  }
  const maxAttempts = maxAttemptsFor(task, docs.config);
  const taskDir = await createTaskDir(deps.env?.RUNNER_TEMP);
  const timeoutSeconds = Math.max(0, Math.floor((Date.parse(found.deadline) - deps.now().getTime()) / 1000));
  const files = await writeTaskFiles(
    taskDir,
    task,
    { id: attempt, number: found.number, maxAttempts, timeoutSeconds },
    { scope: docs.config.scope, limits: docs.config.limits, checkout: prepared.workTree },
  );
  return {
    task,
    config: docs.config,
    attempt,
    number: found.number,
    maxAttempts,
    deadline: found.deadline,
    base,
    baseSha,
    branch,
    taskDir,
    ...prepared,
    ...files,
  };
}

/** What `needs.agent.result` says about the agent job, as the executor result finish judges. */
export function agentJobResult(result: string, deadline: string, now: Date): RunSandboxedResult | undefined {
  if (result === 'success') return undefined;
  const late = now.getTime() >= Date.parse(deadline);
  const what = result === 'cancelled' ? 'was cancelled' : result === 'skipped' ? 'did not run' : 'failed';
  return {
    status: late ? 'timeout' : 'failed',
    exitCode: null,
    error: `the agent job ${what}`,
    failedCommand: 'the agent job',
    outputTail: '',
    durationMs: 0,
  };
}
