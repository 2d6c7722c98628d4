/**
 * Rollback and deletion of `leviathan-events` seen from a FRESH clone (no anchor of its own): the log is
 * checked against the outside world (issue 7 §3). The origin's WIP branches and the forge's marked pulls name
 * attempts; a log that does not account for them was rolled back or deleted, and the real CLI (`tick`,
 * `verify --json`) fails closed with one line and dispatches nothing. With and without a signing key: a seal
 * proves who wrote a tip, not that it is the newest. An honest fresh repository is never a false positive.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { EventLog } from '../../src/store/event-log.js';
import { newSigningKey } from '../../src/store/log-seal.js';
import {
  EVENTS_REF,
  expectOneLineFailure,
  honestLoop,
  logAttack,
  logConfig,
  verifyJson,
} from '../helpers/hostile-log.js';
import { CLI, cloneTarget, ofType, originRefs, pullsOf, runNode, type Target } from '../helpers/loop.js';
import { serverBed } from '../helpers/server-bed.js';

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

const bed = serverBed('rollback');

interface History {
  target: Target;
  secret?: string;
  /** The attempt of `doomed` that failed (its WIP branch is on the origin). */
  doomed: string;
}

/** The honest side, in-process: PR #1 for docs-ok, then doomed fails and is blocked at max_attempts. */
async function history(options: { signed?: boolean } = {}): Promise<History> {
  const key = options.signed ? newSigningKey() : null;
  const target = await bed.seed({ config: logConfig(key?.publicKey), backlog: BACKLOG });
  const loop = honestLoop(target, key?.secret);
  const work = async (task: string, attempt: string) => (await loop.work(task, attempt)).outcome;
  const { clock } = loop;
  const first = await loop.tick();
  expect(first.task).toBe('docs-ok');
  expect((await work('docs-ok', first.attempt as string)).status).toBe('succeeded');
  clock.minutes(1);
  const second = await loop.tick();
  expect(second.task).toBe('doomed');
  const failed = await work('doomed', second.attempt as string);
  expect(failed).toMatchObject({ status: 'failed', wip_branch: `leviathan-wip/doomed/${second.attempt}` });
  clock.minutes(1);
  const third = await loop.tick();
  expect(third.appended.map((e) => e.type)).toEqual(['task.blocked']);
  expect(third.task).toBeNull();
  return { target, doomed: second.attempt as string, ...(key ? { secret: key.secret } : {}) };
}

/** Each history is built once; every test attacks its own copy of the origin. */
const built = new Map<boolean, Promise<History>>();
async function historyCopy(options: { signed?: boolean } = {}): Promise<History> {
  const signed = options.signed ?? false;
  if (!built.has(signed)) built.set(signed, history({ signed }));
  const original = await (built.get(signed) as Promise<History>);
  return { ...original, target: await bed.fork(original.target) };
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

/** One line naming why, no stack, and the origin's refs exactly as the attacker left them. */
async function expectTickFailsClosed(h: History, cli: Cli, reason: RegExp): Promise<string> {
  const before = await originRefs(h.target);
  const line = expectOneLineFailure(await cli(['tick']), reason);
  // Nothing written, nothing dispatched.
  expect(await originRefs(h.target)).toEqual(before);
  return line;
}

describe.each([
  ['without a signing key', false],
  ['sealed with LEVIATHAN_SIGNING_KEY', true],
])('a fresh clone checks the log against the origin (%s)', (_label, signed) => {
  it('a force-push to a tip before the blocked task’s attempt fails the tick closed; the task is not dispatched again', async () => {
    const h = await historyCopy({ signed });
    const honest = await freshMachine(h);
    // No false positive: the honest log accounts for the WIP branch and the PR.
    expect((await verifyJson(honest.cli)).result).toMatchObject({
      ok: true,
      crosschecked: true,
      signed,
    });

    await logAttack(h.target, 'before', 'attempt.created', 'doomed');
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
    const h = await historyCopy();
    expect((await pullsOf(h.target.dir)).map((p) => p.number)).toEqual([1]);
    await logAttack(h.target, 'delete');
    expect((await originRefs(h.target)).has(EVENTS_REF)).toBe(false);
    const machine = await freshMachine(h);
    await expectTickFailsClosed(h, machine.cli, /event log rolled back: pull request #1 .*does not know/);
    const { code, result } = await verifyJson(machine.cli);
    expect(code).toBe(1);
    expect(result).toMatchObject({ ok: false, reason: 'rolled_back', tip: null });
    expect(result.detail).toMatch(/pull request #1|leviathan-wip\/doomed\//);
  });

  it('an honest fresh repository with no events yet is no rollback: verify passes and the tick dispatches', async () => {
    const target = await bed.seed({ config: logConfig(), backlog: BACKLOG });
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
