/**
 * Hostile origins and races against the worker's outcome riding in the local forge's atomic push
 * (worker/outcome-carry.ts), written by a red team that had not read the other tests. Each case states the
 * promise it attacks; a PR that exists must come with its outcome events, and an attempt ends with one.
 * Left out on purpose: an origin without atomic pushes (the outcome is then recorded after the branch and
 * the pull, as on GitHub) can still be timed out between the two.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { tick } from '../../src/scheduler/tick.js';
import { Git } from '../../src/store/git.js';
import {
  forgetRemoteTips,
  LISTED_PREFIXES,
  parseListing,
  rememberRemoteTips,
} from '../../src/store/remote-tips.js';
import { type AttemptOutcome, finishAttempt } from '../../src/worker/attempt.js';
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
  workerDeps,
} from '../helpers/loop.js';
import { sized } from '../helpers/stress.js';

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
  return seedTarget(server, `rt5-${count}`, { config: CONFIG, backlog: backlog(n) });
}

/** Dispatch one attempt and start it; returns the worker's deps and context (agent already run). */
const started = dispatchAndRun;

/** The worker's delivery push: the atomic one that carries the pull record. */
function isDeliveryPush(args: readonly string[]): boolean {
  return (
    args[0] === 'push' && args.includes('--atomic') && args.some((a) => a.endsWith(':refs/leviathan/pulls'))
  );
}

/**
 * Watches the worker's delivery pushes to `t`: `before` runs once, ahead of the first (its own delivery
 * pushes pass untouched); while one runs, `onPost` sees each upload (counted from 1) and every request of
 * the push service `cut` names is killed. `restore()` puts Git and the server back.
 */
function interceptDelivery(
  t: Target,
  opts: {
    before?: () => Promise<void>;
    cut?: (r: { method: string }) => boolean;
    onPost?: (posts: number) => void;
  },
) {
  const seen = { cut: 0, posts: 0 };
  let delivering = false;
  let holding = false;
  let held = false;
  server.onRequest = (r) => {
    if (!delivering || r.repo !== t.name || r.service !== 'git-receive-pack') return undefined;
    if (r.method === 'POST') {
      seen.posts += 1;
      opts.onPost?.(seen.posts);
    }
    if (!opts.cut?.(r)) return undefined;
    seen.cut += 1;
    return 'kill';
  };
  const run = Git.prototype.run;
  const spy = jest.spyOn(Git.prototype, 'run').mockImplementation(async function (this: Git, args, o) {
    if (!isDeliveryPush(args) || holding) return run.call(this, args, o);
    if (opts.before && !held) {
      held = true;
      holding = true;
      try {
        await opts.before();
      } finally {
        holding = false;
      }
    }
    delivering = true;
    try {
      return await run.call(this, args, o);
    } finally {
      delivering = false;
    }
  });
  return {
    seen,
    restore: () => {
      spy.mockRestore();
      server.onRequest = null;
    },
  };
}

/** What of the attempt's PR exists on the origin, and what the log says about it. */
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

/** Times the attempt out from another clone, with a scheduler clock past the deadline. */
async function timeOutFromScheduler(t: Target, at: Clock) {
  const later = new Clock(at.now().toISOString()).minutes(60);
  await tick(tickOptions(t.dir, later.now));
}

describe('promise 1/4: no PR for an attempt the scheduler timed out at the push', () => {
  it('origin without --atomic (receive.advertiseAtomic=false): same race → a PR without its outcome?', async () => {
    const t = await target();
    await git(t.bare, ['config', 'receive.advertiseAtomic', 'false']);
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const { deps, ctx, executed } = await started(t, clock);
    const upsert = deps.forge.upsertPull.bind(deps.forge);
    deps.forge.upsertPull = async (input) => {
      await timeOutFromScheduler(t, clock);
      return upsert(input);
    };
    const outcome = await finishAttempt(deps, ctx, executed);
    const seen = await evidence(t, ctx);
    // Promise: a PR (branch or pull record) never exists without its outcome events.
    const prExists = seen.branch || seen.pulls.length > 0;
    expect({ outcome, seen, prWithoutOutcome: prExists && seen.created.length === 0 }).toEqual(
      expect.objectContaining({ prWithoutOutcome: false }),
    );
  });
});

describe('promise 4: an origin refusing part of the push', () => {
  it('origin without --atomic, no race: the delivery still lands with its outcome', async () => {
    const t = await target();
    await git(t.bare, ['config', 'receive.advertiseAtomic', 'false']);
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const { deps, ctx, executed } = await started(t, clock);
    const outcome = await finishAttempt(deps, ctx, executed);
    const seen = await evidence(t, ctx);
    expect(outcome.status).toBe('succeeded');
    expect(seen.created).toEqual(seen.pulls);
  });

  it('an update hook refusing only the event log ref → recorded failure naming the refusal, no PR', async () => {
    const t = await target();
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const { deps, ctx, executed } = await started(t, clock);
    // Per-ref hook: refuse the log's ref only (the branch and pulls would pass on their own).
    await installHook(
      t.bare,
      'update',
      'case "$1" in refs/leviathan/pulls) echo "pulls frozen by policy" >&2; exit 1;; esac\nexit 0',
    );
    const outcome = await finishAttempt(deps, ctx, executed);
    await git(t.bare, ['config', 'core.hooksPath', '/dev/null']);
    const seen = await evidence(t, ctx);
    expect(outcome.status).toBe('failed');
    expect(seen).toEqual(expect.objectContaining({ branch: false, pulls: [], created: [], succeeded: 0 }));
    // The reason names what refused (the hook's ref), not only "atomic push failure".
    expect(outcome.status === 'failed' && outcome.detail).toMatch(
      /refs\/leviathan\/pulls|hook declined|frozen/,
    );
  });

  it('a cut connection on the delivery push → recorded push_error, nothing of the PR', async () => {
    const t = await target();
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const { deps, ctx, executed } = await started(t, clock);
    // Every upload of the delivery push is cut (libcurl re-sends a request cut on a reused connection once),
    // and only those: the WIP branch and the failure's record still reach the origin.
    const watch = interceptDelivery(t, { cut: (r) => r.method === 'POST' });
    let outcome: AttemptOutcome | undefined;
    try {
      outcome = await finishAttempt(deps, ctx, executed);
    } finally {
      watch.restore();
    }
    const seen = await evidence(t, ctx);
    expect(watch.seen.cut).toBeGreaterThan(0);
    expect(outcome).toEqual(expect.objectContaining({ status: 'failed', reason: 'push_error' }));
    expect(seen).toEqual(
      expect.objectContaining({ branch: false, pulls: [], created: [], succeeded: 0, failed: 1 }),
    );
  });
});

describe('promise 1: the same attempt finished by two workers at once', () => {
  it('exactly one outcome for the attempt, one PR, numbers match', async () => {
    const t = await target();
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const { deps, ctx, executed } = await started(t, clock);
    // A second worker holding the same context (a re-run of the finish step).
    const other = await workerDeps(t, clock.now);
    const [a, b] = await Promise.all([
      finishAttempt(deps, ctx, executed),
      finishAttempt({ ...other }, JSON.parse(JSON.stringify(ctx)), executed),
    ]);
    const seen = await evidence(t, ctx);
    const statuses = [a.status, b.status].sort();
    expect({ statuses, seen }).toEqual({
      statuses: ['failed', 'succeeded'],
      seen: expect.objectContaining({ branch: true, succeeded: 1, failed: 0 }),
    });
    expect(seen.created).toEqual(seen.pulls);
  });

  it('the second worker decided the same pull, then the first delivered and its own push is cut → failed, not a second success', async () => {
    const t = await target();
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const { deps, ctx, executed } = await started(t, clock);
    const other = await workerDeps(t, clock.now);
    let first: AttemptOutcome | undefined;
    // Placed exactly: the second worker has decided pull #1 (no pull yet) when the first one finishes. Its
    // push is then cut, the advertisement too (else the client itself finds its lease stale).
    const watch = interceptDelivery(t, {
      before: async () => {
        first = await finishAttempt(other, JSON.parse(JSON.stringify(ctx)), executed);
      },
      cut: () => true,
    });
    let second: AttemptOutcome | undefined;
    try {
      second = await finishAttempt(deps, ctx, executed);
    } finally {
      watch.restore();
    }
    const seen = await evidence(t, ctx);
    expect(watch.seen.cut).toBeGreaterThan(0);
    expect([first?.status, second.status]).toEqual(['succeeded', 'failed']);
    expect(seen).toEqual(
      expect.objectContaining({ branch: true, pulls: [1], created: [1], succeeded: 1, failed: 0 }),
    );
  });

  it("a ref lock held on the origin (another writer's push in progress) → pushed again, delivered", async () => {
    const t = await target();
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const { deps, ctx, executed } = await started(t, clock);
    const lock = `${t.bare}/refs/leviathan/pulls.lock`;
    // The first upload of the delivery push meets the lock (the server's ref transaction fails with nothing
    // moved); the lock is gone by the next one.
    const watch = interceptDelivery(t, {
      before: async () => {
        mkdirSync(dirname(lock), { recursive: true });
        writeFileSync(lock, '');
      },
      onPost: (posts) => {
        if (posts >= 2) rmSync(lock, { force: true });
      },
    });
    let outcome: AttemptOutcome | undefined;
    try {
      outcome = await finishAttempt(deps, ctx, executed);
    } finally {
      watch.restore();
      rmSync(lock, { force: true });
    }
    const seen = await evidence(t, ctx);
    expect(watch.seen.posts).toBeGreaterThanOrEqual(2);
    expect(outcome.status).toBe('succeeded');
    expect(seen).toEqual(expect.objectContaining({ branch: true, pulls: [1], created: [1], succeeded: 1 }));
  });
});

describe('promise 2/3: several workers delivering at once while ticks append', () => {
  it('every attempt lands once, pull numbers unique and matching the records', async () => {
    const n = sized(2, 4);
    const t = await target(n);
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const runs = [];
    for (let i = 0; i < n; i++) runs.push(await started(t, clock));
    let ticking = true;
    const ticker = (async () => {
      let ticks = 0;
      while (ticking && ticks < 20) {
        await tick(tickOptions(t.dir, clock.now)).catch(() => {});
        ticks += 1;
      }
    })();
    const outcomes = await Promise.all(runs.map((r) => finishAttempt(r.deps, r.ctx, r.executed)));
    ticking = false;
    await ticker;
    const pulls = await pullsOf(t.dir);
    const events = await eventsOf(t.dir);
    const created = ofType(events, 'pr.created').map((e) => [
      e.attempt,
      (e.data as { number: number }).number,
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(Array(n).fill('succeeded'));
    expect(new Set(pulls.map((p) => p.number)).size).toBe(n);
    expect(created).toHaveLength(n);
    for (const r of runs) {
      const rec = pulls.find((p) => p.head === r.ctx.branch);
      const ev = created.find(([a]) => a === r.ctx.attempt);
      expect([r.ctx.attempt, ev?.[1]]).toEqual([r.ctx.attempt, rec?.number]);
    }
  });
});

describe('promise 2: a tick appends to the log while the delivery push is in the server', () => {
  it('the lost race on the server (after the client-side lease check) is retried, not a push_error', async () => {
    const t = await target(2);
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const { deps, ctx, executed } = await started(t, clock);
    const flag = `${t.root}/held`;
    const release = `${t.root}/release`;
    // Holds the first delivery push in pre-receive (leases already checked by the client) until the test has
    // ticked: the race is placed exactly, whatever the machine's load (the wait is capped at a minute).
    await installHook(
      t.bare,
      'pre-receive',
      `if grep -q refs/leviathan/pulls && [ ! -f '${flag}' ]; then touch '${flag}'; i=0; while [ ! -f '${release}' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; fi\nexit 0`,
    );
    const run = Git.prototype.run;
    let ticked: string | null = null;
    const spy = jest.spyOn(Git.prototype, 'run').mockImplementation(async function (this: Git, args, opts) {
      const delivery = isDeliveryPush(args);
      if (!delivery || ticked !== null) return run.call(this, args, opts);
      ticked = 'pending';
      const pushing = run.call(this, args, opts);
      for (let i = 0; i < 600 && !existsSync(flag); i++) await new Promise((r) => setTimeout(r, 100));
      ticked = (await tick(tickOptions(t.dir, clock.now))).outcome;
      await writeFile(release, '');
      return pushing;
    });
    let outcome: AttemptOutcome | undefined;
    try {
      outcome = await finishAttempt(deps, ctx, executed);
    } finally {
      spy.mockRestore();
    }
    const seen = await evidence(t, ctx);
    expect(ticked).toBe('dispatched');
    expect(outcome.status).toBe('succeeded');
    expect(seen.created).toEqual(seen.pulls);
  });
});

describe('promise 3: a spent listing that saw the pulls absent, pulls created since by another worker', () => {
  it('the second worker (its own process: listing from its start, spent by its append) gets #2, #1 intact', async () => {
    const t = await target(2);
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const a = await started(t, clock);
    const b = await started(t, clock);
    // What B's process listed at its start (pulls absent), spent by its attempt.started push.
    const listing = await git(t.root, ['ls-remote', t.url, 'refs/heads/*', 'refs/leviathan/*']);
    expect(listing).not.toContain('refs/leviathan/pulls');
    const outA = await finishAttempt(a.deps, a.ctx, a.executed);
    expect(outA.status).toBe('succeeded');
    const before = (await pullsOf(t.dir)).map((p) => [p.number, p.head]);
    rememberRemoteTips(t.url, parseListing(listing, LISTED_PREFIXES), LISTED_PREFIXES);
    forgetRemoteTips(t.url);
    const outB = await finishAttempt(b.deps, b.ctx, b.executed);
    const pulls = (await pullsOf(t.dir)).map((p) => [p.number, p.head]);
    const seenB = await evidence(t, b.ctx);
    expect(outB.status).toBe('succeeded');
    expect(pulls).toEqual([...before, [2, b.ctx.branch]]);
    expect(seenB.created).toEqual([2]);
  });
});

describe('promise 1/4: the connection drops after the server applied the delivery push', () => {
  it('and the re-ask (ls-remote) fails too → one outcome, matching what landed', async () => {
    const t = await target();
    const clock = new Clock('2026-11-26T10:00:00.000Z');
    const { deps, ctx, executed } = await started(t, clock);
    const run = Git.prototype.run;
    let state: 'before' | 'landed' | 'asked' = 'before';
    const hungUp = { exitCode: 128, stdout: '', stderr: 'fatal: the remote end hung up unexpectedly\n' };
    const spy = jest.spyOn(Git.prototype, 'run').mockImplementation(async function (this: Git, args, opts) {
      const delivery = isDeliveryPush(args);
      if (delivery && state === 'before') {
        await run.call(this, args, opts);
        state = 'landed';
        return { ...hungUp } as Awaited<ReturnType<Git['run']>>;
      }
      if (args[0] === 'ls-remote' && state === 'landed') {
        state = 'asked';
        return { ...hungUp } as Awaited<ReturnType<Git['run']>>;
      }
      return run.call(this, args, opts);
    });
    let outcome: AttemptOutcome | undefined;
    try {
      outcome = await finishAttempt(deps, ctx, executed);
    } finally {
      spy.mockRestore();
    }
    const seen = await evidence(t, ctx);
    expect(state).toBe('asked');
    // One outcome per attempt, and the worker's report agrees with the log.
    expect(seen.succeeded + seen.failed).toBe(1);
    expect(outcome.status === 'succeeded').toBe(seen.succeeded === 1);
  });
});
