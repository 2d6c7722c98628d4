import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventLog } from '../../src/store/event-log.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, makeTempDir, removeDir } from '../harness/repo.js';
import { EventBuilder } from '../helpers/events.js';

let server: GitServer;
let root: string;

beforeAll(async () => {
  server = await GitServer.start();
  root = await makeTempDir('recent');
});

afterAll(async () => {
  await server.stop();
  await removeDir(root);
});

describe('EventLog.readRecent', () => {
  it('gives the snapshot state and the newest events from the newest day file, read by another clone', async () => {
    await server.createRepo('recent');
    const writer = new EventLog({ dir: await cloneRepo(server.url('recent'), `${root}/w`) });
    const b = new EventBuilder('2026-11-26T10:00:00.000Z');
    for (const task of ['t1', 't2', 't3']) {
      const a = b.attempt(task);
      const r = await writer.append([b.created(a), b.dispatched(a)]);
      expect(r.ok).toBe(true);
    }
    const reader = new EventLog({ dir: await cloneRepo(server.url('recent'), `${root}/r`) });
    const { state, recent, source } = await reader.readRecent(4);
    expect(source).toBe('snapshot');
    expect(state.seq).toBe(6);
    expect(recent.map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    expect((await reader.readRecent(10)).recent).toHaveLength(6);
  });
});
