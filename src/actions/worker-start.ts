/**
 * `actions/worker-start`: the trusted first job of an attempt. Refuses an unclaimed attempt (or claims one for
 * a manual run), records `attempt.started`, checks out the task branch and writes the task files; the
 * context it leaves (`context` output, a JSON file next to the task files) is what the agent step reads.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as core from '@actions/core';
import { resultFileIn } from '../executor/agent-env.js';
import { startAttempt } from '../worker/attempt.js';
import { actionContext, input, openActionTarget, phases, runAction, tokenInput } from './io.js';

/** Minutes the agent job may take: what is left of the attempt, plus a margin for checkout and upload. */
const MARGIN_MINUTES = 5;

async function main(): Promise<void> {
  const token = tokenInput('token', true);
  const log = phases();
  await runAction(async () => {
    const target = openActionTarget(token);
    const ctx = actionContext('worker', log.progress);
    const task = input('task', { required: true });
    const attempt = input('attempt');
    const context = await startAttempt(
      { ...ctx, git: target.git, forge: target.forge, events: target.events, env: process.env },
      task,
      attempt || undefined,
    );
    log.end();
    const file = join(context.taskDir, 'context.json');
    // The agent job downloads this file: no credential of this job goes with it.
    const { token: _token, ...pushTarget } = context.pushTarget;
    await writeFile(
      file,
      JSON.stringify({ ...context, pushTarget: { ...pushTarget, headers: [] } }, null, 2),
    );
    const left = Math.max(1, Math.ceil((Date.parse(context.deadline) - Date.now()) / 60_000));
    core.info(
      `started ${context.task.id} attempt ${context.number}/${context.maxAttempts} (${context.attempt}) at ${context.baseSha.slice(0, 7)}`,
    );
    await core.summary
      .addRaw(
        `## Leviathan attempt started — ${context.task.id} attempt ${context.number}/${context.maxAttempts}\n\nBase \`${context.base}\` at \`${context.baseSha.slice(0, 7)}\`, deadline ${context.deadline}.\n`,
      )
      .write();
    core.setOutput('task', context.task.id);
    core.setOutput('attempt', context.attempt);
    core.setOutput('base', context.base);
    core.setOutput('base-sha', context.baseSha);
    core.setOutput('task-dir', context.taskDir);
    core.setOutput('result-file', resultFileIn(context.taskDir));
    core.setOutput('context', file);
    core.setOutput('timeout-minutes', String(left + MARGIN_MINUTES));
  }, log.end);
}

await main();
