/**
 * Real writer processes racing on one event log over the HTTP git server: nothing lost, nothing duplicated,
 * and a compare-and-swap claim that exactly one of them wins.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import ts from 'typescript';
import { EventLog } from '../../src/store/event-log.js';
import { GitServer } from '../harness/git-server.js';
import { cloneRepo, makeTempDir, removeDir } from '../harness/repo.js';
import { sized } from '../helpers/stress.js';

const WORKER_SOURCE = resolve('test/integration/fixtures/append-worker.ts');
const TOKEN = 'race-token';
/** Inside the project (and .gitignored) so the compiled worker resolves node_modules and `type: module`. */
const BUILD = resolve('.tmp', `store-race-${process.pid}`);
let workerScript = '';

/**
 * Transpiles the worker and the sources it imports to plain ESM once, so each of the many writer processes
 * starts with bare `node` instead of compiling TypeScript (which would dominate the test on 2 cores).
 */
async function compileWorker(): Promise<string> {
  const seen = new Set<string>();
  const queue = [WORKER_SOURCE];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g))
      queue.push(resolve(dirname(file), `${m[1]}.ts`));
    const out = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: false,
      },
    }).outputText;
    const target = join(BUILD, relative(process.cwd(), file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, out);
  }
  return join(BUILD, relative(process.cwd(), WORKER_SOURCE)).replace(/\.ts$/, '.js');
}

interface WorkerResult {
  ok: boolean;
  seqs?: number[];
  seq?: number;
  refused?: string;
  error?: string;
}

interface Worker {
  child: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  result: Promise<WorkerResult>;
}

/** Starts one writer process; it waits for `go` on stdin after printing `ready`. */
function startWorker(job: Record<string, unknown>): Worker {
  const child = spawn(process.execPath, [workerScript, JSON.stringify(job)], {
    cwd: process.cwd(),
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const result = new Promise<WorkerResult>((done) => {
    child.on('close', (code) => {
      markReady();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      done(
        line ? (JSON.parse(line) as WorkerResult) : { ok: false, error: `exit ${code}: ${err.slice(-500)}` },
      );
    });
  });
  return { child, ready, result };
}

/** Starts all workers, waits until every one is loaded, then releases them at once. */
async function race(jobs: Record<string, unknown>[]): Promise<WorkerResult[]> {
  const workers = jobs.map(startWorker);
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.child.stdin.write('go\n');
  return Promise.all(workers.map((w) => w.result));
}

let server: GitServer;
let root: string;

beforeAll(async () => {
  server = await GitServer.start({ token: TOKEN });
  root = await makeTempDir('store-race');
  workerScript = await compileWorker();
});

afterAll(async () => {
  await server?.stop();
  await removeDir(root);
  await rm(BUILD, { recursive: true, force: true });
});

async function clones(repo: string, n: number): Promise<string[]> {
  await server.createRepo(repo);
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      cloneRepo(server.url(repo), join(root, `${repo}-${i}`), { token: TOKEN }),
    ),
  );
}

const WRITERS = sized(6, 16);
// Single and multi-event appends interleave: 5 events in appends of 1 and 4, or 25 in 1, 4, 10 and 10.
const BATCHES = sized([1, 4], [1, 4, 10, 10]);
const PER_WRITER = BATCHES.reduce((a, b) => a + b, 0);
const TOTAL = WRITERS * PER_WRITER;
const CLAIMERS = sized(4, 8);
const seqRange = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('concurrent writers (separate processes, separate clones, real HTTP)', () => {
  it(`${WRITERS} processes × ${PER_WRITER} events: seq 1..${TOTAL} without gaps, chain verifies, no duplicate, nothing lost`, async () => {
    const dirs = await clones('append-race', WRITERS);
    const results = await race(
      dirs.map((dir, i) => ({
        mode: 'append',
        dir,
        token: TOKEN,
        prefix: `w${String(i).padStart(2, '0')}`,
        batches: BATCHES,
      })),
    );
    for (const r of results) expect(r).toMatchObject({ ok: true });

    // Every process got its distinct seqs, and together they are exactly 1..TOTAL.
    const seqs = results.flatMap((r) => r.seqs ?? []);
    expect(seqs).toHaveLength(TOTAL);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqRange(TOTAL));

    const log = new EventLog({ dir: dirs[0] as string, token: TOKEN });
    const verified = await log.verify();
    expect(verified).toMatchObject({ ok: true, count: TOTAL, warnings: [] });
    const { events, state } = await log.readAll();
    expect(events.map((e) => e.seq)).toEqual(seqRange(TOTAL));
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(TOTAL);
    for (let w = 0; w < WRITERS; w++) {
      const prefix = `w${String(w).padStart(2, '0')}`;
      const mine = events.filter((e) => e.task === prefix);
      // A writer's own events keep their order, and all of them made it.
      expect(mine.map((e) => e.id)).toEqual(seqRange(PER_WRITER).map((n) => `${prefix}-${n}`));
      expect(state.tasks[prefix]?.attempts).toBe(PER_WRITER);
    }
    // The snapshot a reader trusts is the projection of everything.
    const read = await log.read();
    expect(read.source).toBe('snapshot');
    expect(read.state).toEqual(state);
  }, 300_000);

  it(`${CLAIMERS} processes claim the same task under a precondition: exactly one attempt.created lands`, async () => {
    const dirs = await clones('claim-race', CLAIMERS);
    const results = await race(
      dirs.map((dir, i) => ({ mode: 'claim', dir, token: TOKEN, prefix: `c${i}`, task: 'docs-guide' })),
    );
    const won = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(won).toHaveLength(1);
    expect(won[0]?.seq).toBe(1);
    expect(refused).toHaveLength(CLAIMERS - 1);
    for (const r of refused) expect(r.refused).toBe('task docs-guide is already claimed');

    const { events, state } = await new EventLog({ dir: dirs[0] as string, token: TOKEN }).readAll();
    expect(events.filter((e) => e.type === 'attempt.created')).toHaveLength(1);
    expect(state.tasks['docs-guide']?.attempts).toBe(1);
  }, 120_000);
});
