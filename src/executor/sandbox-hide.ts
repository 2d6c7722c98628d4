import { lstat, readdir, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where credentials live on the host, so the sandbox can hide them (issue 7 §1: the agent must not see
 * Leviathan's secrets). `/` stays read-only, but only the system directories a program needs are shown as
 * they are: every other top-level directory (`/root`, `/home`, `/work`, `/mnt`, `/srv`, an Actions
 * container's `/__w` and `/github`, …) and the credential places below become empty (a directory) or
 * `/dev/null` (a file). What must stay visible although it lies inside a hidden place (the Actions tool
 * cache, the resolver's `/run/systemd/resolve`, `LEVIATHAN_SANDBOX_SHOW`) is returned in `show`.
 */

/** Top-level entries of `/` shown as they are; everything else at the top is hidden. */
const SYSTEM_TOP = new Set([
  'bin',
  'sbin',
  'lib',
  'lib32',
  'lib64',
  'libx32',
  'usr',
  'etc',
  'opt',
  'var',
  'tmp',
  'dev',
  'proc',
  'sys',
  'nix',
  'snap',
]);

/** Places that hold secrets although their parent is shown. `/run` is hidden whole (sockets, secrets). */
const SECRET_PLACES = [
  '/root',
  '/home',
  '/run',
  '/var/run/secrets',
  '/run/secrets',
  '/var/lib',
  '/var/backups',
  '/var/spool',
  '/var/mail',
  '/var/log',
  '/var/tmp',
  '/etc/shadow',
  '/etc/shadow-',
  '/etc/gshadow',
  '/etc/gshadow-',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/security/opasswd',
  '/etc/ssl/private',
  '/etc/krb5.keytab',
  '/etc/kubernetes',
  '/etc/docker',
  '/etc/wireguard',
  '/etc/NetworkManager/system-connections',
];

/** Variables naming a credential file or directory (or a list of them, `:`-separated). */
const SECRET_VARIABLES = [
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_STATE_HOME',
  'XDG_CACHE_HOME',
  'XDG_RUNTIME_DIR',
  'GIT_CONFIG_GLOBAL',
  'GIT_CONFIG_SYSTEM',
  'GH_CONFIG_DIR',
  'GNUPGHOME',
  'DOCKER_CONFIG',
  'KUBECONFIG',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'CLOUDSDK_CONFIG',
  'AZURE_CONFIG_DIR',
  'NPM_CONFIG_USERCONFIG',
  'npm_config_userconfig',
  'SSH_AUTH_SOCK',
  'RUNNER_TEMP',
  'RUNNER_WORKSPACE',
  'GITHUB_WORKSPACE',
  'GITHUB_EVENT_PATH',
  'GITHUB_ENV',
  'GITHUB_OUTPUT',
  'GITHUB_PATH',
  'GITHUB_STATE',
  'GITHUB_STEP_SUMMARY',
];

/** Never hidden, nor any directory above them: without them no program runs. */
const NEEDED = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/etc', '/tmp', '/dev', '/proc', '/sys'];

/**
 * The directory Leviathan itself runs from (its checkout, installed package or Action: source, config, maybe a
 * `.git`): three levels above this module, as `src/executor/x.ts` and the bundled `dist/cli/index.js` both are.
 */
export function leviathanRoot(): string {
  return dirname(dirname(dirname(fileURLToPath(import.meta.url))));
}

const within = (path: string, dir: string): boolean =>
  path === dir || path.startsWith(dir === sep ? dir : dir + sep);

async function real(path: string): Promise<string> {
  const abs = resolve(path);
  return realpath(abs).catch(() => abs);
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => null)) !== null;
}

/** Paths named by the secret variables of `env`, and the runner's own directories around `RUNNER_TEMP`. */
async function fromEnvironment(env: Record<string, string | undefined>): Promise<string[]> {
  const out: string[] = [];
  for (const name of SECRET_VARIABLES) {
    for (const p of (env[name] ?? '').split(':')) if (p && isAbsolute(p)) out.push(p);
  }
  if (env.RUNNER_TEMP && isAbsolute(env.RUNNER_TEMP)) {
    // `<runner>/_work/_temp`: `_work` holds every checkout of the runner, `<runner>` its credentials.
    const work = dirname(env.RUNNER_TEMP);
    out.push(work);
    const runner = dirname(work);
    if ((await exists(join(runner, '.runner'))) || (await exists(join(runner, '.credentials'))))
      out.push(runner);
  }
  return out;
}

async function topLevel(): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir('/', { withFileTypes: true }).catch(() => [])) {
    // A link at the top leads into a place the plan already covers (shown or hidden by its real path).
    if (SYSTEM_TOP.has(entry.name) || entry.isSymbolicLink()) continue;
    out.push(`/${entry.name}`);
  }
  return out;
}

export interface HostPlaces {
  /** Real, existing paths to hide. */
  hide: string[];
  /** Real, existing paths shown read-only although they lie inside a hidden one. */
  show: string[];
}

/**
 * The host places to hide for `env` (the worker's environment), and those to show read-only inside them.
 * A place that is `/`, a system directory or above one is never hidden (that would break every program).
 */
export async function hostPlaces(env: Record<string, string | undefined>): Promise<HostPlaces> {
  const candidates = [
    homedir(),
    ...(env.HOME ? [env.HOME] : []),
    ...(await topLevel()),
    ...SECRET_PLACES,
    ...(await fromEnvironment(env)),
    leviathanRoot(),
  ];
  const needed = await Promise.all(NEEDED.map(real));
  const hide = new Set<string>();
  for (const c of candidates) {
    const p = await real(c);
    if (p === sep || needed.some((n) => within(n, p)) || !(await exists(p))) continue;
    hide.add(p);
  }
  const show = new Set<string>();
  const wanted = [
    ...(env.RUNNER_TOOL_CACHE ? [env.RUNNER_TOOL_CACHE] : []),
    ...(env.LEVIATHAN_SANDBOX_SHOW ?? '').split(':').filter((p) => p && isAbsolute(p)),
  ];
  // The resolver's file (`/etc/resolv.conf` -> `/run/systemd/resolve/stub-resolv.conf`) lives in `/run`.
  const resolv = await real('/etc/resolv.conf');
  if (resolv !== '/etc/resolv.conf') wanted.push(dirname(resolv));
  for (const w of wanted) {
    const p = await real(w);
    if (await exists(p)) show.add(p);
  }
  return { hide: [...hide].sort(), show: [...show].sort() };
}
