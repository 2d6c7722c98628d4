/**
 * Feedback between attempts (issue 11), end to end with the local forge: a stand-in agent (the task's own
 * `executor.command`) fails `verify` on attempt 1, reads `$LEVIATHAN_FEEDBACK_FILE` on attempt 2, sees why
 * it failed, and makes verify pass, so the pull request opens.
 */
import { expect, it } from '@jest/globals';
import { tick } from '../../src/scheduler/tick.js';
import { runAttempt } from '../../src/worker/attempt.js';
import { git } from '../harness/repo.js';
import { Clock, eventsOf, ofType, pullsOf, tickOptions, workerDeps } from '../helpers/loop.js';
import { serverBed } from '../helpers/server-bed.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  max_attempts_per_task: 2
  max_dispatches_per_hour: 10
  attempt_timeout_minutes: 5
executor:
  command: "echo the config's agent must not run for this task; exit 7"
`;

const BACKLOG = `tasks:
  - id: answer
    title: Write the answer
    ready: true
    allowed_paths: [docs/answer.md]
    verify: "grep -q FIXED docs/answer.md || { echo 'docs/answer.md lacks the FIXED marker'; exit 1; }"
    executor:
      command: "sh tools/agent.sh"
      timeout_minutes: 2
`;

// The stand-in agent: a draft on the first attempt; on a retry, the fix the feedback asks for. It records
// what it saw of its environment in the file it writes, so the test can check it on the PR branch.
const AGENT = `set -eu
{
  echo "attempt $LEVIATHAN_ATTEMPT_NUMBER ($LEVIATHAN_ATTEMPT)"
  if [ -n "\${LEVIATHAN_FEEDBACK_FILE:-}" ] && grep -q 'lacks the FIXED marker' "$LEVIATHAN_FEEDBACK_FILE"; then
    grep -q 'Feedback from attempt 1' "$LEVIATHAN_PROMPT_FILE" && echo "the prompt has the feedback too"
    grep -o 'reason \`verify_failed\`' "$LEVIATHAN_FEEDBACK_FILE"
    echo FIXED
  else
    echo draft
  fi
} > docs/answer.md
`;

const bed = serverBed('feedback');

it('fails verify on attempt 1, reads the feedback file on attempt 2, and opens the PR', async () => {
  const target = await bed.seed({ config: CONFIG, backlog: BACKLOG, files: { 'tools/agent.sh': AGENT } });
  const clock = new Clock('2026-11-26T10:00:00.000Z');

  const first = await tick(tickOptions(target.dir, clock.now));
  expect(first).toMatchObject({ outcome: 'dispatched', task: 'answer' });
  const one = await runAttempt(await workerDeps(target, clock.now), 'answer', first.attempt!);
  expect(one.context.feedbackFile).toBeUndefined();
  expect(one.outcome).toMatchObject({ status: 'failed', reason: 'verify_failed' });
  expect(one.outcome.status === 'failed' && one.outcome.output_tail).toContain('lacks the FIXED marker');

  const second = await tick(tickOptions(target.dir, clock.minutes(1).now));
  expect(second).toMatchObject({ outcome: 'dispatched', task: 'answer' });
  const two = await runAttempt(await workerDeps(target, clock.now), 'answer', second.attempt!);
  expect(two.context.number).toBe(2);
  expect(two.context.feedbackFile).toBeDefined();
  expect(two.outcome).toMatchObject({ status: 'succeeded', created: true });

  const events = await eventsOf(target.dir);
  // The task's executor.timeout_minutes (2) lowered the claim's deadline below the config's 5 minutes.
  const created = ofType(events, 'attempt.created', 'answer');
  expect(
    created.map((e) => Date.parse((e.data as { deadline: string }).deadline) - Date.parse(e.ts)),
  ).toEqual([120_000, 120_000]);
  expect(ofType(events, 'attempt.succeeded', 'answer')).toHaveLength(1);
  const pulls = await pullsOf(target.dir);
  expect(pulls).toHaveLength(1);
  const answer = await git(target.bare, ['show', `${pulls[0]!.head}:docs/answer.md`]);
  expect(answer.split('\n')).toEqual([
    `attempt 2 (${second.attempt})`,
    'the prompt has the feedback too',
    'reason `verify_failed`',
    'FIXED',
  ]);
});
