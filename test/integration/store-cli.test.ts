/**
 * `leviathan events`, `verify` and `breaker reset` against a real event log on the HTTP git server.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { resetBreaker, runBreakerReset } from '../../src/cli/commands/breaker.js';
import { formatEventTable, openEventLog, runEvents } from '../../src/cli/commands/events.js';
import { runVerify } from '../../src/cli/commands/verify.js';
import { EventLog } from '../../src/store/event-log.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, commitFiles, git, makeTempDir, readFileAt, removeDir } from '../harness/repo.js';
import { cli } from '../helpers/cli.js';
import { EventBuilder } from '../helpers/events.js';
import { capture } from '../helpers/loop.js';

let server: GitServer;
let root: string;
let counter = 0;

beforeAll(async () => {
  server = await GitServer.start();
  root = await makeTempDir('store-cli');
});

afterAll(async () => {
  await server?.stop();
  await removeDir(root);
});

afterEach(() => {
  jest.restoreAllMocks();
});

/** A clone whose log holds a delivered attempt of `alpha` and a failed one of `beta`, breaker tripped. */
async function populated(): Promise<{ dir: string; bare: string; name: string }> {
  const name = `cli-${++counter}`;
  const bare = await server.createRepo(name);
  const dir = await cloneRepo(server.url(name), join(root, name));
  const b = new EventBuilder('2026-11-26T10:00:00.000Z');
  const alpha = b.attempt('alpha');
  const beta = b.attempt('beta');
  const log = new EventLog({ dir });
  await log.append(b.delivered(alpha, 1));
  await log.append([b.created(beta), b.failed(beta, 'verify_failed'), b.tripped(2)]);
  return { dir, bare, name };
}

describe('leviathan events', () => {
  it('prints a table, NDJSON with --json, and filters by --task', async () => {
    const { dir } = await populated();
    const table = capture();
    const all = await runEvents(openEventLog(dir), {}, table);
    expect(all).toHaveLength(8);
    const [header, rule, ...rows] = (table.lines[0] ?? '').split('\n');
    expect(header).toMatch(/^SEQ\s+TIME\s+TYPE\s+TASK\s+ATTEMPT\s+ACTOR\s+DETAILS$/);
    expect(rule).toMatch(/^-+/);
    expect(rows).toHaveLength(8);
    expect(rows[6]).toMatch(
      /^7\s+2026-11-26 10:06:00Z\s+attempt\.failed\s+beta\s+a0002\s+scheduler\s+reason=verify_failed/,
    );

    const json = capture(true);
    await runEvents(openEventLog(dir), { task: 'beta' }, json);
    const parsed = json.lines.map((l) => JSON.parse(l));
    expect(parsed.map((e) => [e.seq, e.type])).toEqual([
      [6, 'attempt.created'],
      [7, 'attempt.failed'],
    ]);

    const run = await cli('events', '--dir', dir, '--task', 'alpha', '--json');
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(5);
  });

  it('says so when there is no log yet', async () => {
    const name = `cli-${++counter}`;
    await server.createRepo(name);
    const dir = await cloneRepo(server.url(name), join(root, name));
    const out = capture();
    expect(await runEvents(openEventLog(dir), {}, out)).toEqual([]);
    expect(out.lines).toEqual(['no events']);
    expect(formatEventTable([])).toBe('no events');
  });

  it('fails with exit 1 naming the first bad seq when the chain is broken', async () => {
    const { dir, bare } = await populated();
    const text = (await readFileAt(bare, 'leviathan-events', 'events/2026-11-26.ndjson')) ?? '';
    await commitFiles(bare, 'leviathan-events', {
      'events/2026-11-26.ndjson': text.replace('"pr":1}', '"pr":2}'),
    });
    const run = await cli('events', '--dir', dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^leviathan: event chain broken at seq 5: hash_mismatch/);
  });
});

describe('leviathan verify', () => {
  it('prints `chain ok: N events` and exits 0', async () => {
    const { dir } = await populated();
    const out = capture();
    await runVerify(openEventLog(dir), out);
    expect(out.lines).toEqual([expect.stringMatching(/^chain ok: 8 events\b/)]);
    const run = await cli('verify', '--dir', dir, '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, count: 8, last: { seq: 8 } });
  });

  it('exits 1 with the first bad seq and the reason', async () => {
    const { dir, bare } = await populated();
    const text = (await readFileAt(bare, 'leviathan-events', 'events/2026-11-26.ndjson')) ?? '';
    const lines = text.trimEnd().split('\n');
    lines.splice(2, 1); // seq 3
    await commitFiles(bare, 'leviathan-events', { 'events/2026-11-26.ndjson': `${lines.join('\n')}\n` });
    const run = await cli('verify', '--dir', dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/chain broken at seq 3: gap/);
    const json = await cli('verify', '--dir', dir, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, seq: 3, reason: 'gap' });
  });

  it('reports a directory that is not a repository as a one-line error', async () => {
    const run = await cli('verify', '--dir', root);
    expect(run).toMatchObject({ code: 1 });
    expect(run.stderr).toMatch(/^leviathan: .* is not a git repository\b[^\n]*\n$/);
  });
});

describe('leviathan breaker reset', () => {
  it('appends breaker.reset by a human through the CLI, with the reason', async () => {
    const { dir, bare } = await populated();
    const out = capture();
    const report = await runBreakerReset(
      openEventLog(dir),
      { reason: 'fixed the flaky test', now: () => new Date('2026-11-26T12:00:00.000Z'), newId: () => 'r1' },
      out,
    );
    expect(report).toEqual({ seq: 9, id: 'r1', was_open: true, consecutive_failures: 1 });
    expect(out.lines).toEqual(['breaker reset (seq 9); it was open after 1 consecutive failed attempts']);

    const { events, state } = await new EventLog({ dir }).readAll();
    expect(events[8]).toMatchObject({
      type: 'breaker.reset',
      actor: { kind: 'cli' },
      data: { reason: 'fixed the flaky test', by: 'manual' },
    });
    expect(state.breaker).toEqual({ open: false, consecutive_failures: 0 });
    expect(await git(bare, ['log', '-1', '--format=%s', 'leviathan-events'])).toMatch(/^events 9\.\.9 /);

    // Through the CLI: a ulid id, JSON report, and a closed breaker is reset all the same (recorded).
    const run = await cli('breaker', 'reset', '--dir', dir, '--json');
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({ seq: 10, was_open: false });
    expect(json.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('works on a log that does not exist yet', async () => {
    const name = `cli-${++counter}`;
    await server.createRepo(name);
    const dir = await cloneRepo(server.url(name), join(root, name));
    expect(await resetBreaker(openEventLog(dir))).toMatchObject({ seq: 1, was_open: false });
  });
});
