/**
 * How a sandboxed command reaches the egress proxy (`executor.network: allowlist`): the proxy's directory
 * (its unix socket and a tiny forwarder script) is shown read-only in the sandbox, and before the command a
 * forwarder started inside the sandbox listens on 127.0.0.1:EGRESS_PORT of the sandbox's own network
 * namespace and pipes each connection to the socket. The command gets `HTTPS_PROXY` and friends pointing at
 * it; nothing else leaves the namespace.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EgressResolver, type RefusedHost, startEgressProxy } from './egress-proxy.js';
import { giveTo, type Sandbox } from './sandbox.js';

/** The forwarder's port inside the sandbox's own network namespace (nothing else listens there). */
export const EGRESS_PORT = 3128;

const FORWARDER = `'use strict';
const net = require('node:net');
const [sock, port] = process.argv.slice(2);
const server = net.createServer((c) => {
  const u = net.connect(sock);
  c.pipe(u);
  u.pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
  c.on('close', () => u.destroy());
  u.on('close', () => c.destroy());
});
server.on('error', (e) => {
  process.stderr.write('leviathan sandbox: the egress forwarder cannot listen: ' + e.message + '\\n');
  process.exit(1);
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

/** Runs inside the sandbox: starts the forwarder, waits until it listens, then execs the command. */
const WRAPPER = `NODE=$1; FWD=$2; SOCK=$3; PORT=$4; shift 4
fail() { echo "leviathan sandbox: $*" >&2; exit 125; }
[ -x "$NODE" ] || fail "node ($NODE) is not visible in the sandbox: the egress forwarder cannot start (install node outside HOME, or set executor.network: none)"
F=$(mktemp -u /tmp/.leviathan-egress-XXXXXX) && mkfifo "$F" || fail "cannot make the egress forwarder's fifo"
"$NODE" "$FWD" "$SOCK" "$PORT" > "$F" < /dev/null &
read -r ok < "$F"; rm -f "$F"
[ "$ok" = ready ] || fail "the egress forwarder did not start"
exec "$@"
`;

/** The proxy variables every common client reads (curl, git, pip, npm, node's undici with a proxy agent). */
export function proxyEnv(port: number = EGRESS_PORT): Record<string, string> {
  const url = `http://127.0.0.1:${port}`;
  const local = 'localhost,127.0.0.1,::1';
  return {
    HTTPS_PROXY: url,
    HTTP_PROXY: url,
    https_proxy: url,
    http_proxy: url,
    ALL_PROXY: url,
    all_proxy: url,
    NO_PROXY: local,
    no_proxy: local,
  };
}

export interface Egress {
  /** `sandbox`, with every command started behind the forwarder. */
  wrap(sandbox: Sandbox): Sandbox;
  refused(): RefusedHost[];
  close(): Promise<void>;
}

/** Starts the proxy for `allow` in a fresh directory of ours. */
export async function openEgress(options: {
  allow: readonly string[];
  resolve?: EgressResolver;
  node?: string;
}): Promise<Egress> {
  const dir = await mkdtemp(join(tmpdir(), 'leviathan-egress-'));
  try {
    const forwarder = join(dir, 'forward.cjs');
    await writeFile(forwarder, FORWARDER, { mode: 0o644 });
    const socketPath = join(dir, 'proxy.sock');
    const proxy = await startEgressProxy({
      socketPath,
      allow: options.allow,
      ...(options.resolve ? { resolve: options.resolve } : {}),
    });
    const node = options.node ?? process.execPath;
    return {
      wrap: (sandbox) => ({
        kind: sandbox.kind,
        network: sandbox.network,
        ...(sandbox.identity ? { identity: sandbox.identity } : {}),
        async prepare(layout, argv) {
          // Run as another user (we are root): the proxy's socket and forwarder become that user's.
          if (sandbox.identity) await giveTo(sandbox.identity, [dir]);
          const inv = await sandbox.prepare({ ...layout, readOnly: [...layout.readOnly, dir] }, [
            '/bin/sh',
            '-c',
            WRAPPER,
            'leviathan-egress',
            node,
            forwarder,
            socketPath,
            String(EGRESS_PORT),
            ...argv,
          ]);
          return { ...inv, envOverrides: { ...inv.envOverrides, ...proxyEnv() } };
        },
      }),
      refused: () => proxy.refused(),
      close: async () => {
        await proxy.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
