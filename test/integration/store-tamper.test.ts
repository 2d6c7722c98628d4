/**
 * Tampering with the events branch by hand (edits, deletions, reordering, a forged or amended commit):
 * `verify` names the first bad seq, and readers fail closed on a broken chain.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { hashEvent } from '../../src/core/chain.js';
import type { LeviathanEvent } from '../../src/core/events.js';
import { EventLog } from '../../src/store/event-log.js';
import { ChainBrokenError, type LogFailure } from '../../src/store/log-types.js';
import { GitServer } from '../harness/git-server.js';
import { commitFiles, git, initRepo, makeTempDir, readFileAt, removeDir } from '../harness/repo.js';
import { EventBuilder } from '../helpers/events.js';

const BRANCH = 'leviathan-events';
const DAYS = ['2026-11-24', '2026-11-25', '2026-11-26'] as const;
let server: GitServer;
let root: string;
let baseline: string;
let copies = 0;

/** Files of the baseline log: 12 events, seq 1–4, 5–8 and 9–12 on three days, appended by Leviathan. */
beforeAll(async () => {
  server = await GitServer.start();
  root = await makeTempDir('store-tamper');
  baseline = await server.createRepo('baseline');
  const log = new EventLog({ dir: await reader('baseline') });
  const b = new EventBuilder(`${DAYS[0]}T09:00:00.000Z`, 3_600_000);
  for (const day of DAYS) {
    b.at(`${day}T09:00:00.000Z`);
    const a = b.attempt(`task-${day}`);
    const r = await log.append([b.created(a), b.dispatched(a), b.started(a), b.failed(a, 'verify_failed')]);
    if (!r.ok) throw new Error('baseline append refused');
  }
});

afterAll(async () => {
  await server?.stop();
  await removeDir(root);
});

/** A checkout with nothing but an `origin` (no clone needed: the log fetches only its branch). */
async function reader(repo: string): Promise<string> {
  const dir = await initRepo(join(root, `reader-${repo}-${++copies}`), { empty: true });
  await git(dir, ['remote', 'add', 'origin', server.url(repo)]);
  return dir;
}

/** A copy of the baseline origin, tampered with by `edit` as a human with push access would. */
async function tampered(
  edit: (files: Files) => Promise<void> | void,
  message = 'fix a typo',
  amend = false,
): Promise<{ log: EventLog; bare: string }> {
  const name = `copy-${++copies}`;
  const bare = server.path(name);
  await cp(baseline, bare, { recursive: true });
  const files = new Files(bare);
  await edit(files);
  await commitFiles(bare, BRANCH, files.changes, message, { amend });
  return { log: new EventLog({ dir: await reader(name) }), bare };
}

/** Line-level edits of the day files and state.json of one repository. */
class Files {
  readonly changes: Record<string, string | null> = {};
  constructor(private readonly bare: string) {}

  async text(path: string): Promise<string> {
    return this.changes[path] ?? (await readFileAt(this.bare, BRANCH, path)) ?? '';
  }
  async lines(day: string): Promise<string[]> {
    return (await this.text(`events/${day}.ndjson`)).trimEnd().split('\n');
  }
  setLines(day: string, lines: string[]): void {
    this.changes[`events/${day}.ndjson`] = lines.length > 0 ? `${lines.join('\n')}\n` : null;
  }
}

async function expectBroken(log: EventLog, seq: number, reason: LogFailure): Promise<void> {
  expect(await log.verify()).toMatchObject({ ok: false, seq, reason });
  const error = await log.read().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChainBrokenError);
  expect(error).toMatchObject({ seq, reason });
  await expect(log.readAll()).rejects.toMatchObject({ seq, reason });
}

describe('tampering with the event log', () => {
  it('the untouched baseline verifies and reads from its snapshot', async () => {
    const log = new EventLog({ dir: await reader('baseline') });
    expect(await log.verify()).toMatchObject({ ok: true, count: 12, warnings: [] });
    expect((await log.read()).source).toBe('snapshot');
  });

  it('an edited line: hash_mismatch at its seq; read() and append() fail closed', async () => {
    const { log, bare } = await tampered(async (f) => {
      const lines = await f.lines(DAYS[1]);
      lines[1] = (lines[1] as string).replace('"forge":"local"', '"forge":"github"'); // seq 6
      f.setLines(DAYS[1], lines);
    });
    await expectBroken(log, 6, 'hash_mismatch');
    const tip = await git(bare, ['rev-parse', `refs/heads/${BRANCH}`]);
    await expect(log.append([new EventBuilder('2026-11-26T12:00:00.000Z').reset()])).rejects.toBeInstanceOf(
      ChainBrokenError,
    );
    expect(await git(bare, ['rev-parse', `refs/heads/${BRANCH}`])).toBe(tip);
  });

  it('a deleted line: gap at its seq', async () => {
    const { log } = await tampered(async (f) => {
      const lines = await f.lines(DAYS[1]);
      lines.splice(1, 1); // seq 6
      f.setLines(DAYS[1], lines);
    });
    await expectBroken(log, 6, 'gap');
  });

  it('two lines swapped: reorder at the first', async () => {
    const { log } = await tampered(async (f) => {
      const [a, b, c, d] = await f.lines(DAYS[1]);
      f.setLines(DAYS[1], [a, c, b, d] as string[]); // seq 5, 7, 6, 8
    });
    await expectBroken(log, 6, 'reorder');
  });

  it('a line written twice: duplicate_id where the copy sits', async () => {
    const { log } = await tampered(async (f) => {
      const lines = await f.lines(DAYS[0]);
      lines.splice(3, 0, lines[2] as string); // seq 3 again at position 4
      f.setLines(DAYS[0], lines);
    });
    await expectBroken(log, 4, 'duplicate_id');
  });

  it('the last line deleted: state.json still covers it, so the log is truncated at that seq', async () => {
    const { log } = await tampered(async (f) => {
      f.setLines(DAYS[2], (await f.lines(DAYS[2])).slice(0, 3));
    });
    await expectBroken(log, 12, 'truncated');
  });

  it('a whole day file deleted: gap at its first seq', async () => {
    const { log } = await tampered((f) => f.setLines(DAYS[1], []));
    await expectBroken(log, 5, 'gap');
  });

  it('an event moved into an earlier day file: misplaced', async () => {
    const { log } = await tampered(async (f) => {
      const [moved, ...rest] = await f.lines(DAYS[2]); // seq 9, of the 26th
      f.setLines(DAYS[1], [...(await f.lines(DAYS[1])), moved as string]);
      f.setLines(DAYS[2], rest);
    });
    await expectBroken(log, 9, 'misplaced');
  });

  it('events re-hashed consistently after an edit: the hash state.json recorded at its seq exposes it', async () => {
    const { log } = await tampered(async (f) => {
      // Rewrite seq 6..12 with valid hashes, as a forger who knows the format would.
      let prev: string | null = null;
      for (const day of DAYS) {
        const rewritten = (await f.lines(day)).map((line) => {
          const e = JSON.parse(line) as LeviathanEvent;
          if (e.seq === 6 && e.type === 'attempt.dispatched') e.data.forge = 'github';
          if (e.seq >= 6) {
            e.prev = prev;
            e.hash = hashEvent(e as unknown as Record<string, unknown>);
          }
          prev = e.hash;
          return JSON.stringify(e);
        });
        f.setLines(day, rewritten);
      }
    });
    await expectBroken(log, 12, 'snapshot_mismatch');
  });

  it('state.json edited by hand: verify reports it; readers replay and ignore the edit', async () => {
    const { log } = await tampered(async (f) => {
      const state = JSON.parse(await f.text('state.json'));
      state.breaker.consecutive_failures = 0;
      f.changes['state.json'] = `${JSON.stringify(state)}\n`;
    });
    expect(await log.verify()).toMatchObject({ ok: false, seq: 12, reason: 'snapshot_mismatch' });
    const read = await log.read();
    expect(read.source).toBe('replay');
    expect(read.state.breaker.consecutive_failures).toBe(3);
  });

  it('a v2 state.json (before the fold kept last_failure and spend) passes verify; an edit of it is still caught', async () => {
    type Snapshot = {
      v: number;
      tasks: Record<string, { last_failure?: unknown; spend?: unknown }>;
      breaker: { consecutive_failures: number };
      spend?: unknown;
    };
    const asV2 = (state: Snapshot) => {
      state.v = 2;
      for (const task of Object.values(state.tasks)) {
        delete task.last_failure;
        delete task.spend;
      }
      delete state.spend;
      return state;
    };
    const older = await tampered(async (f) => {
      const state = asV2(JSON.parse(await f.text('state.json')));
      f.changes['state.json'] = `${JSON.stringify(state)}\n`;
    });
    expect(await older.log.verify()).toMatchObject({ ok: true });
    const read = await older.log.read();
    expect(read.source).toBe('replay');
    expect(Object.values(read.state.tasks).every((t) => t.last_failure?.reason === 'verify_failed')).toBe(
      true,
    );

    const edited = await tampered(async (f) => {
      const state = asV2(JSON.parse(await f.text('state.json')));
      state.breaker.consecutive_failures = 0;
      f.changes['state.json'] = `${JSON.stringify(state)}\n`;
    });
    expect(await edited.log.verify()).toMatchObject({ ok: false, seq: 12, reason: 'snapshot_mismatch' });
  });

  it('state.json edited in an amended commit that keeps the Leviathan message: the seal catches it', async () => {
    const original = await git(baseline, ['log', '-1', '--format=%B', `refs/heads/${BRANCH}`]);
    const { log } = await tampered(
      async (f) => {
        const state = JSON.parse(await f.text('state.json'));
        state.breaker.consecutive_failures = 0;
        f.changes['state.json'] = `${JSON.stringify(state)}\n`;
      },
      original,
      true,
    );
    expect(await log.verify()).toMatchObject({ ok: false, seq: 12, reason: 'snapshot_mismatch' });
    expect((await log.read()).state.breaker.consecutive_failures).toBe(3);
  });

  it('a hand-made commit copying the tip message while editing an old line is not trusted', async () => {
    const original = await git(baseline, ['log', '-1', '--format=%B', `refs/heads/${BRANCH}`]);
    const { log } = await tampered(async (f) => {
      const lines = await f.lines(DAYS[0]);
      lines[0] = (lines[0] as string).replace('"number":1', '"number":2'); // seq 1
      f.setLines(DAYS[0], lines);
    }, original);
    await expectBroken(log, 1, 'hash_mismatch');
  });

  it('an unexpected file under events/: bad_file', async () => {
    const { log } = await tampered((f) => {
      f.changes['events/notes.txt'] = 'hello\n';
    });
    await expectBroken(log, 13, 'bad_file');
  });

  it('a harmless hand-made commit: verify passes with a warning; the next append seals the tip again', async () => {
    const { log } = await tampered((f) => {
      f.changes['README.md'] = '# the event log of this repository\n';
    }, 'add a readme');
    const verified = await log.verify();
    expect(verified).toMatchObject({ ok: true, count: 12 });
    expect(verified.ok && verified.warnings[0]).toMatch(/not written by Leviathan/);
    expect((await log.read()).source).toBe('replay');
    const r = await log.append([
      { ...new EventBuilder('2026-11-26T12:00:00.000Z').reset(), id: 'after-readme' },
    ]);
    expect(r.ok && r.events[0]?.seq).toBe(13);
    expect(await log.read()).toMatchObject({ source: 'snapshot', state: { seq: 13 } });
    expect(await log.verify()).toMatchObject({ ok: true, count: 13, warnings: [] });
  });
});
