/**
 * The emulator's REST operations, by operation id, as GitHub documents them (filtering, sorting, paging,
 * 422s). Each gets a request already validated against the schema and returns a reply that is validated too.
 */
import type { GitHubEmulator } from './emulator.js';
import { branchSha, fileAt, type MergeMethod, mergeable } from './git-ops.js';
import type { EmulatedIssue } from './model.js';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Call {
  params: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown>;
  /** The named token that sent the request. */
  as: string;
  url: URL;
}

type Handler = (emu: GitHubEmulator, call: Call) => Promise<Reply> | Reply;

const NOT_FOUND: Reply = {
  status: 404,
  body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
};

function invalid(message: string, field?: string, resource = 'PullRequest'): Reply {
  return {
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [{ resource, code: 'custom', ...(field ? { field } : {}), message }],
      documentation_url: 'https://docs.github.com/rest',
    },
  };
}

/** One page of `items` with GitHub's `Link` header. */
function page<T>(call: Call, items: T[]): { items: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Number(call.query.per_page ?? 30));
  const n = Math.max(1, Number(call.query.page ?? 1));
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (p: number, rel: string) => {
    const u = new URL(call.url);
    u.searchParams.set('per_page', String(perPage));
    u.searchParams.set('page', String(p));
    return `<${u.toString()}>; rel="${rel}"`;
  };
  const links = [];
  if (n < last) links.push(link(n + 1, 'next'), link(last, 'last'));
  if (n > 1) links.push(link(1, 'first'), link(n - 1, 'prev'));
  return {
    items: items.slice((n - 1) * perPage, n * perPage),
    headers: links.length ? { link: links.join(', ') } : {},
  };
}

function issueOf(emu: GitHubEmulator, number: string): EmulatedIssue | null {
  return emu.issues.get(Number(number)) ?? null;
}

async function fullPull(emu: GitHubEmulator, issue: EmulatedIssue) {
  const p = issue.pull!;
  const headSha = (await branchSha(emu.bare, p.head)) ?? p.head_sha;
  const open = issue.state === 'open';
  return emu.render.pull(issue, headSha, {
    mergeable: open ? await mergeable(emu.bare, p.base, p.head) : null,
    baseSha: await branchSha(emu.bare, p.base),
  });
}

function sortPulls(list: EmulatedIssue[], query: Record<string, string>): EmulatedIssue[] {
  const sort = query.sort ?? 'created';
  const direction = query.direction ?? (sort === 'created' ? 'desc' : 'asc');
  const key = (i: EmulatedIssue) =>
    (sort === 'updated' ? i.updated_at : i.created_at) + String(i.number).padStart(9, '0');
  const sorted = [...list].sort((a, b) => key(a).localeCompare(key(b)));
  return direction === 'desc' ? sorted.reverse() : sorted;
}

export const handlers: Record<string, Handler> = {
  'repos/get': (emu) => ({ status: 200, body: emu.render.repository(true) }),

  'pulls/list': async (emu, call) => {
    const state = call.query.state ?? 'open';
    const head = call.query.head?.replace(/^[^:]+:/, '');
    const list = sortPulls(
      [...emu.issues.values()].filter(
        (i) =>
          i.pull &&
          (state === 'all' || i.state === state) &&
          (!head || i.pull.head === head) &&
          (!call.query.base || i.pull.base === call.query.base),
      ),
      call.query,
    );
    const { items, headers } = page(call, list);
    const body = [];
    for (const i of items)
      body.push(emu.render.pull(i, (await branchSha(emu.bare, i.pull!.head)) ?? i.pull!.head_sha, null));
    return { status: 200, body, headers };
  },

  'pulls/get': async (emu, call) => {
    const issue = issueOf(emu, call.params.pull_number!);
    return issue?.pull ? { status: 200, body: await fullPull(emu, issue) } : NOT_FOUND;
  },

  'pulls/create': async (emu, call) => {
    const b = call.body as { title?: string; head: string; base: string; body?: string; draft?: boolean };
    const head = b.head.replace(/^[^:]+:/, '');
    if (!(await branchSha(emu.bare, head))) return invalid(`head ${head} does not exist`, 'head');
    if (!(await branchSha(emu.bare, b.base))) return invalid(`base ${b.base} does not exist`, 'base');
    const existing = [...emu.issues.values()].find(
      (i) => i.pull?.head === head && i.pull.base === b.base && i.state === 'open',
    );
    if (existing) return invalid(`A pull request already exists for ${emu.owner}:${head}.`);
    if (b.draft && !emu.options.draftsAvailable) {
      return invalid('Draft pull requests are not supported in this repository.');
    }
    const number = emu.newNumber();
    const issue: EmulatedIssue = {
      number,
      title: b.title ?? head,
      body: b.body ?? null,
      state: 'open',
      labels: [],
      user: call.as === 'pr' || call.as === 'app' ? 'leviathan-app[bot]' : 'github-actions[bot]',
      created_at: emu.stamp(),
      updated_at: emu.stamp(),
      closed_at: null,
      comments: [],
      pull: {
        head,
        base: b.base,
        draft: Boolean(b.draft),
        merged_at: null,
        merge_commit_sha: null,
        head_sha: null,
        requested_reviewers: [],
      },
    };
    emu.issues.set(number, issue);
    return { status: 201, body: await fullPull(emu, issue) };
  },

  'pulls/update': async (emu, call) => {
    const issue = issueOf(emu, call.params.pull_number!);
    if (!issue?.pull) return NOT_FOUND;
    const b = call.body as { title?: string; body?: string; state?: 'open' | 'closed'; base?: string };
    if (b.state === 'open' && issue.pull.merged_at)
      return invalid('cannot reopen a merged pull request', 'state');
    if (b.title !== undefined) issue.title = b.title;
    if (b.body !== undefined) issue.body = b.body;
    if (b.base !== undefined) issue.pull.base = b.base;
    if (b.state !== undefined && b.state !== issue.state) {
      issue.state = b.state;
      issue.closed_at = b.state === 'closed' ? emu.stamp() : null;
    }
    emu.touch(issue);
    return { status: 200, body: await fullPull(emu, issue) };
  },

  'pulls/merge': async (emu, call) => {
    const issue = issueOf(emu, call.params.pull_number!);
    if (!issue?.pull) return NOT_FOUND;
    const b = call.body as {
      sha?: string;
      merge_method?: MergeMethod;
      commit_title?: string;
      commit_message?: string;
    };
    const r = await emu.mergePull(issue.number, {
      ...(b.merge_method ? { method: b.merge_method } : {}),
      ...(b.sha ? { sha: b.sha } : {}),
      ...(b.commit_title ? { title: b.commit_title } : {}),
      ...(b.commit_message ? { message: b.commit_message } : {}),
    });
    if (!r.ok)
      return {
        status: r.status,
        body: { message: r.message, documentation_url: 'https://docs.github.com/rest' },
      };
    return { status: 200, body: { sha: r.sha, merged: true, message: 'Pull Request successfully merged' } };
  },

  'pulls/request-reviewers': (emu, call) => {
    const issue = issueOf(emu, call.params.pull_number!);
    if (!issue?.pull) return NOT_FOUND;
    const reviewers = (call.body.reviewers as string[] | undefined) ?? [];
    if (reviewers.some((r) => r === issue.user))
      return invalid('Review cannot be requested from pull request author.', 'reviewers');
    issue.pull.requested_reviewers = [...new Set([...issue.pull.requested_reviewers, ...reviewers])];
    emu.touch(issue);
    return { status: 201, body: emu.render.pull(issue, issue.pull.head_sha, null) };
  },

  'issues/get': (emu, call) => {
    const issue = issueOf(emu, call.params.issue_number!);
    return issue ? { status: 200, body: emu.render.issue(issue) } : NOT_FOUND;
  },

  'issues/list-for-repo': (emu, call) => {
    const state = call.query.state ?? 'open';
    const labels = call.query.labels?.split(',').filter(Boolean) ?? [];
    const list = sortPulls(
      [...emu.issues.values()].filter(
        (i) => (state === 'all' || i.state === state) && labels.every((l) => i.labels.includes(l)),
      ),
      { sort: call.query.sort ?? 'created', direction: call.query.direction ?? 'desc' },
    );
    const { items, headers } = page(call, list);
    return { status: 200, body: items.map((i) => emu.render.issue(i)), headers };
  },

  'issues/create': (emu, call) => {
    const b = call.body as {
      title: string | number;
      body?: string;
      labels?: Array<string | { name?: string }>;
    };
    const number = emu.newNumber();
    const issue: EmulatedIssue = {
      number,
      title: String(b.title),
      body: b.body ?? null,
      state: 'open',
      labels: (b.labels ?? []).map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean),
      user: 'github-actions[bot]',
      created_at: emu.stamp(),
      updated_at: emu.stamp(),
      closed_at: null,
      comments: [],
    };
    emu.issues.set(number, issue);
    return { status: 201, body: emu.render.issue(issue) };
  },

  'issues/update': (emu, call) => {
    const issue = issueOf(emu, call.params.issue_number!);
    if (!issue) return NOT_FOUND;
    const b = call.body as {
      title?: string;
      body?: string;
      state?: 'open' | 'closed';
      labels?: Array<string | { name?: string }>;
    };
    if (b.title !== undefined) issue.title = String(b.title);
    if (b.body !== undefined) issue.body = b.body;
    if (b.labels !== undefined)
      issue.labels = b.labels.map((l) => (typeof l === 'string' ? l : (l.name ?? '')));
    if (b.state !== undefined && b.state !== issue.state) {
      issue.state = b.state;
      issue.closed_at = b.state === 'closed' ? emu.stamp() : null;
    }
    emu.touch(issue);
    return { status: 200, body: emu.render.issue(issue) };
  },

  'issues/create-comment': (emu, call) => {
    const issue = issueOf(emu, call.params.issue_number!);
    if (!issue) return NOT_FOUND;
    const c = {
      id: emu.newCommentId(),
      body: String(call.body.body),
      user: 'github-actions[bot]',
      created_at: emu.stamp(),
    };
    issue.comments.push(c);
    emu.touch(issue);
    return { status: 201, body: emu.render.comment(issue, c) };
  },

  'issues/list-comments': (emu, call) => {
    const issue = issueOf(emu, call.params.issue_number!);
    if (!issue) return NOT_FOUND;
    const { items, headers } = page(call, issue.comments);
    return { status: 200, body: items.map((c) => emu.render.comment(issue, c)), headers };
  },

  'issues/add-labels': (emu, call) => {
    const issue = issueOf(emu, call.params.issue_number!);
    if (!issue) return NOT_FOUND;
    const raw = Array.isArray(call.body) ? call.body : ((call.body.labels as unknown[]) ?? []);
    const names = raw.map((l) => (typeof l === 'string' ? l : String((l as { name?: string }).name ?? '')));
    const before = issue.labels.join('\n');
    issue.labels = [...new Set([...issue.labels, ...names])];
    if (issue.labels.join('\n') !== before) emu.touch(issue);
    return { status: 200, body: issue.labels.map((l) => emu.render.label(l)) };
  },

  'issues/set-labels': (emu, call) => {
    const issue = issueOf(emu, call.params.issue_number!);
    if (!issue) return NOT_FOUND;
    const raw = Array.isArray(call.body) ? call.body : ((call.body.labels as unknown[]) ?? []);
    issue.labels = raw.map((l) => (typeof l === 'string' ? l : String((l as { name?: string }).name ?? '')));
    emu.touch(issue);
    return { status: 200, body: issue.labels.map((l) => emu.render.label(l)) };
  },

  'actions/create-workflow-dispatch': async (emu, call) => {
    const workflow = call.params.workflow_id!;
    const b = call.body as { ref: string; inputs?: Record<string, unknown>; return_run_details?: boolean };
    const text = await fileAt(emu.bare, 'main', `.github/workflows/${workflow}`);
    if (text === null) return NOT_FOUND;
    if (!/workflow_dispatch/.test(text)) {
      return {
        status: 422,
        body: { message: "Workflow does not have 'workflow_dispatch' trigger", documentation_url: '' },
      };
    }
    const ref = b.ref.replace(/^refs\/heads\//, '');
    if (!(await branchSha(emu.bare, ref)))
      return { status: 422, body: { message: `No ref found for: ${b.ref}`, documentation_url: '' } };
    const unexpected = Object.keys(b.inputs ?? {}).filter((k) => !new RegExp(`^\\s+${k}:`, 'm').test(text));
    if (unexpected.length > 0) {
      return {
        status: 422,
        body: { message: `Unexpected inputs provided: ${JSON.stringify(unexpected)}`, documentation_url: '' },
      };
    }
    const run = await emu.recordDispatch(workflow, ref, b.inputs ?? {});
    if (!b.return_run_details || !emu.options.returnRunDetails) return { status: 204 };
    return {
      status: 200,
      body: {
        workflow_run_id: run.id,
        run_url: `${emu.apiUrl}/repos/${emu.owner}/${emu.repo}/actions/runs/${run.id}`,
        html_url: run.html_url,
      },
    };
  },

  'actions/list-workflow-runs-for-repo': (emu, call) => {
    const runs = [...emu.runs]
      .reverse()
      .filter(
        (r) =>
          (!call.query.status || r.status === call.query.status || r.conclusion === call.query.status) &&
          (!call.query.event || call.query.event === 'workflow_dispatch'),
      );
    const { items, headers } = page(call, runs);
    return {
      status: 200,
      body: { total_count: runs.length, workflow_runs: items.map((r) => emu.render.run(r)) },
      headers,
    };
  },

  'actions/get-workflow-run': (emu, call) => {
    const run = emu.runs.find((r) => r.id === Number(call.params.run_id));
    return run ? { status: 200, body: emu.render.run(run) } : NOT_FOUND;
  },
};
