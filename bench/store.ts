/**
 * Event-log benchmarks (`npm run bench -- store`).
 *
 * 1. Append cost against history size: a log of 1,000 and one of 100,000 events, each generated directly as
 *    day files + state.json in one sealed commit on an origin served over smart HTTP by the test git server.
 *    An append is timed from a fresh checkout (as a CI job starts: nothing of the branch local yet) and from a
 *    warm one (the same process appending again). The ratio of the medians must stay ≤ 1.5.
 * 2. Full-verify throughput over 1,000,000 generated chained events (written as Leviathan writes them), in
 *    memory: `checkLog`, the check `EventLog.verify` (and so `leviathan verify`) runs after reading the files
 *    (decode, schema, chain, ids, day placement, replay, snapshot comparison); the best of three runs (the
 *    median beside it). Target ≥ 200,000 events/s, and at most 5× one SHA-256 of a line per event
 *    (`verify_over_sha256`: the stored line; both sides the best of three in the same run), reported beside
 *    the stricter ratio over one SHA-256 of the shorter text a verify hashes, the line without its hash
 *    (`verify_over_sha256_canonical`). Also: where the time goes per event, the replay's share, and `verify`
 *    end to end (fetch and read from git included) on the 100k history.
 *    This part runs in a process of its own; `BENCH_STORE_PARTS=verify` runs it only (and writes no results).
 *
 * Prints `append_ratio_100k_over_1k: X` and `verify_events_per_s: Y` and writes bench/results/store.json.
 */

import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { ChainVerifier, hashEvent, sealEvent, splitEventLines } from '../src/core/chain.js';
import { decodeCanonicalLine } from '../src/core/event-line.js';
import { type EventDraft, EventSchema, type LeviathanEvent } from '../src/core/events.js';
import { initialState, project } from '../src/core/state.js';
import type { State } from '../src/core/state-types.js';
import { EventLog } from '../src/store/event-log.js';
import { checkLog } from '../src/store/log-check.js';
import { serializeState } from '../src/store/log-format.js';
import { GitServer } from '../test/harness/git-server.js';
import { git, initRepo, makeTempDir, removeDir } from '../test/harness/repo.js';
import { dayOf, END, lifecycleDrafts, STEP_MS, seedEvents } from './lib/histories.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 15);
const VERIFY_EVENTS = Number(process.env.BENCH_VERIFY_EVENTS ?? 1_000_000);
const VERIFY_RUNS = 3;
/** `verify` runs the verify part only (prints, writes no results): for working on verification. */
const PARTS = process.env.BENCH_STORE_PARTS ?? 'all';

// --- generated histories ---------------------------------------------------------------------------------

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

/** An origin on `server` holding the drafts' events as one sealed Leviathan commit. */
async function seedOrigin(server: GitServer, name: string, drafts: Iterable<EventDraft>) {
  return seedEvents(await server.createRepo(name), drafts);
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

/**
 * Chains drafts without the per-draft schema pass of `chainEvents` (the drafts are valid by construction),
 * sealed as `chainEvents` seals them, so the lines are what Leviathan writes.
 */
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
    const sealed = sealEvent(e);
    prev = sealed.hash;
    yield sealed;
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

  // The check `EventLog.verify` runs once it has read the files (readAll runs the same with keepEvents).
  // Three runs; the ratio takes the best of them, as its SHA-256 yardstick below does (the least disturbed
  // by other work on a shared machine, for both sides alike); the median is reported beside it.
  const runs: number[] = [];
  for (let r = 0; r < VERIFY_RUNS; r++) {
    const t0 = performance.now();
    const checked = checkLog({ files, stateText });
    runs.push((performance.now() - t0) / 1000);
    if (!checked.ok || checked.fatal || checked.snapshotProblem || checked.count !== count) {
      throw new Error(`verify of generated events failed: ${JSON.stringify(checked).slice(0, 300)}`);
    }
  }
  const seconds = Math.min(...runs);
  const medianSeconds = median(runs);

  // Where the time goes, on a 100,000-event sample of the same files (per event, microseconds).
  const sampleFiles = new Map([...files].slice(0, Math.ceil(100_000 / 288)));
  const texts = [...sampleFiles.values()];
  const lineSets = texts.map(splitEventLines);
  const allLines = lineSets.flat();
  const n = allLines.length;
  // The best of three timed runs after a warm-up: the least disturbed by other work on the machine.
  const micro = (fn: () => void) => {
    fn();
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      fn();
      best = Math.min(best, performance.now() - t);
    }
    return (best * 1000) / n;
  };
  const decoded = allLines.map((l) => decodeCanonicalLine(l));
  if (decoded.some((d) => d === null)) throw new Error('generated lines are not canonical');
  const canonical = decoded.map((d) => d?.canonical as string);
  let verified: LeviathanEvent[] = [];
  const breakdown = {
    split_lines_us: micro(() => {
      for (const t of texts) splitEventLines(t);
    }),
    decode_us: micro(() => {
      for (const l of allLines) decodeCanonicalLine(l);
    }),
    sha256_us: micro(() => {
      for (const c of canonical) crypto.hash('sha256', c, 'hex');
    }),
    // The line as stored (the text above plus its `,"hash":"…"`): issue 10's yardstick as worded.
    sha256_line_us: micro(() => {
      for (const l of allLines) crypto.hash('sha256', l, 'hex');
    }),
    chain_us: micro(() => {
      const v = new ChainVerifier();
      verified = [];
      for (const set of lineSets) for (const e of v.lines(set).events) verified.push(e);
    }),
    project_us: micro(() => project(verified)),
    check_log_us: micro(() => checkLog({ files: sampleFiles, stateText: null })),
    // What a line that is not canonical costs (the general path, and every line before this change).
    general_path_us: micro(() => {
      for (const l of allLines) {
        const raw = JSON.parse(l) as Record<string, unknown>;
        EventSchema.safeParse(raw);
        hashEvent(raw);
      }
    }),
  };
  const replayShare = breakdown.project_us / breakdown.check_log_us;
  // Issue 10's yardstick: a full verify's cost per event over one SHA-256 of a line, in the same run; beside
  // it, over one SHA-256 of the shorter text a verify hashes (the line without its hash), a stricter one.
  const verifyOverSha256 = (seconds * 1e6) / count / breakdown.sha256_line_us;
  const verifyOverSha256Canonical = (seconds * 1e6) / count / breakdown.sha256_us;
  return {
    seconds,
    medianSeconds,
    runs,
    files: files.size,
    eventsPerSecond: count / seconds,
    breakdown,
    replayShare,
    verifyOverSha256,
    verifyOverSha256Canonical,
  };
}

/**
 * `leviathan verify` end to end (what the CLI runs: fetch the branch into a fresh checkout, read every day
 * file and state.json, check), on the 100k history.
 */
async function verifyEndToEnd(server: GitServer, name: string, root: string, atLeast: number) {
  const dir = await initRepo(join(root, `${name}-verify`), { empty: true });
  await git(dir, ['remote', 'add', 'origin', server.url(name)]);
  const t = performance.now();
  const result = await new EventLog({ dir }).verify();
  const seconds = (performance.now() - t) / 1000;
  // (The append timings above added a few events to the history.)
  if (!result.ok || result.count < atLeast) {
    throw new Error(`verify of ${name} failed: ${JSON.stringify(result)}`);
  }
  await removeDir(dir);
  return { events: result.count, seconds, eventsPerSecond: result.count / seconds };
}

// --- main --------------------------------------------------------------------------------------------------

type VerifyFigures = Awaited<ReturnType<typeof verifyThroughput>>;

function printVerify(verify: VerifyFigures): void {
  console.log(
    `verify: ${VERIFY_EVENTS.toLocaleString('en')} events in ${verify.files} day files, ` +
      `${verify.runs.map((r) => r.toFixed(2)).join(' / ')} s (best ${verify.seconds.toFixed(2)} s, median ${verify.medianSeconds.toFixed(2)} s); per event: ` +
      Object.entries(verify.breakdown)
        .map(([k, v]) => `${k.replace(/_us$/, '')} ${v.toFixed(2)} µs`)
        .join(', ') +
      `; replay (project) ${(verify.replayShare * 100).toFixed(0)}% of the check`,
  );
}

/**
 * The in-memory verify in a process of its own, as `leviathan verify` runs: measured in the process that had
 * run the append and end-to-end parts, the same check took 10-15% longer (their type feedback and heap).
 */
async function verifyInFreshProcess(root: string): Promise<VerifyFigures> {
  const out = join(root, 'verify.json');
  const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1] as string], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_STORE_PARTS: 'verify', BENCH_STORE_VERIFY_OUT: out },
  });
  if (child.status !== 0) throw new Error(`the verify part failed (exit ${child.status ?? child.signal})`);
  return JSON.parse(await readFile(out, 'utf8')) as VerifyFigures;
}

async function main(): Promise<void> {
  if (PARTS === 'verify') {
    const verify = await verifyThroughput(VERIFY_EVENTS);
    printVerify(verify);
    const out = process.env.BENCH_STORE_VERIFY_OUT;
    if (out) {
      await writeFile(out, JSON.stringify(verify));
      return;
    }
    console.log(`verify_events_per_s: ${Math.round(verify.eventsPerSecond)}`);
    console.log(`verify_over_sha256: ${verify.verifyOverSha256.toFixed(2)}`);
    console.log(`verify_over_sha256_canonical: ${verify.verifyOverSha256Canonical.toFixed(2)}`);
    return;
  }
  const root = await makeTempDir('bench-store');
  const server = await GitServer.start();
  try {
    console.log(
      `store bench: ${cpus().length} cores, node ${process.version}, ${await git(root, ['--version'])}`,
    );
    const verify = await verifyInFreshProcess(root);
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

    const e2e = await verifyEndToEnd(server, 'history-100k', root, 100_000);
    console.log(
      `verify end to end (fresh checkout, fetch, read, check) of the 100k history: ${e2e.seconds.toFixed(2)} s, ` +
        `${Math.round(e2e.eventsPerSecond)} events/s`,
    );

    console.log(`append_ratio_100k_over_1k: ${ratio.toFixed(2)}`);
    console.log(`append_ratio_100k_over_1k_warm: ${warmRatio.toFixed(2)}`);
    console.log(`append_ratio_100k_over_1k_same_state: ${sameStateRatio.toFixed(2)}`);
    console.log(`verify_events_per_s: ${Math.round(verify.eventsPerSecond)}`);
    console.log(`verify_over_sha256: ${verify.verifyOverSha256.toFixed(2)}`);
    console.log(`verify_over_sha256_canonical: ${verify.verifyOverSha256Canonical.toFixed(2)}`);

    const results = {
      append_ratio_100k_over_1k: Number(ratio.toFixed(3)),
      verify_events_per_s: Math.round(verify.eventsPerSecond),
      verify_over_sha256: Number(verify.verifyOverSha256.toFixed(3)),
      verify_over_sha256_canonical: Number(verify.verifyOverSha256Canonical.toFixed(3)),
      append_ratio_100k_over_1k_warm: Number(warmRatio.toFixed(3)),
      append_ratio_100k_over_1k_same_state: Number(sameStateRatio.toFixed(3)),
      append_median_ms: Object.fromEntries(
        Object.entries(times).map(([k, v]) => [k, { fresh: Math.round(v.fresh), warm: Math.round(v.warm) }]),
      ),
      history: histories,
      verify: {
        events: VERIFY_EVENTS,
        seconds: Number(verify.seconds.toFixed(3)),
        median_seconds: Number(verify.medianSeconds.toFixed(3)),
        runs_s: verify.runs.map((r) => Number(r.toFixed(3))),
        per_event_us: Object.fromEntries(
          Object.entries(verify.breakdown).map(([k, v]) => [k, Number(v.toFixed(3))]),
        ),
        replay_share: Number(verify.replayShare.toFixed(3)),
        end_to_end_100k: {
          events: e2e.events,
          seconds: Number(e2e.seconds.toFixed(3)),
          events_per_s: Math.round(e2e.eventsPerSecond),
        },
      },
      samples: SAMPLES,
      cores: cpus().length,
      targets: { append_ratio_max: 1.5, verify_events_per_s_min: 200_000, verify_over_sha256_max: 5 },
    };
    await mkdir('bench/results', { recursive: true });
    await writeFile('bench/results/store.json', `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await server.stop();
    await removeDir(root);
  }
}

await main();
