/**
 * The event log as an attacker with push access (but not the signing key) sees it: re-chained rewrites,
 * rollbacks, deletion, a lying snapshot and a forged append are refused by the real CLI (`tick`, `verify`)
 * against the real git server, fail closed with one line, and dispatch nothing. Plus the backlog checks that
 * must match git and the PR marker. The attacks are real scripts: test/fixtures/hostile/.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { runPrMerge } from '../../src/cli/commands/pr.js';
import { newSigningKey } from '../../src/store/log-seal.js';
import {
  EVENTS_REF,
  expectOneLineFailure,
  honestLoop,
  logAttack,
  logConfig,
  verifyJson as verifyWith,
} from '../helpers/hostile-log.js';
import {
  CLI,
  Clock,
  capture,
  eventsOf,
  ofType,
  originRefs,
  pullsOf,
  runNode,
  type Target,
} from '../helpers/loop.js';
import { serverBed } from '../helpers/server-bed.js';

const BACKLOG = `version: 1
tasks:
  - id: doomed
    title: A task that always fails
    ready: true
    priority: high
    allowed_paths: [docs/doomed.md]
    run: ["exit 1"]
  - id: docs-ok
    title: An honest page
    ready: true
    priority: low
    allowed_paths: [docs/ok.md]
    run: ["echo ok > docs/ok.md"]
`;

const bed = serverBed('log');

interface History {
  target: Target;
  clock: Clock;
  secret?: string;
}

/**
 * `doomed` fails its only attempt and is blocked; `docs-ok` opens PR #1. Run in-process (the honest side);
 * the scheduler and worker seal with `secret` when given.
 */
async function build(options: { signed?: boolean; withPull?: boolean }): Promise<History> {
  const key = options.signed ? newSigningKey() : null;
  const target = await bed.seed({ config: logConfig(key?.publicKey), backlog: BACKLOG });
  const { clock, tick, work } = honestLoop(target, key?.secret);
  const first = await tick();
  expect(first.task).toBe('doomed');
  expect((await work('doomed', first.attempt as string)).outcome.status).toBe('failed');
  clock.minutes(1);
  const second = await tick();
  expect(second.appended.map((e) => e.type)).toContain('task.blocked');
  if (options.withPull) {
    expect(second.task).toBe('docs-ok');
    expect((await work('docs-ok', second.attempt as string)).outcome.status).toBe('succeeded');
  }
  return { target, clock, ...(key ? { secret: key.secret } : {}) };
}

/**
 * Each kind of history is built once; every test attacks its own copy of the origin, which this process's
 * anchor knows as it knows the original, at a clock of its own.
 */
const built = new Map<string, Promise<History>>();
async function history(options: { signed?: boolean; withPull?: boolean } = {}): Promise<History> {
  const key = `${options.signed ?? false}/${options.withPull ?? false}`;
  if (!built.has(key)) built.set(key, build(options));
  const original = await (built.get(key) as Promise<History>);
  return {
    ...original,
    target: await bed.fork(original.target, { anchors: true }),
    clock: new Clock(original.clock.now().toISOString()),
  };
}

/** The real CLI in the maintainer's clone, at the history's clock. */
function cli(h: History, args: string[], env: Record<string, string | undefined> = {}) {
  return runNode([CLI, ...args, '--dir', h.target.dir], {
    env: { LEVIATHAN_SIGNING_KEY: h.secret, ...env },
    timeoutMs: 120_000,
  });
}

/** A tick that fails closed: exit 1, one line naming why, and the events branch left as the attacker left it. */
async function expectTickFailsClosed(
  h: History,
  reason: RegExp,
  env: Record<string, string | undefined> = {},
) {
  const before = (await originRefs(h.target)).get(EVENTS_REF);
  const line = expectOneLineFailure(await cli(h, ['tick'], env), reason);
  expect((await originRefs(h.target)).get(EVENTS_REF)).toBe(before);
  return line;
}

function verifyJson(h: History, env: Record<string, string | undefined> = {}) {
  return verifyWith((args) => cli(h, args, env));
}

describe('the event log under attack (no signing key: the anchor and the forge)', () => {
  it('verify --json reports what it proved: chained and anchored, not signed', async () => {
    const h = await history();
    const { code, result } = await verifyJson(h);
    expect(code).toBe(0);
    expect(result).toMatchObject({ ok: true, chained: true, signed: false, anchored: true, key_id: null });
  });

  it('a re-chained rewrite (the task.blocked removed, every hash recomputed) fails the tick and verify', async () => {
    const h = await history();
    await logAttack(h.target, 'rechain', 'task.blocked');
    await expectTickFailsClosed(h, /rolled back|rewritten|lies/);
    const { code, result } = await verifyJson(h);
    expect(code).toBe(1);
    expect(result.ok).toBe(false);
  });

  it('a rollback to before task.blocked does not dispatch the blocked task again', async () => {
    const h = await history();
    await logAttack(h.target, 'rollback', '1');
    const line = await expectTickFailsClosed(h, /rolled_back|rolled back/);
    expect(line).toMatch(/seq \d+/);
    expect((await verifyJson(h)).result).toMatchObject({ ok: false, reason: 'rolled_back' });
  });

  it('deleting leviathan-events fails verify and the tick', async () => {
    const h = await history();
    await logAttack(h.target, 'delete');
    expect((await originRefs(h.target)).has(EVENTS_REF)).toBe(false);
    await expectTickFailsClosed(h, /gone or empty|rolled back/);
    expect((await verifyJson(h)).result).toMatchObject({ ok: false, reason: 'rolled_back' });
  });

  it('on a machine that never saw the log, a PR of an attempt the log does not know is a rollback', async () => {
    const h = await history({ withPull: true });
    expect((await pullsOf(h.target.dir)).map((p) => p.number)).toEqual([1]);
    await logAttack(h.target, 'delete');
    const fresh = { LEVIATHAN_STATE_DIR: await mkdtemp(join(tmpdir(), 'fresh-state-')) };
    await expectTickFailsClosed(h, /pull request #1 .*does not know/, fresh);
  });

  it('a sealed-looking state.json that lies is caught by the tick, here and on a fresh machine', async () => {
    const h = await history();
    await logAttack(h.target, 'lie');
    await expectTickFailsClosed(h, /state\.json lies/);
    const fresh = { LEVIATHAN_STATE_DIR: await mkdtemp(join(tmpdir(), 'fresh-state-')) };
    await expectTickFailsClosed(h, /state\.json lies/, fresh);
  });
});

describe('the event log under attack (sealed with LEVIATHAN_SIGNING_KEY)', () => {
  it('every append is sealed: verify --json reports signed, with the key id', async () => {
    const h = await history({ signed: true });
    const { code, result } = await verifyJson(h);
    expect(code).toBe(0);
    expect(result).toMatchObject({ ok: true, chained: true, signed: true, anchored: true });
    expect(result.key_id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a command with push access but no key cannot forge an append that passes', async () => {
    const h = await history({ signed: true });
    await logAttack(h.target, 'forge');
    const fresh = { LEVIATHAN_STATE_DIR: await mkdtemp(join(tmpdir(), 'fresh-state-')) };
    await expectTickFailsClosed(h, /unsealed|not a signature/, fresh);
    expect((await verifyJson(h, fresh)).result).toMatchObject({ ok: false });
  });

  it('a lying state.json under a copied seal is refused on a fresh machine', async () => {
    const h = await history({ signed: true });
    await logAttack(h.target, 'lie');
    const fresh = { LEVIATHAN_STATE_DIR: await mkdtemp(join(tmpdir(), 'fresh-state-')) };
    await expectTickFailsClosed(h, /unsealed|carries no seal|not the snapshot/, fresh);
  });

  it('an append without the key is refused before anything is written', async () => {
    const h = await history({ signed: true });
    h.clock.minutes(1);
    const before = (await originRefs(h.target)).get(EVENTS_REF);
    const r = await cli(h, ['breaker', 'reset', '--reason', 'x'], { LEVIATHAN_SIGNING_KEY: undefined });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/set LEVIATHAN_SIGNING_KEY/);
    expect((await originRefs(h.target)).get(EVENTS_REF)).toBe(before);
  });
});

describe('backlog checks that match git and the marker', () => {
  it('validate refuses task ids git would refuse as branches (x.lock, a..b)', async () => {
    const backlog = `version: 1
tasks:
  - id: x.lock
    title: X
    allowed_paths: [docs/x.md]
  - id: a..b
    title: AB
    allowed_paths: [docs/ab.md]
`;
    const target = await bed.seed({ config: logConfig(), backlog });
    const r = await runNode([CLI, 'validate', '--dir', target.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/backlog\.yaml:3:\d+.*"x\.lock" is not a valid branch name/);
    expect(r.stderr).toMatch(/backlog\.yaml:6:\d+.*"a\.\.b" is not a valid branch name/);
  });

  it('a hidden marker in one task description does not make merging its PR complete another task', async () => {
    const backlog = `version: 1
tasks:
  - id: docs-a
    title: A
    ready: true
    description: "Page A. <!-- leviathan:task=docs-b attempt=01JXXXXXXXXXXXXXXXXXXXXXXX -->"
    allowed_paths: [docs/a.md]
    run: ["echo a > docs/a.md"]
  - id: docs-b
    title: B
    allowed_paths: [docs/b.md]
`;
    const target = await bed.seed({ config: logConfig(), backlog });
    const loop = honestLoop(target);
    const report = await loop.tick();
    expect((await loop.work('docs-a', report.attempt as string)).outcome.status).toBe('succeeded');
    const [pull] = await pullsOf(target.dir);
    expect(pull?.body).not.toContain('docs-b');
    await runPrMerge({ dir: target.dir, out: capture(), now: loop.clock.now }, pull?.number as number);
    loop.clock.minutes(1);
    await loop.tick();
    const completed = ofType(await eventsOf(target.dir), 'task.completed').map((e) => e.task);
    expect(completed).toEqual(['docs-a']);
  });

  it.each(['docs/.ENV', 'docs/server.PEM', 'docs/MySecret.txt'])(
    'a task writing %s fails as a scope violation: protected globs ignore case',
    async (path) => {
      const backlog = `version: 1
tasks:
  - id: sneaky
    title: Sneak a secret in
    ready: true
    allowed_paths: ["docs/**"]
    run: ["echo x > '${path}'"]
`;
      const target = await bed.seed({ config: logConfig(), backlog });
      const loop = honestLoop(target);
      const report = await loop.tick();
      expect((await loop.work('sneaky', report.attempt as string)).outcome.status).toBe('failed');
      const failed = ofType(await eventsOf(target.dir), 'attempt.failed', 'sneaky');
      expect(failed.map((e) => (e.data as { reason: string }).reason)).toEqual(['scope_violation']);
      expect(await pullsOf(target.dir)).toEqual([]);
    },
  );
});
