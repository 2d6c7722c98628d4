import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, lchown, lstat, mkdtemp, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import {
  asUser,
  bwrapInvocation,
  type Invocation,
  SANDBOX_HOME,
  type SandboxIdentity,
  type SandboxLayout,
  type SandboxTools,
  unshareInvocation,
} from './sandbox-argv.js';
import { isolateBwrapNetwork, isolateUnshareNetwork, type SandboxNetwork } from './sandbox-net.js';

/** `executor.sandbox`: `auto` takes bubblewrap, else unshare, else fails closed; `none` only when chosen. */
export type SandboxMode = 'auto' | 'bwrap' | 'unshare' | 'none';
/** The sandbox an attempt actually ran in. */
export type SandboxKind = 'bwrap' | 'unshare' | 'none';

export interface SandboxRequest {
  mode: SandboxMode;
  /** Where `bwrap`, `unshare`, `setpriv`, `mount` and `pivot_root` are looked up; default `process.env.PATH`. */
  searchPath?: string;
  /** `isolated` (default): a network namespace of its own, only its own loopback; `host`: the machine's. */
  network?: SandboxNetwork;
  /**
   * The host user the sandbox runs as when we are root (default 65534, nobody); never 0. Ignored when we
   * are not root: then the sandbox runs as we do, which the kernel already keeps from root-only files.
   */
  identity?: SandboxIdentity;
}

/** A sandbox that can be made on this machine, ready to wrap commands. */
export interface Sandbox {
  kind: SandboxKind;
  /** Whether its commands have a network namespace of their own (`none` never has). */
  network: SandboxNetwork;
  /**
   * The unprivileged host user the commands run as (we are root); what they must write is given to it
   * first (see `giveTo`). Absent: they run as we do.
   */
  identity?: SandboxIdentity;
  /**
   * The argv that runs `argv` (e.g. `/bin/sh -c …`) in a fresh sandbox with this layout, and the environment
   * changes it needs (`HOME`, `TMPDIR`). `dispose` removes what the invocation needed on our side.
   */
  prepare(layout: SandboxLayout, argv: readonly string[]): Promise<PreparedInvocation>;
}

export interface PreparedInvocation extends Invocation {
  envOverrides: Record<string, string>;
  dispose(): Promise<void>;
}

/** No sandbox could be made: the attempt fails closed with this message (`executor_error`). */
export class SandboxUnavailableError extends Error {
  override readonly name = 'SandboxUnavailableError';
}

const INSTALL_HINT =
  'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) on a kernel that allows unprivileged user ' +
  'namespaces, or set executor.sandbox: none in .leviathan/config.yaml to run the agent unsandboxed';

const NETWORK_HINT =
  '; or, to give the agent the host network (every 127.0.0.1 service included), set executor.network: open';

/** An executable named `name` on `searchPath`, as the shell would find it. */
export async function findExecutable(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      if ((await lstat(candidate)).isDirectory()) continue;
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function findTools(searchPath: string): Promise<SandboxTools & { ip?: string }> {
  const [bwrap, unshare, setpriv, mount, pivotRoot, ip] = await Promise.all(
    ['bwrap', 'unshare', 'setpriv', 'mount', 'pivot_root', 'ip'].map((n) => findExecutable(n, searchPath)),
  );
  return {
    ...(ip ? { ip } : {}),
    ...(bwrap ? { bwrap } : {}),
    ...(unshare ? { unshare } : {}),
    ...(setpriv ? { setpriv } : {}),
    ...(mount ? { mount } : {}),
    ...(pivotRoot ? { pivotRoot } : {}),
  };
}

async function kindsOf(paths: readonly string[]): Promise<Map<string, 'dir' | 'file'>> {
  const kinds = new Map<string, 'dir' | 'file'>();
  for (const path of paths) {
    const s = await lstat(path).catch(() => null);
    if (s) kinds.set(path, s.isDirectory() ? 'dir' : 'file');
  }
  return kinds;
}

const ENV_OVERRIDES = { HOME: SANDBOX_HOME, TMPDIR: '/tmp' };

/** The identity to drop to, when we are root: `setpriv` and the user, or why it cannot be done. */
type Drop = { setpriv: string; identity: SandboxIdentity } | undefined;

function dropped(drop: Drop, inv: Invocation): Invocation {
  return drop ? asUser(drop.setpriv, drop.identity, inv) : inv;
}

function bwrapSandbox(bwrap: string, network: SandboxNetwork, drop: Drop): Sandbox {
  return {
    kind: 'bwrap',
    network,
    ...(drop ? { identity: drop.identity } : {}),
    async prepare(layout, argv) {
      const made = bwrapInvocation(bwrap, layout, await kindsOf(layout.hide), argv);
      const inv = dropped(drop, network === 'isolated' ? isolateBwrapNetwork(made) : made);
      return { ...inv, envOverrides: ENV_OVERRIDES, dispose: async () => {} };
    },
  };
}

function unshareSandbox(
  tools: Required<Pick<SandboxTools, 'unshare' | 'setpriv' | 'mount' | 'pivotRoot'>>,
  ip: string | undefined,
  drop: Drop,
) {
  const network: SandboxNetwork = ip ? 'isolated' : 'host';
  return {
    kind: 'unshare',
    network,
    ...(drop ? { identity: drop.identity } : {}),
    async prepare(layout, argv) {
      // An empty directory of ours that the sandbox's root is mounted on; nothing is ever written into it.
      const root = await mkdtemp(join(tmpdir(), 'leviathan-root-'));
      if (drop) await giveTo(drop.identity, [root]);
      const made = unshareInvocation(tools, root, layout, argv);
      const inv = dropped(drop, ip ? isolateUnshareNetwork(made, tools.unshare, ip) : made);
      return {
        ...inv,
        envOverrides: ENV_OVERRIDES,
        dispose: () => rm(root, { recursive: true, force: true }),
      };
    },
  } satisfies Sandbox;
}

const NONE: Sandbox = {
  kind: 'none',
  network: 'host',
  async prepare(_layout, argv) {
    return { file: argv[0]!, args: argv.slice(1), envOverrides: {}, dispose: async () => {} };
  },
};

/** Runs `true` in a sandbox of this kind: the only honest test of whether the kernel lets us make one. */
async function probe(sandbox: Sandbox): Promise<string | null> {
  const workTree = await mkdtemp(join(tmpdir(), 'leviathan-probe-'));
  try {
    if (sandbox.identity) await giveTo(sandbox.identity, [workTree]);
    const inv = await sandbox.prepare({ workTree, hide: [], readOnly: [] }, ['/bin/sh', '-c', 'exit 0']);
    try {
      return await new Promise((done) => {
        // The invocation's info descriptor must exist, as in a real run.
        const child = spawn(inv.file, inv.args, {
          env: { PATH: '/usr/bin:/bin' },
          stdio:
            inv.infoFd === undefined ? ['ignore', 'ignore', 'pipe'] : ['ignore', 'ignore', 'pipe', 'pipe'],
          timeout: 20_000,
        });
        let err = '';
        child.stderr?.on('data', (chunk: Buffer) => {
          err += chunk.toString();
        });
        child.once('error', (error) => done(error.message));
        child.once('close', (code, signal) => {
          const why = err.trim().split('\n').pop() || `exit ${code ?? signal}`;
          done(code === 0 ? null : why);
        });
      });
    } finally {
      await inv.dispose();
    }
  } finally {
    await rm(workTree, { recursive: true, force: true });
  }
}

const probed = new Map<string, Promise<string | null>>();

function probeOnce(key: string, sandbox: Sandbox): Promise<string | null> {
  let p = probed.get(key);
  if (!p) {
    p = probe(sandbox);
    probed.set(key, p);
  }
  return p;
}

/**
 * The sandbox for `executor.sandbox`, checked by making one (once per process and tool). Throws
 * `SandboxUnavailableError` with what to install when the mode asks for one that cannot be made.
 */
export async function resolveSandbox(request: SandboxRequest): Promise<Sandbox> {
  if (request.mode === 'none') return NONE;
  const tools = await findTools(request.searchPath ?? process.env.PATH ?? '/usr/bin:/bin');
  const network = request.network ?? 'isolated';
  const own = network === 'isolated' ? ' with a network namespace of its own' : '';
  const drop = dropFor(request, tools);
  const who = drop ? `:${drop.identity.uid}:${drop.identity.gid}` : '';
  const problems: string[] = [];
  if (request.mode === 'auto' || request.mode === 'bwrap') {
    if (tools.bwrap) {
      const sandbox = bwrapSandbox(tools.bwrap, network, drop);
      const why = await probeOnce(`bwrap:${tools.bwrap}:${network}${who}`, sandbox);
      if (why === null) return sandbox;
      problems.push(`bwrap cannot make a sandbox${own} here (${why})`);
    } else problems.push('bwrap was not found on PATH');
  }
  if (request.mode === 'auto' || request.mode === 'unshare') {
    const { unshare, setpriv, mount, pivotRoot } = tools;
    if (unshare && setpriv && mount && pivotRoot && (network === 'host' || tools.ip)) {
      const ip = network === 'isolated' ? tools.ip : undefined;
      const sandbox = unshareSandbox({ unshare, setpriv, mount, pivotRoot }, ip, drop);
      const key = `unshare:${unshare}:${setpriv}:${mount}:${pivotRoot}:${ip ?? 'host'}${who}`;
      const why = await probeOnce(key, sandbox);
      if (why === null) return sandbox;
      problems.push(`unshare cannot make a sandbox${own} here (${why})`);
    } else if (unshare && setpriv && mount && pivotRoot) {
      problems.push(
        'ip (iproute2) was not found on PATH: unshare cannot bring up the loopback of its own network',
      );
    } else problems.push('unshare, setpriv, mount or pivot_root (util-linux) was not found on PATH');
  }
  const netHint = network === 'isolated' ? NETWORK_HINT : '';
  throw new SandboxUnavailableError(
    `no sandbox for the agent (executor.sandbox: ${request.mode}): ${problems.join('; ')}; ${INSTALL_HINT}${netHint}`,
  );
}

/** The default user a sandbox runs as when we are root: `nobody`. */
export const DEFAULT_SANDBOX_ID = 65534;

/**
 * The user to drop to: none when we are not root; when we are, `request.identity` (default 65534), run
 * through `setpriv`. Throws `SandboxUnavailableError` when that cannot be done (fail closed).
 */
function dropFor(request: SandboxRequest, tools: SandboxTools): Drop {
  if (process.getuid?.() !== 0) return undefined;
  const identity = request.identity ?? { uid: DEFAULT_SANDBOX_ID, gid: DEFAULT_SANDBOX_ID };
  const valid = (n: number) => Number.isSafeInteger(n) && n > 0 && n < 2 ** 32 - 1;
  if (!valid(identity.uid) || !valid(identity.gid)) {
    throw new SandboxUnavailableError(
      `no sandbox for the agent: Leviathan runs as root and the sandbox user ${identity.uid}:${identity.gid} ` +
        'is not an unprivileged one; set LEVIATHAN_SANDBOX_UID and LEVIATHAN_SANDBOX_GID to a user other than root',
    );
  }
  if (!tools.setpriv) {
    throw new SandboxUnavailableError(
      'no sandbox for the agent: Leviathan runs as root and needs setpriv (util-linux) on PATH to run the ' +
        `agent as uid ${identity.uid}, never as root; install util-linux or run Leviathan as an unprivileged user`,
    );
  }
  return { setpriv: tools.setpriv, identity };
}

/**
 * Gives Leviathan's scratch copies (the agent's work tree, the verify copy, the task files) to the sandbox's
 * user: every entry below each path, links themselves (never followed). Only ever called on our own copies.
 */
export async function giveTo(identity: SandboxIdentity, paths: readonly string[]): Promise<void> {
  const walk = async (path: string): Promise<void> => {
    const s = await lstat(path);
    await lchown(path, identity.uid, identity.gid);
    if (!s.isDirectory()) return;
    for (const name of await readdir(path)) await walk(join(path, name));
  };
  for (const path of paths) await walk(path);
}

/**
 * The first directory above `path` that the sandbox's user may not enter (no search permission for it), or
 * null: the sandbox resolves its mounts as that user, so our copies must be reachable to it.
 */
export async function unreachableBy(identity: SandboxIdentity, path: string): Promise<string | null> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const s = await lstat(dir).catch(() => null);
    if (s) {
      const bit = s.uid === identity.uid ? 0o100 : s.gid === identity.gid ? 0o010 : 0o001;
      if (!(s.mode & bit)) return dir;
    }
    if (dir === dirname(dir)) return null;
  }
}

/** Lets the sandbox's user reach (not list) a directory of ours that holds files given to it. */
export async function letThrough(dir: string): Promise<void> {
  const s = await lstat(dir);
  if (s.isDirectory()) await chmod(dir, (s.mode & 0o7777) | 0o111);
}

/** The real paths of `paths` (the sandbox mounts real paths; a symlinked `/tmp` would otherwise be missed). */
export async function realPaths(paths: readonly (string | undefined)[]): Promise<string[]> {
  const out = new Set<string>();
  for (const p of paths) {
    if (!p) continue;
    const abs = resolve(p);
    out.add(await realpath(abs).catch(() => abs));
  }
  return [...out];
}
