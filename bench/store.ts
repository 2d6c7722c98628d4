/**
 * Event-log benchmarks (`npm run bench -- store`).
 *
 * 1. Append cost against history size: a log of 1,000 and one of 100,000 events, each generated directly as
 *    day files + state.json in one sealed commit on an origin served over HTTP by `git http-backend`. An
 *    append is timed from a fresh checkout (as a CI job starts: nothing of the branch local yet) and from a
 *    warm one (the same process appending again). The ratio of the medians must stay ≤ 1.5.
 * 2. Full-verify throughput over 1,000,000 generated chained events, in memory: the same check `verify`
 *    runs after reading the files (parse, schema, chain, ids, day placement, replay, snapshot comparison).
 *    Target ≥ 200,000 events/s.
 *
 * Prints `append_ratio_100k_over_1k: X` and `verify_events_per_s: Y` and writes bench/results/store.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, chainEvents, hashEvent, parseEventLines, verifyChain } from '../src/core/chain.js';
import { type EventDraft, EventSchema, type LeviathanEvent } from '../src/core/events.js';
import { initialState, project } from '../src/core/state.js';
import type { State } from '../src/core/state-types.js';
import { appendMessage, checkLog, EventLog, serializeState } from '../src/store/event-log.js';
import { RefStore } from '../src/store/ref-store.js';
import { GitServer } from '../test/harness/git-server.js';
import { git, initRepo, makeTempDir, removeDir } from '../test/harness/repo.js';

const STEP_MS = 5 * 60_000; // one event per scheduler tick
const END = Date.parse('2026-11-26T12:00:00.000Z'); // both histories end at the same moment: same newest day
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15);
const VERIFY_EVENTS = Number(process.env.BENCH_VERIFY_EVENTS ?? 1_000_000);

// --- generated histories ---------------------------------------------------------------------------------

/**
 * Drafts of a realistic log: tasks delivered by one attempt (created → dispatched → started → pr.created →
 * succeeded → pr.merged → task.completed), every fourth after a failed first attempt. Data carries the schema
 * defaults, as stored events do.
 */
function* lifecycleDrafts(count: number): Generator<EventDraft> {
  const actor = { kind: 'scheduler' as const };
  let n = 0;
  for (let k = 0; ; k++) {
    const task = `task-${k}`;
    const pr = k + 1;
    const attempts = k % 4 === 3 ? 2 : 1;
    for (let a = 1; a <= attempts; a++) {
      const attempt = `att-${k}-${a}`;
      const branch = `leviathan/${task}`;
      const deadline = new Date(END).toISOString();
      const steps: Array<Omit<EventDraft, 'id' | 'ts' | 'actor' | 'task'>> = [
        { type: 'attempt.created', attempt, data: { number: a, branch, deadline, manual: false } },
        { type: 'attempt.dispatched', attempt, data: { forge: 'github', run_id: '1' } },
        { type: 'attempt.started', attempt, data: {} },
        ...(a < attempts
          ? [
              {
                type: 'attempt.failed' as const,
                attempt,
                data: { reason: 'verify_failed' as const, detail: '' },
              },
            ]
          : [
              { type: 'pr.created' as const, attempt, data: { number: pr, branch, url: '', updated: false } },
              { type: 'attempt.succeeded' as const, attempt, data: { pr } },
              { type: 'pr.merged' as const, data: { number: pr } },
              { type: 'task.completed' as const, data: { via: 'pr_merged' as const, pr } },
            ]),
      ];
      for (const step of steps) {
        if (n >= count) return;
        const ts = new Date(END - (count - 1 - n) * STEP_MS).toISOString();
        yield { id: `ev-${n}`, ts, task, actor, ...step } as EventDraft;
        n += 1;
      }
    }
  }
}

/**
 * The same last 1,000 lifecycle events as the 1k history, after `count - 1000` events that leave the state
 * as it is (a config that stayed invalid for months): history grows, the snapshot does not.
 */
function* quietDrafts(count: number): Generator<EventDraft> {
  for (let i = 0; i < count - 1_000; i++) {
    yield {
      type: 'config.invalid',
      id: `cfg-${i}`,
      ts: new Date(END - (count - 1 - i) * STEP_MS).toISOString(),
      actor: { kind: 'scheduler' },
      data: { file: '.leviathan/config.yaml', errors: ['tasks[0].id: required'] },
    };
  }
  yield* lifecycleDrafts(1_000);
}

const dayOf = (e: LeviathanEvent) => e.ts.slice(0, 10);

/** Day files (path → NDJSON) of chained events. */
function dayFiles(events: readonly LeviathanEvent[]): Map<string, string> {
  const parts = new Map<string, string[]>();
  for (const e of events) {
    const path = `events/${dayOf(e)}.ndjson`;
    const list = parts.get(path) ?? [];
    if (list.length === 0) parts.set(path, list);
    list.push(`${JSON.stringify(e)}\n`);
  }
  return new Map([...parts].map(([p, l]) => [p, l.join('')]));
}

/** An origin on `server` holding `count` events as one sealed Leviathan commit. */
async function seedOrigin(server: GitServer, name: string, drafts: Iterable<EventDraft>) {
  const bare = await server.createRepo(name);
  const events = chainEvents(null, [...drafts]);
  const state = project(events);
  const files = dayFiles(events);
  const changes = new Map<string, string>([...files, ['state.json', serializeState(state)]]);
  const last = events[events.length - 1] as LeviathanEvent;
  // The bare repository has no remote, so the store writes it in place.
  const store = new RefStore({ dir: bare, ref: 'refs/heads/leviathan-events' });
  const commit = await store.commit(changes, (tree) => appendMessage(1, last.seq, last.hash, tree), null);
  if (!(await store.push(commit, null))) throw new Error('seeding lost a race');
  const newest = [...files.keys()].sort().pop() as string;
  return {
    stateBytes: Buffer.byteLength(changes.get('state.json') as string),
    files: files.size,
    newestBytes: Buffer.byteLength(files.get(newest) as string),
    totalBytes: [...files.values()].reduce((s, t) => s + Buffer.byteLength(t), 0),
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

let nextId = 0;
function resetDraft(): EventDraft {
  return {
    type: 'breaker.reset',
    id: `bench-${process.pid}-${nextId++}`,
    ts: new Date(END + 60_000).toISOString(),
    actor: { kind: 'cli' },
    data: { reason: 'bench', by: 'manual' },
  };
}

async function timeAppends(server: GitServer, name: string, root: string) {
  const fresh: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    // A new checkout that knows only the origin: everything of the branch is fetched by this append.
    const dir = await initRepo(join(root, `${name}-fresh-${i}`), { empty: true });
    await git(dir, ['remote', 'add', 'origin', server.url(name)]);
    const t = performance.now();
    const r = await new EventLog({ dir }).append([resetDraft()]);
    fresh.push(performance.now() - t);
    if (!r.ok) throw new Error('append refused');
    await removeDir(dir);
  }
  const warm: number[] = [];
  const dir = await initRepo(join(root, `${name}-warm`), { empty: true });
  await git(dir, ['remote', 'add', 'origin', server.url(name)]);
  const log = new EventLog({ dir });
  await log.append([resetDraft()]);
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    await log.append([resetDraft()]);
    warm.push(performance.now() - t);
  }
  return { fresh: median(fresh), warm: median(warm) };
}

// --- verify throughput ------------------------------------------------------------------------------------

/** Chains drafts without the per-draft schema pass of `chainEvents` (the drafts are valid by construction). */
function* chainFast(drafts: Iterable<EventDraft>): Generator<LeviathanEvent> {
  let seq = 0;
  let prev: string | null = null;
  for (const d of drafts) {
    seq += 1;
    const e: Record<string, unknown> = { v: 1, seq, id: d.id, ts: d.ts, type: d.type };
    if (d.task !== undefined) e.task = d.task;
    if (d.attempt !== undefined) e.attempt = d.attempt;
    e.actor = d.actor;
    e.data = d.data;
    e.prev = prev;
    e.hash = hashEvent(e);
    prev = e.hash as string;
    yield e as LeviathanEvent;
  }
}

async function verifyThroughput(count: number) {
  const files = new Map<string, string>();
  let state: State = initialState();
  let batch: LeviathanEvent[] = [];
  let day = '';
  let lines: string[] = [];
  const flush = () => {
    if (lines.length > 0) files.set(`events/${day}.ndjson`, lines.join(''));
    lines = [];
  };
  for (const e of chainFast(lifecycleDrafts(count))) {
    if (dayOf(e) !== day) {
      flush();
      day = dayOf(e);
    }
    lines.push(`${JSON.stringify(e)}\n`);
    batch.push(e);
    if (batch.length === 50_000) {
      state = project(batch, state);
      batch = [];
    }
  }
  flush();
  state = project(batch, state);
  batch = [];
  const stateText = serializeState(state);

  const t0 = performance.now();
  const checked = checkLog({ files, stateText });
  const total = performance.now() - t0;
  const seconds = total / 1000;
  if (!checked.ok || checked.fatal || checked.snapshotProblem || checked.count !== count) {
    throw new Error(`verify of generated events failed: ${JSON.stringify(checked).slice(0, 300)}`);
  }

  // Where the time goes, on a 100,000-event sample (per event, microseconds).
  const sample = [...files.values()].slice(0, Math.ceil(100_000 / 288)).join('');
  const micro = (fn: () => void, n: number) => {
    const t = performance.now();
    fn();
    return ((performance.now() - t) * 1000) / n;
  };
  const raw = parseEventLines(sample);
  const n = raw.length;
  const breakdown = {
    json_parse_us: micro(() => parseEventLines(sample), n),
    schema_us: micro(() => {
      for (const r of raw) EventSchema.safeParse(r);
    }, n),
    hash_us: micro(() => {
      for (const r of raw) hashEvent(r as Record<string, unknown>);
    }, n),
    verify_chain_us: micro(() => verifyChain(raw), n),
    project_us:
      micro(() => {
        const r = verifyChain(raw);
        if (r.ok) project(r.events);
      }, n) - micro(() => verifyChain(raw), n),
    canonical_json_us: micro(() => {
      for (const r of raw) canonicalJson(r);
    }, n),
  };
  return { seconds, files: files.size, eventsPerSecond: count / seconds, breakdown };
}

// --- main --------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const root = await makeTempDir('bench-store');
  const server = await GitServer.start();
  try {
    console.log(
      `store bench: ${cpus().length} cores, node ${process.version}, ${await git(root, ['--version'])}`,
    );
    const histories = {
      '1k': await seedOrigin(server, 'history-1k', lifecycleDrafts(1_000)),
      '100k': await seedOrigin(server, 'history-100k', lifecycleDrafts(100_000)),
      '100k_same_state': await seedOrigin(server, 'history-100k_same_state', quietDrafts(100_000)),
    };
    const times: Record<string, { fresh: number; warm: number }> = {};
    for (const [name, h] of Object.entries(histories)) {
      times[name] = await timeAppends(server, `history-${name}`, root);
      console.log(
        `history ${name.padEnd(16)} ${String(h.files).padStart(3)} day files, ${(h.totalBytes / 1e6).toFixed(1).padStart(4)} MB of events, ` +
          `state.json ${(h.stateBytes / 1e3).toFixed(0).padStart(4)} KB, newest day ${(h.newestBytes / 1e3).toFixed(0)} KB: ` +
          `append median fresh ${times[name]?.fresh.toFixed(0)} ms, warm ${times[name]?.warm.toFixed(0)} ms`,
      );
    }
    const t = (name: string) => times[name] as { fresh: number; warm: number };
    const ratio = t('100k').fresh / t('1k').fresh;
    const warmRatio = t('100k').warm / t('1k').warm;
    const sameStateRatio = t('100k_same_state').fresh / t('1k').fresh;

    const verify = await verifyThroughput(VERIFY_EVENTS);
    console.log(
      `verify: ${VERIFY_EVENTS.toLocaleString('en')} events in ${verify.files} day files, ${verify.seconds.toFixed(2)} s; per event: ` +
        Object.entries(verify.breakdown)
          .map(([k, v]) => `${k.replace(/_us$/, '')} ${v.toFixed(2)} µs`)
          .join(', '),
    );

    console.log(`append_ratio_100k_over_1k: ${ratio.toFixed(2)}`);
    console.log(`append_ratio_100k_over_1k_warm: ${warmRatio.toFixed(2)}`);
    console.log(`append_ratio_100k_over_1k_same_state: ${sameStateRatio.toFixed(2)}`);
    console.log(`verify_events_per_s: ${Math.round(verify.eventsPerSecond)}`);

    const results = {
      append_ratio_100k_over_1k: Number(ratio.toFixed(3)),
      verify_events_per_s: Math.round(verify.eventsPerSecond),
      append_ratio_100k_over_1k_warm: Number(warmRatio.toFixed(3)),
      append_ratio_100k_over_1k_same_state: Number(sameStateRatio.toFixed(3)),
      append_median_ms: Object.fromEntries(
        Object.entries(times).map(([k, v]) => [k, { fresh: Math.round(v.fresh), warm: Math.round(v.warm) }]),
      ),
      history: histories,
      verify: {
        events: VERIFY_EVENTS,
        seconds: Number(verify.seconds.toFixed(3)),
        per_event_us: verify.breakdown,
      },
      samples: SAMPLES,
      cores: cpus().length,
      targets: { append_ratio_max: 1.5, verify_events_per_s_min: 200_000 },
    };
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/store.json', `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await server.stop();
    await removeDir(root);
  }
}

await main();
