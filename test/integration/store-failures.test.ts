/**
 * Failures on the way to the server: a connection cut mid-push, a hook that declines, a cut fetch, wrong
 * credentials. The branch is left as it was, the caller gets a clear error, and a second try succeeds.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { EventLog } from '../../src/store/event-log.js';
import { RefStore } from '../../src/store/ref-store.js';
import { RefStoreError } from '../../src/store/ref-store-types.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, git, installHook, makeTempDir, removeDir, removeHook } from '../harness/repo.js';
import { EventBuilder } from '../helpers/events.js';

const TOKEN = 'ghs_correctHorseBatteryStaple';
const BRANCH = 'refs/heads/leviathan-events';
let server: GitServer;
let root: string;
let counter = 0;

beforeAll(async () => {
  server = await GitServer.start({ token: TOKEN });
  root = await makeTempDir('store-failures');
});

afterAll(async () => {
  await server?.stop();
  await removeDir(root);
});

afterEach(() => {
  server.onRequest = null;
});

async function setup(): Promise<{ name: string; bare: string; dir: string; log: EventLog }> {
  const name = `fail-${++counter}`;
  const bare = await server.createRepo(name);
  const dir = await cloneRepo(server.url(name), join(root, name), { token: TOKEN });
  const log = new EventLog({ dir, token: TOKEN });
  return { name, bare, dir, log };
}

async function tipOf(bare: string): Promise<string | null> {
  return git(bare, ['rev-parse', '--verify', '--quiet', BRANCH]).catch(() => null);
}

const b = new EventBuilder('2026-11-26T10:00:00.000Z');

describe('a push that fails half-way', () => {
  it('connection killed mid-request: the branch is unchanged, the caller gets push_failed, a retry lands', async () => {
    const { bare, log } = await setup();
    await log.append([b.tripped(2)]);
    const before = await tipOf(bare);

    server.onRequest = (r) => (r.service === 'git-receive-pack' && r.method === 'POST' ? 'kill' : undefined);
    const error = await log.append([b.reset()]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RefStoreError);
    expect(error).toMatchObject({ code: 'push_failed' });
    expect((error as Error).message).toMatch(/did not land/);
    expect(await tipOf(bare)).toBe(before);

    server.onRequest = null;
    const again = await log.append([b.reset()]);
    expect(again.ok && again.events.map((e) => e.seq)).toEqual([2]);
    expect(await log.verify()).toMatchObject({ ok: true, count: 2 });
  });

  it('a pre-receive hook declines: the branch is unchanged, the error names the hook, a retry lands', async () => {
    const { bare, log } = await setup();
    await log.append([b.tripped(2)]);
    const before = await tipOf(bare);

    await installHook(bare, 'pre-receive', 'echo "leviathan-events is frozen" >&2\nexit 1');
    const error = await log.append([b.reset()]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'push_failed' });
    expect((error as Error).message).toMatch(/pre-receive hook declined/);
    expect(await tipOf(bare)).toBe(before);

    await removeHook(bare, 'pre-receive');
    const again = await log.append([b.reset()]);
    expect(again.ok && again.events[0]?.seq).toBe(2);
  });

  it('a fetch cut mid-request fails with fetch_failed after a few quick retries, and nothing is written', async () => {
    const { bare, log } = await setup();
    await log.append([b.tripped(2)]);
    const before = await tipOf(bare);
    server.onRequest = (r) => (r.service === 'git-upload-pack' && r.method === 'POST' ? 'kill' : undefined);
    await expect(log.read()).rejects.toMatchObject({ code: 'fetch_failed' });
    server.onRequest = null;
    expect(await tipOf(bare)).toBe(before);
    expect((await log.read()).state.seq).toBe(1);
  });
});

describe('token auth (Basic, x-access-token, as GitHub does)', () => {
  it('a wrong token fails with a clear error that does not contain the token', async () => {
    const { dir, log } = await setup();
    await log.append([b.tripped(2)]);
    const wrong = 'ghs_wrongTokenWrongTokenWrong';
    for (const attempt of [
      new EventLog({ dir, token: wrong }).read(),
      new EventLog({ dir, token: wrong }).append([b.reset()]),
    ]) {
      const error = (await attempt.then(
        () => null,
        (e: unknown) => e,
      )) as RefStoreError | null;
      expect(error).toBeInstanceOf(RefStoreError);
      expect(error?.code).toBe('auth_failed');
      expect(error?.message).toMatch(/^authentication to http:\/\/127\.0\.0\.1:\d+\/fail-\d+\.git failed/);
      for (const secret of [wrong, TOKEN, Buffer.from(`x-access-token:${wrong}`).toString('base64')]) {
        expect(error?.message).not.toContain(secret);
        expect(error?.stack ?? '').not.toContain(secret);
      }
    }
    expect((await log.read()).state.seq).toBe(1);
  });

  it('no token at all: the same clear auth error', async () => {
    const { dir, log } = await setup();
    await log.append([b.tripped(2)]);
    await expect(new RefStore({ dir, ref: BRANCH }).fetch()).rejects.toMatchObject({ code: 'auth_failed' });
  });

  it("without a token, the checkout's own http.extraheader (as actions/checkout leaves it) is used", async () => {
    const { name, dir, log } = await setup();
    await log.append([b.tripped(2)]);
    const header = `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;
    await git(dir, [
      'config',
      '--local',
      `http.${server.url(name).replace(/[^/]*$/, '')}.extraheader`,
      header,
    ]);
    expect((await new EventLog({ dir }).read()).state.seq).toBe(1);
  });
});
