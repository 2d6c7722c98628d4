import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { LineRedactor, TailBuffer } from './output-tail.js';
import type { Sandbox } from './sandbox.js';
import type { SandboxLayout } from './sandbox-argv.js';

export type RunStatus = 'ok' | 'failed' | 'timeout';
export type OutputStream = 'stdout' | 'stderr';

export interface RunCommandsOptions {
  /** Run in order with `/bin/sh -c`; the first one that does not exit 0 stops the list. */
  commands: readonly string[];
  /** The checkout. */
  cwd: string;
  /** The complete environment of the commands: nothing from `process.env` is added (see agent-env.ts). */
  env: Record<string, string>;
  /** One deadline for the whole list, not per command. */
  timeoutMs: number;
  /** Live output (e.g. to the job log), decoded as UTF-8 without splitting characters. */
  onOutput?: (chunk: string, stream: OutputStream, command: string) => void;
  /** Time between SIGTERM and SIGKILL when a process group has to be stopped. Default 2000 ms. */
  killGraceMs?: number;
  /**
   * Each command in a fresh sandbox with this layout (see sandbox.ts); without it the command runs as we do.
   * The layout's work tree should be `cwd`.
   */
  sandbox?: { sandbox: Sandbox; layout: SandboxLayout };
  /**
   * Applied to all output before it leaves: the live output (whole lines, so a secret split across chunks is
   * still caught) and the tail. Default: none.
   */
  redact?: (text: string) => string;
}

export interface RunCommandsResult {
  status: RunStatus;
  /** Exit code of the last command run; null when it was killed by a signal, timed out or could not start. */
  exitCode: number | null;
  /** The signal that ended the last command, when it was not the deadline. */
  signal?: NodeJS.Signals;
  /** The command that failed or was running (or due) at the deadline. */
  failedCommand?: string;
  /** Why a command could not be started at all (e.g. the directory does not exist). */
  error?: string;
  /** The last 4 KB of the combined stdout and stderr of all commands, redacted. */
  outputTail: string;
  durationMs: number;
}

const DEFAULT_KILL_GRACE_MS = 2000;
/** setTimeout overflows above this and would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long a SIGKILLed group may take to be gone (it always goes; this only bounds the wait). */
const KILL_SETTLE_MS = 2000;

/** How long to wait for the pipes to drain after the group is gone (a `setsid` escapee may hold them). */
const DRAIN_MS = 250;

/** Process groups still running, so that they die with us even if we exit mid-command. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
  });
}

/**
 * Kills every command group still running, now (the agent step told to stop by its runner): what they wrote
 * so far stays in the work tree for the caller to keep.
 */
export function stopRunningCommands(): void {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
}

/** false when the group has no member left (ESRCH) or cannot be signalled. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a member of the group is still running. kill(-pgid, 0) also succeeds for zombies, and in many
 * containers PID 1 never reaps the orphans we leave, so on Linux look at the members' states in /proc.
 */
function groupRunning(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return true;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp …"; comm may contain spaces and parentheses.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
    } catch {
      // The process ended while we looked.
    }
  }
  return false;
}

/** SIGTERM to the whole group, then SIGKILL to whatever is left after the grace period. */
async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!groupRunning(pgid) || !signalGroup(pgid, 'SIGTERM')) return;
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    await sleep(Math.min(20, Math.max(1, until - Date.now())));
    if (!groupRunning(pgid)) return;
  }
  signalGroup(pgid, 'SIGKILL');
  // SIGKILL takes effect when the kernel next runs the process: on a loaded machine, a moment later. The
  // caller is told the command stopped only once nothing of the group runs any more.
  const settled = Date.now() + KILL_SETTLE_MS;
  while (groupRunning(pgid) && Date.now() < settled) await sleep(10);
}

interface OneResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  error?: string;
}

function waitForPipes(child: ChildProcess, ms: number): Promise<void> {
  const streams = [child.stdout, child.stderr].filter((s) => s && !s.closed && !s.destroyed);
  if (streams.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let open = streams.length;
    const timer = setTimeout(() => {
      for (const s of streams) s?.destroy();
      resolve();
    }, ms);
    for (const s of streams) {
      s?.once('close', () => {
        if (--open === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

async function runOne(
  command: string,
  options: RunCommandsOptions,
  deadline: number,
  tail: TailBuffer,
  graceMs: number,
): Promise<OneResult> {
  const argv = ['/bin/sh', '-c', command];
  const box = options.sandbox;
  let prepared: Awaited<ReturnType<Sandbox['prepare']>>;
  try {
    prepared = box
      ? await box.sandbox.prepare(box.layout, argv)
      : { file: argv[0]!, args: argv.slice(1), envOverrides: {}, dispose: async () => {} };
  } catch (error) {
    return { exitCode: null, signal: null, timedOut: false, error: (error as Error).message };
  }
  try {
    return await spawnOne(command, prepared, options, deadline, tail, graceMs);
  } finally {
    await prepared.dispose();
  }
}

/** Whether `pid` has ended: no longer in /proc, or a zombie (an init is one only once its namespace is empty). */
function ended(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

function isNamespaceInit(pid: number): boolean {
  try {
    const nspid = /^NSpid:\s*([\d\s]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    const ids = nspid?.trim().split(/\s+/) ?? [];
    return ids.length > 1 && ids[0] === String(pid) && ids.at(-1) === '1';
  } catch {
    return false;
  }
}

/**
 * Waits until a sandbox's PID-namespace init has ended, which the kernel allows only after every process in
 * that namespace is gone; SIGKILL when it outlasts the grace. Without this, escapees could still be writing
 * into the work tree for a moment after the sandbox's outer process exited.
 */
async function awaitNamespaceEnd(initPid: number, graceMs: number): Promise<void> {
  // Only ever wait for or signal a process that is PID 1 of a namespace of its own.
  if (!isNamespaceInit(initPid)) return;
  if (await endsWithin(initPid, graceMs)) return;
  try {
    if (isNamespaceInit(initPid)) process.kill(initPid, 'SIGKILL');
  } catch {
    return;
  }
  await endsWithin(initPid, graceMs);
}

async function endsWithin(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!ended(pid) && Date.now() < until) await sleep(5);
  return ended(pid);
}

/** `promise`'s value, or null when it takes longer than `ms` (the timer does not hold the process open). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The init pid a sandbox reports on its info descriptor (see `Invocation.infoFd`), once that closes. */
function readInitPid(child: ChildProcess, fd: number | undefined): Promise<number | null> {
  const stream = fd === undefined ? null : child.stdio[fd];
  if (!stream) return Promise.resolve(null);
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return new Promise((resolve) => {
    stream.once('close', () => resolve(Number(/"child-pid"\s*:\s*(\d+)/.exec(text)?.[1]) || null));
  });
}

function spawnOne(
  command: string,
  invocation: { file: string; args: string[]; envOverrides: Record<string, string>; infoFd?: number },
  options: RunCommandsOptions,
  deadline: number,
  tail: TailBuffer,
  graceMs: number,
): Promise<OneResult> {
  return new Promise((resolve) => {
    // detached = setsid(): the shell leads a new process group, so one kill(-pgid) reaches its grandchildren.
    const child = spawn(invocation.file, invocation.args, {
      cwd: options.cwd,
      env: { ...options.env, ...invocation.envOverrides },
      detached: true,
      // No stdin: an agent or command that waits for input must not hang until the deadline.
      stdio:
        invocation.infoFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const initPid = readInitPid(child, invocation.infoFd);
    const pgid = child.pid;
    let timedOut = false;
    let stopping: Promise<void> | null = null;
    const stop = (): Promise<void> => {
      stopping ??= pgid === undefined ? Promise.resolve() : terminateGroup(pgid, graceMs);
      return stopping;
    };
    if (pgid !== undefined) {
      liveGroups.add(pgid);
      installExitHook();
    }

    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      const decoder = new StringDecoder('utf8');
      const lines = new LineRedactor(options.redact);
      const emit = (text: string): void => {
        if (!options.onOutput || text === '') return;
        try {
          options.onOutput(text, name, command);
        } catch {
          // A faulty log sink must not break the run.
        }
      };
      stream?.on('data', (chunk: Buffer) => {
        tail.push(chunk);
        if (options.onOutput) emit(lines.write(decoder.write(chunk)));
      });
      stream?.once('close', () => emit(lines.end(decoder.end())));
    }

    const timer = setTimeout(
      () => {
        timedOut = true;
        void stop();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, deadline - Date.now())),
    );

    let settled = false;
    const finish = async (result: OneResult): Promise<void> => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Background processes the command left behind are part of it: stop them too, so nothing outlives
      // the list and holds the checkout (or our pipes) open.
      await stop();
      const init = await within(initPid, graceMs);
      if (init) await awaitNamespaceEnd(init, graceMs);
      await waitForPipes(child, DRAIN_MS);
      if (pgid !== undefined) liveGroups.delete(pgid);
      resolve(result);
    };

    child.once('exit', (code, signal) => {
      void finish({ exitCode: code, signal: timedOut ? null : signal, timedOut });
    });
    child.once('error', (err) => {
      // Only a failed spawn has no pid; other errors (e.g. a failed kill) are followed by 'exit'.
      if (pgid === undefined)
        void finish({ exitCode: null, signal: null, timedOut: false, error: err.message });
    });
  });
}

/**
 * Runs a task's commands in its checkout (SPEC §3.2 step 3). Each command gets its own process group, and at
 * the deadline the whole group is stopped (SIGTERM, then SIGKILL after `killGraceMs`), grandchildren
 * included. Limitation: a process that moves itself into a new session (`setsid`) leaves the group and cannot
 * be tracked this way; a container or cgroup around the job is the stronger fence.
 */
export async function runCommands(options: RunCommandsOptions): Promise<RunCommandsResult> {
  const started = Date.now();
  const deadline = started + Math.max(0, options.timeoutMs);
  const graceMs = Math.max(0, options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
  const tail = new TailBuffer();
  const done = (result: Omit<RunCommandsResult, 'outputTail' | 'durationMs'>): RunCommandsResult => ({
    ...result,
    outputTail: tail.toString(options.redact),
    durationMs: Date.now() - started,
  });

  let exitCode: number | null = 0;
  for (const command of options.commands) {
    if (Date.now() >= deadline) return done({ status: 'timeout', exitCode: null, failedCommand: command });
    const one = await runOne(command, options, deadline, tail, graceMs);
    exitCode = one.exitCode;
    if (one.timedOut) return done({ status: 'timeout', exitCode: null, failedCommand: command });
    if (one.error !== undefined) {
      tail.push(`\nleviathan: could not start \`${command}\`: ${one.error}\n`);
      return done({ status: 'failed', exitCode: null, failedCommand: command, error: one.error });
    }
    if (one.exitCode !== 0) {
      return done({
        status: 'failed',
        exitCode: one.exitCode,
        failedCommand: command,
        ...(one.signal ? { signal: one.signal } : {}),
      });
    }
  }
  return done({ status: 'ok', exitCode });
}
