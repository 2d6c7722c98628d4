/**
 * Red team 7 against 911e700: the leased push pushed again after a ref transaction that failed with nothing
 * moved (store/leased-push.ts), and a lost delivery answer counted as landed only when the log holds this
 * worker's own outcome events by id (worker/outcome-carry.ts, `foundOnLog`). Written without reading the
 * other tests; each case names the promise it attacks.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { tick } from '../../src/scheduler/tick.js';
import { EventLog } from '../../src/store/event-log.js';
import { Git, type GitOptions, type GitResult } from '../../src/store/git.js';
import { finishAttempt } from '../../src/worker/attempt.js';
import { GitServer } from '../harness/git-server.js';
import { git, installHook } from '../harness/repo.js';
import { dispatchAndRun } from '../helpers/attempt-run.js';
import {
  Clock,
  eventsOf,
  ofType,
  originRefs,
  pullsOf,
  seedTarget,
  type Target,
  tickOptions,
} from '../helpers/loop.js';

jest.setTimeout(180_000);

const CONFIG = `version: 1
limits:
  max_open_prs: 10
  max_running_attempts: 10
  max_dispatches_per_hour: 10
scope:
  allowed_paths: ["docs/**"]
`;

function backlog(n: number): string {
  const lines = ['version: 1', 'tasks:'];
  for (let i = 0; i < n; i++) {
    lines.push(
      `  - id: t${i}`,
      `    title: Page ${i}`,
      '    ready: true',
      `    allowed_paths: [docs/t${i}.md]`,
      `    run: ["echo ${i} > docs/t${i}.md"]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

let server: GitServer;
let count = 0;
beforeAll(async () => {
  server = await GitServer.start();
});
afterAll(async () => {
  await server.stop();
});

async function target(n = 1): Promise<Target> {
  count += 1;
  return seedTarget(server, `rt7-${count}`, { config: CONFIG, backlog: backlog(n) });
}

async function evidence(t: Target, ctx: { branch: string; attempt: string }) {
  const refs = await originRefs(t);
  const events = await eventsOf(t.dir);
  const mine = events.filter((e) => e.attempt === ctx.attempt);
  const pulls = (await pullsOf(t.dir)).filter((p) => p.head === ctx.branch);
  return {
    branch: refs.has(`refs/heads/${ctx.branch}`),
    pulls: pulls.map((p) => p.number),
    created: ofType(mine, 'pr.created').map((e) => (e.data as { number: number }).number),
    succeeded: ofType(mine, 'attempt.succeeded').length,
    failed: ofType(mine, 'attempt.failed').length,
    timedOut: ofType(mine, 'attempt.timed_out').length,
  };
}

/** The worker's delivery push: atomic, with the event log's ref among its refs. */
function isDeliveryPush(args: readonly string[]): boolean {
  return (
    args[0] === 'push' &&
    args.includes('--atomic') &&
    args.some((a) => a.endsWith(':refs/heads/leviathan-events'))
  );
}

/** What the worker said: its status, pull and failure detail. */
function said(o: { status: string }) {
  const x = o as { status: string; pr?: number; detail?: string };
  return { status: x.status, pr: x.pr, detail: x.detail };
}

type Run = (this: Git, args: string[], options?: GitOptions) => Promise<GitResult>;

/** Wraps every Git.run of this process with `hook` (which gets the real run); returns the undo. */
function wrapRun(hook: (real: () => Promise<GitResult>, args: string[]) => Promise<GitResult>): () => void {
  const original = Git.prototype.run as Run;
  Git.prototype.run = function (this: Git, args: string[], options?: GitOptions) {
    return hook(() => original.call(this, args, options), args);
  } as Run;
  return () => {
    Git.prototype.run = original;
  };
}

/** The delivery POSTs the origin received (receive-pack with the branch among its refs). */
function deliveryPosts(t: Target, branch: string): number {
  return server.requests.filter(
    (r) =>
      r.repo === t.name &&
      r.service === 'git-receive-pack' &&
      r.method === 'POST' &&
      (r.refs ?? []).includes(`refs/heads/${branch}`) &&
      (r.refs ?? []).includes('refs/heads/leviathan-events'),
  ).length;
}

describe('promise 3/4: a lost delivery answer checked on a log that rolled to a new UTC day', () => {
  it('another scheduler appends at 00:00 between the landed push and the check → the worker still reports its PR', async () => {
    const t = await target(2);
    const clock = new Clock('2026-11-26T23:59:59.000Z');
    const { deps, ctx, executed } = await dispatchAndRun(t, clock);
    let cut = false;
    const undo = wrapRun(async (real, args) => {
      if (cut || !isDeliveryPush(args)) return real();
      cut = true;
      const r = await real();
      if (r.exitCode !== 0) return r;
      // The push landed; before its answer reaches the worker, another scheduler ticks just after midnight.
      const report = await tick(tickOptions(t.dir, new Clock('2026-11-27T00:00:00.050Z').now));
      expect(report.outcome).toBe('dispatched');
      throw new Error('the connection was reset (answer lost)');
    });
    let outcome: Awaited<ReturnType<typeof finishAttempt>>;
    try {
      outcome = await finishAttempt(deps, ctx, executed);
    } finally {
      undo();
    }
    expect(cut).toBe(true);
    const e = await evidence(t, ctx);
    // What landed: the branch, one pull, its pr.created and attempt.succeeded.
    expect(e).toMatchObject({ branch: true, pulls: [1], created: [1], succeeded: 1, failed: 0, timedOut: 0 });
    // The worker's own push landed with its own events: it must say so (not a failure for a PR that exists).
    expect(said(outcome)).toEqual({ status: 'succeeded', pr: 1, detail: undefined });
  });

  it('the two outcome drafts straddle midnight (pr.created 23:59:59.999, attempt.succeeded 00:00) → still its own PR', async () => {
    const t = await target(1);
    const clock = new Clock('2026-11-26T23:59:59.000Z');
    const { deps, ctx, executed } = await dispatchAndRun(t, clock);
    // The worker's clock ticks over midnight between the two drafts of its outcome (outcomeEvents in publish.ts).
    let inOutcome = 0;
    const now = () => {
      if (/outcomeEvents/.test(new Error().stack ?? '')) {
        inOutcome += 1;
        return new Date(inOutcome > 1 ? '2026-11-27T00:00:00.000Z' : '2026-11-26T23:59:59.999Z');
      }
      return clock.now();
    };
    let cut = false;
    const undo = wrapRun(async (real, args) => {
      if (cut || !isDeliveryPush(args)) return real();
      cut = true;
      const r = await real();
      if (r.exitCode !== 0) return r;
      throw new Error('the connection was reset (answer lost)');
    });
    let outcome: Awaited<ReturnType<typeof finishAttempt>>;
    try {
      outcome = await finishAttempt({ ...deps, now }, ctx, executed);
    } finally {
      undo();
    }
    expect(cut).toBe(true);
    expect(inOutcome).toBeGreaterThanOrEqual(2);
    const e = await evidence(t, ctx);
    expect(e).toMatchObject({ branch: true, pulls: [1], created: [1], succeeded: 1, failed: 0, timedOut: 0 });
    expect(said(outcome)).toEqual({ status: 'succeeded', pr: 1, detail: undefined });
  });
});

describe('promise 3/4: the landed-check itself cannot reach the origin', () => {
  it('the check is cut → the worker reports a failure the log never records (it holds the success)', async () => {
    const t = await target(1);
    const { deps, ctx, executed } = await dispatchAndRun(t, new Clock('2026-11-26T10:00:00.000Z'));
    let cut = false;
    const undoRun = wrapRun(async (real, args) => {
      if (cut || !isDeliveryPush(args)) return real();
      cut = true;
      const r = await real();
      if (r.exitCode !== 0) return r;
      throw new Error('the connection was reset (answer lost)');
    });
    // Every request of foundOnLog's append (the one after the lost answer, no publish) is cut.
    const append = EventLog.prototype.append;
    let checking = false;
    let checked = false;
    EventLog.prototype.append = async function (this: EventLog, drafts, precondition, publish) {
      if (!cut || checked || publish || !precondition)
        return append.call(this, drafts, precondition, publish);
      checked = true;
      checking = true;
      try {
        return await append.call(this, drafts, precondition, publish);
      } finally {
        checking = false;
      }
    };
    server.onRequest = (r) => (checking && r.repo === t.name ? 'kill' : undefined);
    let outcome: Awaited<ReturnType<typeof finishAttempt>>;
    try {
      outcome = await finishAttempt(deps, ctx, executed);
    } finally {
      undoRun();
      EventLog.prototype.append = append;
      server.onRequest = null;
    }
    const e = await evidence(t, ctx);
    expect(e).toMatchObject({ branch: true, pulls: [1], created: [1], succeeded: 1 });
    // Exactly one outcome on the log, whatever the worker says.
    expect(e.failed + e.timedOut).toBe(0);
    // The worker's report matches the log: a failure here is a failure "recorded" nowhere.
    expect(said(outcome)).toEqual({ status: 'succeeded', pr: 1, detail: undefined });
  });
});

describe('leased-push retry: a ref lock that is never released', () => {
  it('the branch lock held forever → bounded tries, a recorded push_error, nothing of the PR', async () => {
    const t = await target(1);
    const { deps, ctx, executed } = await dispatchAndRun(t, new Clock('2026-11-26T10:00:00.000Z'));
    const lock = join(t.bare, 'refs', 'heads', `${ctx.branch}.lock`);
    mkdirSync(dirname(lock), { recursive: true });
    writeFileSync(lock, '');
    const before = deliveryPosts(t, ctx.branch);
    const began = Date.now();
    let outcome: Awaited<ReturnType<typeof finishAttempt>>;
    try {
      outcome = await finishAttempt(deps, ctx, executed);
    } finally {
      rmSync(lock, { force: true });
    }
    const tookMs = Date.now() - began;
    console.log(
      `lock held forever: ${deliveryPosts(t, ctx.branch) - before} delivery pushes in ${tookMs} ms`,
    );
    const tries = deliveryPosts(t, ctx.branch) - before;
    const e = await evidence(t, ctx);
    expect(e).toMatchObject({ branch: false, pulls: [], created: [], succeeded: 0, failed: 1, timedOut: 0 });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'push_error' });
    expect(tries).toBeGreaterThanOrEqual(1);
    expect(tries).toBeLessThanOrEqual(4);
    expect(tookMs).toBeLessThan(60_000);
  });
});

describe('leased-push retry: a refusal in the ref transaction that never clears', () => {
  it('a ref under the branch name (D/F conflict) on the origin → a recorded push_error naming it, bounded tries', async () => {
    const t = await target(1);
    const { deps, ctx, executed } = await dispatchAndRun(t, new Clock('2026-11-26T10:00:00.000Z'));
    // Someone (an agent with network access) created refs/heads/<branch>/x: the branch ref can never be
    // created, and the server reports only "atomic transaction failed", as for a lock held a moment.
    await git(t.dir, ['push', '-q', t.url, `HEAD:refs/heads/${ctx.branch}/x`]);
    const before = deliveryPosts(t, ctx.branch);
    const outcome = await finishAttempt(deps, ctx, executed);
    const tries = deliveryPosts(t, ctx.branch) - before;
    const e = await evidence(t, ctx);
    expect(e).toMatchObject({ branch: false, pulls: [], created: [], succeeded: 0, failed: 1, timedOut: 0 });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'push_error' });
    expect((outcome as { detail?: string }).detail).toMatch(/cannot lock ref|exists/);
    expect(tries).toBeGreaterThanOrEqual(1);
    expect(tries).toBeLessThanOrEqual(4);
    console.log(`D/F conflict: ${tries} delivery pushes`);
  });
});

describe('leased-push retry: the lease is lost while the push waits to go again', () => {
  it('the scheduler times the attempt out between the failed transaction and the retry → no PR, one outcome', async () => {
    const t = await target(1);
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const { deps, ctx, executed } = await dispatchAndRun(t, clock);
    // The origin's transaction fails once (as a concurrent writer's lock would), flag file consumed.
    const once = join(t.root, 'fail-once');
    writeFileSync(once, '');
    await installHook(
      t.bare,
      'reference-transaction',
      `[ "$1" = prepared ] || exit 0\nif grep ' refs/heads/${ctx.branch}$' >/dev/null && [ -e '${once}' ]; then rm -f '${once}'; exit 1; fi\nexit 0`,
    );
    let failedPush = false;
    let timedOut = false;
    const undo = wrapRun(async (real, args) => {
      if (isDeliveryPush(args)) {
        const r = await real();
        if (r.exitCode !== 0 && !existsSync(once)) failedPush = true;
        return r;
      }
      // The re-ask after the failed transaction: the scheduler's timeout lands right after it.
      if (failedPush && !timedOut && args[0] === 'ls-remote') {
        const r = await real();
        timedOut = true;
        const later = new Clock(clock.now().toISOString()).minutes(24 * 60);
        await tick(tickOptions(t.dir, later.now));
        return r;
      }
      return real();
    });
    let outcome: Awaited<ReturnType<typeof finishAttempt>>;
    try {
      outcome = await finishAttempt(deps, ctx, executed);
    } finally {
      undo();
    }
    expect(failedPush).toBe(true);
    expect(timedOut).toBe(true);
    const e = await evidence(t, ctx);
    expect(e).toMatchObject({ branch: false, pulls: [], created: [], succeeded: 0 });
    // The scheduler's timeout is the outcome; the worker adds at most its late result (never a success).
    expect(e.timedOut).toBe(1);
    const late = ofType(await eventsOf(t.dir), 'attempt.failed').filter((x) => x.attempt === ctx.attempt);
    expect(late.every((x) => /late result/.test(String((x.data as { detail?: string }).detail)))).toBe(true);
    expect(outcome.status).toBe('failed');
  });
});

describe('controls: what foundOnLog does when nothing rolls over', () => {
  it('the same tick on the same UTC day between the landed push and the check → succeeded (so the day is the cause)', async () => {
    const t = await target(2);
    const clock = new Clock('2026-11-26T23:59:59.000Z');
    const { deps, ctx, executed } = await dispatchAndRun(t, clock);
    let cut = false;
    const undo = wrapRun(async (real, args) => {
      if (cut || !isDeliveryPush(args)) return real();
      cut = true;
      const r = await real();
      if (r.exitCode !== 0) return r;
      const report = await tick(tickOptions(t.dir, new Clock('2026-11-26T23:59:59.950Z').now));
      expect(report.outcome).toBe('dispatched');
      throw new Error('the connection was reset (answer lost)');
    });
    let outcome: Awaited<ReturnType<typeof finishAttempt>>;
    try {
      outcome = await finishAttempt(deps, ctx, executed);
    } finally {
      undo();
    }
    expect(cut).toBe(true);
    const e = await evidence(t, ctx);
    expect(e).toMatchObject({ branch: true, pulls: [1], created: [1], succeeded: 1, failed: 0, timedOut: 0 });
    expect(said(outcome)).toEqual({ status: 'succeeded', pr: 1, detail: undefined });
  });

  it('the delivery push cut before the server applied it → foundOnLog writes nothing: push_error, no PR', async () => {
    const t = await target(1);
    const { deps, ctx, executed } = await dispatchAndRun(t, new Clock('2026-11-26T10:00:00.000Z'));
    let delivering = false;
    let kills = 0;
    const undo = wrapRun(async (real, args) => {
      if (!isDeliveryPush(args)) return real();
      delivering = true;
      try {
        return await real();
      } finally {
        delivering = false;
      }
    });
    // Every delivery push is cut: the worker never gets an answer and nothing lands.
    server.onRequest = (r) => {
      if (!delivering || r.repo !== t.name || r.service !== 'git-receive-pack' || r.method !== 'POST')
        return undefined;
      kills += 1;
      return 'kill';
    };
    let outcome: Awaited<ReturnType<typeof finishAttempt>>;
    try {
      outcome = await finishAttempt(deps, ctx, executed);
    } finally {
      undo();
      server.onRequest = null;
    }
    expect(kills).toBeGreaterThanOrEqual(1);
    const e = await evidence(t, ctx);
    expect(e).toMatchObject({ branch: false, pulls: [], created: [], succeeded: 0, failed: 1, timedOut: 0 });
    expect(outcome).toMatchObject({ status: 'failed', reason: 'push_error' });
  });
});
