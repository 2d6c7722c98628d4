/**
 * `executor.network: allowlist` (issue 11): the egress proxy outside the sandbox, reached through a unix
 * socket and a forwarder inside it. A real agent script (test/fixtures/hostile/egress-agent.sh) gets its
 * model API's answer from a listed name (the proxy's resolver maps `api.example.test` to a loopback test
 * server); an unlisted name and raw IPs are refused with 403 and recorded, and nothing goes around the proxy.
 */
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runSandboxed } from '../../src/executor/sandboxed-run.js';
import { HOSTILE } from '../helpers/sandbox.js';

let root: string;
let api: Server;
let apiPort: number;
const seenHosts: string[] = [];

beforeAll(async () => {
  root = await mkdtemp('/var/tmp/lev-egress-');
  await chmod(root, 0o711); // the sandbox runs as another user when we are root
  api = createServer((req, res) => {
    seenHosts.push(req.headers.host ?? '');
    res.end(`model-answer for ${req.url}\n`);
  });
  await new Promise<void>((done) => api.listen(0, '127.0.0.1', done));
  apiPort = (api.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((done) => api.close(done));
  await rm(root, { recursive: true, force: true });
});

describe.each(['bwrap', 'unshare'] as const)('executor.sandbox: %s, network: allowlist', (mode) => {
  it('a listed name answers through the proxy; an unlisted name and raw IPs are refused and recorded', async () => {
    const wt = join(root, `wt-${mode}`);
    await mkdir(wt);
    const resolved: string[] = [];
    const r = await runSandboxed({
      mode,
      workTree: wt,
      commands: [`sh ${join(HOSTILE, 'egress-agent.sh')}`],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
      deadline: Date.now() + 60_000,
      hide: [],
      hostEnv: { HOME: join(root, 'home'), LEVIATHAN_SANDBOX_SHOW: HOSTILE },
      network: {
        mode: 'allowlist',
        allow: ['api.example.test'],
        resolve: async (host, port) => {
          resolved.push(`${host}:${port}`);
          if (host !== 'api.example.test') throw new Error(`unexpected lookup of ${host}`);
          return { address: '127.0.0.1', port: apiPort };
        },
      },
    });
    expect(r.status).toBe('ok');
    const loot = (name: string) => readFile(join(wt, 'loot', name), 'utf8');
    expect(await loot('plain')).toBe('model-answer for /v1/answer\nexit 0\n');
    expect(await loot('tunnel')).toBe('model-answer for /v1/answer\nexit 0\n');
    expect(seenHosts.slice(-2)).toEqual(['api.example.test', 'api.example.test']);
    // curl: 56 = the proxy refused the CONNECT; the plain request gets the 403 itself.
    expect(await loot('unlisted')).toMatch(/^exit (56|7)\n$/);
    expect(await loot('unlisted-plain')).toMatch(/^leviathan egress: refused.*\n403exit 0\n$/);
    expect(await loot('raw-ip')).toMatch(/^exit (56|7)\n$/);
    expect(await loot('raw-loopback')).toMatch(/^exit (56|7)\n$/);
    // Around the proxy there is no network: no name resolves and no address is reachable.
    expect(await loot('direct')).not.toMatch(/model-answer/);
    expect(resolved).toEqual(['api.example.test:80', 'api.example.test:80']);
    expect(r.egressRefused).toEqual([
      { host: 'evil.example.net', port: 443, why: 'not in executor.network_allow' },
      { host: 'evil.example.net', port: 80, why: 'not in executor.network_allow' },
      { host: '93.184.216.34', port: 443, why: 'a raw IP address' },
      { host: '127.0.0.1', port: 443, why: 'a raw IP address' },
    ]);
  });
});
