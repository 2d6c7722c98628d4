/**
 * The spend budget over the real HTTP git server (issue 11, "Spend budget"): a task's run writes its cost to
 * `$LEVIATHAN_RESULT_FILE`, the terminal event carries it, and with `max_cost_usd_per_day: 4` the next ready
 * task waits with `budget_day` until the next UTC day (moved clock). A hostile result file (a link to a file
 * the agent could not otherwise hand over) is ignored: the attempt counts as unknown spend, nothing crashes.
 */
import { describe, expect, it } from '@jest/globals';
import { collectStatus, renderStatus } from '../../src/cli/commands/status.js';
import { renderTickMarkdown, tickHeadline } from '../../src/scheduler/summary.js';
import { tick } from '../../src/scheduler/tick.js';
import { runAttempt } from '../../src/worker/attempt.js';
import { Clock, eventsOf, ofType, tickOptions, workerDeps } from '../helpers/loop.js';
import { serverBed } from '../helpers/server-bed.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  attempt_timeout_minutes: 5
  max_running_attempts: 5
  max_open_prs: 5
  max_dispatches_per_hour: 10
  max_cost_usd_per_day: 4
`;

const BACKLOG = `version: 1
tasks:
  - id: alpha
    title: Alpha page
    ready: true
    priority: high
    allowed_paths: [docs/alpha.md]
    run:
      - 'echo alpha > docs/alpha.md'
      - 'printf "{\\"cost_usd\\": 5, \\"turns\\": 3}" > "$LEVIATHAN_RESULT_FILE"'
  - id: beta
    title: Beta page
    ready: true
    allowed_paths: [docs/beta.md]
    run:
      - 'echo beta > docs/beta.md'
      - 'ln -s /etc/passwd "$LEVIATHAN_RESULT_FILE"'
`;

const bed = serverBed('budget');
const reasonsOf = (rows: Array<{ task: string; reason: string }>) =>
  Object.fromEntries(rows.map((r) => [r.task, r.reason]));

describe('spend budget', () => {
  it('a reported cost exhausts the daily budget: the next task waits with budget_day until the next UTC day', async () => {
    const t = await bed.seed({ config: CONFIG, backlog: BACKLOG });
    const clock = new Clock('2026-11-26T22:00:00.000Z');

    const first = await tick(tickOptions(t.dir, clock.now));
    expect(first).toMatchObject({ outcome: 'dispatched', task: 'alpha' });
    const alpha = await runAttempt(await workerDeps(t, clock.now), 'alpha', first.attempt!);
    expect(alpha.outcome.status).toBe('succeeded');
    const [succeeded] = ofType(await eventsOf(t.dir), 'attempt.succeeded', 'alpha');
    expect(succeeded?.data).toMatchObject({ usage: { cost_usd_micros: 5_000_000, turns: 3 } });

    const second = await tick(tickOptions(t.dir, clock.minutes(30).now));
    expect(second).toMatchObject({ outcome: 'idle', appended: [] });
    expect(reasonsOf(second.rows)).toEqual({ alpha: 'pr_open:#1', beta: 'budget_day' });
    expect(second.spend).toMatchObject({ day: '2026-11-26', today: { micros: 5_000_000, unknown: 0 } });
    expect(tickHeadline(second)).toContain(
      'daily spend budget reached ($5.00 of $4.00 per day): nothing is dispatched until the next UTC day',
    );
    expect(renderTickMarkdown(second)).toContain('Spend today (2026-11-26, UTC): $5.00 of $4.00 per day');

    const late = await tick(tickOptions(t.dir, clock.set('2026-11-26T23:59:59.999Z').now));
    expect(reasonsOf(late.rows).beta).toBe('budget_day');

    const status = await collectStatus(t.dir, clock.now);
    expect(status.spend).toEqual({
      day: '2026-11-26',
      today: { micros: 5_000_000, unknown: 0 },
      tasks: { alpha: { micros: 5_000_000, unknown: 0 } },
    });
    expect(renderStatus(status)).toContain('spend:   today (2026-11-26, UTC) $5.00 of $4.00 per day');

    // The next UTC day: the budget is fresh and beta is dispatched.
    const next = await tick(tickOptions(t.dir, clock.set('2026-11-27T00:00:00.000Z').now));
    expect(next).toMatchObject({ outcome: 'dispatched', task: 'beta' });
    expect(next.spend.today).toEqual({ micros: 0, unknown: 0 });

    // beta's "report" is a link to a file outside its reach: ignored with a warning, unknown spend.
    const said: string[] = [];
    const deps = { ...(await workerDeps(t, clock.now)), progress: (m: string) => said.push(m) };
    const beta = await runAttempt(deps, 'beta', next.attempt!);
    expect(beta.outcome.status).toBe('succeeded');
    expect(said.some((m) => /^warning: the result file could not be opened/.test(m))).toBe(true);
    const [betaDone] = ofType(await eventsOf(t.dir), 'attempt.succeeded', 'beta');
    expect(betaDone?.data).not.toHaveProperty('usage');
    expect(JSON.stringify(await eventsOf(t.dir))).not.toContain('root:');

    const after = await collectStatus(t.dir, clock.minutes(1).now);
    expect(after.spend.today).toEqual({ micros: 0, unknown: 1 });
    expect(renderStatus(after)).toContain('$0.00 of $4.00 per day, 1 attempt with unknown spend');
  });
});
