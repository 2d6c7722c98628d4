/**
 * Shared setup for the autonomy-loop tests: a target repository served by the real smart-HTTP git server,
 * clones of it, scheduler and worker dependencies with an injected clock, and readers for what the loop left
 * behind (events, origin refs, pull records).
 *
 *   const server = await GitServer.start();
 *   const repo = await seedTarget(server, 'sandbox', { config: CONFIG, backlog: BACKLOG });
 *   const clock = new Clock('2026-11-26T10:00:00.000Z');
 *   const report = await tick(tickOptions(repo.dir, clock.now));
 *   const { outcome } = await runAttempt(await workerDeps(repo, clock.now), report.task!, report.attempt!);
 *   const events = await eventsOf(repo.dir);      // verified; also originRefs(repo), pullsOf(repo.dir)
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ulid } from 'ulid';
import type { Output } from '../../src/cli/output.js';
import type { EventType, LeviathanEvent } from '../../src/core/events.js';
import type { RunContext } from '../../src/core/run-context.js';
import { LocalForge } from '../../src/forge/local.js';
import type { TickOptions } from '../../src/scheduler/tick.js';
import { EventLog } from '../../src/store/event-log.js';
import { Git } from '../../src/store/git.js';
import { type Anchor, AnchorFile, stateDir } from '../../src/store/log-anchor.js';
import type { WorkerDeps } from '../../src/worker/attempt.js';
import type { GitServer } from '../harness/git-server.js';
import { cloneRepo, git, installHook, makeTempDir } from '../harness/repo.js';

/** The committed CLI bundle the child-process tests run (`LEVIATHAN_CLI` may name another build of it). */
export const CLI = resolve(process.env.LEVIATHAN_CLI || 'dist/cli/index.js');

/** A target repository on the server and a maintainer's clone of it. */
export interface Target {
  server: GitServer;
  name: string;
  /** `http://127.0.0.1:PORT/<name>.git`. */
  url: string;
  /** The bare repository behind the URL (for hooks and inspection only; Leviathan talks HTTP). */
  bare: string;
  /** Temp dir holding the clones made for this target. */
  root: string;
  /** The maintainer's clone the scheduler (and the CLI) runs in. */
  dir: string;
  /** Log of every ref update pushed to the origin (`<old> <new> <ref>` per line), see `pushedRefs`. */
  pushLog: string;
}

export interface SeedInput {
  config: string;
  backlog: string;
  files?: Record<string, string>;
}

let cloneCount = 0;

/**
 * A bare origin seeded with `.leviathan/config.yaml`, `.leviathan/backlog.yaml` and a few files on `main`,
 * served over HTTP, with a post-receive hook recording every pushed ref update, and a clone of it.
 */
export async function seedTarget(server: GitServer, name: string, input: SeedInput): Promise<Target> {
  const bare = await server.createRepo(name, {
    files: {
      'README.md': `# ${name}\n`,
      'docs/index.md': '# Docs\n',
      '.leviathan/config.yaml': input.config,
      '.leviathan/backlog.yaml': input.backlog,
      ...input.files,
    },
  });
  const root = await makeTempDir(`loop-${name}`);
  const pushLog = join(root, 'pushes.log');
  await installHook(bare, 'post-receive', `cat >> '${pushLog}'`);
  const dir = await cloneRepo(server.url(name), join(root, 'maintainer'));
  return { server, name, url: server.url(name), bare, root, dir, pushLog };
}

/**
 * A copy of a target's origin (refs, objects, push log) under a new name, with a fresh maintainer clone: an
 * expensive history is built once and each attack gets its own copy to ruin. The copy's log is one this
 * machine never saw, unless `anchors`: then this process's anchors of the original are copied to it too, as
 * if the history had been built on the copy.
 */
export async function forkTarget(
  target: Target,
  name: string,
  options: { anchors?: boolean } = {},
): Promise<Target> {
  const bare = target.server.path(name);
  await cp(target.bare, bare, { recursive: true });
  const root = await makeTempDir(`loop-${name}`);
  const pushLog = join(root, 'pushes.log');
  await cp(target.pushLog, pushLog).catch(() => {});
  await installHook(bare, 'post-receive', `cat >> '${pushLog}'`);
  const dir = await cloneRepo(target.server.url(name), join(root, 'maintainer'));
  if (options.anchors) await copyAnchors(target.url, target.server.url(name));
  return { server: target.server, name, url: target.server.url(name), bare, root, dir, pushLog };
}

/** Every anchor of this process's state directory for a log on `from`, recorded again for `to`. */
async function copyAnchors(from: string, to: string): Promise<void> {
  const dir = join(stateDir(), 'anchors');
  const files = await readdir(dir).catch(() => [] as string[]);
  for (const file of files.filter((f) => f.endsWith('.json'))) {
    const { where, ...anchor } = JSON.parse(await readFile(join(dir, file), 'utf8')) as Anchor & {
      where: string;
    };
    if (where.startsWith(`${from}#`)) await new AnchorFile(to + where.slice(from.length)).write(anchor);
  }
}

/** Another clone of the target (a worker's checkout, a concurrent scheduler's, …). */
export async function cloneTarget(target: Target, label = 'clone'): Promise<string> {
  cloneCount += 1;
  return cloneRepo(target.url, join(target.root, `${label}-${cloneCount}`));
}

/** A settable clock shared by scheduler, worker and forge. */
export class Clock {
  private t: number;
  constructor(start: string) {
    this.t = Date.parse(start);
  }
  readonly now = (): Date => new Date(this.t);
  advance(ms: number): this {
    this.t += ms;
    return this;
  }
  minutes(n: number): this {
    return this.advance(n * 60_000);
  }
  set(iso: string): this {
    this.t = Date.parse(iso);
    return this;
  }
}

export function context(now: () => Date, kind: 'scheduler' | 'worker' | 'cli' = 'scheduler'): RunContext {
  return { now, newId: () => ulid(now().getTime()), actor: { kind } };
}

/** Scheduler dependencies built from a clone, as the CLI builds them. */
export function tickOptions(dir: string, now: () => Date, extra: Partial<TickOptions> = {}): TickOptions {
  return {
    ...context(now, 'scheduler'),
    git: new Git(dir),
    forge: new LocalForge({ dir, now }),
    events: new EventLog({ dir, rootBlobs: true }),
    ...extra,
  };
}

/** Worker dependencies on a fresh clone of the target (each attempt gets its own checkout, as in Actions). */
export async function workerDeps(
  target: Target,
  now: () => Date,
): Promise<WorkerDeps & { dir: string; forge: LocalForge }> {
  const dir = await cloneTarget(target, 'worker');
  // One Git answers the repository questions for the worker, its forge and its log (as the CLI does).
  const git = new Git(dir);
  return {
    ...context(now, 'worker'),
    dir,
    git,
    forge: new LocalForge({ dir, now, probe: git }),
    events: new EventLog({ dir, probe: git, rootBlobs: true }),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  };
}

/** Every event of the target's log, verified (throws on a broken chain). */
export async function eventsOf(dir: string): Promise<LeviathanEvent[]> {
  return (await new EventLog({ dir }).readAll()).events;
}

export function ofType(events: readonly LeviathanEvent[], type: EventType, task?: string): LeviathanEvent[] {
  return events.filter((e) => e.type === type && (task === undefined || e.task === task));
}

/** The origin's refs as `ref → sha`, read with `git ls-remote` over HTTP. */
export async function originRefs(target: Pick<Target, 'url' | 'root'>): Promise<Map<string, string>> {
  const out = await git(target.root, ['ls-remote', target.url]);
  const refs = new Map<string, string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [sha, ref] = line.split('\t');
    if (sha && ref) refs.set(ref, sha);
  }
  return refs;
}

/** Every ref update the origin received so far, in order. */
export async function pushedRefs(target: Target): Promise<Array<{ old: string; new: string; ref: string }>> {
  const text = await readFile(target.pushLog, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [o = '', n = '', ref = ''] = line.split(' ');
      return { old: o, new: n, ref };
    });
}

/** The pull records of the target's local forge. */
export function pullsOf(dir: string) {
  return new LocalForge({ dir }).allPulls();
}

/** An Output that keeps what a command prints. */
export function capture(json = false): Output & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { json, progress: false, lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` (e.g. the CLI bundle) and collects its output. */
export function runNode(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd ?? process.cwd(),
      env: { ...process.env, NODE_OPTIONS: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/**
 * A fingerprint of a checkout as the user sees it: every working-tree file (path, mode, content), the index
 * file's bytes, HEAD and the local branches.
 */
export async function checkoutFingerprint(dir: string): Promise<Record<string, string>> {
  const print: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (path === '.git') continue;
      if (entry.isDirectory()) await walk(path);
      else print[`tree:${path}`] = sha256(await readFile(join(dir, path)));
    }
  };
  await walk('');
  print.index = sha256(await readFile(join(dir, '.git', 'index')));
  print.HEAD = await readFile(join(dir, '.git', 'HEAD'), 'utf8');
  print.branches = await git(dir, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads']);
  return print;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Polls `check` every 50 ms until it returns a value, or throws after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | null>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
