/**
 * Loop benchmarks (`npm run bench -- loop`): how the scheduler and worker scale with the backlog, the pull
 * requests and the history. Ratios are CPU time (node plus every git process it ran) of the CLI bundle as a
 * user runs it, the big and the small case measured back to back; counts are exact (git processes started,
 * sessions opened on the origin, seen by the server). No figure here is wall time.
 *
 *   validate_ratio_10k_over_10   `leviathan validate` on 10,000 tasks over 10 tasks (target ≤ 2)
 *   dry_run_ratio_10k_over_10    `leviathan tick --dry-run`, same backlogs (target ≤ 2)
 *   git_processes_idle_tick      git processes of a tick that has nothing to do (target ≤ 12)
 *   origin_fetches_idle_tick     fetch sessions on the origin in that tick (target ≤ 1)
 *   git_processes_attempt        git processes of one whole attempt (start → run → PR → finish; ≤ 40)
 *   origin_round_trips_attempt   sessions (fetch or push) the attempt opens on the origin (≤ 4)
 *   attempt_ratio_200_prs        CPU of an attempt after 200 delivered PRs over one on a new repository (≤ 1.2)
 *   status_ratio_100k_over_10    `leviathan status` at 100,000 events over 10 events (≤ 1.2)
 *   peak_rss_mb_10k              the largest peak RSS of validate, dry run, tick and status at 10,000 tasks (< 200)
 *
 * Writes bench/results/loop.json. `BENCH_ROUNDS` (default 5) sets how many back-to-back pairs each ratio uses.
 * Runs dist/cli/index.js: `npm run build` first when src/ changed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { runTick } from '../src/cli/commands/tick.js';
import type { EventDraft } from '../src/core/events.js';
import { PULLS_REF, type PullRecord, pullPath, serializePull } from '../src/forge/pull-records.js';
import { tick } from '../src/scheduler/tick.js';
import { observeGit } from '../src/store/git.js';
import { RefStore } from '../src/store/ref-store.js';
import { runAttempt } from '../src/worker/attempt.js';
import { GitServer, type RequestInfo } from '../test/harness/git-server.js';
import { cloneRepo, git, removeDir } from '../test/harness/repo.js';
import { Clock, capture, seedTarget, type Target, tickOptions, workerDeps } from '../test/helpers/loop.js';
import { END, lifecycleDrafts, seedEvents } from './lib/histories.js';
import { cliRatio, cpuOf, median, mustRun } from './lib/measure.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BIG = 10_000;
const SMALL = 10;

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
limits:
  max_open_prs: 50
  max_running_attempts: 1
  max_dispatches_per_hour: 100
  attempt_timeout_minutes: 5
`;

/** A backlog of `n` tasks shaped like a real one: descriptions, dependencies, some done, none ready. */
function backlogText(n: number, extra = ''): string {
  const lines = ['version: 1', 'tasks:'];
  for (let i = 0; i < n; i++) {
    const id = `page-${String(i).padStart(5, '0')}`;
    lines.push(
      `  - id: ${id}`,
      `    title: "Write page ${i} of the user guide"`,
      '    description: |',
      `      Explain topic ${i} for new users, with one example and a link back to the index.`,
      '      Keep it under a screen.',
      `    allowed_paths: ["docs/guide/page-${i}.md", "docs/guide/images/${i}/**"]`,
      `    priority: ${['low', 'medium', 'high'][i % 3]}`,
    );
    if (i > 0 && i % 4 === 0) lines.push(`    dependencies: [page-${String(i - 1).padStart(5, '0')}]`);
    if (i % 5 === 0) lines.push('    status: done');
  }
  return `${lines.join('\n')}\n${extra}`;
}

/** Ready tasks an attempt can deliver: each writes its own page. */
function readyTasks(ids: string[]): string {
  return ids
    .map(
      (id) =>
        `  - id: ${id}\n    title: "Deliver ${id}"\n    ready: true\n    allowed_paths: ["docs/${id}.md"]\n    run: ["echo ${id} > docs/${id}.md"]\n`,
    )
    .join('');
}

// --- counting ----------------------------------------------------------------------------------------------

interface Counts {
  git: number;
  /** Sessions on the origin: one `info/refs` request starts every fetch, ls-remote or push. */
  fetches: number;
  pushes: number;
  roundTrips: number;
  commands: Record<string, number>;
}

async function counted<T>(server: GitServer, fn: () => Promise<T>): Promise<{ value: T; counts: Counts }> {
  const commands: Record<string, number> = {};
  let n = 0;
  const stop = observeGit((args) => {
    n += 1;
    const name = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-c') ?? '?';
    commands[name] = (commands[name] ?? 0) + 1;
  });
  const from = server.requests.length;
  try {
    const value = await fn();
    const sessions = server.requests.slice(from).filter(isSession);
    const fetches = sessions.filter((r) => r.service === 'git-upload-pack').length;
    const pushes = sessions.filter((r) => r.service === 'git-receive-pack').length;
    return { value, counts: { git: n, fetches, pushes, roundTrips: fetches + pushes, commands } };
  } finally {
    stop();
  }
}

const isSession = (r: RequestInfo) => r.method === 'GET' && r.path.endsWith('/info/refs');

// --- the figures -------------------------------------------------------------------------------------------

async function backlogRatios(server: GitServer) {
  const big = await seedTarget(server, 'tasks-10k', { config: CONFIG, backlog: backlogText(BIG) });
  const small = await seedTarget(server, 'tasks-10', { config: CONFIG, backlog: backlogText(SMALL) });
  const validate = await cliRatio(['validate', '--dir', big.dir], ['validate', '--dir', small.dir], ROUNDS);
  const dry = await cliRatio(
    ['tick', '--dry-run', '--json', '--dir', big.dir],
    ['tick', '--dry-run', '--json', '--dir', small.dir],
    ROUNDS,
  );
  // A real tick and status at 10k, for their memory.
  const tickRun = await mustRun(['tick', '--json', '--dir', big.dir]);
  const status = await mustRun(['status', '--json', '--dir', big.dir]);
  const peak = Math.max(validate.peakRssMb, dry.peakRssMb, tickRun.peakRssMb, status.peakRssMb);
  return { big, validate, dry, peak, tickRss: tickRun.peakRssMb, statusRss: status.peakRssMb };
}

/** An idle tick (nothing to reconcile, nothing ready) in a checkout that has ticked before, and in a new clone. */
async function idleTick(server: GitServer, target: Target) {
  const quiet = capture(true);
  await runTick({ dir: target.dir }, quiet);
  const steady = await counted(server, () => runTick({ dir: target.dir }, quiet));
  if (steady.value.outcome !== 'idle' || steady.value.appended.length > 0) {
    throw new Error(`the idle tick was not idle: ${steady.value.outcome}`);
  }
  const fresh = await cloneRepo(target.url, join(target.root, 'fresh-tick'));
  const first = await counted(server, () => runTick({ dir: fresh }, quiet));
  return { steady: steady.counts, freshClone: first.counts };
}

/** A target with `prs` delivered tasks behind it (merged records, their branches and events) and 4 ready ones. */
async function attemptTarget(server: GitServer, name: string, prs: number): Promise<Target> {
  const old: string[] = [];
  for (let k = 0; k < prs; k++)
    old.push(
      `  - id: task-${k}\n    title: "Task ${k}"\n    status: done\n    allowed_paths: ["docs/old-${k}.md"]\n`,
    );
  const ready = readyTasks([0, 1, 2, 3].map((i) => `${name}-new-${i}`));
  const target = await seedTarget(server, name, {
    config: CONFIG,
    backlog: `version: 1\ntasks:\n${old.join('')}${ready}`,
  });
  if (prs === 0) return target;
  // The lifecycle generator delivers task-k as PR k+1; take events until `prs` tasks are complete.
  const drafts: EventDraft[] = [];
  let completed = 0;
  for (const d of lifecycleDrafts(prs * 8)) {
    drafts.push(d);
    if (d.type === 'task.completed' && ++completed === prs) break;
  }
  await seedEvents(target.bare, drafts);
  const main = await git(target.bare, ['rev-parse', 'refs/heads/main']);
  const changes = new Map<string, string>([['next', `${prs + 1}\n`]]);
  const refs: string[] = [];
  for (let k = 0; k < prs; k++) {
    const at = new Date(END - (prs - k) * 3_600_000).toISOString();
    const record: PullRecord = {
      v: 1,
      number: k + 1,
      title: `Task ${k}`,
      body: `Delivers task-${k}.\n\n<!-- leviathan:task=task-${k} attempt=att-${k}-1 -->`,
      head: `leviathan/task-${k}`,
      base: 'main',
      state: 'merged',
      draft: false,
      labels: ['leviathan'],
      reviewers: [],
      created_at: at,
      updated_at: at,
      closed_at: at,
      merged_at: at,
      merge_commit: main,
      comments: [],
    };
    changes.set(pullPath(k + 1), serializePull(record));
    refs.push(`create refs/heads/leviathan/task-${k} ${main}`);
  }
  const store = new RefStore({ dir: target.bare, ref: PULLS_REF });
  const commit = await store.commit(changes, `seed ${prs} pulls`, null);
  if (!(await store.push(commit, null))) throw new Error('seeding the pulls lost a race');
  await git(target.bare, ['update-ref', '--stdin'], { input: `${refs.join('\n')}\n` });
  await git(target.dir, ['fetch', '--quiet', 'origin']);
  return target;
}

/** One dispatching tick and the whole attempt it dispatched (in the worker's own clone, as in Actions). */
async function oneAttempt(server: GitServer, target: Target, clock: Clock) {
  clock.minutes(10);
  const report = await tick(tickOptions(target.dir, clock.now));
  if (report.outcome !== 'dispatched' || !report.task || !report.attempt) {
    throw new Error(`no attempt was dispatched in ${target.name}: ${report.outcome}`);
  }
  const deps = await workerDeps(target, clock.now);
  const { task, attempt } = report;
  const run = await counted(server, () => cpuOf(() => runAttempt(deps, task, attempt)));
  if (run.value.value.outcome.status !== 'succeeded') {
    throw new Error(`the attempt did not succeed: ${JSON.stringify(run.value.value.outcome)}`);
  }
  await removeDir(deps.dir);
  return { counts: run.counts, cpuMs: run.value.cpuMs };
}

async function attempts(server: GitServer) {
  const fresh = await attemptTarget(server, 'att-0', 0);
  const busy = await attemptTarget(server, 'att-200', 200);
  const clock = new Clock('2026-11-26T13:00:00.000Z');
  // Warm-up (the JIT, the page cache), then new / busy alternately.
  const first = await oneAttempt(server, fresh, clock);
  await oneAttempt(server, busy, clock);
  const ratios: number[] = [];
  const cpu = { fresh: [] as number[], busy: [] as number[] };
  let busyCounts: Counts | null = null;
  for (let i = 0; i < 3; i++) {
    const a = await oneAttempt(server, fresh, clock);
    const b = await oneAttempt(server, busy, clock);
    busyCounts = b.counts;
    cpu.fresh.push(a.cpuMs);
    cpu.busy.push(b.cpuMs);
    ratios.push(b.cpuMs / a.cpuMs);
  }
  return { first: first.counts, busy: busyCounts as Counts, ratio: median(ratios), cpu };
}

async function statusRatio(server: GitServer) {
  const make = async (name: string, events: number) => {
    const t = await seedTarget(server, name, { config: CONFIG, backlog: backlogText(SMALL) });
    await seedEvents(t.bare, lifecycleDrafts(events));
    return t;
  };
  const big = await make('status-100k', 100_000);
  const small = await make('status-10', 10);
  return await cliRatio(
    ['status', '--json', '--dir', big.dir],
    ['status', '--json', '--dir', small.dir],
    ROUNDS,
  );
}

// --- main --------------------------------------------------------------------------------------------------

const r3 = (x: number) => Number(x.toFixed(3));

async function main(): Promise<void> {
  const server = await GitServer.start();
  const roots: string[] = [];
  try {
    console.log(`loop bench: ${cpus().length} cores, node ${process.version}, ${ROUNDS} rounds per ratio`);
    const backlogs = await backlogRatios(server);
    roots.push(backlogs.big.root);
    console.log(
      `validate: 10k ${backlogs.validate.bigMs.toFixed(0)} ms CPU, 10 ${backlogs.validate.smallMs.toFixed(0)} ms; ` +
        `dry run: 10k ${backlogs.dry.bigMs.toFixed(0)} ms, 10 ${backlogs.dry.smallMs.toFixed(0)} ms; ` +
        `peak RSS at 10k ${backlogs.peak.toFixed(0)} MB`,
    );
    const idle = await idleTick(server, backlogs.big);
    console.log(
      `idle tick: ${JSON.stringify(idle.steady)}; in a new clone: ${JSON.stringify(idle.freshClone)}`,
    );
    const att = await attempts(server);
    console.log(`attempt: ${JSON.stringify(att.first)}; after 200 PRs: ${JSON.stringify(att.busy)}`);
    console.log(
      `attempt CPU ms: new ${att.cpu.fresh.map((x) => x.toFixed(0))}, 200 PRs ${att.cpu.busy.map((x) => x.toFixed(0))}`,
    );
    const status = await statusRatio(server);
    console.log(
      `status: 100k events ${status.bigMs.toFixed(0)} ms CPU, 10 events ${status.smallMs.toFixed(0)} ms`,
    );

    const results = {
      validate_ratio_10k_over_10: r3(backlogs.validate.ratio),
      dry_run_ratio_10k_over_10: r3(backlogs.dry.ratio),
      git_processes_idle_tick: idle.steady.git,
      origin_fetches_idle_tick: idle.steady.fetches,
      git_processes_attempt: att.first.git,
      origin_round_trips_attempt: att.first.roundTrips,
      attempt_ratio_200_prs: r3(att.ratio),
      status_ratio_100k_over_10: r3(status.ratio),
      peak_rss_mb_10k: Math.round(backlogs.peak),
      details: {
        cpu_ms: {
          validate: { big: backlogs.validate.bigMs, small: backlogs.validate.smallMs },
          dry_run: { big: backlogs.dry.bigMs, small: backlogs.dry.smallMs },
          status: { big: status.bigMs, small: status.smallMs },
          attempt: att.cpu,
        },
        peak_rss_mb: {
          validate: Math.round(backlogs.validate.peakRssMb),
          dry_run: Math.round(backlogs.dry.peakRssMb),
          tick: Math.round(backlogs.tickRss),
          status: Math.round(backlogs.statusRss),
        },
        idle_tick: idle.steady,
        idle_tick_new_clone: idle.freshClone,
        attempt: att.first,
        attempt_after_200_prs: att.busy,
      },
      rounds: ROUNDS,
      cores: cpus().length,
      targets: {
        validate_ratio_max: 2,
        dry_run_ratio_max: 2,
        git_processes_idle_tick_max: 12,
        origin_fetches_idle_tick_max: 1,
        git_processes_attempt_max: 40,
        origin_round_trips_attempt_max: 4,
        attempt_ratio_200_prs_max: 1.2,
        status_ratio_max: 1.2,
        peak_rss_mb_max: 200,
      },
    };
    for (const [k, v] of Object.entries(results)) if (typeof v === 'number') console.log(`${k}: ${v}`);
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/loop.json', `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await server.stop();
  }
}

await main();
