/**
 * Rollback and deletion of `leviathan-events` seen from a FRESH clone (no anchor of its own): the log is
 * checked against the outside world (issue 7 §3). The origin's WIP branches and the forge's marked pulls name
 * attempts; a log that does not account for them was rolled back or deleted, and the real CLI (`tick`,
 * `verify --json`) fails closed with one line and dispatches nothing. With and without a signing key: a seal
 * proves who wrote a tip, not that it is the newest. An honest fresh repository is never a false positive.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tick } from '../../src/scheduler/tick.js';
import { EventLog } from '../../src/store/event-log.js';
import { newSigningKey, sealerFromSecret } from '../../src/store/log-seal.js';
import { runAttempt } from '../../src/worker/attempt.js';
import { GitServer } from '../harness/git-server.js';
import { removeDir } from '../harness/repo.js';
import {
  CLI,
  Clock,
  cloneTarget,
  ofType,
  originRefs,
  pullsOf,
  runNode,
  seedTarget,
  type Target,
  tickOptions,
  workerDeps,
} from '../helpers/loop.js';

const ATTACK = resolve('test/fixtures/hostile/log-attack.mjs');
const EVENTS_REF = 'refs/heads/leviathan-events';

const config = (publicKey = '') => `version: 1
limits:
  max_open_prs: 3
  max_attempts_per_task: 1
  circuit_breaker_failures: 5
  max_dispatches_per_hour: 50
${publicKey ? `events:\n  public_key: "${publicKey}"\n` : ''}`;

// `docs-ok` goes first and opens PR #1; `doomed` then fails its only attempt, leaving work on a WIP branch.
const BACKLOG = `version: 1
tasks:
  - id: docs-ok
    title: An honest page
    ready: true
    priority: high
    allowed_paths: [docs/ok.md]
    run: ["echo ok > docs/ok.md"]
  - id: doomed
    title: A task that always fails
    ready: true
    priority: low
    allowed_paths: [docs/doomed.md]
    run: ["echo half-done > docs/doomed.md", "exit 1"]
`;

let server: GitServer;
let seeded = 0;
const targets: Target[] = [];

beforeAll(async () => {
  server = await GitServer.start();
});

afterAll(async () => {
  await server?.stop();
  for (const t of targets) await removeDir(t.root);
});

interface History {
  target: Target;
  secret?: string;
  /** The attempt of `doomed` that failed (its WIP branch is on the origin). */
  doomed: string;
}

/** The honest side, in-process: PR #1 for docs-ok, then doomed fails and is blocked at max_attempts. */
async function history(options: { signed?: boolean } = {}): Promise<History> {
  const key = options.signed ? newSigningKey() : null;
  seeded += 1;
  const target = await seedTarget(server, `rollback-${seeded}`, {
    config: config(key?.publicKey),
    backlog: BACKLOG,
  });
  targets.push(target);
  const clock = new Clock('2026-12-01T10:00:00.000Z');
  const sealer = key ? sealerFromSecret(key.secret) : null;
  const events = (dir: string) => new EventLog({ dir, sealer });
  const scheduler = () => tickOptions(target.dir, clock.now, { events: events(target.dir) });
  const work = async (task: string, attempt: string) => {
    const deps = await workerDeps(target, clock.now);
    return (await runAttempt({ ...deps, events: events(deps.dir) }, task, attempt)).outcome;
  };
  const first = await tick(scheduler());
  expect(first.task).toBe('docs-ok');
  expect((await work('docs-ok', first.attempt as string)).status).toBe('succeeded');
  clock.minutes(1);
  const second = await tick(scheduler());
  expect(second.task).toBe('doomed');
  const failed = await work('doomed', second.attempt as string);
  expect(failed).toMatchObject({ status: 'failed', wip_branch: `leviathan-wip/doomed/${second.attempt}` });
  clock.minutes(1);
  const third = await tick(scheduler());
  expect(third.appended.map((e) => e.type)).toEqual(['task.blocked']);
  expect(third.task).toBeNull();
  return { target, doomed: second.attempt as string, ...(key ? { secret: key.secret } : {}) };
}

async function attack(target: Target, ...args: string[]): Promise<void> {
  const clone = await cloneTarget(target, 'attacker');
  const r = await runNode([ATTACK, args[0] as string, clone, ...args.slice(1)], {
    env: { LEVIATHAN_SIGNING_KEY: undefined },
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

/** A fresh clone on a fresh machine: its own checkout and an empty state directory (no anchor). */
async function freshMachine(h: History) {
  const dir = await cloneTarget(h.target, 'fresh');
  const env = {
    LEVIATHAN_STATE_DIR: await mkdtemp(join(tmpdir(), 'fresh-state-')),
    LEVIATHAN_SIGNING_KEY: h.secret,
  };
  const cli = (args: string[]) => runNode([CLI, ...args, '--dir', dir], { env, timeoutMs: 120_000 });
  return { dir, cli };
}

type Cli = Awaited<ReturnType<typeof freshMachine>>['cli'];

/** exit 1, one line naming why (progress lines aside), no stack, and the events branch as the attacker left it. */
async function expectTickFailsClosed(h: History, cli: Cli, reason: RegExp): Promise<string> {
  const before = await originRefs(h.target);
  const r = await cli(['tick']);
  expect(r.code).toBe(1);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !/^\[\d\d:\d\d:\d\d\] /.test(l));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(reason);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  // Nothing written, nothing dispatched: the origin's refs are exactly as before the tick.
  expect(await originRefs(h.target)).toEqual(before);
  return lines[0] as string;
}

async function verifyJson(cli: Cli) {
  const r = await cli(['verify', '--json']);
  return { code: r.code, result: JSON.parse(r.stdout.trim().split('\n')[0] as string) };
}

describe.each([
  ['without a signing key', false],
  ['sealed with LEVIATHAN_SIGNING_KEY', true],
])('a fresh clone checks the log against the origin (%s)', (_label, signed) => {
  it('a force-push to a tip before the blocked task’s attempt fails the tick closed; the task is not dispatched again', async () => {
    const h = await history({ signed });
    const honest = await freshMachine(h);
    // No false positive: the honest log accounts for the WIP branch and the PR.
    expect((await verifyJson(honest.cli)).result).toMatchObject({
      ok: true,
      crosschecked: true,
      signed,
    });

    await attack(h.target, 'before', 'attempt.created', 'doomed');
    // The attempt is gone from the log (read without this test process's anchor, which would refuse it).
    const { events } = await new EventLog({ dir: h.target.dir, anchor: null }).readAll();
    expect(ofType(events, 'attempt.created', 'doomed')).toEqual([]);

    const machine = await freshMachine(h);
    const line = await expectTickFailsClosed(
      h,
      machine.cli,
      new RegExp(`event log rolled back: branch leviathan-wip/doomed/${h.doomed} names attempt`),
    );
    expect(line).toMatch(/does not know the task/);
    const { code, result } = await verifyJson(machine.cli);
    expect(code).toBe(1);
    expect(result).toMatchObject({ ok: false, reason: 'rolled_back' });
    expect(result.detail).toContain(`leviathan-wip/doomed/${h.doomed}`);
  });
});

describe('deletion of leviathan-events, seen from a fresh clone', () => {
  it('after a PR exists: the tick fails closed in one line and dispatches nothing; verify --json says why', async () => {
    const h = await history();
    expect((await pullsOf(h.target.dir)).map((p) => p.number)).toEqual([1]);
    await attack(h.target, 'delete');
    expect((await originRefs(h.target)).has(EVENTS_REF)).toBe(false);
    const machine = await freshMachine(h);
    await expectTickFailsClosed(h, machine.cli, /event log rolled back: pull request #1 .*does not know/);
    const { code, result } = await verifyJson(machine.cli);
    expect(code).toBe(1);
    expect(result).toMatchObject({ ok: false, reason: 'rolled_back', tip: null });
    expect(result.detail).toMatch(/pull request #1|leviathan-wip\/doomed\//);
  });

  it('an honest fresh repository with no events yet is no rollback: verify passes and the tick dispatches', async () => {
    seeded += 1;
    const target = await seedTarget(server, `honest-${seeded}`, { config: config(), backlog: BACKLOG });
    targets.push(target);
    const h: History = { target, doomed: '' };
    const machine = await freshMachine(h);
    const { code, result } = await verifyJson(machine.cli);
    expect(code).toBe(0);
    expect(result).toMatchObject({ ok: true, count: 0, tip: null, crosschecked: true });
    const r = await machine.cli(['tick', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'dispatched', task: 'docs-ok' });
  });
});
