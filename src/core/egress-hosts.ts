/**
 * Which host names the sandbox's egress proxy admits (`executor.network: allowlist`, issue 11). Pure: the
 * proxy (src/executor/egress-proxy.ts) parses a request target with `parseTarget` and asks `admits`.
 */

/** `executor.network`: what the sandboxed agent can reach. */
export type NetworkMode = 'none' | 'allowlist' | 'open';

/** An entry of `executor.network_allow`: a host name, or `*.` and a suffix (sub-domains only). */
export const HOST_PATTERN_RE =
  /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** The ports a CONNECT or plain request may name. */
export const ALLOWED_PORTS: readonly number[] = [443, 80];

/** Lower case, without a trailing dot. */
export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

/**
 * Whether `host` is an IP address in any spelling a resolver would take (`127.0.0.1`, `[::1]`, `2130706433`,
 * `0x7f.1`): an IPv6 colon, or a last label that is a number (no top-level domain is).
 */
export function isRawIp(host: string): boolean {
  const h = normalizeHost(host);
  if (h.includes(':') || h.startsWith('[')) return true;
  const last = h.split('.').pop() ?? '';
  return /^(0x[0-9a-f]*|[0-9]+)$/.test(last);
}

/** Whether `pattern` (exact, or `*.suffix`) matches `host`. `*.example.com` does not match `example.com`. */
export function matchesHost(pattern: string, host: string): boolean {
  const p = normalizeHost(pattern);
  const h = normalizeHost(host);
  if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  return p === h;
}

export type Verdict = { ok: true } | { ok: false; why: string };

/** Whether the proxy lets a connection to `host:port` through. */
export function admits(allow: readonly string[], host: string, port: number): Verdict {
  if (!ALLOWED_PORTS.includes(port)) return { ok: false, why: `port ${port} is not 443 or 80` };
  if (!HOST_PATTERN_RE.test(host) || isRawIp(host)) {
    return { ok: false, why: isRawIp(host) ? 'a raw IP address' : 'not a host name' };
  }
  if (!allow.some((p) => matchesHost(p, host))) return { ok: false, why: 'not in executor.network_allow' };
  return { ok: true };
}

export interface Target {
  host: string;
  port: number;
}

/**
 * The host and port of a CONNECT authority (`host:443`, `[::1]:443`) or, with `defaultPort`, of an absolute
 * `http://` URI. null when it is neither.
 */
export function parseTarget(text: string, defaultPort?: number): Target | null {
  let authority = text;
  if (defaultPort !== undefined) {
    const m = /^http:\/\/([^/?#]*)/i.exec(text);
    if (!m) return null;
    authority = m[1]!.replace(/^.*@/, '');
  }
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::(\d{1,5}))?$/.exec(authority);
  if (!m?.[1]) return null;
  const port = m[2] !== undefined ? Number(m[2]) : defaultPort;
  if (port === undefined || port < 1 || port > 65535) return null;
  return { host: normalizeHost(m[1]), port };
}

/**
 * Whether a resolved address is on the public internet: not loopback, private, link-local (the cloud metadata
 * endpoint 169.254.169.254), CGNAT, multicast or unspecified. A listed name whose DNS an attacker controls
 * (a `*.suffix` entry) must not lead back to the machine or its network.
 */
export function isPublicAddress(address: string): boolean {
  const a = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a)?.[1];
  if (mapped) return isPublicAddress(mapped);
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4) {
    const [o1, o2] = [Number(v4[1]), Number(v4[2])];
    if (o1 === 0 || o1 === 10 || o1 === 127 || o1 >= 224) return false;
    if (o1 === 169 && o2 === 254) return false;
    if (o1 === 172 && o2 >= 16 && o2 <= 31) return false;
    if (o1 === 192 && o2 === 168) return false;
    if (o1 === 100 && o2 >= 64 && o2 <= 127) return false;
    // IETF and documentation ranges (192.0.0/24, TEST-NET-1/2/3, benchmarking 198.18/15) and 240/4 above.
    const o3 = Number(v4[3]);
    if (o1 === 192 && o2 === 0 && (o3 === 0 || o3 === 2)) return false;
    if (o1 === 198 && (o2 === 18 || o2 === 19)) return false;
    if (o1 === 198 && o2 === 51 && o3 === 100) return false;
    if (o1 === 203 && o2 === 0 && o3 === 113) return false;
    return true;
  }
  if (!a.includes(':')) return false;
  if (a === '::' || a === '::1') return false;
  // fc00::/7 unique local, fe80::/10 link-local, ff00::/8 multicast.
  return !/^(f[cd]|fe[89ab]|ff)/.test(a);
}

/**
 * Where the proxy may connect for a listed name: a public address that is not one of this machine's own (a
 * name under an attacker's `*.suffix` can resolve to the host's public address as easily as to loopback).
 */
export function isEgressDestination(address: string, own: ReadonlySet<string>): boolean {
  const a = address.toLowerCase();
  return isPublicAddress(a) && !own.has(a);
}
