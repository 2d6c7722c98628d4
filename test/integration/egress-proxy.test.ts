/**
 * The egress proxy on its own (src/executor/egress-proxy.ts), spoken to over its unix socket as the sandbox's
 * forwarder does: bytes sent with the CONNECT reach the upstream, a name that does not resolve is a 502,
 * a malformed target and other ports are refused, and the refused list is deduplicated and bounded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EgressProxy, MAX_REFUSED, startEgressProxy } from '../../src/executor/egress-proxy.js';

let dir: string;
let echo: Server;
let echoPort: number;
let proxy: EgressProxy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lev-proxy-'));
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((done) => echo.listen(0, '127.0.0.1', done));
  echoPort = (echo.address() as AddressInfo).port;
  proxy = await startEgressProxy({
    socketPath: join(dir, 'proxy.sock'),
    allow: ['echo.test', '*.gone.test'],
    resolve: async (host) => {
      if (host === 'echo.test') return { address: '127.0.0.1', port: echoPort };
      throw new Error('ENOTFOUND');
    },
  });
});

afterAll(async () => {
  await proxy.close();
  await new Promise((done) => echo.close(done));
  await rm(dir, { recursive: true, force: true });
});

/** Sends `text` on a fresh connection to the proxy; everything it answers until it closes or `until` shows. */
function talk(text: string, until?: RegExp): Promise<string> {
  return new Promise((done) => {
    const s = connect(proxy.socketPath);
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      if (until?.test(got)) s.destroy();
    });
    s.on('close', () => done(got));
    s.on('error', () => done(got));
    s.write(text);
  });
}

describe('the egress proxy', () => {
  it('tunnels a listed name, bytes sent with the CONNECT included', async () => {
    const got = await talk(
      'CONNECT echo.test:443 HTTP/1.1\r\nHost: echo.test:443\r\n\r\nping-early',
      /ping-early/,
    );
    expect(got).toBe('HTTP/1.1 200 Connection Established\r\n\r\nping-early');
  });

  it('answers 502 when a listed name does not resolve, and does not count it as refused', async () => {
    const got = await talk('CONNECT a.gone.test:443 HTTP/1.1\r\n\r\n');
    expect(got).toMatch(/^HTTP\/1.1 502 Bad Gateway\r\n[\s\S]*cannot resolve a\.gone\.test/);
    expect(proxy.refused().map((r) => r.host)).not.toContain('a.gone.test');
  });

  it('refuses other ports, bare suffixes and malformed targets with 403, each recorded once', async () => {
    for (const target of ['echo.test:22', 'gone.test:443', 'echo.test', 'echo.test:22']) {
      expect(await talk(`CONNECT ${target} HTTP/1.1\r\n\r\n`)).toMatch(/^HTTP\/1.1 403 Forbidden/);
    }
    expect(proxy.refused()).toEqual([
      { host: 'echo.test', port: 22, why: 'port 22 is not 443 or 80' },
      { host: 'gone.test', port: 443, why: 'not in executor.network_allow' },
      { host: 'echo.test', port: 0, why: 'not a host:port target' },
    ]);
  });

  it('plain http only to port 80, and the refused list stops at its bound', async () => {
    const got = await talk(
      'GET http://echo.test:443/ HTTP/1.1\r\nHost: echo.test\r\nConnection: close\r\n\r\n',
    );
    expect(got).toMatch(/^HTTP\/1.1 403/);
    for (let i = 0; i < MAX_REFUSED + 5; i++) await talk(`CONNECT h${i}.example:443 HTTP/1.1\r\n\r\n`);
    expect(proxy.refused()).toHaveLength(MAX_REFUSED);
  });
});

describe('the egress proxy with the system resolver', () => {
  it('a listed name that resolves to loopback is refused and recorded, never connected', async () => {
    const real = await startEgressProxy({ socketPath: join(dir, 'real.sock'), allow: ['localhost'] });
    try {
      const got = await new Promise<string>((done) => {
        const s = connect(real.socketPath);
        let text = '';
        s.on('data', (d) => {
          text += d.toString();
        });
        s.on('close', () => done(text));
        s.write(`CONNECT localhost:80 HTTP/1.1\r\n\r\n`);
      });
      expect(got).toMatch(/^HTTP\/1.1 502 Bad Gateway[\s\S]*non-public address/);
      expect(real.refused()).toEqual([
        {
          host: 'localhost',
          port: 80,
          why: expect.stringMatching(/^resolves to a non-public address \((127\.0\.0\.1|::1)\)$/),
        },
      ]);
    } finally {
      await real.close();
    }
  });
});
