/**
 * Names that look harmless to a glob or a YAML reader but not to git, through the real CLI worker against the
 * real git server: a file named like the directory a task may write under, and task or attempt ids that are
 * not valid ref names (`x.lock`, `a..b`). Each ends in `attempt.failed` with a reason or in one clear line —
 * never a crash that loses the work or leaves the attempt running.
 */
import { describe, expect, it } from '@jest/globals';
import { attemptCreated } from '../../src/core/claim.js';
import { LocalForge } from '../../src/forge/local.js';
import { tick } from '../../src/scheduler/tick.js';
import { loadBaseDocuments } from '../../src/store/base-branch.js';
import { EventLog } from '../../src/store/event-log.js';
import { Git } from '../../src/store/git.js';
import { failureLines } from '../helpers/hostile-log.js';
import {
  CLI,
  context,
  eventsOf,
  ofType,
  originRefs,
  pullsOf,
  runNode,
  type Target,
  tickOptions,
} from '../helpers/loop.js';
import { serverBed } from '../helpers/server-bed.js';

const CONFIG = 'version: 1\nlimits:\n  max_attempts_per_task: 2\n';

const bed = serverBed('names');
const target = (backlog: string): Promise<Target> => bed.seed({ config: CONFIG, backlog });

const cli = (t: Target, args: string[]) =>
  runNode([CLI, ...args, '--dir', t.dir], { timeoutMs: 120_000, env: { LEVIATHAN_SIGNING_KEY: undefined } });

describe('a task allowed docs/** writing a FILE named docs', () => {
  it('fails the attempt as scope_violation: docs/** grants what is under docs/, not docs itself', async () => {
    const t = await target(`version: 1
tasks:
  - id: squat
    title: Squat the directory name
    ready: true
    allowed_paths: ["docs/**"]
    run: ["rm -rf docs && echo gotcha > docs"]
`);
    // The real clock: the CLI worker runs on it too.
    const report = await tick(tickOptions(t.dir, () => new Date()));
    expect(report.task).toBe('squat');
    const r = await cli(t, ['work', '--task', 'squat', '--attempt', report.attempt as string, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout.trim().split('\n')[0] as string)).toMatchObject({
      status: 'failed',
      reason: 'scope_violation',
    });
    const failed = ofType(await eventsOf(t.dir), 'attempt.failed', 'squat');
    expect(failed.map((e) => (e.data as { reason: string }).reason)).toEqual(['scope_violation']);
    expect(JSON.stringify(failed[0]?.data)).toMatch(/docs is not in the task's allowed_paths/);
    expect(await pullsOf(t.dir)).toEqual([]);
    expect([...(await originRefs(t)).keys()].filter((r) => r.startsWith('refs/heads/leviathan/'))).toEqual(
      [],
    );
  });
});

describe('ids that are not valid ref names', () => {
  it.each(['x.lock', 'a..b'])(
    'a backlog edited after validation to hold task %s: tick and work --task fail in one clear line, nothing written',
    async (id) => {
      const t = await target(`version: 1
tasks:
  - id: ${JSON.stringify(id)}
    title: Bad id
    ready: true
    allowed_paths: [docs/x.md]
    run: ["echo x > docs/x.md"]
`);
      const before = await originRefs(t);
      for (const args of [['tick'], ['work', '--task', id]]) {
        const r = await cli(t, args);
        expect({ args, code: r.code }).toEqual({ args, code: 1 });
        expect(r.stderr).not.toMatch(/\n\s+at /);
        const lines = failureLines(r.stderr);
        expect(lines[0]).toMatch(
          new RegExp(`backlog\\.yaml:3:\\d+.*${id.replace(/\./g, '\\.')}.* is not a valid branch name`),
        );
      }
      expect(await originRefs(t)).toEqual(before);
    },
  );

  it('a log that claimed attempt a..b (an id no Leviathan makes): a failing work --attempt still ends in attempt.failed', async () => {
    // The attempt id names only the WIP branch (the PR branch is the task's): so make the attempt fail.
    const t = await target(`version: 1
tasks:
  - id: docs-a
    title: A page
    ready: true
    allowed_paths: [docs/a.md]
    run: ["echo a > docs/a.md", "exit 3"]
`);
    // The claim written straight into the log (as an older or foreign writer could have).
    const git = new Git(t.dir);
    const docs = await loadBaseDocuments(git, await new LocalForge({ dir: t.dir }).defaultBranch());
    const log = new EventLog({ dir: t.dir });
    const { state } = await log.read();
    const ctx = context(() => new Date());
    const task = docs.backlog.tasks[0]!;
    expect((await log.append([attemptCreated(task, 'a..b', state, docs.config, ctx, false)])).ok).toBe(true);

    const r = await cli(t, ['work', '--task', 'docs-a', '--attempt', 'a..b', '--json']);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(1);
    const attempt = (await log.read()).state.attempts['a..b'];
    // Recorded as failed (never left running until its deadline), with a reason.
    expect(attempt?.status).toBe('failed');
    expect(attempt?.reason).toBe('executor_error');
    // The WIP branch git would refuse is refused by Leviathan's own branch guard first, and said so.
    expect(attempt?.detail).toMatch(
      /^exit 3 failed \(exit 3\); the WIP could not be kept: refusing to push to leviathan-wip\/docs-a\/a\.\.b/,
    );
    expect(await pullsOf(t.dir)).toEqual([]);
  });
});
