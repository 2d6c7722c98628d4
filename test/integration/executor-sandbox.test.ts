/**
 * The sandbox the agent runs in (issue 7 §1), attacked by the real hostile scripts in
 * test/fixtures/hostile/ under both sandboxes, and `auto` failing closed on a machine without either. The
 * fixtures live under /var/tmp, not /tmp: the sandbox's private /tmp would hide them whatever the layout says.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunSandboxedOptions, runSandboxed, verifyCandidate } from '../../src/executor/sandboxed-run.js';
import { HOSTILE, lingerSeconds, pathWithout, sleepers } from '../helpers/sandbox.js';

const SECRET = 'lev-canary-3f9c2a7d41e8b6';
let root: string;
let home: string;
let other: string;
let priv: string;
let outside: string;
let canary: ChildProcess;

beforeAll(async () => {
  root = await mkdtemp('/var/tmp/lev-sandbox-');
  // Run as root, the sandbox runs as nobody, which must be able to reach the work trees made in here.
  await chmod(root, 0o711);
  home = join(root, 'home');
  other = join(root, 'other-checkout');
  priv = join(root, 'leviathan-private');
  outside = join(root, 'outside');
  await mkdir(join(home, '.config', 'git'), { recursive: true });
  await writeFile(join(home, '.git-credentials'), `https://x-access-token:${SECRET}@github.com\n`);
  await writeFile(join(home, '.gitconfig'), `[http]\n\textraheader = AUTHORIZATION: bearer ${SECRET}\n`);
  await mkdir(join(other, '.git'), { recursive: true });
  await writeFile(
    join(other, '.git', 'config'),
    `[remote "origin"]\n\turl = https://u:${SECRET}@example.com/r\n`,
  );
  await mkdir(join(priv, 'store.git'), { recursive: true });
  await writeFile(join(priv, 'store.git', 'state'), `${SECRET}\n`);
  await writeFile(join(priv, 'prompt.md'), '# the task\n');
  await mkdir(outside, { recursive: true });
  // A process of "ours" whose environment holds the secret, as Leviathan's own does.
  canary = spawn('sleep', ['997'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CANARY: SECRET } });
});

afterAll(async () => {
  canary?.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

async function freshTree(name: string): Promise<string> {
  const dir = join(root, `wt-${name}-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(dir);
  return dir;
}

function options(
  mode: RunSandboxedOptions['mode'],
  workTree: string,
  commands: string[],
): RunSandboxedOptions {
  return {
    mode,
    workTree,
    commands,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
    deadline: Date.now() + 60_000,
    hide: [priv, other],
    readOnly: [join(priv, 'prompt.md')],
    // The hostile scripts live in this checkout, which the sandbox hides like any other.
    hostEnv: { HOME: home, LEVIATHAN_SANDBOX_SHOW: HOSTILE },
  };
}

const loot = (wt: string, file: string) => readFile(join(wt, 'loot', file), 'utf8');

describe.each(['bwrap', 'unshare'] as const)('executor.sandbox: %s', (mode) => {
  it('a script reading /proc/<ancestor>/environ and other processes finds only its own environment', async () => {
    const wt = await freshTree('environ');
    const r = await runSandboxed(
      options(mode, wt, [`sh ${HOSTILE}/steal-environ.sh ${canary.pid} ${process.pid}`]),
    );
    expect(r).toMatchObject({ status: 'ok', sandbox: mode });
    const stolen = await loot(wt, 'environ.txt');
    expect(stolen).not.toContain(SECRET);
    const names = new Set(
      stolen
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('=')[0]),
    );
    // What we passed, plus what the shells add themselves.
    for (const own of ['PWD', 'SHLVL', '_']) names.delete(own);
    expect([...names].sort()).toEqual(['HOME', 'LANG', 'PATH', 'TMPDIR']);
    // Its own /proc: a handful of its own processes, never the runner's.
    expect(Number(await loot(wt, 'visible-pids.txt'))).toBeLessThan(8);
  });

  it('HOME credentials, another checkout and Leviathan’s private directory are not visible', async () => {
    const wt = await freshTree('creds');
    const r = await runSandboxed(
      options(mode, wt, [
        `sh ${HOSTILE}/steal-credentials.sh ${home} ${join(other, '.git', 'config')} ${priv}`,
        `echo "HOME=$HOME" > home.txt; ls -A "$HOME" >> home.txt; ls -A ${priv} > private.txt; cat ${priv}/prompt.md >> private.txt`,
      ]),
    );
    expect(r).toMatchObject({ status: 'ok', sandbox: mode });
    expect(await loot(wt, 'credentials.txt')).not.toContain(SECRET);
    expect(await readFile(join(wt, 'home.txt'), 'utf8')).toBe('HOME=/tmp/home\n');
    // Only the task file shown read-only is left of the private directory.
    expect(await readFile(join(wt, 'private.txt'), 'utf8')).toBe('prompt.md\n# the task\n');
  });

  it('nothing outside the work tree can be written, and the root cannot be remounted', async () => {
    const wt = await freshTree('write');
    const r = await runSandboxed(
      options(mode, wt, [
        `sh ${HOSTILE}/write-outside.sh ${outside} ${root} ${priv}`,
        'echo ok > inside.txt',
      ]),
    );
    expect(r.status).toBe('ok');
    expect(r.outputTail).not.toMatch(/wrote|remounted/);
    expect(existsSync(join(outside, 'pwned.txt'))).toBe(false);
    expect(existsSync(join(root, 'pwned.txt'))).toBe(false);
    expect(await readFile(join(wt, 'inside.txt'), 'utf8')).toBe('ok\n');
  });

  it('the result directory is the one writable place in the hidden private directory', async () => {
    const wt = await freshTree('result');
    const result = join(priv, `result-${mode}`);
    await mkdir(result, { recursive: true });
    const r = await runSandboxed({
      ...options(mode, wt, [
        `printf '{"cost_usd": 1}' > ${result}/result.json`,
        `ls -A ${priv} > seen.txt; cat ${priv}/store.git/state >> seen.txt 2>&1 || true`,
        `(echo pwned > ${priv}/prompt.md) 2>/dev/null && echo wrote-prompt || true`,
        `(echo pwned > ${priv}/pwned.txt) 2>/dev/null && echo wrote-private || true`,
      ]),
      writable: [result],
    });
    expect(r.status).toBe('ok');
    expect(r.outputTail).not.toMatch(/wrote-/);
    expect(await readFile(join(result, 'result.json'), 'utf8')).toBe('{"cost_usd": 1}');
    expect(await readFile(join(priv, 'prompt.md'), 'utf8')).toBe('# the task\n');
    expect(existsSync(join(priv, 'pwned.txt'))).toBe(false);
    expect(await readFile(join(wt, 'seen.txt'), 'utf8')).not.toContain(SECRET);
  });

  it('setsid, double-fork and nohup processes are gone when the command ends', async () => {
    const wt = await freshTree('linger');
    const seconds = lingerSeconds();
    const r = await runSandboxed(options(mode, wt, [`sh ${HOSTILE}/escape-and-linger.sh ${seconds}`]));
    expect(r).toMatchObject({ status: 'ok' });
    for (const f of ['started-setsid', 'started-double-fork', 'started-nohup'])
      expect(existsSync(join(wt, f))).toBe(true);
    expect(sleepers(seconds)).toEqual([]);
  });

  it('an escapee writing into the work tree has stopped for good when the run returns', async () => {
    const wt = await freshTree('ticker');
    const r = await runSandboxed(
      options(mode, wt, [
        "setsid sh -c 'while :; do echo x >> ticker; done' </dev/null >/dev/null 2>&1 & while [ ! -s ticker ]; do :; done",
      ]),
    );
    expect(r).toMatchObject({ status: 'ok' });
    const size = (await stat(join(wt, 'ticker'))).size;
    expect(size).toBeGreaterThan(0);
    // Long enough for a live writer to append thousands of lines.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await stat(join(wt, 'ticker'))).size).toBe(size);
  });

  it('at the deadline the whole sandbox is stopped, escapees included', async () => {
    const wt = await freshTree('deadline');
    const seconds = lingerSeconds();
    const r = await runSandboxed({
      ...options(mode, wt, [
        `sh ${HOSTILE}/escape-and-linger.sh ${seconds}; touch waiting; sleep ${seconds}`,
      ]),
      deadline: Date.now() + 4000,
      killGraceMs: 200,
    });
    expect(r.status).toBe('timeout');
    expect(existsSync(join(wt, 'started-setsid'))).toBe(true);
    expect(sleepers(seconds)).toEqual([]);
  });

  it('verify runs on a fresh copy of the candidate: what it changes is discarded and reported', async () => {
    const candidate = await freshTree('candidate');
    await writeFile(join(candidate, 'page.md'), 'page\n');
    const r = await verifyCandidate({
      ...options(mode, candidate, []),
      candidate,
      command: `test "$(pwd)" != ${candidate} && cat page.md && echo changed > page.md && touch new.txt`,
    });
    expect(r).toMatchObject({ status: 'ok', sandbox: mode, changed: ['new.txt', 'page.md'] });
    expect(await readFile(join(candidate, 'page.md'), 'utf8')).toBe('page\n');
    expect(existsSync(join(candidate, 'new.txt'))).toBe(false);
  });
});

describe('without a sandbox', () => {
  it('as root, a sandbox user of 0 (root inside = root outside) fails closed; uid 65534 runs and owns the tree', async () => {
    const wt = await freshTree('uid');
    const base = options('bwrap', wt, ['id -u > uid.txt']);
    const r = await runSandboxed({ ...base, hostEnv: { ...base.hostEnv, LEVIATHAN_SANDBOX_UID: '0' } });
    if (process.getuid?.() !== 0) {
      // Not root: the setting is ignored, the sandbox runs as we do.
      expect(r).toMatchObject({ status: 'ok' });
      return;
    }
    expect(r).toMatchObject({
      status: 'failed',
      sandboxError: expect.stringMatching(/not an unprivileged one/),
    });
    expect(existsSync(join(wt, 'uid.txt'))).toBe(false);
    const ok = await runSandboxed(base);
    expect(ok).toMatchObject({ status: 'ok' });
    expect((await readFile(join(wt, 'uid.txt'), 'utf8')).trim()).toBe('65534');
    expect((await stat(join(wt, 'uid.txt'))).uid).toBe(65534);
  });

  it('as root, a work tree the sandbox user cannot reach fails closed, saying which directory; nothing runs', async () => {
    if (process.getuid?.() !== 0) return;
    const closed = join(root, 'closed');
    await mkdir(join(closed, 'wt'), { recursive: true, mode: 0o700 });
    await chmod(closed, 0o700);
    const r = await runSandboxed(options('bwrap', join(closed, 'wt'), ['touch ran']));
    expect(r).toMatchObject({
      status: 'failed',
      sandboxError: expect.stringContaining(`cannot enter ${closed}`),
    });
    expect(existsSync(join(closed, 'wt', 'ran'))).toBe(false);
  });

  it('auto fails closed on a machine with neither bwrap nor unshare, saying what to install; nothing runs', async () => {
    const bin = await pathWithout(join(root, 'nobox'), ['bwrap', 'unshare']);
    const wt = await freshTree('auto');
    const r = await runSandboxed({ ...options('auto', wt, ['touch ran']), searchPath: bin });
    expect(r.status).toBe('failed');
    expect(r.sandbox).toBeUndefined();
    expect(r.sandboxError).toMatch(/bwrap was not found.*unshare.*not found.*install bubblewrap/);
    expect(r.sandboxError).toMatch(/executor\.sandbox: none/);
    expect(existsSync(join(wt, 'ran'))).toBe(false);
  });

  it('an explicit bwrap or unshare that is missing fails closed too', async () => {
    const bin = await pathWithout(join(root, 'nobox2'), ['bwrap', 'unshare']);
    const wt = await freshTree('explicit');
    for (const mode of ['bwrap', 'unshare'] as const) {
      const r = await runSandboxed({ ...options(mode, wt, ['touch ran']), searchPath: bin });
      expect(r.sandboxError).toMatch(
        mode === 'bwrap' ? /^no sandbox.*bwrap was not found/ : /unshare.*not found/,
      );
    }
    expect(existsSync(join(wt, 'ran'))).toBe(false);
  });

  it('none (chosen explicitly) runs as Leviathan does: the same scripts find the secrets and outlive it', async () => {
    const wt = await freshTree('none');
    const seconds = lingerSeconds();
    try {
      const r = await runSandboxed(
        options('none', wt, [
          `sh ${HOSTILE}/steal-credentials.sh ${join(other, '.git', 'config')} ${priv}`,
          `sh ${HOSTILE}/escape-and-linger.sh ${seconds}`,
        ]),
      );
      expect(r).toMatchObject({ status: 'ok', sandbox: 'none' });
      expect(await loot(wt, 'credentials.txt')).toContain(SECRET);
      expect(sleepers(seconds).length).toBeGreaterThan(0);
    } finally {
      for (const pid of sleepers(seconds)) process.kill(pid, 'SIGKILL');
    }
  });
});
