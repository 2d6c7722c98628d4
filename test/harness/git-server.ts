/**
 * A real smart-HTTP git server for integration tests: git's own upload-pack and receive-pack in stateless-rpc
 * mode (as `git http-backend` runs them) behind a Node HTTP server on 127.0.0.1 (random port), serving bare
 * repositories in a temp dir.
 *
 *   const server = await GitServer.start({ token: 's3cret' });
 *   const bare = await server.createRepo('target');      // bare repo with one commit on main
 *   execFile('git', ['clone', server.url('target'), dir]);
 *   server.onRequest = (r) => (r.service === 'git-receive-pack' && r.method === 'POST' ? 'kill' : undefined);
 *   await server.stop();
 *
 * Auth is checked as GitHub does for tokens: HTTP Basic with user `x-access-token` and the token as password;
 * anything else gets 401 with `WWW-Authenticate`. With `tokens: { name: token }`, every request records the
 * name of the token it carried (`requests[i].as`) and every push the refs it updates (`requests[i].refs`), so
 * a test can assert which credentials pushed which branch without the token ever being recorded.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { createBareRepo, type SeedOptions } from './repo.js';

export interface RequestInfo {
  repo: string;
  /** `git-upload-pack` (fetch) or `git-receive-pack` (push); null for other paths. */
  service: string | null;
  method: string;
  path: string;
  /**
   * Who sent it: as `access` named the token when there is a policy, else which of `GitServerOptions.tokens`
   * it was (`unknown` for another, null for none).
   */
  as: string | null;
  /** For a push (`git-receive-pack` POST): the refs it updates, read from its commands. */
  refs?: string[];
  /** The HTTP status the server refused it with (401/403), absent when it reached git. */
  refused?: number;
}

/** What a token may do: `read` fetches, `write` also pushes (GitHub's `contents` permission). */
export type AccessPolicy = (token: string | null) => { as: string | null; level: 'none' | 'read' | 'write' };

/** What the hook wants done with a request: `kill` destroys the connection once the request body starts. */
export type RequestAction = 'kill' | 'pass' | undefined;

export interface GitServerOptions {
  /** Require this token (Basic auth, user `x-access-token`). */
  token?: string;
  /** Tokens by name: each request records which one it carried (`RequestInfo.as`), never the token. */
  tokens?: Record<string, string>;
}

export class GitServer {
  /** Called for every request before it reaches git; return `'kill'` to cut the connection mid-request. */
  onRequest: ((info: RequestInfo) => RequestAction) | null = null;
  /**
   * Per-token access (e.g. from the emulator's token authority). A push needs `write` (else 403, or 401 without
   * a token); a fetch needs `read`. Replaces the single `token` check when set.
   */
  access: AccessPolicy | null = null;
  /** Every request seen, in order (for assertions about what a client fetched). */
  readonly requests: RequestInfo[] = [];

  private constructor(
    readonly root: string,
    private readonly server: Server,
    readonly port: number,
    private readonly token: string | undefined,
    private readonly tokens: Record<string, string> = {},
  ) {}

  static async start(options: GitServerOptions = {}): Promise<GitServer> {
    const root = await mkdtemp(join(tmpdir(), 'leviathan-git-server-'));
    let self: GitServer | null = null;
    const server = createServer((req, res) => {
      if (!self) {
        res.writeHead(503).end();
        return;
      }
      self.handle(req, res);
    });
    // Git keeps connections alive between requests; do not let idle ones hold stop() up.
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    self = new GitServer(root, server, port, options.token, options.tokens);
    return self;
  }

  /** The clone URL of a repository served here (no credentials in it). */
  url(repo: string): string {
    return `http://127.0.0.1:${this.port}/${repo}.git`;
  }

  /** The bare repository's path on disk. */
  path(repo: string): string {
    return join(this.root, `${repo}.git`);
  }

  /** Creates a bare repository (seeded with a commit on `main` unless `empty`) that allows partial fetches. */
  async createRepo(repo: string, seed: SeedOptions = {}): Promise<string> {
    return createBareRepo(this.path(repo), seed);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await rm(this.root, { recursive: true, force: true });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = /^\/([^/]+)\.git(\/.*)$/.exec(url.pathname);
    if (!match) {
      res.writeHead(404).end('not found\n');
      return;
    }
    const [, repo = '', rest = ''] = match;
    const service =
      url.searchParams.get('service') ?? (/\/(git-(?:upload|receive)-pack)$/.exec(rest)?.[1] || null);
    const info: RequestInfo = {
      repo,
      service,
      method: req.method ?? 'GET',
      path: url.pathname,
      as: this.tokenName(req.headers.authorization),
    };
    this.requests.push(info);
    if (service === 'git-receive-pack' && req.method === 'POST') this.readPushedRefs(req, info);

    if (this.access) {
      const who = this.access(this.basicToken(req.headers.authorization));
      info.as = who.as;
      const need = service === 'git-receive-pack' ? 'write' : 'read';
      const ok = who.level === 'write' || (who.level === 'read' && need === 'read');
      if (!ok) {
        const anonymous = who.as === null;
        info.refused = anonymous ? 401 : 403;
        res.writeHead(info.refused, {
          ...(anonymous ? { 'WWW-Authenticate': 'Basic realm="leviathan-test"' } : {}),
          'Content-Type': 'text/plain',
        });
        res.end(
          anonymous ? 'Invalid username or token.\n' : `Permission to ${repo}.git denied to ${who.as}.\n`,
        );
        return;
      }
    } else if (this.token !== undefined && !this.authorized(req.headers.authorization)) {
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="leviathan-test"',
        'Content-Type': 'text/plain',
      });
      res.end('Invalid username or token.\n');
      return;
    }

    if (this.onRequest?.(info) === 'kill') {
      // Cut the connection once the request is under way, so the client sees a transport failure mid-request.
      const kill = () => req.socket.destroy();
      if (req.method === 'POST') req.once('data', kill);
      else kill();
      req.once('end', kill);
      return;
    }
    this.runBackend(req, res, url, repo, rest);
  }

  private tokenName(header: string | undefined): string | null {
    const basic = /^basic\s+(\S+)$/i.exec(header ?? '')?.[1];
    if (!basic) return null;
    const password = Buffer.from(basic, 'base64')
      .toString('utf8')
      .replace(/^x-access-token:/, '');
    return Object.entries(this.tokens).find(([, t]) => t === password)?.[0] ?? 'unknown';
  }

  /** The ref names in a push's commands (the pkt-lines before the flush and the pack), read alongside git. */
  private readPushedRefs(req: IncomingMessage, info: RequestInfo): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const refs: string[] = [];
      let at = 0;
      let flushed = false;
      for (;;) {
        flushed = head.subarray(at, at + 4).toString('latin1') === '0000';
        const length = Number.parseInt(head.subarray(at, at + 4).toString('latin1'), 16);
        if (!(length >= 4) || at + length > head.length) break;
        const line = head.subarray(at + 4, at + length).toString('utf8');
        const ref = line.split('\0')[0]!.trim().split(' ')[2];
        if (ref) refs.push(ref);
        at += length;
      }
      info.refs = refs;
      if (flushed || head.length > 65_536) req.off('data', onData);
    };
    req.on('data', onData);
  }

  private basicToken(header: string | undefined): string | null {
    if (!/^basic /i.test(header ?? '')) return null;
    const decoded = Buffer.from(header!.slice(6), 'base64').toString('utf8');
    return decoded.startsWith('x-access-token:') ? decoded.slice('x-access-token:'.length) : null;
  }

  private authorized(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ') && !header?.startsWith('basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded === `x-access-token:${this.token}`;
  }

  /**
   * What `git http-backend` does for the smart protocol, without it: the service (upload-pack or
   * receive-pack) runs in stateless-rpc mode straight on the request, one git process per request instead
   * of two (the suite makes thousands of requests).
   */
  private runBackend(req: IncomingMessage, res: ServerResponse, url: URL, repo: string, rest: string): void {
    const service = url.searchParams.get('service') ?? /^\/(git-(?:upload|receive)-pack)$/.exec(rest)?.[1];
    const advertise = req.method === 'GET' && rest === '/info/refs';
    const rpc = req.method === 'POST' && rest === `/${service}`;
    const dir = join(this.root, `${repo}.git`);
    if ((service !== 'git-upload-pack' && service !== 'git-receive-pack') || !(advertise || rpc)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    if (!existsSync(join(dir, 'HEAD'))) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Repository not found.\n');
      return;
    }
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: this.root,
    };
    const protocol = req.headers['git-protocol'];
    if (protocol) env.GIT_PROTOCOL = String(protocol);
    const args = [service.slice(4), '--stateless-rpc', ...(advertise ? ['--advertise-refs'] : []), dir];
    const child = spawn('git', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => {});
    if (rpc) {
      const gzip = req.headers['content-encoding'] === 'gzip';
      (gzip ? req.pipe(createGunzip()).on('error', () => child.kill('SIGKILL')) : req).pipe(child.stdin);
    } else {
      req.resume();
    }
    // The client went away before the response was complete: stop the service.
    res.on('close', () => {
      if (!res.writableFinished) child.kill('SIGKILL');
    });

    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      res.writeHead(200, {
        'Content-Type': `application/x-${service}-${advertise ? 'advertisement' : 'result'}`,
        'Cache-Control': 'no-cache, max-age=0, must-revalidate',
      });
      // As http-backend: protocol v0 and v1 advertisements start with the service line.
      if (advertise && !String(protocol ?? '').includes('version=2')) {
        const line = `# service=${service}\n`;
        res.write(`${(line.length + 4).toString(16).padStart(4, '0')}${line}0000`);
      }
    };
    child.stdout.on('data', (chunk: Buffer) => {
      start();
      res.write(chunk);
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.on('close', (code) => {
      if (!started && code !== 0) {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`${service} failed (${code}): ${stderr}\n`);
        return;
      }
      start();
      res.end();
    });
    child.on('error', () => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  }
}
