/**
 * The egress proxy of `executor.network: allowlist` (issue 11): an HTTP proxy Leviathan runs outside the
 * sandbox on a unix socket that is bind-mounted into it. It admits `CONNECT host:443|80` and plain
 * `GET http://host/…` only for the names of `executor.network_allow` (src/core/egress-hosts.ts), resolves them
 * itself (an agent never names an address), refuses raw IPs and every other name with 403, and records each
 * refused host.
 */

import { lookup } from 'node:dns/promises';
import { chmod } from 'node:fs/promises';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { admits, isEgressDestination, parseTarget, type Target } from '../core/egress-hosts.js';

/** Where a listed `host:port` is reached. Injectable so a test can map a name to a loopback server. */
export type EgressResolver = (host: string, port: number) => Promise<{ address: string; port: number }>;

export interface RefusedHost {
  host: string;
  port: number;
  why: string;
}

export interface EgressProxy {
  socketPath: string;
  /** Each refused `host:port` once, in order, at most `MAX_REFUSED`. */
  refused(): RefusedHost[];
  close(): Promise<void>;
}

export const MAX_REFUSED = 50;

/** A listed name that resolves to loopback, a private network or link-local: refused and recorded. */
export class NonPublicAddressError extends Error {
  override readonly name = 'NonPublicAddressError';
}

/** This machine's own addresses: public or not, a listed name must never lead back to the host. */
function ownAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.add(a.address.toLowerCase().replace(/%.*$/, ''));
  }
  return out;
}

/** DNS, and only a destination `isEgressDestination` allows (public, not this machine's). */
const systemResolver: EgressResolver = async (host, port) => {
  const { address } = await lookup(host);
  if (!isEgressDestination(address, ownAddresses()))
    throw new NonPublicAddressError(`resolves to a non-public address (${address})`);
  return { address, port };
};

function refuse(socket: Socket, status: string, why: string): void {
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nleviathan egress: ${why}\n`,
  );
}

export async function startEgressProxy(options: {
  socketPath: string;
  allow: readonly string[];
  resolve?: EgressResolver;
}): Promise<EgressProxy> {
  const resolveHost = options.resolve ?? systemResolver;
  const refused = new Map<string, RefusedHost>();
  const sockets = new Set<Socket>();

  /** The target when admitted; else records it and answers 403. */
  const judge = (target: Target | null, raw: string, plain: boolean): Target | null => {
    const verdict = target
      ? plain && target.port !== 80
        ? { ok: false as const, why: `port ${target.port} is not 80 (plain http)` }
        : admits(options.allow, target.host, target.port)
      : { ok: false as const, why: 'not a host:port target' };
    if (verdict.ok) return target;
    record(target?.host ?? raw, target?.port ?? 0, verdict.why);
    return null;
  };
  function record(raw: string, port: number, why: string): void {
    // The agent's own text: printable ASCII only, bounded, before it is recorded anywhere.
    const host = raw.replace(/[^\x21-\x7e]/g, '?').slice(0, 120);
    const key = `${host}:${port}`;
    if (!refused.has(key) && refused.size < MAX_REFUSED) refused.set(key, { host, port, why });
  }
  /** The answer to a name that could not be reached; a non-public address counts as refused. */
  const unresolved = (target: Target, e: Error): string => {
    if (e instanceof NonPublicAddressError) record(target.host, target.port, e.message);
    return `cannot resolve ${target.host}: ${e.message}`;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const target = judge(parseTarget(req.url ?? '', 80), req.url ?? '', true);
    if (!target) {
      res.writeHead(403, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end('leviathan egress: refused (not in executor.network_allow)\n');
      return;
    }
    const url = new URL(req.url ?? '/');
    resolveHost(target.host, target.port).then(
      (to) => {
        const upstream = request(
          {
            host: to.address,
            port: to.port,
            method: req.method,
            path: `${url.pathname}${url.search}`,
            headers: { ...req.headers, host: url.host },
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on(
          'error',
          (e) => res.destroyed || res.writeHead(502).end(`leviathan egress: ${e.message}\n`),
        );
        req.pipe(upstream);
      },
      (e: Error) => res.writeHead(502).end(`leviathan egress: ${unresolved(target, e)}\n`),
    );
  });

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    client.on('error', () => client.destroy());
    const target = judge(parseTarget(req.url ?? ''), req.url ?? '', false);
    if (!target) return refuse(client, '403 Forbidden', 'refused (not in executor.network_allow)');
    resolveHost(target.host, target.port).then(
      (to) => {
        const upstream = connect(to.port, to.address, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          if (head.length) upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        sockets.add(upstream);
        upstream.on('close', () => sockets.delete(upstream));
        upstream.on('error', (e) =>
          client.writable ? refuse(client, '502 Bad Gateway', e.message) : client.destroy(),
        );
        client.on('close', () => upstream.destroy());
      },
      (e: Error) => refuse(client, '502 Bad Gateway', unresolved(target, e)),
    );
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.socketPath, () => done());
  });
  // Whatever uid the sandbox maps us to may connect (the socket is the sandbox's only way out).
  await chmod(options.socketPath, 0o666);
  return {
    socketPath: options.socketPath,
    refused: () => [...refused.values()],
    close: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
}
