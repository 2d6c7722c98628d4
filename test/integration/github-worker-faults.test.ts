/**
 * Each fault the emulator can inject, at each GitHub call of a worker attempt (the default branch, the open
 * pull's lookup, create or update, labels through the issues API, reviewers): retried where GitHub advises
 * it, else the attempt fails closed with a one-line reason recorded as `attempt.failed`; a pull whose
 * creation's answer was lost is found, never created twice; no event lost or duplicated.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Backlog } from '../../src/core/backlog.js';
import { attemptCreated } from '../../src/core/claim.js';
import type { Config } from '../../src/core/config.js';
import { UserError } from '../../src/core/errors.js';
import { loadBaseDocuments } from '../../src/store/base-branch.js';
import { type AttemptOutcome, runAttempt, type WorkerDeps } from '../../src/worker/attempt.js';
import type { Fault } from '../harness/github/faults.js';
import { FAST_CLIENT, type GitHubBed, githubBed, PR_TOKEN } from '../helpers/github.js';
import {
  CHAOS_BACKLOG,
  expectLogIntact,
  expectTokenRejected,
  FAULT_ROWS,
  lostAfterApplied,
  retried,
} from '../helpers/github-faults.js';
import { eventsOf, workerDeps } from '../helpers/loop.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
pr:
  labels: [leviathan]
  reviewers: [octocat]
`;
const BRANCH = 'leviathan/chaos';

let bed: GitHubBed;
let deps: WorkerDeps;
let docs: { backlog: Backlog; config: Config };
beforeAll(async () => {
  bed = await githubBed('worker-faults', { config: CONFIG, backlog: CHAOS_BACKLOG });
  await bed.pushBranch(BRANCH);
  // One checkout for every attempt: each still gets its own private repository and work tree.
  deps = await workerDeps(bed.target, bed.clock.now);
  docs = await loadBaseDocuments(deps.git, 'main');
});
afterAll(() => bed?.stop());
afterEach(() => expect(bed.emu.violations).toEqual([]));

const pullsOfBranch = () => [...bed.emu.issues.values()].filter((i) => i.pull?.head === BRANCH);
const openPull = () => pullsOfBranch().find((i) => i.state === 'open');

/** The state the operation needs: no open pull (create path) or one open with another body (update path). */
async function prepare(operation: string): Promise<void> {
  const open = openPull();
  if (operation !== 'pulls/update') {
    if (open) bed.emu.human.close(open.number);
    return;
  }
  if (open) return;
  await bed.forge({ prToken: PR_TOKEN }).upsertPull({
    branch: BRANCH,
    base: 'main',
    title: 'Survive the faults',
    body: 'opened before this attempt',
    draft: true,
    labels: ['leviathan'],
    reviewers: [],
  });
}

const INPUT = {
  branch: BRANCH,
  base: 'main',
  title: 'Survive the faults',
  draft: true,
  labels: ['leviathan'],
  reviewers: ['octocat'],
};
const client = { ...FAST_CLIENT, timeoutMs: 1000 };
const forge = () => bed.forge({ prToken: PR_TOKEN, client });

/** The forge call of the worker that makes `operation`: the default branch, else the pull's upsert. */
async function workerCall(operation: string, fault: Fault, body: string) {
  await prepare(operation);
  const pullsBefore = pullsOfBranch().length;
  bed.emu.resetCounts();
  bed.emu.fail(operation, fault);
  const f = forge();
  const result = operation === 'repos/get' ? await f.defaultBranch() : await f.upsertPull({ ...INPUT, body });
  return { result, created: pullsOfBranch().length - pullsBefore };
}

/** Claims an attempt as the scheduler does and runs it with the fault on the operation's next `times` calls. */
async function attemptWith(operation: string, fault: Fault, times = 1) {
  await prepare(operation);
  const task = docs.backlog.tasks[0]!;
  const attempt = deps.newId();
  const { state } = await deps.events.read();
  await deps.events.append([attemptCreated(task, attempt, state, docs.config, deps, false)]);
  const pullsBefore = pullsOfBranch().length;
  bed.emu.resetCounts();
  bed.emu.fail(operation, fault, { times });
  const outcome: AttemptOutcome | UserError = await runAttempt(
    { ...deps, forge: forge() },
    task.id,
    attempt,
  ).then(
    (r) => r.outcome,
    (e: unknown) => e as UserError,
  );
  const events = (await eventsOf(bed.target.dir)).filter((e) => e.attempt === attempt);
  return {
    outcome,
    types: events.map((e) => e.type),
    last: events.at(-1)!,
    created: pullsOfBranch().length - pullsBefore,
  };
}

/** Every GitHub call of a worker attempt (reviewers are configured; `pulls/update` when the pull is open). */
const OPERATIONS = [
  'repos/get',
  'pulls/list',
  'pulls/create',
  'issues/add-labels',
  'pulls/request-reviewers',
  'pulls/update',
];
const RETRIED_ROWS = FAULT_ROWS.filter(([, f]) => retried(f));
const throttled = (f: Fault) => f.kind === 'secondary' || f.kind === 429 || f.kind === 'primary';

describe.each(OPERATIONS)("a fault GitHub advises retrying, on the worker's %s", (operation) => {
  it.each(RETRIED_ROWS)('%s: retried, and nothing made twice', async (name, fault) => {
    const { result, created } = await workerCall(operation, fault, `${operation} ${name}`);
    // A lost create is looked up, not re-sent; everything else GitHub advises retrying is sent again.
    const lostCreate = operation === 'pulls/create' && lostAfterApplied(fault);
    expect(bed.emu.calls(operation)).toBe(lostCreate ? 1 : 2);
    if (operation === 'repos/get') {
      expect(result).toBe('main');
      return;
    }
    if (operation === 'pulls/create') expect(bed.emu.calls('pulls/list')).toBe(throttled(fault) ? 1 : 2);
    const createPath = operation !== 'pulls/update';
    expect(created).toBe(createPath ? 1 : 0);
    expect(result).toMatchObject({ created: createPath, pull: { number: openPull()!.number } });
    const pull = openPull()!;
    expect(pull.body).toBe(`${operation} ${name}`);
    expect(pull.labels).toEqual(['leviathan']);
    if (createPath) expect(pull.pull!.requested_reviewers).toEqual(['octocat']);
  });
});

describe('through a whole worker attempt', () => {
  it.each(OPERATIONS)('a rejected token on %s fails the attempt closed with one line', async (operation) => {
    const { outcome, types, last, created } = await attemptWith(operation, { kind: 401 });
    expect(bed.emu.calls(operation)).toBe(1);
    expect(last.type).toBe('attempt.failed');
    const detail = (last.data as { detail: string }).detail;
    expectTokenRejected(detail);
    // The calls that open and edit the pull are the PR token's: the line says which setting to fix.
    const prCall = !['repos/get', 'pulls/list'].includes(operation);
    expect(detail).toMatch(prCall ? /set LEVIATHAN_PR_TOKEN/ : /set LEVIATHAN_TOKEN/);
    if (operation === 'repos/get') {
      // Before the attempt started: the worker stops with the reason and the slot is freed at once.
      expect(outcome).toBeInstanceOf(UserError);
      expectTokenRejected((outcome as UserError).message);
      expect(types).toEqual(['attempt.created', 'attempt.failed']);
      expect(last.data).toMatchObject({ reason: 'executor_error' });
    } else {
      expect(outcome).toMatchObject({ status: 'failed', reason: 'pr_error', detail });
      expect(types).toEqual(['attempt.created', 'attempt.started', 'attempt.failed']);
    }
    // Labels and reviewers come after the create: that pull stays, for the next attempt to update.
    expect(created).toBe(
      operation === 'issues/add-labels' || operation === 'pulls/request-reviewers' ? 1 : 0,
    );
  });

  it('a lost create-pull answer: the pull is found, the attempt succeeds with one pull', async () => {
    const { outcome, types, created } = await attemptWith('pulls/create', { kind: 'drop' });
    expect(outcome).toMatchObject({ status: 'succeeded', created: true });
    expect(types).toEqual(['attempt.created', 'attempt.started', 'pr.created', 'attempt.succeeded']);
    expect([created, bed.emu.calls('pulls/create')]).toEqual([1, 1]);
  });

  it('5xx past the retries fails the attempt closed with one line', async () => {
    const { outcome, last } = await attemptWith('pulls/list', { kind: 502 }, 10);
    expect(bed.emu.calls('pulls/list')).toBe(4);
    expect(outcome).toMatchObject({ status: 'failed', reason: 'pr_error' });
    expect((last.data as { detail: string }).detail).toMatch(
      /^GitHub answered 502 for pulls\/list after retries[^\n]*$/,
    );
  });

  it('left a chain that verifies, seq gapless, every attempt started at most once and ended once', async () => {
    await expectLogIntact(bed.target.dir);
  });
});
