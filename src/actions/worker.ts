/**
 * The agent step (`actions/agent`, and the middle of `actions/worker`): runs the task's `run` or the
 * configured agent command with the scrubbed environment and the attempt's deadline, then (in the agent job)
 * packs the work tree as the artifact `finish` judges. It holds no write token and records nothing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as core from '@actions/core';
import { UserError } from '../core/errors.js';
import { resultFileOf } from '../core/usage.js';
import { stopRunningCommands } from '../executor/run-commands.js';
import { Git } from '../store/git.js';
import { PrivateRepo } from '../store/private-repo.js';
import { archiveResultFile } from '../worker/artifact.js';
import { type AttemptContext, executeAttempt } from '../worker/attempt.js';
import { actionContext, input, phases, runAction } from './io.js';

function pack(workTree: string, archive: string): Promise<unknown> {
  return promisify(execFile)('tar', ['--create', '--file', archive, '--exclude=./.git', '-C', workTree, '.']);
}

/**
 * A job that is cancelled or runs out of `timeout-minutes` gets SIGINT, then SIGTERM, then SIGKILL. On the
 * first, the agent is stopped and its work tree packed as it is, so the upload step (`if: always()`) still
 * hands finish whatever the agent did: a timed-out agent's work ends on the WIP branch, not lost.
 */
function keepWorkOnStop(workTree: string, archive: string): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    stopRunningCommands();
    core.error(`leviathan: the agent step was stopped (${signal}); its work tree is kept as it is`);
    pack(workTree, archive)
      .then(() => core.setOutput('archive', archive))
      .catch((error: Error) => core.warning(`could not pack the work tree: ${error.message}`))
      .finally(() => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(): Promise<void> {
  const log = phases();
  await runAction(async () => {
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
    const taskDir = input('task-dir', { required: true });
    const saved = JSON.parse(await readFile(join(taskDir, 'context.json'), 'utf8')) as AttemptContext;
    const archive = input('archive');
    const git = new Git(workspace);
    // In the agent job the task files were downloaded elsewhere than where start wrote them, and start's
    // work tree stayed on its runner: the agent gets a fresh one at the base, written by a private repository.
    let workTree = saved.workTree;
    if (archive) {
      log.progress(`making a fresh work tree at ${saved.baseSha.slice(0, 7)}`);
      workTree = await mkdtemp(join(tmpdir(), 'leviathan-agent-'));
      const repo = await PrivateRepo.create(git);
      try {
        await repo.checkoutWorkTree(saved.baseSha, workTree, saved.base);
      } finally {
        await repo.remove();
      }
    }
    const context: AttemptContext = {
      ...saved,
      taskDir,
      workTree,
      promptFile: join(taskDir, 'prompt.md'),
      taskFile: join(taskDir, 'task.json'),
      ...(saved.feedbackFile !== undefined ? { feedbackFile: join(taskDir, 'feedback.md') } : {}),
    };
    const ctx = actionContext('worker', log.progress);
    if (archive) keepWorkOnStop(workTree, archive);
    log.progress(`agent: ${context.task.id} attempt ${context.number}/${context.maxAttempts}`);
    // Sandboxed as executor.sandbox says; the checkout (workspace) is hidden from the agent.
    const executed = await executeAttempt(
      { ...ctx, git, env: process.env, onOutput: (c) => process.stdout.write(c) },
      context,
    );
    log.end();
    await writeFile(join(taskDir, 'executed.json'), JSON.stringify(executed));
    if (archive) {
      log.progress('packing the work tree');
      await pack(workTree, archive);
      log.end();
      core.setOutput('archive', archive);
      // The spend the agent reported (already checked), beside the archive for the upload step: finish reads
      // it again as data. Nothing reported: no file, whatever was there before.
      const spent = archiveResultFile(archive);
      await rm(spent, { force: true });
      if (executed.usage) await writeFile(spent, resultFileOf(executed.usage));
    }
    core.setOutput('status', executed.status);
    if (executed.status !== 'ok') {
      throw new UserError(
        `${executed.failedCommand ?? 'the agent'} ${executed.status === 'timeout' ? 'timed out' : `failed (${executed.error ?? `exit ${executed.exitCode}`})`}`,
      );
    }
  }, log.end);
}

await main();
