import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildAgentEnv } from '../../src/executor/agent-env.js';
import { runCommands } from '../../src/executor/run-commands.js';

let dir: string;
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lev-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Running, as opposed to gone or a zombie nobody reaped yet (PID 1 in a container often never reaps). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function readPid(file: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (/^\d+\n/.test(text)) return Number(text.trim());
    await sleep(10);
  }
  throw new Error(`no pid in ${file}`);
}

/** A deadline no honest command here comes near, even on a loaded machine. */
const ROOMY = 20_000;

describe('runCommands', () => {
  it('runs the commands in order in the checkout and reports ok', async () => {
    const r = await runCommands({
      commands: ['echo one > out.txt', 'echo two >> out.txt', 'cat out.txt'],
      cwd: dir,
      env,
      timeoutMs: ROOMY,
    });
    expect(r).toMatchObject({ status: 'ok', exitCode: 0 });
    expect(r.failedCommand).toBeUndefined();
    expect(r.outputTail).toBe('one\ntwo\n');
  });

  it('stops at the first failing command and names it', async () => {
    const r = await runCommands({
      commands: ['echo before', 'echo broken >&2; exit 3', 'echo after > after.txt'],
      cwd: dir,
      env,
      timeoutMs: ROOMY,
    });
    expect(r).toMatchObject({ status: 'failed', exitCode: 3, failedCommand: 'echo broken >&2; exit 3' });
    expect(r.outputTail).toBe('before\nbroken\n');
    await expect(readFile(join(dir, 'after.txt'))).rejects.toThrow();
  });

  it('reports a command killed by a signal as failed, with the signal', async () => {
    const r = await runCommands({ commands: ['kill -9 $$'], cwd: dir, env, timeoutMs: ROOMY });
    expect(r).toMatchObject({
      status: 'failed',
      exitCode: null,
      signal: 'SIGKILL',
      failedCommand: 'kill -9 $$',
    });
  });

  it('reports a directory that does not exist as a failure to start, not a crash', async () => {
    const r = await runCommands({ commands: ['true'], cwd: join(dir, 'missing'), env, timeoutMs: ROOMY });
    expect(r.status).toBe('failed');
    expect(r.exitCode).toBeNull();
    expect(r.error).toMatch(/ENOENT/);
    expect(r.outputTail).toMatch(/could not start/);
  });

  it('at the deadline kills the whole process group, grandchildren included', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const r = await runCommands({
      commands: [`sh -c 'sleep 100 & echo $! > "${pidFile}"; wait'`],
      cwd: dir,
      env,
      timeoutMs: 400,
      killGraceMs: 300,
    });
    expect(r.status).toBe('timeout');
    expect(r.exitCode).toBeNull();
    expect(r.failedCommand).toContain('sleep 100');
    expect(isRunning(await readPid(pidFile))).toBe(false);
  });

  it('escalates to SIGKILL for processes that ignore SIGTERM', async () => {
    const pidFile = join(dir, 'stubborn.pid');
    const r = await runCommands({
      commands: [`sh -c 'trap "" TERM; echo $$ > "${pidFile}"; while :; do sleep 0.05; done'`],
      cwd: dir,
      env,
      timeoutMs: 300,
      killGraceMs: 200,
    });
    expect(r.status).toBe('timeout');
    expect(isRunning(await readPid(pidFile))).toBe(false);
  });

  it('does not leave background processes behind after a command that succeeds', async () => {
    const pidFile = join(dir, 'background.pid');
    const r = await runCommands({
      commands: [`sleep 100 > /dev/null 2>&1 & echo $! > "${pidFile}"`],
      cwd: dir,
      env,
      timeoutMs: ROOMY,
      killGraceMs: 300,
    });
    expect(r.status).toBe('ok');
    expect(isRunning(await readPid(pidFile))).toBe(false);
  });

  // Waiting for the pipe to close would run into the deadline (status `timeout`), so `ok` is the proof.
  it('returns promptly when a background process keeps the output pipe open', async () => {
    const r = await runCommands({ commands: ['sleep 100 & echo started'], cwd: dir, env, timeoutMs: ROOMY });
    expect(r.status).toBe('ok');
    expect(r.outputTail).toBe('started\n');
  });

  it('applies one deadline to the whole list', async () => {
    const r = await runCommands({
      commands: ['sleep 0.3', 'sleep 0.3', 'sleep 0.3', 'echo never'],
      cwd: dir,
      env,
      timeoutMs: 700,
      killGraceMs: 100,
    });
    expect(r.status).toBe('timeout');
    expect(r.failedCommand).toBe('sleep 0.3');
    expect(r.outputTail).toBe('');
  });

  it('times out at once when no time is left', async () => {
    const r = await runCommands({ commands: ['echo hi'], cwd: dir, env, timeoutMs: 0 });
    expect(r).toMatchObject({ status: 'timeout', failedCommand: 'echo hi' });
  });

  it('keeps only the last 4 KB of output, across commands and streams', async () => {
    const r = await runCommands({
      commands: ['head -c 10000 /dev/zero | tr "\\0" a', 'head -c 3000 /dev/zero | tr "\\0" b >&2; echo END'],
      cwd: dir,
      env,
      timeoutMs: ROOMY,
    });
    expect(r.status).toBe('ok');
    expect(Buffer.byteLength(r.outputTail)).toBe(4096);
    expect(r.outputTail.endsWith('END\n')).toBe(true);
    expect(r.outputTail.startsWith('a')).toBe(true);
  });

  it('never cuts a multi-byte character in the tail', async () => {
    const r = await runCommands({
      commands: ['i=0; while [ $i -lt 3000 ]; do printf "é€"; i=$((i+1)); done'],
      cwd: dir,
      env,
      timeoutMs: ROOMY,
    });
    expect(Buffer.byteLength(r.outputTail)).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(r.outputTail)).toBeGreaterThan(4090);
    expect(r.outputTail).not.toContain('\uFFFD');
    expect(r.outputTail.endsWith('é€')).toBe(true);
  });

  it('streams decoded output with the command that produced it', async () => {
    const seen: string[] = [];
    await runCommands({
      commands: ['printf "x€y"', 'echo err >&2'],
      cwd: dir,
      env,
      timeoutMs: ROOMY,
      onOutput: (chunk, stream, command) => seen.push(`${stream}:${command}:${chunk}`),
    });
    expect(seen.join('')).toBe('stdout:printf "x€y":x€ystderr:echo err >&2:err\n');
  });

  it('gives the commands exactly the environment it is handed, and no stdin', async () => {
    const r = await runCommands({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
      commands: ['echo "path=${PATH:+set} secret=${NOT_PASSED:-none}"', 'cat; echo "stdin closed"'],
      cwd: dir,
      env,
      timeoutMs: ROOMY,
    });
    expect(process.env.NOT_PASSED).toBeUndefined();
    expect(r.outputTail).toBe('path=set secret=none\nstdin closed\n');
  });

  it('with the agent environment, `env` shows no GITHUB_TOKEN unless allow-listed', async () => {
    const source = { PATH: env.PATH, HOME: env.HOME, GITHUB_TOKEN: 'ghs_sekrit', NPM_TOKEN: 'npm_sekrit' };
    const files = {
      promptFile: '/tmp/p.md',
      taskFile: '/tmp/t.json',
      taskId: 't',
      attemptId: 'a',
      timeoutSeconds: 60,
    };
    const scrubbed = await runCommands({
      commands: ['env'],
      cwd: dir,
      env: buildAgentEnv({ source, ...files }).env,
      timeoutMs: ROOMY,
    });
    expect(scrubbed.outputTail).not.toMatch(/GITHUB_TOKEN|ghs_sekrit|NPM_TOKEN|npm_sekrit/);
    expect(scrubbed.outputTail).toContain('LEVIATHAN_TASK_ID=t');

    const allowed = await runCommands({
      commands: ['env'],
      cwd: dir,
      env: buildAgentEnv({ source, allowlist: ['NPM_TOKEN'], ...files }).env,
      timeoutMs: ROOMY,
    });
    expect(allowed.outputTail).toContain('NPM_TOKEN=npm_sekrit');
    expect(allowed.outputTail).not.toContain('ghs_sekrit');
  });

  it('an empty list is ok', async () => {
    const r = await runCommands({ commands: [], cwd: dir, env, timeoutMs: ROOMY });
    expect(r).toMatchObject({ status: 'ok', exitCode: 0, outputTail: '' });
  });

  it('a throwing output callback does not break the run', async () => {
    const r = await runCommands({
      commands: ['echo a', 'echo b'],
      cwd: dir,
      env,
      timeoutMs: ROOMY,
      onOutput: () => {
        throw new Error('sink broke');
      },
    });
    expect(r).toMatchObject({ status: 'ok', outputTail: 'a\nb\n' });
  });
});
