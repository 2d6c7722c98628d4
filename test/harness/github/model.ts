/**
 * The emulator's state of one repository — pulls, issues (one number space, as on GitHub), labels, comments
 * and workflow runs — and how each is rendered as GitHub's JSON. Renderers start from `GitHubSchema.sample`
 * so every required field is present, then fill in what Leviathan and GitHub's documentation care about.
 */
import type { GitHubSchema } from './schema.js';

export interface EmulatedIssue {
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  labels: string[];
  user: string;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  comments: Array<{ id: number; body: string; user: string; created_at: string }>;
  /** Present when the issue is a pull request. */
  pull?: EmulatedPull;
}

export interface EmulatedPull {
  head: string;
  base: string;
  draft: boolean;
  merged_at: string | null;
  merge_commit_sha: string | null;
  /** The head's sha when it was merged or closed (the live branch may be gone). */
  head_sha: string | null;
  requested_reviewers: string[];
}

export interface EmulatedRun {
  id: number;
  /** The workflow file name, e.g. `leviathan.yml`. */
  workflow: string;
  ref: string;
  inputs: Record<string, unknown>;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: 'success' | 'failure' | 'cancelled' | 'timed_out' | null;
  head_sha: string;
  created_at: string;
  updated_at: string;
  html_url: string;
}

export interface RepoIds {
  owner: string;
  repo: string;
  apiUrl: string;
  serverUrl: string;
  cloneUrl: string;
  defaultBranch: string;
}

const COLORS = ['0e8a16', '1d76db', 'b60205', 'fbca04'];

export class Renderer {
  constructor(
    private readonly schema: GitHubSchema,
    private readonly ids: RepoIds,
  ) {}

  private get repoApi(): string {
    return `${this.ids.apiUrl}/repos/${this.ids.owner}/${this.ids.repo}`;
  }

  private get repoWeb(): string {
    return `${this.ids.serverUrl}/${this.ids.owner}/${this.ids.repo}`;
  }

  user(login: string): Record<string, unknown> {
    return {
      ...this.schema.sample('simple-user'),
      login,
      id: login.length,
      type: login.endsWith('[bot]') ? 'Bot' : 'User',
      html_url: login.endsWith('[bot]')
        ? `${this.ids.serverUrl}/apps/${login.slice(0, -'[bot]'.length)}`
        : `${this.ids.serverUrl}/${login}`,
    };
  }

  label(name: string): Record<string, unknown> {
    return {
      ...this.schema.sample('label'),
      id: name.length,
      name,
      color: COLORS[name.length % COLORS.length],
      description: '',
      url: `${this.repoApi}/labels/${encodeURIComponent(name)}`,
    };
  }

  repository(full = false): Record<string, unknown> {
    const { owner, repo } = this.ids;
    return {
      ...this.schema.sample(full ? 'full-repository' : 'repository'),
      id: 1,
      name: repo,
      full_name: `${owner}/${repo}`,
      owner: this.user(owner),
      private: true,
      html_url: this.repoWeb,
      url: this.repoApi,
      clone_url: this.ids.cloneUrl,
      default_branch: this.ids.defaultBranch,
      has_issues: true,
    };
  }

  issue(issue: EmulatedIssue): Record<string, unknown> {
    return {
      ...this.schema.sample('issue'),
      id: issue.number,
      number: issue.number,
      title: issue.title,
      body: issue.body,
      state: issue.state,
      labels: issue.labels.map((l) => this.label(l)),
      user: this.user(issue.user),
      comments: issue.comments.length,
      created_at: issue.created_at,
      updated_at: issue.updated_at,
      closed_at: issue.closed_at,
      url: `${this.repoApi}/issues/${issue.number}`,
      html_url: `${this.repoWeb}/${issue.pull ? 'pull' : 'issues'}/${issue.number}`,
      ...(issue.pull
        ? {
            pull_request: {
              url: `${this.repoApi}/pulls/${issue.number}`,
              html_url: null,
              diff_url: null,
              patch_url: null,
            },
          }
        : {}),
    };
  }

  comment(issue: EmulatedIssue, c: EmulatedIssue['comments'][number]): Record<string, unknown> {
    return {
      ...this.schema.sample('issue-comment'),
      id: c.id,
      body: c.body,
      user: this.user(c.user),
      created_at: c.created_at,
      updated_at: c.created_at,
      html_url: `${this.repoWeb}/pull/${issue.number}#issuecomment-${c.id}`,
      issue_url: `${this.repoApi}/issues/${issue.number}`,
    };
  }

  /** `pull-request-simple` (lists) or the full `pull-request` (get, create, update). */
  pull(
    issue: EmulatedIssue,
    headSha: string | null,
    full: { mergeable: boolean | null; baseSha: string | null } | null,
  ): Record<string, unknown> {
    const p = issue.pull as EmulatedPull;
    const sha = headSha ?? p.head_sha ?? '0'.repeat(40);
    const repo = this.repository();
    const ref = (branch: string, s: string) => ({
      label: `${this.ids.owner}:${branch}`,
      ref: branch,
      sha: s,
      user: this.user(this.ids.owner),
      repo,
    });
    const link = (href: string) => ({ href });
    const out: Record<string, unknown> = {
      ...this.schema.sample(full ? 'pull-request' : 'pull-request-simple'),
      id: issue.number,
      number: issue.number,
      state: issue.state,
      title: issue.title,
      body: issue.body,
      draft: p.draft,
      user: this.user(issue.user),
      labels: issue.labels.map((l) => this.label(l)),
      requested_reviewers: p.requested_reviewers.map((r) => this.user(r)),
      head: ref(p.head, sha),
      base: ref(p.base, full?.baseSha ?? '0'.repeat(40)),
      created_at: issue.created_at,
      updated_at: issue.updated_at,
      closed_at: issue.closed_at,
      merged_at: p.merged_at,
      merge_commit_sha: p.merge_commit_sha,
      url: `${this.repoApi}/pulls/${issue.number}`,
      html_url: `${this.repoWeb}/pull/${issue.number}`,
      issue_url: `${this.repoApi}/issues/${issue.number}`,
      _links: {
        self: link(`${this.repoApi}/pulls/${issue.number}`),
        html: link(`${this.repoWeb}/pull/${issue.number}`),
        issue: link(`${this.repoApi}/issues/${issue.number}`),
        comments: link(`${this.repoApi}/issues/${issue.number}/comments`),
        review_comments: link(`${this.repoApi}/pulls/${issue.number}/comments`),
        review_comment: link(`${this.repoApi}/pulls/comments{/number}`),
        commits: link(`${this.repoApi}/pulls/${issue.number}/commits`),
        statuses: link(`${this.repoApi}/statuses/${sha}`),
      },
    };
    if (full) {
      const merged = p.merged_at !== null;
      Object.assign(out, {
        merged,
        mergeable: issue.state === 'open' ? full.mergeable : null,
        mergeable_state:
          issue.state !== 'open' ? 'unknown' : full.mergeable ? (p.draft ? 'draft' : 'clean') : 'dirty',
        merged_by: merged ? this.user('octo-human') : null,
        comments: issue.comments.length,
      });
    }
    return out;
  }

  run(run: EmulatedRun): Record<string, unknown> {
    const sample = this.schema.sample('workflow-run');
    return {
      ...sample,
      id: run.id,
      name: 'Leviathan',
      run_number: run.id,
      run_attempt: 1,
      display_title: `Leviathan ${String(run.inputs.task ?? '')}`,
      event: 'workflow_dispatch',
      status: run.status,
      conclusion: run.conclusion,
      head_branch: run.ref,
      head_sha: run.head_sha,
      path: `.github/workflows/${run.workflow}`,
      workflow_id: 1,
      url: `${this.repoApi}/actions/runs/${run.id}`,
      html_url: run.html_url,
      created_at: run.created_at,
      updated_at: run.updated_at,
      repository: this.minimalRepository(),
      head_repository: this.minimalRepository(),
    };
  }

  private minimalRepository(): Record<string, unknown> {
    return {
      ...this.schema.sample('minimal-repository'),
      id: 1,
      name: this.ids.repo,
      full_name: `${this.ids.owner}/${this.ids.repo}`,
      owner: this.user(this.ids.owner),
      html_url: this.repoWeb,
      url: this.repoApi,
    };
  }
}
