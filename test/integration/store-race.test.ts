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

describe('concurrent writers (separate processes, separate clones, real HTTP)', () => {
  it('16 processes × 25 events: seq 1..400 without gaps, chain verifies, no duplicate, nothing lost', async () => {
    const dirs = await clones('append-race', 16);
    const results = await race(
      dirs.map((dir, i) => ({
        mode: 'append',
        dir,
        token: TOKEN,
        prefix: `w${String(i).padStart(2, '0')}`,
        // 25 events in appends of 1, 4, 10 and 10: single and multi-event appends interleave (64 commits).
        batches: [1, 4, 10, 10],
      })),
    );
    for (const r of results) expect(r).toMatchObject({ ok: true });

    // Every process got 25 distinct seqs, and together they are exactly 1..400.
    const seqs = results.flatMap((r) => r.seqs ?? []);
    expect(seqs).toHaveLength(400);
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));

    const log = new EventLog({ dir: dirs[0] as string, token: TOKEN });
    const verified = await log.verify();
    expect(verified).toMatchObject({ ok: true, count: 400, warnings: [] });
    const { events, state } = await log.readAll();
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(400);
    for (let w = 0; w < 16; w++) {
      const prefix = `w${String(w).padStart(2, '0')}`;
      const mine = events.filter((e) => e.task === prefix);
      // A writer's own events keep their order, and all 25 made it.
      expect(mine.map((e) => e.id)).toEqual(Array.from({ length: 25 }, (_, n) => `${prefix}-${n + 1}`));
      expect(state.tasks[prefix]?.attempts).toBe(25);
    }
    // The snapshot a reader trusts is the projection of everything.
    const read = await log.read();
    expect(read.source).toBe('snapshot');
    expect(read.state).toEqual(state);
  }, 120_000);

  it('8 processes claim the same task under a precondition: exactly one attempt.created lands', async () => {
    const dirs = await clones('claim-race', 8);
    const results = await race(
      dirs.map((dir, i) => ({ mode: 'claim', dir, token: TOKEN, prefix: `c${i}`, task: 'docs-guide' })),
    );
    const won = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(won).toHaveLength(1);
    expect(won[0]?.seq).toBe(1);
    expect(refused).toHaveLength(7);
    for (const r of refused) expect(r.refused).toBe('task docs-guide is already claimed');

    const { events, state } = await new EventLog({ dir: dirs[0] as string, token: TOKEN }).readAll();
    expect(events.filter((e) => e.type === 'attempt.created')).toHaveLength(1);
    expect(state.tasks['docs-guide']?.attempts).toBe(1);
  }, 120_000);
});
