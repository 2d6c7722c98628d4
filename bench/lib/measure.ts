/**
 * Measuring helpers for the benchmarks: CPU time (this process and every child it waited for, from
 * /proc/self/stat, so git's own work counts) and a CLI run with its CPU time and peak memory.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The committed CLI bundle (what a user runs); `npm run build` refreshes it. */
export const CLI = resolve(process.env.LEVIATHAN_CLI || 'dist/cli/index.js');

const TICK_MS = 1000 / 100; // USER_HZ on Linux

/** CPU milliseconds of the children this process has waited for (user + system, and their children). */
export function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the comm field: state is fields[0], so utime=[11], stime=[12], cutime=[13], cstime=[14].
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

/** CPU milliseconds of this process and its waited-for children. */
export function totalCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000 + childrenCpuMs();
}

/** Runs `fn` and returns its CPU cost (in-process work plus the git processes it waited for). */
export async function cpuOf<T>(fn: () => Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const before = totalCpuMs();
  const value = await fn();
  return { value, cpuMs: totalCpuMs() - before };
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** CPU of node and every git process it ran. */
  cpuMs: number;
  /** Peak resident memory of the largest process (node), MB. */
  peakRssMb: number;
}

let runs = 0;

/**
 * Runs `leviathan <args>` as a user would, through GNU time for its peak memory. Asynchronous: the git server
 * the command talks to runs in this process.
 */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const out = join(tmpdir(), `leviathan-bench-time-${process.pid}-${runs++}`);
  const before = childrenCpuMs();
  const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', out, process.execPath, CLI, ...args], {
      env: { ...process.env, NODE_OPTIONS: '', ...env },
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
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
  const cpuMs = childrenCpuMs() - before;
  const kib = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  rmSync(out, { force: true });
  return { ...r, cpuMs, peakRssMb: kib / 1024 };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * The CPU ratio of two commands, measured back to back `rounds` times (a, b, a, b, …) so a change in the
 * machine's load hits both alike; the median of the per-round ratios.
 */
export async function cliRatio(
  big: string[],
  small: string[],
  rounds: number,
  env: Record<string, string> = {},
): Promise<{ ratio: number; bigMs: number; smallMs: number; peakRssMb: number }> {
  const ratios: number[] = [];
  const bigs: number[] = [];
  const smalls: number[] = [];
  let peak = 0;
  // One warm-up each (page cache, git's first-run work).
  for (const args of [big, small]) await mustRun(args, env);
  for (let i = 0; i < rounds; i++) {
    const s = await mustRun(small, env);
    const b = await mustRun(big, env);
    peak = Math.max(peak, b.peakRssMb);
    bigs.push(b.cpuMs);
    smalls.push(s.cpuMs);
    ratios.push(b.cpuMs / s.cpuMs);
  }
  return { ratio: median(ratios), bigMs: median(bigs), smallMs: median(smalls), peakRssMb: peak };
}

export async function mustRun(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const r = await runCli(args, env);
  if (r.status !== 0) {
    throw new Error(`leviathan ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  }
  return r;
}
