/**
 * The GitHub forge (SPEC §5.2): pull requests, labels, reviewers and comments through the REST API, workers
 * started with a workflow dispatch. Leviathan's pulls are found statelessly, as Renovate finds its own: head
 * branch prefix, label, or the hidden body marker (the marker wins when a human renamed or relabelled).
 *
 * Two tokens: `token` reads, dispatches and comments (`GITHUB_TOKEN` in Actions, `LEVIATHAN_TOKEN` from the
 * CLI); `prToken` (optional, a GitHub App installation token) opens and edits the pull, so the repository's
 * CI runs on it. Neither ever appears in a message: every error goes through `redact`.
 */
import { readFile } from 'node:fs/promises';
import { parsePullMarker } from '../core/pr-body.js';
import { createRedactor } from '../core/redact.js';
import {
  type DispatchRequest,
  type DispatchResult,
  type EnsuredIssue,
  type Forge,
  ForgeError,
  type IssueInput,
  type ListPullsQuery,
  type PullInput,
  type PullRequest,
  type WorkerRun,
} from './forge.js';
import { type ClientOptions, createClient, type GitHubClient } from './github/client.js';
import { type RestPull, type RestRun, toPull, toRun } from './github/coerce.js';
import { type ErrorContext, isUnconfirmed, toForgeError } from './github/errors.js';
import { ensureMarkedIssue } from './github/marked-issue.js';

export const DEFAULT_WORKFLOW = 'leviathan.yml';

/** The calls made with the PR token when there is one (the pull is opened and edited as the App). */
const PR_OPERATIONS = new Set([
  'pulls/create',
  'pulls/update',
  'issues/add-labels',
  'pulls/request-reviewers',
]);

/** Times a lost `pulls/create` is sent again after the branch was found to have no open pull. */
const CREATE_RETRIES = 2;

export interface GitHubForgeOptions {
  token: string;
  prToken?: string;
  /** `owner/name` (`GITHUB_REPOSITORY`). */
  repository: string;
  /** `GITHUB_API_URL` (default `https://api.github.com`; GHES: `https://HOST/api/v3`). */
  apiUrl?: string;
  /** `GITHUB_SERVER_URL` (default `https://github.com`). */
  serverUrl?: string;
  /** The worker workflow's file name under `.github/workflows/` (default `leviathan.yml`). */
  workflow?: string;
  /** `GITHUB_EVENT_PATH`: the default branch is read from its `repository.default_branch` when present. */
  eventPath?: string;
  /** Client tuning (timeouts, backoff base, pacing); tests shrink the waits. */
  client?: Omit<ClientOptions, 'token' | 'apiUrl'>;
  /** Where warnings and Octokit's log lines go (already redacted). */
  warn?: (line: string) => void;
}

/** The environment the GitHub forge reads (`--forge github` and the Actions). */
export function githubForgeOptionsFromEnv(
  env: Record<string, string | undefined>,
  extra: Partial<GitHubForgeOptions> = {},
): GitHubForgeOptions {
  const token = env.LEVIATHAN_TOKEN || env.GITHUB_TOKEN;
  if (!token) {
    throw new ForgeError(
      'no GitHub token: set LEVIATHAN_TOKEN (or GITHUB_TOKEN in Actions) to a token with contents, pull-requests, issues and actions access',
      'config',
    );
  }
  const repository = env.GITHUB_REPOSITORY;
  if (!repository || !/^[^/\s]+\/[^/\s]+$/.test(repository)) {
    throw new ForgeError('GITHUB_REPOSITORY must name the repository as owner/name', 'config');
  }
  return {
    token,
    repository,
    ...(env.LEVIATHAN_PR_TOKEN ? { prToken: env.LEVIATHAN_PR_TOKEN } : {}),
    ...(env.GITHUB_API_URL ? { apiUrl: env.GITHUB_API_URL } : {}),
    ...(env.GITHUB_SERVER_URL ? { serverUrl: env.GITHUB_SERVER_URL } : {}),
    ...(env.LEVIATHAN_WORKFLOW ? { workflow: env.LEVIATHAN_WORKFLOW } : {}),
    ...(env.GITHUB_EVENT_PATH ? { eventPath: env.GITHUB_EVENT_PATH } : {}),
    ...extra,
  };
}

export class GitHubForge implements Forge {
  readonly kind = 'github' as const;
  readonly owner: string;
  readonly repo: string;
  readonly apiUrl: string;
  readonly workflow: string;
  /** Replaces every token this forge holds (and any token-shaped string) with `[REDACTED]`. */
  readonly redact: (text: string) => string;
  private readonly api: GitHubClient;
  private readonly prApi: GitHubClient;
  private readonly warn: (line: string) => void;
  private defaultBranchValue: Promise<string> | null = null;

  constructor(private readonly options: GitHubForgeOptions) {
    const [owner = '', repo = ''] = options.repository.split('/');
    this.owner = owner;
    this.repo = repo;
    this.apiUrl = (options.apiUrl ?? 'https://api.github.com').replace(/\/+$/, '');
    this.workflow = options.workflow ?? DEFAULT_WORKFLOW;
    this.redact = createRedactor({ secrets: [options.token, options.prToken] });
    const sink = options.warn ?? (() => {});
    this.warn = (line) => sink(this.redact(line));
    const client = (token: string) =>
      createClient({ ...options.client, token, apiUrl: this.apiUrl, log: this.warn });
    this.api = client(options.token);
    this.prApi = options.prToken ? client(options.prToken) : this.api;
  }

  /** The tokens this forge holds (for `core.setSecret` and output redaction). */
  secrets(): string[] {
    return [this.options.token, ...(this.options.prToken ? [this.options.prToken] : [])];
  }

  /** The token that pushes Leviathan's branches when it is not the job's: the PR token, so CI runs on them. */
  pushToken(): string | undefined {
    return this.options.prToken;
  }

  defaultBranch(): Promise<string> {
    this.defaultBranchValue ??= this.readDefaultBranch().catch((error) => {
      this.defaultBranchValue = null;
      throw error;
    });
    return this.defaultBranchValue;
  }

  private async readDefaultBranch(): Promise<string> {
    if (this.options.eventPath) {
      try {
        const payload = JSON.parse(await readFile(this.options.eventPath, 'utf8')) as {
          repository?: { default_branch?: unknown };
        };
        const branch = payload.repository?.default_branch;
        if (typeof branch === 'string' && branch) return branch;
      } catch {
        // No readable payload (a local run with the variable set): ask the API.
      }
    }
    const { data } = await this.call('repos/get', () => this.api.rest.repos.get(this.repoParams()));
    return data.default_branch;
  }

  /**
   * Open pulls plus those updated since `closedSince`, newest update first: paging stops at the first pull
   * older than `closedSince`, so the cost follows recent activity, not the repository's history.
   */
  async listPulls(query: ListPullsQuery): Promise<PullRequest[]> {
    const since = query.closedSince.getTime();
    const out: PullRequest[] = [];
    await this.call('pulls/list', async () => {
      const pages = this.api.paginate.iterator(this.api.rest.pulls.list, {
        ...this.repoParams(),
        state: 'all',
        sort: 'updated',
        direction: 'desc',
        per_page: 100,
      });
      for await (const { data } of pages) {
        for (const raw of data as unknown as RestPull[]) {
          if (Date.parse(raw.updated_at) < since) return;
          const pull = toPull(raw);
          if (this.isLeviathanPull(pull, query)) out.push(pull);
        }
      }
    });
    return out;
  }

  private isLeviathanPull(pull: PullRequest, query: ListPullsQuery): boolean {
    const byBranch = pull.head.startsWith(query.branchPrefix);
    const byLabel = pull.labels.some((l) => query.labels.includes(l));
    const marker = parsePullMarker(pull.body);
    if (marker && pull.state === 'open' && (!byBranch || (query.labels.length > 0 && !byLabel))) {
      this.warn(
        `pull #${pull.number} carries Leviathan's marker for ${marker.task} but its ${byBranch ? 'labels were' : 'branch was'} changed (${pull.head}; ${pull.labels.join(', ') || 'no labels'}); it is still treated as Leviathan's`,
      );
    }
    return byBranch || byLabel || marker !== null;
  }

  async findOpenPull(branch: string): Promise<PullRequest | null> {
    const { data } = await this.call('pulls/list', () =>
      this.api.rest.pulls.list({
        ...this.repoParams(),
        state: 'open',
        head: `${this.owner}:${branch}`,
        per_page: 1,
      }),
    );
    const first = (data as unknown as RestPull[])[0];
    return first ? toPull(first) : null;
  }

  /**
   * Creates the pull as a draft (a ready one with a warning where drafts are not available), or updates the
   * open one for the branch; labels through the issues API, reviewers requested. Calling it twice changes
   * nothing the second time.
   */
  async upsertPull(input: PullInput): Promise<{ pull: PullRequest; created: boolean; warnings?: string[] }> {
    // A carried branch push goes first, on its own (git, not the API): the pull opens on a pushed branch.
    if (input.carry) await input.carry.push([], []);
    const warnings: string[] = [];
    const existing = await this.findOpenPull(input.branch);
    let pull: PullRequest;
    let created = false;
    if (existing) {
      pull = existing;
      if (existing.title !== input.title || existing.body !== input.body) {
        const { data } = await this.call('pulls/update', () =>
          this.prApi.rest.pulls.update({
            ...this.repoParams(),
            pull_number: existing.number,
            title: input.title,
            body: input.body,
          }),
        );
        pull = toPull(data as unknown as RestPull);
      }
    } else {
      pull = await this.createPull(input, warnings);
      created = true;
    }
    const missing = input.labels.filter((l) => !pull.labels.includes(l));
    if (missing.length > 0) {
      const { data } = await this.call('issues/add-labels', () =>
        this.prApi.rest.issues.addLabels({
          ...this.repoParams(),
          issue_number: pull.number,
          labels: missing,
        }),
      );
      pull = { ...pull, labels: data.map((l) => l.name) };
    }
    if (input.reviewers.length > 0 && created) {
      await this.call('pulls/request-reviewers', () =>
        this.prApi.rest.pulls.requestReviewers({
          ...this.repoParams(),
          pull_number: pull.number,
          reviewers: input.reviewers,
        }),
      );
    }
    for (const w of warnings) this.warn(w);
    return { pull, created, ...(warnings.length > 0 ? { warnings } : {}) };
  }

  /**
   * `pulls/create` is never re-sent blindly: when an answer is lost (5xx, timeout, dropped connection) or
   * GitHub says the pull already exists, the open pull for the branch is looked up first, so a pull whose
   * creation did happen is found instead of being created twice.
   */
  private async createPull(input: PullInput, warnings: string[]): Promise<PullRequest> {
    const ctx = this.context('pulls/create');
    let draft = input.draft;
    for (let attempt = 0; ; attempt++) {
      try {
        const { data } = await this.prApi.rest.pulls.create({
          ...this.repoParams(),
          head: input.branch,
          base: input.base,
          title: input.title,
          body: input.body,
          draft,
          request: { retries: 0 },
        });
        return toPull(data as unknown as RestPull);
      } catch (error) {
        const said = JSON.stringify((error as { response?: { data?: unknown } }).response?.data ?? '');
        const status = (error as { status?: number }).status;
        if (draft && status === 422 && /draft/i.test(said)) {
          warnings.push(
            `draft pull requests are not available in ${this.owner}/${this.repo}: opened a ready one`,
          );
          draft = false;
          continue;
        }
        const exists = status === 422 && /already exists/i.test(said);
        if (!(exists || isUnconfirmed(error)) || attempt >= CREATE_RETRIES) throw toForgeError(error, ctx);
        const found = await this.findOpenPull(input.branch);
        if (found) return found;
        if (exists) throw toForgeError(error, ctx);
      }
    }
  }

  /**
   * `createWorkflowDispatch` with `return_run_details`; a server without it (older GHES) answers 204 and the
   * run is recorded without an id. A dispatch is never re-sent: a lost answer is `unconfirmed`.
   */
  async dispatchWorker(request: DispatchRequest): Promise<DispatchResult> {
    try {
      const response = await this.api.request(
        'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches',
        {
          ...this.repoParams(),
          workflow_id: this.workflow,
          ref: request.ref,
          inputs: { task: request.task, attempt: request.attempt },
          return_run_details: true,
          // A dispatch may have been applied when its answer is lost: retrying could start two workers.
          request: { retries: 0 },
        },
      );
      const data = response.data as { workflow_run_id?: number; html_url?: string } | undefined;
      if (response.status === 200 && data?.workflow_run_id) {
        return { runId: String(data.workflow_run_id), ...(data.html_url ? { runUrl: data.html_url } : {}) };
      }
      return {};
    } catch (error) {
      const ctx = this.context('actions/create-workflow-dispatch');
      if (isUnconfirmed(error)) {
        this.warn(`${toForgeError(error, ctx).message}; the dispatch is not re-sent`);
        return { unconfirmed: true };
      }
      throw toForgeError(error, ctx);
    }
  }

  async getRun(runId: string): Promise<WorkerRun | null> {
    if (!/^\d+$/.test(runId)) return null;
    try {
      const { data } = await this.api.rest.actions.getWorkflowRun({
        ...this.repoParams(),
        run_id: Number(runId),
      });
      return toRun(data as unknown as RestRun);
    } catch (error) {
      if ((error as { status?: number }).status === 404) return null;
      throw toForgeError(error, this.context('actions/get-workflow-run'));
    }
  }

  async comment(pullNumber: number, body: string): Promise<void> {
    await this.call('issues/create-comment', () =>
      this.api.rest.issues.createComment({ ...this.repoParams(), issue_number: pullNumber, body }),
    );
  }

  /** The dashboard issue (the job's token: `issues: write`), found by marker and label, edited in place. */
  ensureIssue(input: IssueInput): Promise<EnsuredIssue> {
    return ensureMarkedIssue(
      { api: this.api, owner: this.owner, repo: this.repo, call: (op, fn) => this.call(op, fn) },
      input,
    );
  }

  private repoParams() {
    return { owner: this.owner, repo: this.repo };
  }

  private context(operation: string): ErrorContext {
    const pr = this.options.prToken !== undefined && PR_OPERATIONS.has(operation);
    return {
      operation,
      apiUrl: this.apiUrl,
      workflow: this.workflow,
      redact: this.redact,
      ...(pr ? { tokenSetting: 'LEVIATHAN_PR_TOKEN (the pr-token input in Actions)' } : {}),
    };
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toForgeError(error, this.context(operation));
    }
  }
}
