import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The answers of `Git.layout()`: absolute paths. */
export interface RepoLayout {
  /** The common git dir (shared by every worktree). */
  commonDir: string;
  objectFormat: 'sha1' | 'sha256';
  /** This worktree's own git dir. */
  gitDir: string;
  objects: string;
  shallow: string;
}

const LAYOUT_ARGS = [
  'rev-parse',
  '--path-format=absolute',
  '--git-common-dir',
  '--show-object-format',
  '--absolute-git-dir',
  '--git-path',
  'objects',
  '--git-path',
  'shallow',
];

/** The outcome of one git invocation. */
export interface GitResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface GitOptions {
  /** Stdin for the command (e.g. `hash-object --stdin`, `mktree`). */
  input?: string | Buffer;
  /** Extra environment (e.g. `GIT_INDEX_FILE`). */
  env?: Record<string, string>;
  /** Return a non-zero exit instead of throwing. */
  allowFailure?: boolean;
}

/**
 * Git's whole message on one line (its lines joined): the cause is often on the first line ("fatal: '…' does
 * not appear to be a git repository") and only advice on the last. Credentials in URLs are dropped.
 */
export function gitMessage(text: string): string {
  const lines = text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const joined = lines.join(' ');
  return joined === '' ? 'no output' : joined.length > 600 ? `${joined.slice(0, 599)}…` : joined;
}

/** A git command failed; the message never carries the auth header. */
export class GitError extends Error {
  override readonly name = 'GitError';
  constructor(
    readonly args: string[],
    readonly result: GitResult,
  ) {
    super(`git ${args.join(' ')} failed (${result.exitCode}): ${gitMessage(result.stderr)}`);
  }
}

/** Sees every git process this module starts (its arguments, auth settings left out, and its directory). */
export type GitObserver = (args: readonly string[], cwd: string) => void;

const observers = new Set<GitObserver>();

/**
 * Registers `observer` for every git process started from now on (benchmarks and tests count them); returns
 * the function that removes it again.
 */
export function observeGit(observer: GitObserver): () => void {
  observers.add(observer);
  return () => {
    observers.delete(observer);
  };
}

/** Who Leviathan's commits are by. */
export const LEVIATHAN_IDENTITY = { name: 'Leviathan', email: 'leviathan@users.noreply.github.com' };

const AUTHOR = {
  GIT_AUTHOR_NAME: 'Leviathan',
  GIT_AUTHOR_EMAIL: 'leviathan@users.noreply.github.com',
  GIT_COMMITTER_NAME: 'Leviathan',
  GIT_COMMITTER_EMAIL: 'leviathan@users.noreply.github.com',
};

/**
 * The clean environment every Leviathan git command runs in (the one place it is defined): no system or
 * global config, an empty `HOME` and XDG dir (so no `~/.gitconfig` or `~/.config/git/attributes` an agent
 * planted), no replace objects (`git replace` of a base commit changes nothing Leviathan reads), no system
 * attributes, and none of the caller's `GIT_*` variables (`GIT_DIR`, `GIT_CONFIG_PARAMETERS`, …).
 * `CLEAN_CONFIG` adds hooks from an empty private directory, fsmonitor off and no attributes file.
 */
let cleanDirs: { home: string; hooks: string } | null = null;

function privateDirs(): { home: string; hooks: string } {
  if (!cleanDirs) {
    // mkdtemp makes it 0700: nobody else can plant a hook or a config in it.
    const root = mkdtempSync(join(tmpdir(), 'leviathan-git-env-'));
    const home = join(root, 'home');
    const hooks = join(root, 'hooks');
    mkdirSync(home, { mode: 0o700 });
    mkdirSync(hooks, { mode: 0o700 });
    cleanDirs = { home, hooks };
  }
  return cleanDirs;
}

export function cleanGitEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('GIT_') && key !== 'XDG_CONFIG_HOME') env[key] = value;
  }
  const { home } = privateDirs();
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    LC_ALL: 'C',
  };
}

/** `-c` settings of every Leviathan git command: what repository-local config could still turn on. */
export function cleanGitConfig(): string[] {
  return [
    `core.hooksPath=${privateDirs().hooks}`,
    'core.fsmonitor=false',
    'core.attributesFile=/dev/null',
    'core.askPass=',
    'credential.helper=',
    'protocol.ext.allow=never',
  ];
}

/**
 * Runs git in one working directory, in the clean environment above. Like actions/checkout's command manager, auth is an
 * `http.extraheader` passed per command with `-c`, so the token is never written to disk, never in a URL and
 * never in an error message.
 */
export class Git {
  private readonly authArgs: string[];
  private readonly probes = new Map<string, Promise<GitResult>>();

  /**
   * @param config extra `key=value` settings passed with `-c` before the auth header (e.g. an
   *   `http.<url>.extraheader` inherited from a checkout); like the token, they never appear in errors.
   */
  constructor(
    readonly cwd: string,
    private readonly token?: string,
    private readonly baseEnv: Record<string, string> = {},
    private readonly config: readonly string[] = [],
  ) {
    this.authArgs = [...cleanGitConfig(), ...config].flatMap((c) => ['-c', c]);
    if (token) {
      this.authArgs.push(
        '-c',
        `http.extraheader=AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
      );
    }
  }

  /** The same credentials in another directory, with its own environment and extra `-c` settings. */
  at(cwd: string, env: Record<string, string> = {}, config: readonly string[] = []): Git {
    return new Git(cwd, this.token, env, [...this.config, ...config]);
  }

  /** Git in another directory authenticated with another token only: no credential or header of this one. */
  withToken(token: string, cwd: string, env: Record<string, string> = {}): Git {
    return new Git(cwd, token, env);
  }

  async run(args: string[], options: GitOptions = {}): Promise<GitResult> {
    const raw = await this.exec(args, options, 'utf8');
    const result: GitResult = { exitCode: raw.exitCode, stdout: raw.stdout as string, stderr: raw.stderr };
    if (result.exitCode !== 0 && !options.allowFailure) throw new GitError(args, result);
    return result;
  }

  /** Like `run`, with stdout as bytes (for `cat-file --batch`, whose sizes count bytes). */
  async runBuffer(args: string[], options: GitOptions = {}): Promise<GitResult & { stdoutBytes: Buffer }> {
    const raw = await this.exec(args, options, 'buffer');
    const bytes = raw.stdout as Buffer;
    const result = { exitCode: raw.exitCode, stdout: '', stderr: raw.stderr, stdoutBytes: bytes };
    if (result.exitCode !== 0 && !options.allowFailure) {
      throw new GitError(args, { ...result, stdout: bytes.toString('utf8') });
    }
    return result;
  }

  private exec(
    args: string[],
    options: GitOptions,
    encoding: 'utf8' | 'buffer',
  ): Promise<{ exitCode: number; stdout: string | Buffer; stderr: string }> {
    for (const observer of observers) observer(args, this.cwd);
    return new Promise((resolve) => {
      const child = execFile(
        'git',
        [...this.authArgs, ...args],
        {
          cwd: this.cwd,
          env: {
            ...cleanGitEnv(),
            ...AUTHOR,
            ...this.baseEnv,
            ...options.env,
          },
          maxBuffer: 1024 * 1024 * 1024,
          encoding,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 128) : 0;
          resolve({ exitCode: code, stdout, stderr: stderr.toString() });
        },
      );
      // Always close stdin so no git command can wait on it.
      child.stdin?.on('error', () => {});
      child.stdin?.end(options.input);
    });
  }

  /** stdout with the trailing newline removed. */
  async output(args: string[], options: GitOptions = {}): Promise<string> {
    return (await this.run(args, options)).stdout.replace(/\n$/, '');
  }

  /** The object id a ref points at, or null when it does not exist. */
  async revParse(ref: string): Promise<string | null> {
    const r = await this.run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowFailure: true });
    return r.exitCode === 0 ? r.stdout.trim() : null;
  }

  /** A file's text at a revision, or null when it is not there. */
  async readFile(rev: string, path: string): Promise<string | null> {
    const r = await this.run(['cat-file', 'blob', `${rev}:${path}`], { allowFailure: true });
    return r.exitCode === 0 ? r.stdout : null;
  }

  /** The URL of `origin`, or null for a repository without a remote. */
  async originUrl(): Promise<string | null> {
    const r = await this.probe(['remote', 'get-url', 'origin']);
    return r.exitCode === 0 ? r.stdout.trim() : null;
  }

  /**
   * Where the repository's parts are, from one `rev-parse` shared by every reader of this instance (event log,
   * forge, private repositories, the sandbox's hide list): null when `cwd` is not in a git repository.
   */
  async layout(): Promise<RepoLayout | null> {
    const r = await this.probe(LAYOUT_ARGS);
    if (r.exitCode !== 0) return null;
    const [commonDir = '', format = 'sha1', gitDir = '', objects = '', shallow = ''] = r.stdout
      .replace(/\n$/, '')
      .split('\n');
    return { commonDir, objectFormat: format === 'sha256' ? 'sha256' : 'sha1', gitDir, objects, shallow };
  }

  /**
   * `remote.<remote>.url` as written in the local config (no `insteadOf` applied; null when unset) and the
   * `http.*.extraheader` settings as `key=value` (actions/checkout's auth), from one shared `config` read.
   */
  async localConfig(remote = 'origin'): Promise<{ url: string | null; headers: string[] }> {
    const name = remote.replace(/[.+*?()|[\]{}^$\\]/g, '\\$&');
    const cfg = await this.probe([
      'config',
      '--local',
      '--get-regexp',
      `^remote\\.${name}\\.url$|^http\\.(.*\\.)?extraheader$`,
    ]);
    let url: string | null = null;
    const headers: string[] = [];
    for (const line of cfg.stdout.split('\n')) {
      const sp = line.indexOf(' ');
      if (sp < 0) continue;
      const key = line.slice(0, sp);
      const value = line.slice(sp + 1);
      if (/^remote\./.test(key)) url ??= value;
      else headers.push(`${key}=${value}`);
    }
    return { url, headers };
  }

  /**
   * `run` with `allowFailure`, once per instance for the same arguments: for what does not change while one
   * command runs (top level, git dir, object format, remote URLs, local config). Whoever shares the instance
   * shares the answers (a tick's event log, forge and base-branch reads ask the same questions).
   */
  probe(args: string[]): Promise<GitResult> {
    const key = args.join('\0');
    let result = this.probes.get(key);
    if (!result) {
      result = this.run(args, { allowFailure: true });
      this.probes.set(key, result);
    }
    return result;
  }
}
