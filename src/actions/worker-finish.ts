/**
 * `actions/worker-finish`: the trusted last job (or step) of an attempt, run even when the agent failed. In
 * the three-job worker it runs no code from the agent job: it rebuilds the context from the event log and the
 * base commit, judges the downloaded work-tree archive as data, then checks, verifies and delivers exactly as
 * the one-job worker does (`finishAttempt`), so a failed or cancelled agent still ends in `attempt.failed`
 * with its work on a WIP branch.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as core from '@actions/core';
import { UserError } from '../core/errors.js';
import { resultFileIn } from '../executor/agent-env.js';
import { readResultFile } from '../executor/result-file.js';
import type { RunSandboxedResult } from '../executor/sandboxed-run.js';
import { PrivateRepo } from '../store/private-repo.js';
import {
  ArtifactRefused,
  archiveResultFile,
  DEFAULT_ARTIFACT_LIMITS,
  unpackWorkTree,
} from '../worker/artifact.js';
import {
  type AttemptContext,
  type AttemptResult,
  finishAttempt,
  type WorkerDeps,
} from '../worker/attempt.js';
import { agentJobResult, resumeAttempt } from '../worker/resume.js';
import { attemptHeadline, renderAttemptMarkdown } from '../worker/summary.js';
import { actionContext, input, openActionTarget, phases, runAction, runUrl, tokenInput } from './io.js';

async function main(): Promise<void> {
  const token = tokenInput('token', true);
  const prToken = tokenInput('pr-token');
  const log = phases();
  await runAction(async () => {
    const target = openActionTarget(token, prToken || undefined);
    const ctx = actionContext('worker', log.progress);
    const url = runUrl();
    const deps: WorkerDeps = { ...ctx, ...target, env: process.env, ...(url ? { runUrl: url } : {}) };
    const saved = input('context');
    let context: AttemptContext;
    let executed: RunSandboxedResult | undefined;
    let refusal: { reason: 'scope_violation' | 'limit_exceeded'; detail: string } | undefined;
    if (saved) {
      // One job: start, the agent step and finish share the runner; the agent step left its result.
      context = JSON.parse(await readFile(saved, 'utf8')) as AttemptContext;
      // start wrote the file without credentials: push with this job's (and the PR token, when given).
      context.pushTarget = await PrivateRepo.pushTarget(target.git, target.forge.pushToken?.());
      executed = await readFile(join(context.taskDir, 'executed.json'), 'utf8').then(
        (t) => JSON.parse(t) as RunSandboxedResult,
        () => agentJobResult(input('agent-result') || 'failure', context.deadline, ctx.now()),
      );
      // An agent step (an action, not the worker's own run) may have reported its spend: read it as data.
      if (executed && executed.usage === undefined) {
        const reading = await readResultFile(resultFileIn(context.taskDir));
        if (reading.warning) core.warning(reading.warning);
        if (reading.usage) executed = { ...executed, usage: reading.usage };
      }
    } else {
      log.progress('rebuilding the attempt from the event log');
      context = await resumeAttempt(
        deps,
        input('task', { required: true }),
        input('attempt', { required: true }),
        input('base-sha', { required: true }),
        input('base', { required: true }),
      );
      executed = agentJobResult(input('agent-result', { required: true }), context.deadline, ctx.now());
      const archive = input('archive');
      if (archive) {
        log.progress('checking the agent artifact');
        const found = await readFile(archive).then(
          () => true,
          () => false,
        );
        if (found) {
          try {
            // Over the fresh work tree resume made at the base, never over the checkout.
            const count = await unpackWorkTree(archive, context.workTree, {
              ...DEFAULT_ARTIFACT_LIMITS,
              maxMemberBytes: Math.max(
                context.config.limits.max_diff_bytes,
                DEFAULT_ARTIFACT_LIMITS.maxMemberBytes,
              ),
            });
            core.info(`unpacked ${count} member(s) into a fresh work tree`);
          } catch (error) {
            if (!(error instanceof ArtifactRefused)) throw error;
            refusal = { reason: error.reason, detail: error.message };
          }
        } else core.info('the agent job left no artifact');
        // The spend the agent job reported beside the archive (leviathan-result.json): the agent's data.
        const spent = await readResultFile(archiveResultFile(archive));
        if (spent.warning) core.warning(spent.warning);
        if (spent.usage) {
          // A successful agent job has no result of its own here (undefined: ok); the spend rides on one.
          const ok: RunSandboxedResult = { status: 'ok', exitCode: 0, outputTail: '', durationMs: 0 };
          executed = { ...(executed ?? ok), usage: spent.usage };
        }
      }
    }
    const outcome = await finishAttempt(deps, context, executed, refusal);
    log.end();
    const result: AttemptResult = {
      context,
      outcome,
      ...(executed?.egressRefused ? { egress_refused: executed.egressRefused } : {}),
    };
    core.info(attemptHeadline(result));
    await core.summary.addRaw(renderAttemptMarkdown(result)).write();
    core.setOutput('task', context.task.id);
    core.setOutput('attempt', context.attempt);
    if (outcome.status === 'succeeded') {
      core.notice(`pull request #${outcome.pr} ${outcome.created ? 'opened' : 'updated'}: ${outcome.url}`);
      core.setOutput('pr-number', String(outcome.pr));
      core.setOutput('pr-url', outcome.url);
      core.setOutput('decision', 'succeeded');
    } else {
      core.setOutput('decision', 'failed');
      core.setOutput('reason', outcome.reason);
      throw new UserError(
        `attempt failed (${outcome.reason}): ${outcome.detail}${outcome.wip_branch ? `; work kept on ${outcome.wip_branch}` : ''}`,
      );
    }
  }, log.end);
}

await main();
