/**
 * The GitHub API budget of the small case (10 tasks, no closed pulls): one dispatching tick, the worker
 * attempt it dispatched, one idle tick — REST calls by operation and git sessions on the origin.
 * `npm run bench -- api` measures the same at 1,000 tasks and 1,000 closed pulls.
 */
import { expect, it } from '@jest/globals';
import { measureBudget } from '../helpers/api-budget.js';

it('stays within the REST budget: idle ≤ 2, dispatch ≤ 3, worker success ≤ 5', async () => {
  const c = await measureBudget('api-budget', 10, 0);
  expect(c.violations).toBe(0);
  expect(c.idleTick.byOperation).toEqual({ 'repos/get': 1, 'pulls/list': 1 });
  expect(c.dispatchTick.byOperation).toEqual({
    'repos/get': 1,
    'pulls/list': 1,
    'actions/create-workflow-dispatch': 1,
  });
  expect(c.workerSuccess.byOperation).toEqual({
    'repos/get': 1,
    'pulls/list': 1,
    'pulls/create': 1,
    'issues/add-labels': 1,
  });
  expect([c.idleTick.rest, c.dispatchTick.rest, c.workerSuccess.rest]).toEqual([2, 3, 4]);
  // Git round trips to the origin: an idle tick pushes nothing.
  expect(c.idleTick.pushes).toBe(0);
  expect(c.idleTick.fetches).toBeLessThanOrEqual(2);
  expect(c.dispatchTick.pushes).toBeLessThanOrEqual(2);
}, 120_000);
