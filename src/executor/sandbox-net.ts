/**
 * The sandbox's network (`executor.network`, issue 11): for `none` and `allowlist` the command gets a network
 * namespace of its own, with only its own loopback — no route to the host's 127.0.0.1 services (the origin's
 * git server) or anywhere else. `open` keeps the host's network. Kept apart from the mount plan in
 * sandbox-argv.ts: these functions only add flags to an invocation made there.
 */
import type { Invocation } from './sandbox-argv.js';

/** `isolated`: a network namespace of its own (none, allowlist); `host`: the machine's network (open). */
export type SandboxNetwork = 'isolated' | 'host';

/** bubblewrap: `--unshare-net` (bwrap brings the new namespace's loopback up itself). */
export function isolateBwrapNetwork(inv: Invocation): Invocation {
  return { ...inv, args: ['--unshare-net', ...inv.args] };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * util-linux: `unshare --net`, and the set-up script first brings the new namespace's loopback up with
 * iproute2's `ip` (as root of the new user namespace, before every capability is dropped).
 */
export function isolateUnshareNetwork(inv: Invocation, unshare: string, ip: string): Invocation {
  const args = [...inv.args];
  const at = args.indexOf(unshare);
  const script = args.indexOf('-c', at);
  if (at < 0 || script < 0 || script + 1 >= args.length) throw new Error('not an unshare invocation');
  args[script + 1] =
    `${shellQuote(ip)} link set lo up || { echo "leviathan sandbox: cannot bring up the loopback of its own network namespace" >&2; exit 125; }\n` +
    args[script + 1];
  args.splice(at + 1, 0, '--net');
  return { ...inv, args };
}
