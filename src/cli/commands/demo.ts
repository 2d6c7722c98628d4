import { rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { UserError } from '../../core/errors.js';
import { createSandbox } from '../demo/sandbox.js';
import { type Output, processOutput } from '../output.js';
import { runBreakerReset } from './breaker.js';
import { openEventLog } from './events.js';
import { runPrMerge } from './pr.js';
import { runLoop } from './run.js';
import { collectStatus, renderStatus } from './status.js';
import { runTick } from './tick.js';
import { runValidate } from './validate.js';

export interface DemoResult {
  sandbox: string | null;
  verified: number;
  story: Array<{ step: string; ok: boolean }>;
}

/**
 * The offline tour: a sandbox repository with a sample backlog, and the whole loop run against it with the
 * local forge, narrated step by step. Every step is the same code a command runs.
 */
export async function runDemo(options: { keep?: string }, out: Output): Promise<DemoResult> {
  const say = (line = '') => {
    if (!out.json) out.out(line);
  };
  // The narration is the demo's progress: the commands it runs print their results, not their steps.
  const quiet: Output = { json: false, progress: false, out: () => {}, err: () => {} };
  const indent: Output = out.json
    ? quiet
    : {
        json: false,
        progress: false,
        out: (l) => out.out(`    ${l.split('\n').join('\n    ')}`),
        err: (l) => out.err(l),
      };
  const story: DemoResult['story'] = [];
  const check = (step: string, ok: boolean) => {
    story.push({ step, ok });
    say(`  ${ok ? '✔' : '✘'} ${step}`);
  };

  const sandbox = await createSandbox(options.keep);
  const dir = sandbox.clone;
  try {
    say('Leviathan demo — the whole loop, offline, against a throwaway git repository.');
    say(`A bare "origin" and a maintainer's clone were created under ${sandbox.root}.`);
    say(
      sandbox.unsandboxed
        ? 'No sandbox (bubblewrap or unshare) works on this machine, so the demo sets `executor.sandbox: none` for its own sample tasks: they run unsandboxed, and every summary and PR says so. Install bubblewrap for real work.'
        : 'Every task command runs in a sandbox: read-only system, private /proc, /tmp and HOME, only its work tree writable.',
    );
    say('');
    say('1. The backlog is validated: six tasks; a human marked five of them ready.');
    await runValidate(dir, indent);
    say('');
    say('2. A dry-run tick shows what the scheduler would do and why, writing nothing:');
    await runTick({ dir, dryRun: true }, indent);
    say('');
    say('3. `leviathan run` ticks, works each dispatched task in a scratch clone, and repeats:');
    const first = await runLoop({ dir, maxTicks: 10 }, indent);
    const byTask = (task: string) => first.attempts.filter((a) => a.task === task);
    check(
      'docs-intro (high priority) went first and opened pull request #1',
      byTask('docs-intro')[0]?.pr === 1,
    );
    check(
      'sneaky-workflow also wrote .github/workflows/: stopped as a scope violation, its work kept on a WIP branch',
      byTask('sneaky-workflow')[0]?.reason === 'scope_violation',
    );
    check('flaky-check failed its verify command', byTask('flaky-check')[0]?.reason === 'verify_failed');
    check(
      'deploy-script lies outside the fence and was never attempted',
      byTask('deploy-script').length === 0,
    );
    check(
      'two failures in a row opened the circuit breaker: nothing more is dispatched',
      first.last?.breaker === 'open' || first.last?.breaker === 'trip',
    );
    say('');
    say('4. A human looks at the failures and resets the breaker:');
    await runBreakerReset(openEventLog(dir), { reason: 'demo: failures reviewed' }, indent);
    say('');
    say('5. The loop resumes: flaky-check gets its second and last attempt.');
    const second = await runLoop({ dir, maxTicks: 10 }, indent);
    check(
      'flaky-check failed again and is now blocked (2 of 2 attempts)',
      second.attempts.some((a) => a.task === 'flaky-check' && a.reason === 'verify_failed'),
    );
    check(
      'docs-usage still waits for docs-intro to be merged',
      !second.attempts.some((a) => a.task === 'docs-usage'),
    );
    say('');
    say('6. A human reviews pull request #1 and merges it (`leviathan pr merge 1`):');
    await runPrMerge({ dir, out: indent }, 1);
    say('');
    say('7. The next tick records the merge, completes docs-intro and unlocks docs-usage:');
    const third = await runLoop({ dir, maxTicks: 10 }, indent);
    check(
      'docs-usage opened pull request #2 after its dependency was merged',
      third.attempts.some((a) => a.task === 'docs-usage' && a.pr === 2),
    );
    say('');
    say('8. Status, then a full verification of the hash-chained event log:');
    const status = await collectStatus(dir);
    if (!out.json) indent.out(renderStatus(status));
    const verified = await openEventLog(dir).verify();
    if (!verified.ok)
      throw new UserError(
        `the demo's event chain does not verify at seq ${verified.seq}: ${verified.reason}`,
      );
    check(`chain ok: ${verified.count} events`, true);
    const failed = story.filter((s) => !s.ok);
    if (failed.length > 0)
      throw new UserError(`the demo did not go as expected: ${failed.map((f) => f.step).join('; ')}`);
    say('');
    say(
      options.keep
        ? `The sandbox is kept in ${sandbox.root} (try: cd ${dir} && node <leviathan>/dist/cli/index.js status).`
        : 'Done. Run `npm run demo -- --keep DIR` to keep the sandbox and explore it.',
    );
    if (out.json)
      out.out(
        JSON.stringify({
          sandbox: options.keep ? sandbox.root : null,
          verified: verified.count,
          story,
          rows: status.rows,
        }),
      );
    return { sandbox: options.keep ? sandbox.root : null, verified: verified.count, story };
  } finally {
    if (!options.keep) await rm(sandbox.root, { recursive: true, force: true });
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('build a sandbox repository and run the whole loop offline')
    .option('--keep <dir>', 'build the sandbox in DIR and keep it')
    .option('--json', 'machine-readable output')
    .action(async (opts: { keep?: string; json?: boolean }) => {
      await runDemo(opts, processOutput(Boolean(opts.json)));
    });
}
