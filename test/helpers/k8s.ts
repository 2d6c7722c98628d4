/**
 * Shared set-up for the Kubernetes target's tests (test/k8s): where the files are, rendering a kustomize
 * overlay with the real kubectl, the key paths a Helm chart's values file offers (its commented-out keys
 * included), and a bin directory of fake cluster tools for running k8s/bootstrap.sh offline.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const K8S = join(ROOT, 'k8s');

/** `../shared/arc-crds` beside the repository (ARC_CRDS_DIR overrides it); undefined when absent. */
export function arcCrdsDir(): string | undefined {
  const dir = process.env.ARC_CRDS_DIR || resolve(ROOT, '..', 'shared', 'arc-crds');
  return existsSync(dir) ? dir : undefined;
}

export function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

export function readYaml<T = Record<string, unknown>>(path: string): T {
  return parseYaml(readFileSync(path, 'utf8')) as T;
}

/** KEY=value lines of k8s/arc/versions.env. */
export function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(K8S, 'arc/versions.env'), 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** `kubectl kustomize <overlay>` parsed into its objects. */
export function kustomize(overlay: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', join(K8S, overlay)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${overlay} failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
}

/**
 * Every key path a chart's values.yaml offers, as `a.b.c`: live keys and the ones its comments show
 * (charts document optional keys commented out, e.g. `# maxRunners: 5`). Lines starting `##` are prose.
 * Lists contribute their items' keys under the list's path.
 */
export function chartKeyPaths(text: string): Set<string> {
  const paths = new Set<string>();
  const stack: { indent: number; key: string }[] = [];
  for (const raw of text.split('\n')) {
    if (/^\s*##/.test(raw)) continue;
    const line = raw.replace(/^(\s*)# ?/, '$1');
    const m = /^(\s*)(?:- )?([A-Za-z_][\w.-]*):(\s|$)/.exec(line);
    if (!m) continue;
    const indent = m[1]!.length + (line.slice(m[1]!.length).startsWith('- ') ? 2 : 0);
    while (stack.length > 0 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    stack.push({ indent, key: m[2]! });
    paths.add(stack.map((s) => s.key).join('.'));
  }
  return paths;
}

/** Key paths of a values object, stopping below `stopAt` prefixes (a PodSpec is checked by its schema). */
export function valueKeyPaths(value: unknown, stopAt: string[], prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => valueKeyPaths(v, stopAt, prefix));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    return stopAt.includes(path) ? [path] : [path, ...valueKeyPaths(v, stopAt, path)];
  });
}

const FAKE = join(ROOT, 'test/k8s/fake-tool.sh');
const FAKED = ['kind', 'docker', 'kubectl', 'helm', 'gh'];
/** What the scripts (and the fake) use from the system; nothing else is on the test PATH. */
const BASICS = ['bash', 'dirname', 'grep', 'sha256sum', 'cut', 'date', 'sleep', 'head', 'cat', 'env', 'rm'];

export interface FakeWorld {
  dir: string;
  bin: string;
  state: string;
  keyFile: string;
  /** The environment of a fully prepared machine (every prerequisite met). */
  env: Record<string, string>;
  /** The fake tools' invocations so far, one `tool args…` line each. */
  calls(): string[];
}

const worlds: string[] = [];
/** Removes every fake world made so far (call it in afterAll). */
export function removeFakeWorlds(): void {
  for (const dir of worlds.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A temp machine: PATH holds only BASICS plus the fakes named in `tools`; state starts empty. */
export function fakeWorld(tools: string[] = FAKED): FakeWorld {
  const dir = mkdtempSync(join(tmpdir(), 'lev-k8s-'));
  worlds.push(dir);
  const bin = join(dir, 'bin');
  const state = join(dir, 'state');
  mkdirSync(bin);
  mkdirSync(state);
  for (const tool of tools) symlinkSync(FAKE, join(bin, tool));
  for (const tool of BASICS) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    symlinkSync(r.stdout.trim(), join(bin, tool));
  }
  const keyFile = join(dir, 'app.pem');
  spawnSync('sh', ['-c', `printf 'PRIVATE-KEY-CONTENT\\n' > '${keyFile}'`]);
  return {
    dir,
    bin,
    state,
    keyFile,
    env: {
      PATH: bin,
      FAKE_STATE: state,
      GITHUB_CONFIG_URL: 'https://github.com/acme/widgets',
      GITHUB_APP_ID: '123456',
      GITHUB_APP_INSTALLATION_ID: '654321',
      GITHUB_APP_PRIVATE_KEY_FILE: keyFile,
      LEVIATHAN_SMOKE_POLL: '0',
    },
    calls() {
      const log = join(state, 'calls.log');
      return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    },
  };
}

export interface ScriptResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs k8s/<script> with exactly `env` (nothing inherited), from an unrelated working directory. */
export function runScript(script: string, args: string[], env: Record<string, string>): ScriptResult {
  const r = spawnSync('/bin/bash', [join(K8S, script), ...args], {
    env,
    cwd: tmpdir(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The `+ command` lines a script printed. */
export function commands(out: string): string[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('+ '))
    .map((l) => l.slice(2));
}
