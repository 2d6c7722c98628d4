import { execFile } from 'node:child_process';

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

/** A git command failed; the message never carries the auth header. */
export class GitError extends Error {
  override readonly name = 'GitError';
  constructor(
    readonly args: string[],
    readonly result: GitResult,
  ) {
    super(
      `git ${args.join(' ')} failed (${result.exitCode}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
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

const AUTHOR = {
  GIT_AUTHOR_NAME: 'Leviathan',
  GIT_AUTHOR_EMAIL: 'leviathan@users.noreply.github.com',
  GIT_COMMITTER_NAME: 'Leviathan',
  GIT_COMMITTER_EMAIL: 'leviathan@users.noreply.github.com',
};

/**
 * Runs git in one working directory. Like actions/checkout's command manager, auth is an
 * `http.extraheader` passed per command with `-c`, so the token is never written to disk, never in a URL and
 * never in an error message.
 */
export class Git {
  private readonly authArgs: string[];

  /**
   * @param config extra `key=value` settings passed with `-c` before the auth header (e.g. an
   *   `http.<url>.extraheader` inherited from a checkout); like the token, they never appear in errors.
   */
  constructor(
    readonly cwd: string,
    token?: string,
    private readonly baseEnv: Record<string, string> = {},
    config: readonly string[] = [],
  ) {
    this.authArgs = config.flatMap((c) => ['-c', c]);
    if (token) {
      this.authArgs.push(
        '-c',
        `http.extraheader=AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
      );
    }
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
            ...process.env,
            GIT_TERMINAL_PROMPT: '0',
            LC_ALL: 'C',
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
    const r = await this.run(['remote', 'get-url', 'origin'], { allowFailure: true });
    return r.exitCode === 0 ? r.stdout.trim() : null;
  }
}
