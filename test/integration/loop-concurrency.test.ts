/**
 * Schedulers tick at once (three, or six under `npm run test:stress`), each a real `leviathan tick` process on its own clone of one origin served over
 * HTTP: the compare-and-swap claim lets exactly one of them create an attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GitServer } from '../harness/git-server.js';
import { removeDir } from '../harness/repo.js';
import {
  CLI,
  cloneTarget,
  eventsOf,
  ofType,
  originRefs,
  runNode,
  seedTarget,
  type Target,
} from '../helpers/loop.js';
import { sized } from '../helpers/stress.js';

const TICKS = sized(3, 6);

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  max_open_prs: 1
  attempt_timeout_minutes: 1
`;

const BACKLOG = `version: 1
tasks:
${['one', 'two', 'three', 'four', 'five', 'six']
  .map(
    (id) => `  - id: ${id}
    title: Page ${id}
    ready: true
    allowed_paths: [docs/${id}.md]
    run: ["echo ${id} > docs/${id}.md"]
`,
  )
  .join('')}`;

let server: GitServer;
let target: Target;

beforeAll(async () => {
  server = await GitServer.start();
  target = await seedTarget(server, 'race', { config: CONFIG, backlog: BACKLOG });
});

afterAll(async () => {
  await server?.stop();
  if (target) await removeDir(target.root);
});

describe('concurrent ticks', () => {
  it(`${TICKS} tick processes on ${TICKS} clones with max_open_prs: 1 create exactly one attempt`, async () => {
    const clones = await Promise.all(Array.from({ length: TICKS }, () => cloneTarget(target, 'scheduler')));
    const runs = await Promise.all(
      clones.map((dir) => runNode([CLI, 'tick', '--dir', dir, '--json'], { timeoutMs: 60_000 })),
    );
    for (const r of runs) {
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    }
    const reports = runs.map((r) => JSON.parse(r.stdout) as { outcome: string; task: string | null });
    const dispatched = reports.filter((r) => r.outcome === 'dispatched');
    expect(dispatched).toHaveLength(1);
    expect(reports.filter((r) => r.outcome === 'idle')).toHaveLength(TICKS - 1);

    const events = await eventsOf(target.dir);
    const created = ofType(events, 'attempt.created');
    expect(created).toHaveLength(1);
    expect(created[0]!.task).toBe(dispatched[0]!.task);
    expect(created[0]!.data).toMatchObject({ number: 1, manual: false });
    expect(events.map((e) => e.type)).toEqual(['attempt.created', 'attempt.dispatched']);
    expect(events.map((e) => e.seq)).toEqual([1, 2]);

    // No worker ran: the only thing any of them wrote is the event log.
    const refs = [...(await originRefs(target)).keys()];
    expect(refs.filter((r) => r.includes('leviathan'))).toEqual(['refs/heads/leviathan-events']);
  });
});
