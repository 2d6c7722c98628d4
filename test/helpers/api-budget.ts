/**
 * The GitHub API budget of one case (a backlog of `tasks`, `closedPulls` closed Leviathan pulls in the
 * repository's history), shared by `bench/api.ts` and `test/integration/github-api-budget.test.ts`:
 * REST calls by operation (the emulator's counts) and git sessions on the origin (the git server's requests)
 * of a dispatching tick, of the worker attempt it dispatched, and of an idle tick after it.
 */
import { pullMarker } from '../../src/core/pr-body.js';
import { tick } from '../../src/scheduler/tick.js';
import { runAttempt } from '../../src/worker/attempt.js';
import type { RequestInfo } from '../harness/git-server.js';
import { FAST_CLIENT, type GitHubBed, githubBed, githubTickOptions, PR_TOKEN } from './github.js';
import { workerDeps } from './loop.js';

export interface PhaseCounts {
  rest: number;
  byOperation: Record<string, number>;
  fetches: number;
  pushes: number;
}

export interface BudgetCase {
  tasks: number;
  closedPulls: number;
  dispatchTick: PhaseCounts;
  workerSuccess: PhaseCounts;
  idleTick: PhaseCounts;
  violations: number;
}

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
pr:
  labels: [leviathan]
`;

/** One ready task first, then `n - 1` that are not ready (so the tick after its dispatch has nothing to do). */
export function budgetBacklog(n: number): string {
  const lines = [
    'version: 1',
    'tasks:',
    '  - id: first',
    '    title: Write the first page',
    '    ready: true',
    '    allowed_paths: [docs/first.md]',
    `    run: ["echo first > docs/first.md"]`,
  ];
  for (let i = 1; i < n; i++) {
    const id = `page-${String(i).padStart(5, '0')}`;
    lines.push(`  - id: ${id}`, `    title: "Write page ${i}"`, `    allowed_paths: ["docs/${id}.md"]`);
    if (i % 4 === 0) lines.push(`    dependencies: [page-${String(i - 1).padStart(5, '0')}]`);
    if (i % 5 === 0) lines.push('    status: done');
  }
  return `${lines.join('\n')}\n`;
}

// Schema validation of a 100-pull page is slow on a loaded machine; a timeout here would count a retry.
const CLIENT = { ...FAST_CLIENT, timeoutMs: 120_000 };
const tickOn = (bed: GitHubBed) => githubTickOptions(bed, { forge: bed.forge({ client: CLIENT }) });

const isSession = (r: RequestInfo) => r.method === 'GET' && r.path.endsWith('/info/refs');

async function counted<T>(bed: GitHubBed, fn: () => Promise<T>): Promise<{ value: T; counts: PhaseCounts }> {
  bed.emu.resetCounts();
  const from = bed.server.requests.length;
  const value = await fn();
  const sessions = bed.server.requests.slice(from).filter(isSession);
  const byOperation = bed.emu.callCounts();
  return {
    value,
    counts: {
      rest: Object.values(byOperation).reduce((a, b) => a + b, 0),
      byOperation,
      fetches: sessions.filter((r) => r.service === 'git-upload-pack').length,
      pushes: sessions.filter((r) => r.service === 'git-receive-pack').length,
    },
  };
}

/** Measures one case on a bed of its own; throws when a phase did not do what it is measured for. */
export async function measureBudget(name: string, tasks: number, closedPulls: number): Promise<BudgetCase> {
  const bed = await githubBed(name, { config: CONFIG, backlog: budgetBacklog(tasks) });
  try {
    // History: closed Leviathan pulls from last month, through the emulator's state (no git needed).
    const at = new Date(bed.clock.now().getTime() - 30 * 86_400_000).toISOString();
    for (let i = 0; i < closedPulls; i++) {
      bed.emu.human.seedClosedPull({
        head: `leviathan/old-${i}`,
        at,
        labels: ['leviathan'],
        body: `Old work ${i}\n\n${pullMarker(`old-${i}`, `a${i}`)}`,
        merged: i % 2 === 0,
      });
    }
    const dispatch = await counted(bed, () => tick(tickOn(bed)));
    if (dispatch.value.outcome !== 'dispatched') throw new Error(`no dispatch: ${dispatch.value.outcome}`);
    const run = bed.emu.runs.at(-1)!;
    bed.emu.startRun(run.id);
    bed.clock.minutes(1);
    const deps = await workerDeps(bed.target, bed.clock.now);
    const worker = await counted(bed, () =>
      runAttempt(
        { ...deps, forge: bed.forge({ prToken: PR_TOKEN, client: CLIENT }), runUrl: run.html_url },
        dispatch.value.task!,
        dispatch.value.attempt!,
      ),
    );
    if (worker.value.outcome.status !== 'succeeded')
      throw new Error(`attempt ${worker.value.outcome.status}`);
    bed.emu.completeRun(run.id, 'success');
    bed.clock.minutes(1);
    // The tick after the attempt takes in its result; the one after that is the steady idle tick.
    await tick(tickOn(bed));
    bed.clock.minutes(1);
    const idle = await counted(bed, () => tick(tickOn(bed)));
    if (idle.value.outcome !== 'idle' || idle.value.appended.length > 0) {
      throw new Error(`the idle tick was not idle: ${idle.value.outcome}`);
    }
    return {
      tasks,
      closedPulls,
      dispatchTick: dispatch.counts,
      workerSuccess: worker.counts,
      idleTick: idle.counts,
      violations: bed.emu.violations.length,
    };
  } finally {
    await bed.stop();
  }
}
