/**
 * `executor.network` (issue 11): under `none` the sandbox has a network namespace of its own, so a hostile
 * script (test/fixtures/hostile/reach-host.sh) cannot reach a service on the host's 127.0.0.1; under `open`
 * the same script does. A sandbox that cannot unshare the network fails closed. Fixtures live under /var/tmp
 * (the sandbox's /tmp is private).
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RunSandboxedOptions, runSandboxed } from '../../src/executor/sandboxed-run.js';
import { HOSTILE, pathWithout } from '../helpers/sandbox.js';

let root: string;
let server: Server;
let port: number;
let hits = 0;

beforeAll(async () => {
  root = await mkdtemp('/var/tmp/lev-network-');
  await chmod(root, 0o711); // the sandbox runs as another user when we are root
  server = createServer((_req, res) => {
    hits += 1;
    res.end('host-service\n');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((done) => server.close(done));
  await rm(root, { recursive: true, force: true });
});

async function freshTree(name: string): Promise<string> {
  const dir = join(root, `wt-${name}-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(dir);
  return dir;
}

function options(mode: 'bwrap' | 'unshare', workTree: string, network: 'none' | 'open'): RunSandboxedOptions {
  return {
    mode,
    workTree,
    commands: [`sh ${join(HOSTILE, 'reach-host.sh')} ${port}`],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
    deadline: Date.now() + 60_000,
    hide: [],
    hostEnv: { HOME: join(root, 'home'), LEVIATHAN_SANDBOX_SHOW: HOSTILE },
    network: { mode: network, allow: [] },
  };
}

describe.each(['bwrap', 'unshare'] as const)('executor.sandbox: %s', (mode) => {
  it('network none: the hostile script reaches no service on the host loopback', async () => {
    const wt = await freshTree(`none-${mode}`);
    const before = hits;
    const r = await runSandboxed(options(mode, wt, 'none'));
    expect(r.status).toBe('ok');
    const got = await readFile(join(wt, 'loot', 'net'), 'utf8');
    expect(got).toMatch(/^node: (ECONNREFUSED|ENETUNREACH|timeout)$/m);
    expect(got).toMatch(/^curl: failed$/m);
    expect(got).not.toMatch(/reached|host-service/);
    expect(hits).toBe(before);
  });

  it('network open: the same script reaches it (the host network, as documented)', async () => {
    const wt = await freshTree(`open-${mode}`);
    const r = await runSandboxed(options(mode, wt, 'open'));
    expect(r.status).toBe('ok');
    const got = await readFile(join(wt, 'loot', 'net'), 'utf8');
    expect(got).toMatch(/^node: reached host-service$/m);
    expect(got).toMatch(/^curl: reached$/m);
  });
});

describe('a sandbox that cannot have a network of its own fails closed', () => {
  it('bwrap whose --unshare-net is refused: nothing runs, the error says why and what to set', async () => {
    const bin = await pathWithout(join(root, 'nonet'), ['bwrap']);
    // A bwrap as on a kernel that refuses new network namespaces, otherwise the real one.
    await writeFile(
      join(bin, 'bwrap'),
      '#!/bin/sh\nfor a in "$@"; do [ "$a" = --unshare-net ] && { echo "bwrap: unshare failed: Operation not permitted" >&2; exit 1; }; done\nexec /usr/bin/bwrap "$@"\n',
    );
    await chmod(join(bin, 'bwrap'), 0o755);
    const wt = await freshTree('nonet');
    const r = await runSandboxed({
      ...options('bwrap', wt, 'none'),
      commands: ['touch ran'],
      searchPath: bin,
    });
    expect(r.status).toBe('failed');
    expect(r.sandboxError).toMatch(/bwrap cannot make a sandbox with a network namespace of its own here/);
    expect(r.sandboxError).toMatch(/Operation not permitted/);
    expect(r.sandboxError).toMatch(/executor\.network: open/);
    await expect(readFile(join(wt, 'ran'))).rejects.toThrow();
    // open does not need one.
    const open = await runSandboxed({
      ...options('bwrap', wt, 'open'),
      commands: ['touch ran'],
      searchPath: bin,
    });
    expect(open.status).toBe('ok');
  });

  it('unshare without iproute2 (no loopback for its namespace) fails closed', async () => {
    const bin = await pathWithout(join(root, 'noip'), ['ip']);
    const wt = await freshTree('noip');
    const r = await runSandboxed({
      ...options('unshare', wt, 'none'),
      commands: ['touch ran'],
      searchPath: bin,
    });
    expect(r.status).toBe('failed');
    expect(r.sandboxError).toMatch(/ip \(iproute2\) was not found/);
    await expect(readFile(join(wt, 'ran'))).rejects.toThrow();
  });
});
