import { createHash } from 'node:crypto';
import { cp, lstat, mkdtemp, readdir, readFile, readlink, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { NetworkMode } from '../core/egress-hosts.js';
import type { Usage } from '../core/usage.js';
import type { EgressResolver, RefusedHost } from './egress-proxy.js';
import { type Egress, openEgress } from './egress-sandbox.js';
import { type OutputStream, type RunCommandsResult, runCommands } from './run-commands.js';
import {
  DEFAULT_SANDBOX_ID,
  giveTo,
  letThrough,
  realPaths,
  resolveSandbox,
  type SandboxKind,
  type SandboxMode,
  SandboxUnavailableError,
  unreachableBy,
} from './sandbox.js';
import type { SandboxIdentity } from './sandbox-argv.js';
import { hostPlaces } from './sandbox-hide.js';

export interface RunSandboxedOptions {
  /** `executor.sandbox`. */
  mode: SandboxMode;
  /** The only writable place, and the commands' working directory. */
  workTree: string;
  /** Run in order, each with `/bin/sh -c` in a fresh sandbox; the first failure stops the list. */
  commands: readonly string[];
  /** The complete environment (scrubbed, see agent-env.ts); `HOME` and `TMPDIR` are the sandbox's own. */
  env: Record<string, string>;
  /** Epoch milliseconds: one deadline for the whole list. */
  deadline: number;
  /** Paths that must not be visible (Leviathan's private repository and state, the user's checkout). */
  hide: readonly string[];
  /** Files shown read-only even inside a hidden directory (the prompt and task files). */
  readOnly?: readonly string[];
  /** Directories writable besides the work tree (the result file's), even inside a hidden directory. */
  writable?: readonly string[];
  /** Applied to the live output and the tail (see core/redact.ts). */
  redact?: (text: string) => string;
  onOutput?: (chunk: string, stream: OutputStream, command: string) => void;
  /** Where the sandbox tools are looked up; default `process.env.PATH`. */
  searchPath?: string;
  /**
   * `executor.network` and `executor.network_allow`; default `none`. `none` and `allowlist` give the sandbox
   * a network namespace of its own (fail closed when it cannot have one); `open` keeps the host's.
   */
  network?: NetworkPolicy;
  /** Where the user's home is (hidden too); default the process's. */
  /**
   * The worker's environment, which says where credentials live (hidden too, see sandbox-hide.ts), the
   * places shown anyway (`LEVIATHAN_SANDBOX_SHOW`) and, when we are root, the user the sandbox runs as
   * (`LEVIATHAN_SANDBOX_UID` / `LEVIATHAN_SANDBOX_GID`, default 65534); default the process's.
   */
  hostEnv?: Record<string, string | undefined>;
  killGraceMs?: number;
}

export interface NetworkPolicy {
  mode: NetworkMode;
  allow: readonly string[];
  /** How the egress proxy resolves a listed name (tests map one to a loopback server); default DNS. */
  resolve?: EgressResolver;
}

export interface RunSandboxedResult extends RunCommandsResult {
  /** The sandbox the commands ran in; absent when none could be made (then `status` is `failed`). */
  sandbox?: SandboxKind;
  /** Set when no sandbox could be made: the attempt fails closed (`executor_error`) with this message. */
  sandboxError?: string;
  /** What the agent reported it spent in its result file (set by the worker after the run). */
  usage?: Usage;
  /** `executor.network: allowlist`: every host the egress proxy refused, once each. */
  egressRefused?: RefusedHost[];
}

/**
 * Runs commands in a sandbox made for `mode` (SPEC §3.2 step 3, issue 7 §1). When the mode asks for a
 * sandbox that cannot be made, nothing runs and the result says why (fail closed).
 */
export async function runSandboxed(options: RunSandboxedOptions): Promise<RunSandboxedResult> {
  let sandbox: Awaited<ReturnType<typeof resolveSandbox>>;
  try {
    sandbox = await resolveSandbox({
      mode: options.mode,
      network: options.network?.mode === 'open' ? 'host' : 'isolated',
      identity: sandboxIdentity(options.hostEnv ?? process.env),
      ...(options.searchPath !== undefined ? { searchPath: options.searchPath } : {}),
    });
  } catch (error) {
    if (!(error instanceof SandboxUnavailableError)) throw error;
    return failedClosed(options.redact ? options.redact(error.message) : error.message);
  }
  // allowlist with names to admit: the egress proxy, outside the sandbox (an empty list is `none`).
  const net = options.network;
  let egress: Egress | undefined;
  if (net?.mode === 'allowlist' && net.allow.length > 0 && sandbox.network === 'isolated') {
    egress = await openEgress({ allow: net.allow, ...(net.resolve ? { resolve: net.resolve } : {}) });
  }
  try {
    const result = await runInSandbox(options, egress ? egress.wrap(sandbox) : sandbox);
    if (!egress) return result;
    const redact = options.redact ?? ((t: string) => t);
    const refused = egress.refused().map((r) => ({ ...r, host: redact(r.host) }));
    return { ...result, egressRefused: refused };
  } finally {
    await egress?.close();
  }
}

async function runInSandbox(
  options: RunSandboxedOptions,
  sandbox: Awaited<ReturnType<typeof resolveSandbox>>,
): Promise<RunSandboxedResult> {
  const [workTree] = await realPaths([options.workTree]);
  const host = await hostPlaces(options.hostEnv ?? process.env);
  const hide = (await realPaths([...host.hide, ...options.hide])).filter((p) => p !== workTree);
  const ownFiles = await realPaths(options.readOnly ?? []);
  const ownDirs = await realPaths(options.writable ?? []);
  if (sandbox.identity) {
    // Root outside runs the agent as an unprivileged user: our scratch copies become its own.
    await giveTo(sandbox.identity, [workTree!, ...ownFiles, ...ownDirs]);
    for (const dir of new Set([...ownFiles, ...ownDirs].map((f) => dirname(f)))) await letThrough(dir);
    for (const path of [workTree!, ...ownFiles, ...ownDirs]) {
      const closed = await unreachableBy(sandbox.identity, path);
      if (closed === null) continue;
      const { uid } = sandbox.identity;
      const message =
        `no sandbox for the agent: Leviathan runs as root and the sandbox runs as uid ${uid}, which cannot ` +
        `enter ${closed} to reach ${path}; make it searchable (chmod o+x) or point TMPDIR / RUNNER_TEMP elsewhere`;
      return failedClosed(options.redact ? options.redact(message) : message);
    }
  }
  const result = await runCommands({
    commands: options.commands,
    cwd: workTree!,
    env: options.env,
    timeoutMs: Math.max(0, options.deadline - Date.now()),
    sandbox: {
      sandbox,
      layout: {
        workTree: workTree!,
        hide,
        readOnly: [...ownFiles, ...host.show],
        writable: ownDirs,
      },
    },
    ...(options.redact ? { redact: options.redact } : {}),
    ...(options.onOutput ? { onOutput: options.onOutput } : {}),
    ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
  });
  return { ...result, sandbox: sandbox.kind };
}

/** Nothing ran: no sandbox could be made for this attempt (`executor_error`). */
function failedClosed(message: string): RunSandboxedResult {
  return {
    status: 'failed',
    exitCode: null,
    error: message,
    sandboxError: message,
    outputTail: `leviathan: ${message}\n`,
    durationMs: 0,
  };
}

/** `LEVIATHAN_SANDBOX_UID` / `LEVIATHAN_SANDBOX_GID` (default 65534; the gid defaults to the uid given). */
function sandboxIdentity(env: Record<string, string | undefined>): SandboxIdentity {
  const num = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v.trim()) ? Number(v) : undefined);
  const uid = num(env.LEVIATHAN_SANDBOX_UID) ?? (env.LEVIATHAN_SANDBOX_UID ? -1 : DEFAULT_SANDBOX_ID);
  const gid = num(env.LEVIATHAN_SANDBOX_GID) ?? (env.LEVIATHAN_SANDBOX_GID ? -1 : uid);
  return { uid, gid };
}

export interface VerifyCandidateOptions extends Omit<RunSandboxedOptions, 'workTree' | 'commands'> {
  /** A directory holding the candidate tree; it is copied, never run in or changed. */
  candidate: string;
  /** The verify command. */
  command: string;
}

export interface VerifyCandidateResult extends RunSandboxedResult {
  /** Paths verify created, changed or deleted in its copy (discarded; reported only), at most 50. */
  changed: string[];
}

/** The files of a tree (lstat only, links never followed, `.git` skipped) with a fingerprint each. */
async function fingerprints(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (prefix === '' && entry.name === '.git') continue;
      const rel = prefix + entry.name;
      const full = join(dir, entry.name);
      const s = await lstat(full);
      if (s.isDirectory()) await walk(full, `${rel}/`);
      else if (s.isSymbolicLink()) out.set(rel, `link:${await readlink(full)}`);
      else if (s.isFile()) {
        const hash = createHash('sha256')
          .update(await readFile(full))
          .digest('hex');
        out.set(rel, `file:${s.mode & 0o111 ? 'x' : '-'}:${hash}`);
      } else out.set(rel, `other:${s.mode}`);
    }
  };
  await walk(root, '');
  return out;
}

/**
 * `verify` in a fresh sandbox on a fresh copy of the candidate tree, never in the agent's tree: what it
 * changes is discarded and reported in `changed`.
 */
export async function verifyCandidate(options: VerifyCandidateOptions): Promise<VerifyCandidateResult> {
  const copy = await mkdtemp(join(tmpdir(), 'leviathan-verify-'));
  try {
    const source = await realpath(options.candidate);
    await cp(source, copy, { recursive: true, verbatimSymlinks: true, force: true, errorOnExist: false });
    const before = await fingerprints(copy);
    const { candidate: _c, command, ...rest } = options;
    const result = await runSandboxed({
      ...rest,
      workTree: copy,
      commands: [command],
      hide: [...rest.hide, source],
    });
    const after = await fingerprints(copy).catch(() => new Map<string, string>());
    const changed = [...new Set([...before.keys(), ...after.keys()])]
      .filter((p) => before.get(p) !== after.get(p))
      .sort()
      .slice(0, 50);
    return { ...result, changed };
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}
