/**
 * A GitHub REST API emulator on 127.0.0.1 for one repository, backed by a bare repository of the real git
 * server (`../git-server.ts`). Every request and every response is validated against GitHub's OpenAPI
 * description (`openapi.json`); anything that does not validate is recorded in `violations` (and answered
 * 500 when it is the emulator's own response), so tests fail instead of drifting from GitHub.
 * See README.md in this directory for the API.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GitServer } from '../git-server.js';
import { commitFiles } from '../repo.js';
import { type Fault, FaultPlan, faultResponse } from './faults.js';
import { branchSha, deleteBranch, type MergeMethod, mergeBranches } from './git-ops.js';
import { type EmulatedIssue, type EmulatedRun, Renderer } from './model.js';
import { handlers, type Reply } from './routes.js';
import { GitHubSchema } from './schema.js';
import type { TokenAuthority } from './tokens.js';

export type { Fault } from './faults.js';
export type { EmulatedIssue, EmulatedPull, EmulatedRun } from './model.js';

export interface EmulatorOptions {
  git: GitServer;
  /** The repository's name on the git server (it must exist there). */
  repo: string;
  owner?: string;
  /** `'/api/v3'` serves the API as GitHub Enterprise Server does. */
  pathPrefix?: '' | '/api/v3';
  /** Servers before `return_run_details` answer a dispatch 204 without the run (default true). */
  returnRunDetails?: boolean;
  /** Repositories where drafts are not available answer a draft create 422 (default true). */
  draftsAvailable?: boolean;
  /** Delete the head branch after a merge, as the repository setting does (default false). */
  deleteBranchOnMerge?: boolean;
  /** Accepted tokens by name (recorded per request as `as`); none = any token is accepted. */
  tokens?: Record<string, string>;
  /**
   * Tokens minted with permissions (per-job `GITHUB_TOKEN`s, App tokens): accepted under their name, and a
   * request its permissions do not allow is answered 403 "Resource not accessible by integration".
   */
  authority?: TokenAuthority;
  /** The clock of every timestamp (default the wall clock). */
  now?: () => Date;
}

export interface RecordedRequest {
  operation: string | null;
  method: string;
  path: string;
  status: number;
  /** Which named token sent it (see `EmulatorOptions.tokens`). */
  as: string | null;
  body: string;
  fault?: string;
}

/** A hook for dispatched runs: run the job; the value (or a throw: `failure`) becomes the conclusion. */
export type DispatchHandler = (
  run: EmulatedRun,
) => Promise<EmulatedRun['conclusion'] | undefined> | EmulatedRun['conclusion'] | undefined;

export class GitHubEmulator {
  readonly owner: string;
  readonly repo: string;
  readonly bare: string;
  /** What `GITHUB_API_URL` should be (with `/api/v3` for GHES). */
  readonly apiUrl: string;
  /** What `GITHUB_SERVER_URL` should be. */
  readonly serverUrl: string;
  readonly issues = new Map<number, EmulatedIssue>();
  readonly runs: EmulatedRun[] = [];
  /** Every request, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Requests and responses that did not validate against GitHub's schema, one line each. */
  readonly violations: string[] = [];
  readonly faults = new FaultPlan();
  readonly options: Required<Omit<EmulatorOptions, 'tokens' | 'git' | 'authority'>> &
    Pick<EmulatorOptions, 'tokens' | 'authority'>;
  readonly render: Renderer;
  private readonly counts = new Map<string, number>();
  private readonly dispatchHandlers: DispatchHandler[] = [];
  private readonly pending = new Set<Promise<void>>();
  private nextNumber = 1;
  private nextCommentId = 1;

  private constructor(
    readonly schema: GitHubSchema,
    private readonly server: Server,
    readonly port: number,
    git: GitServer,
    options: EmulatorOptions,
  ) {
    this.owner = options.owner ?? 'octo';
    this.repo = options.repo;
    this.bare = git.path(options.repo);
    this.options = {
      owner: this.owner,
      repo: this.repo,
      pathPrefix: options.pathPrefix ?? '',
      returnRunDetails: options.returnRunDetails ?? true,
      draftsAvailable: options.draftsAvailable ?? true,
      deleteBranchOnMerge: options.deleteBranchOnMerge ?? false,
      now: options.now ?? (() => new Date()),
      ...(options.tokens ? { tokens: options.tokens } : {}),
      ...(options.authority ? { authority: options.authority } : {}),
    };
    this.serverUrl = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.serverUrl}${this.options.pathPrefix}`;
    this.render = new Renderer(schema, {
      owner: this.owner,
      repo: this.repo,
      apiUrl: this.apiUrl,
      serverUrl: this.serverUrl,
      cloneUrl: git.url(options.repo),
      defaultBranch: 'main',
    });
  }

  static async start(options: EmulatorOptions): Promise<GitHubEmulator> {
    const schema = await GitHubSchema.load();
    let self: GitHubEmulator | null = null;
    const server = createServer((req, res) => {
      if (self) void self.handle(req, res);
      else res.writeHead(503).end();
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    self = new GitHubEmulator(schema, server, (server.address() as AddressInfo).port, options.git, options);
    return self;
  }

  async stop(): Promise<void> {
    await this.idle();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** The environment a Leviathan process needs to talk to this emulator. */
  env(token: string): Record<string, string> {
    return {
      GITHUB_API_URL: this.apiUrl,
      GITHUB_SERVER_URL: this.serverUrl,
      GITHUB_REPOSITORY: `${this.owner}/${this.repo}`,
      LEVIATHAN_TOKEN: token,
    };
  }

  // --- budgets ------------------------------------------------------------------------------------------

  /** Requests per operation id since the last `resetCounts()` (faulted ones included). */
  callCounts(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  calls(operation?: string): number {
    if (operation) return this.counts.get(operation) ?? 0;
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }

  resetCounts(): void {
    this.counts.clear();
  }

  // --- faults -------------------------------------------------------------------------------------------

  /** Injects `fault` into `operation` (`'*'` for any): the next `times` calls (default 1) or the given calls. */
  fail(operation: string, fault: Fault, when: { call?: number | number[]; times?: number } = {}): void {
    this.faults.add(operation, fault, when);
  }

  // --- workflow runs ------------------------------------------------------------------------------------

  /**
   * Registers the job runner for dispatched workflows. Called after the dispatch was answered, with the run
   * already `in_progress`; its result (default `success`, a throw is `failure`) completes the run unless the
   * handler completed it itself. Without a handler, runs stay `queued` until `completeRun`.
   */
  onDispatch(handler: DispatchHandler): () => void {
    this.dispatchHandlers.push(handler);
    return () => {
      const i = this.dispatchHandlers.indexOf(handler);
      if (i >= 0) this.dispatchHandlers.splice(i, 1);
    };
  }

  /** Unregisters every dispatch handler. */
  offAll(): void {
    this.dispatchHandlers.splice(0, this.dispatchHandlers.length);
  }

  /** Resolves once every dispatch handler started so far has finished. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  run(id: number): EmulatedRun {
    const run = this.runs.find((r) => r.id === id);
    if (!run) throw new Error(`no run ${id}`);
    return run;
  }

  startRun(id: number): EmulatedRun {
    const run = this.run(id);
    if (run.status === 'queued') Object.assign(run, { status: 'in_progress', updated_at: this.stamp() });
    return run;
  }

  completeRun(id: number, conclusion: NonNullable<EmulatedRun['conclusion']>): EmulatedRun {
    const run = this.run(id);
    if (run.status !== 'completed')
      Object.assign(run, { status: 'completed', conclusion, updated_at: this.stamp() });
    return run;
  }

  /** Records a dispatch as a run and hands it to the handlers (used by the dispatch route). */
  async recordDispatch(workflow: string, ref: string, inputs: Record<string, unknown>): Promise<EmulatedRun> {
    const id = 1000 + this.runs.length + 1;
    const run: EmulatedRun = {
      id,
      workflow,
      ref,
      inputs,
      status: 'queued',
      conclusion: null,
      head_sha: (await branchSha(this.bare, ref)) ?? '0'.repeat(40),
      created_at: this.stamp(),
      updated_at: this.stamp(),
      html_url: `${this.serverUrl}/${this.owner}/${this.repo}/actions/runs/${id}`,
    };
    this.runs.push(run);
    if (this.dispatchHandlers.length > 0) {
      const job = (async () => {
        await new Promise((r) => setImmediate(r));
        this.startRun(id);
        let conclusion: EmulatedRun['conclusion'] = 'success';
        try {
          for (const handler of this.dispatchHandlers) conclusion = (await handler(run)) ?? conclusion;
        } catch {
          conclusion = 'failure';
        }
        this.completeRun(id, conclusion ?? 'success');
      })();
      this.pending.add(job);
      void job.finally(() => this.pending.delete(job));
    }
    return run;
  }

  // --- state used by routes and human actions -----------------------------------------------------------

  stamp(): string {
    return this.options
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  newNumber(): number {
    return this.nextNumber++;
  }

  newCommentId(): number {
    return this.nextCommentId++;
  }

  touch(issue: EmulatedIssue): void {
    issue.updated_at = this.stamp();
  }

  pull(number: number): EmulatedIssue {
    const issue = this.issues.get(number);
    if (!issue?.pull) throw new Error(`no pull #${number}`);
    return issue;
  }

  /** Merges a pull as GitHub does (a real commit on the base branch); the route and `human.merge` share it. */
  async mergePull(
    number: number,
    input: { method?: MergeMethod; sha?: string; title?: string; message?: string } = {},
  ): Promise<{ ok: true; sha: string } | { ok: false; status: 405 | 409 | 422; message: string }> {
    const issue = this.pull(number);
    const p = issue.pull!;
    if (issue.state !== 'open') return { ok: false, status: 405, message: 'Pull Request is not mergeable' };
    const result = await mergeBranches(this.bare, {
      base: p.base,
      head: p.head,
      method: input.method ?? 'merge',
      title: input.title ?? `Merge pull request #${number} from ${this.owner}/${p.head}`,
      message: input.message ?? issue.title,
      ...(input.sha ? { expectHead: input.sha } : {}),
    });
    if (!result.ok) {
      if (result.why === 'moved')
        return {
          ok: false,
          status: 409,
          message: 'Head branch was modified. Review and try the merge again.',
        };
      return { ok: false, status: 405, message: 'Pull Request is not mergeable' };
    }
    p.head_sha = await branchSha(this.bare, p.head);
    Object.assign(issue, { state: 'closed', closed_at: this.stamp() });
    Object.assign(p, { merged_at: this.stamp(), merge_commit_sha: result.sha });
    this.touch(issue);
    if (this.options.deleteBranchOnMerge) await deleteBranch(this.bare, p.head);
    return result;
  }

  /** What a human does on github.com, without going through the API (no counts, no validation). */
  readonly human = {
    merge: async (number: number, method: MergeMethod = 'merge') => {
      const r = await this.mergePull(number, { method });
      if (!r.ok) throw new Error(`cannot merge #${number}: ${r.message}`);
      return r.sha;
    },
    close: (number: number) => {
      const issue = this.pull(number);
      Object.assign(issue, { state: 'closed', closed_at: this.stamp() });
      this.touch(issue);
    },
    reopen: (number: number) => {
      const issue = this.pull(number);
      Object.assign(issue, { state: 'open', closed_at: null });
      this.touch(issue);
    },
    relabel: (number: number, labels: string[]) => {
      const issue = this.pull(number);
      issue.labels = [...labels];
      this.touch(issue);
    },
    editBody: (number: number, body: string) => {
      const issue = this.pull(number);
      issue.body = body;
      this.touch(issue);
    },
    /** An issue a user opens (no labels stick: only triagers can label). */
    openIssue: (title: string, body: string, user = 'a-stranger') => {
      const number = this.newNumber();
      const at = this.stamp();
      this.issues.set(number, {
        number,
        title,
        body,
        state: 'open',
        labels: [],
        user,
        created_at: at,
        updated_at: at,
        closed_at: null,
        comments: [],
      });
      return number;
    },
    /** Closes an issue (not a pull). */
    closeIssue: (number: number) => {
      const issue = this.issues.get(number);
      if (!issue || issue.pull) throw new Error(`no issue #${number}`);
      Object.assign(issue, { state: 'closed', closed_at: this.stamp() });
      this.touch(issue);
    },
    /** Renames a pull's head as if the human had opened it from another branch (the marker stays). */
    setHead: (number: number, head: string) => {
      this.pull(number).pull!.head = head;
    },
    /** A commit on `branch` of the bare repository; open pulls with that head are updated. */
    push: async (branch: string, files: Record<string, string | null>, message = 'human change') => {
      const sha = await commitFiles(this.bare, branch, files, message);
      for (const issue of this.issues.values()) {
        if (issue.pull?.head === branch && issue.state === 'open') this.touch(issue);
      }
      return sha;
    },
    deleteBranch: (branch: string) => deleteBranch(this.bare, branch),
    /** A pull in the history without a branch behind it (for paging and budget tests). */
    seedClosedPull: (input: {
      head: string;
      base?: string;
      title?: string;
      body?: string;
      labels?: string[];
      merged?: boolean;
      at: string;
    }) => {
      const number = this.newNumber();
      this.issues.set(number, {
        number,
        title: input.title ?? input.head,
        body: input.body ?? null,
        state: 'closed',
        labels: input.labels ?? [],
        user: 'github-actions[bot]',
        created_at: input.at,
        updated_at: input.at,
        closed_at: input.at,
        comments: [],
        pull: {
          head: input.head,
          base: input.base ?? 'main',
          draft: false,
          merged_at: input.merged ? input.at : null,
          merge_commit_sha: input.merged ? 'f'.repeat(40) : null,
          head_sha: 'e'.repeat(40),
          requested_reviewers: [],
        },
      });
      return number;
    },
  };

  // --- HTTP ---------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.serverUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    const record: RecordedRequest = {
      operation: null,
      method,
      path: url.pathname + url.search,
      status: 0,
      as: null,
      body: text,
    };
    this.requests.push(record);
    const send = (reply: Reply) => {
      record.status = reply.status;
      const headers: Record<string, string> = {
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '4999',
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
        ...reply.headers,
      };
      if (reply.body === undefined) res.writeHead(reply.status, headers).end();
      else {
        res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(JSON.stringify(reply.body));
      }
    };

    const prefix = this.options.pathPrefix;
    if (prefix && !url.pathname.startsWith(`${prefix}/`)) {
      return send({ status: 404, body: { message: 'Not Found', documentation_url: '' } });
    }
    const path = url.pathname.slice(prefix.length);
    const op = this.schema.match(method, path);
    if (!op || !handlers[op.operationId]) {
      this.violations.push(
        `${method} ${path}: no operation of the fixture (add it to scripts/extract-openapi.ts)`,
      );
      return send({ status: 404, body: { message: 'Not Found', documentation_url: '' } });
    }
    const operation = op.operationId;
    record.operation = operation;
    const call = (this.counts.get(operation) ?? 0) + 1;
    this.counts.set(operation, call);

    const token = /^(?:token|bearer)\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? null;
    const { tokens, authority } = this.options;
    const grant = authority?.lookup(token);
    const as =
      grant?.name ??
      (tokens
        ? (Object.entries(tokens).find(([, t]) => t === token)?.[0] ?? null)
        : authority
          ? null
          : 'any');
    record.as = as;

    const fault = this.faults.take(operation, call);
    if (fault) record.fault = String(fault.kind);
    if (fault && fault.kind !== 'slow' && fault.kind !== 'drop') {
      return send(faultResponse(fault, Math.floor(Date.now() / 1000)));
    }
    if (!as) return send({ status: 401, body: { message: 'Bad credentials', documentation_url: '' } });
    if (grant && !authority?.allows(token, operation)) {
      return send({
        status: 403,
        body: {
          message: 'Resource not accessible by integration',
          documentation_url: 'https://docs.github.com/rest',
        },
      });
    }

    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return send({ status: 400, body: { message: 'Problems parsing JSON', documentation_url: '' } });
    }
    const query = Object.fromEntries(url.searchParams);
    const problems = this.schema.requestErrors(operation, { params: op.params, query, body });
    if (problems.length > 0) {
      this.violations.push(`request ${operation}: ${problems.join('; ')}`);
      return send({
        status: 422,
        body: { message: `Invalid request.\n\n${problems.join('\n')}`, documentation_url: '' },
      });
    }
    const params = op.params;

    let reply: Reply;
    try {
      reply = await handlers[operation]!(this, {
        params,
        query,
        body: (body ?? {}) as Record<string, unknown>,
        as,
        url,
      });
    } catch (error) {
      this.violations.push(`${operation}: emulator error ${(error as Error).message}`);
      return send({ status: 500, body: { message: 'emulator error', documentation_url: '' } });
    }
    const errors = this.schema.responseErrors(operation, reply.status, reply.body ?? null);
    if (reply.body !== undefined && errors.length > 0) {
      this.violations.push(`response ${operation} ${reply.status}: ${errors.slice(0, 5).join('; ')}`);
      return send({
        status: 500,
        body: { message: 'emulator response does not match the schema', documentation_url: '' },
      });
    }
    if (fault?.kind === 'drop') {
      record.status = -1;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
    send(reply);
  }
}
