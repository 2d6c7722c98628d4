/**
 * GitHub API budget (`npm run bench -- api`): REST calls by operation (the emulator's counts) and git
 * sessions on the origin (the git server's requests) of an idle tick, a dispatching tick and a successful
 * worker attempt, on backlogs of 10 and 1,000 tasks with 0 and 1,000 closed Leviathan pulls in history.
 * Counts, not time. Each figure is the maximum over the four cases; none may grow with backlog or history.
 *
 *   rest_calls_idle_tick        target ≤ 2
 *   rest_calls_dispatch_tick    target ≤ 3
 *   rest_calls_worker_success   target ≤ 5 (no reviewers configured)
 *   git_fetches_idle_tick, git_pushes_dispatch_tick   reported
 *
 * Writes bench/results/api.json; exits 1 when a target is missed or the emulator saw a schema violation.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { type BudgetCase, measureBudget } from '../test/helpers/api-budget.js';

const cases: BudgetCase[] = [];
for (const tasks of [10, 1000]) {
  for (const closedPulls of [0, 1000]) {
    const c = await measureBudget(`api-${tasks}-${closedPulls}`, tasks, closedPulls);
    cases.push(c);
    console.log(
      `tasks=${tasks} closed_pulls=${closedPulls}: idle ${c.idleTick.rest}, dispatch ${c.dispatchTick.rest}, worker ${c.workerSuccess.rest} REST calls`,
    );
  }
}
const max = (f: (c: BudgetCase) => number) => Math.max(...cases.map(f));
const results = {
  rest_calls_idle_tick: max((c) => c.idleTick.rest),
  rest_calls_dispatch_tick: max((c) => c.dispatchTick.rest),
  rest_calls_worker_success: max((c) => c.workerSuccess.rest),
  git_fetches_idle_tick: max((c) => c.idleTick.fetches),
  git_pushes_dispatch_tick: max((c) => c.dispatchTick.pushes),
  git_fetches_dispatch_tick: max((c) => c.dispatchTick.fetches),
  git_fetches_worker_success: max((c) => c.workerSuccess.fetches),
  git_pushes_worker_success: max((c) => c.workerSuccess.pushes),
  targets: { rest_calls_idle_tick: 2, rest_calls_dispatch_tick: 3, rest_calls_worker_success: 5 },
  cases,
};
const spread = (f: (c: BudgetCase) => number) => max(f) - Math.min(...cases.map(f));
const missed = [
  results.rest_calls_idle_tick > 2 && 'idle tick > 2 REST calls',
  results.rest_calls_dispatch_tick > 3 && 'dispatching tick > 3 REST calls',
  results.rest_calls_worker_success > 5 && 'worker success > 5 REST calls',
  spread((c) => c.idleTick.rest + c.dispatchTick.rest + c.workerSuccess.rest) > 0 &&
    'REST calls vary with backlog or history',
  max((c) => c.violations) > 0 && 'the emulator recorded schema violations',
].filter(Boolean);
await mkdir('bench/results', { recursive: true });
await writeFile('bench/results/api.json', `${JSON.stringify(results, null, 2)}\n`);
const { cases: _, targets: __, ...figures } = results;
console.log(JSON.stringify(figures, null, 2));
if (missed.length > 0) {
  console.error(`missed: ${missed.join('; ')}`);
  process.exit(1);
}
