/**
 * Every GitHub failure as one line a human can act on (SPEC §5.2): what went wrong and what to change. The
 * message never carries a token: callers pass the redactor of the forge.
 */
import { ForgeError } from '../forge.js';

/** The `permissions:` entry each operation needs in the workflow that runs Leviathan. */
const PERMISSION: Record<string, string> = {
  'repos/get': 'contents: read',
  'pulls/list': 'pull-requests: read',
  'pulls/get': 'pull-requests: read',
  'pulls/create': 'pull-requests: write',
  'pulls/update': 'pull-requests: write',
  'pulls/request-reviewers': 'pull-requests: write',
  'issues/add-labels': 'issues: write',
  'issues/create-comment': 'issues: write',
  'actions/create-workflow-dispatch': 'actions: write',
  'actions/get-workflow-run': 'actions: read',
};

interface ErrorLike {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
  cause?: unknown;
}

export interface ErrorContext {
  /** The Octokit operation id, e.g. `pulls/create`. */
  operation: string;
  apiUrl: string;
  workflow?: string;
  defaultBranch?: string;
  /** Where the token that made the call is set, when it is not the read token (the PR token). */
  tokenSetting?: string;
  redact: (text: string) => string;
}

function serverMessage(error: ErrorLike): string {
  const data = error.response?.data as { message?: string; errors?: Array<{ message?: string }> } | undefined;
  const details = (data?.errors ?? []).map((e) => e.message).filter(Boolean);
  const text = [data?.message ?? '', ...details].filter(Boolean).join(': ');
  return (text || error.message || 'no message').replace(/\s+/g, ' ').trim();
}

function rootCause(error: unknown): string {
  let e = error as ErrorLike | undefined;
  let last = e?.message ?? String(error);
  for (let i = 0; i < 5 && e?.cause; i++) {
    e = e.cause as ErrorLike;
    if (e?.message) last = e.message;
  }
  return last;
}

export function describeGitHubError(error: unknown, ctx: ErrorContext): string {
  const e = error as ErrorLike;
  const op = ctx.operation;
  const status = typeof e?.status === 'number' ? e.status : undefined;
  const said = serverMessage(e ?? {});
  const headers = e?.response?.headers ?? {};
  let line: string;
  if (status === undefined || (status === 500 && !e.response)) {
    line = `could not reach GitHub at ${ctx.apiUrl} for ${op} (${rootCause(error)}); check GITHUB_API_URL and the network, the next tick retries`;
  } else if (status === 401) {
    line = `GitHub rejected the token for ${op} (401 ${said}): the token is missing, expired or revoked; set ${ctx.tokenSetting ?? 'LEVIATHAN_TOKEN (or GITHUB_TOKEN in Actions)'} to a valid token`;
  } else if (
    (status === 403 || status === 429) &&
    (headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(said))
  ) {
    const reset = Number(headers['x-ratelimit-reset']);
    const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
    line = `GitHub's rate limit is exhausted${when} (${op}, ${status}); nothing more was sent, the next tick continues`;
  } else if (status === 403 && /not accessible by integration/i.test(said)) {
    const permission = PERMISSION[op] ?? 'the permission this call needs';
    const setting =
      op === 'pulls/create'
        ? `, and enable the repository setting "Allow GitHub Actions to create and approve pull requests" (or set LEVIATHAN_PR_TOKEN)`
        : '';
    line = `the token may not ${op} (403 Resource not accessible by integration): add \`${permission}\` to the job's permissions:${setting}`;
  } else if (op === 'actions/create-workflow-dispatch' && status === 404) {
    line = `the workflow file .github/workflows/${ctx.workflow ?? 'leviathan.yml'} is missing on the default branch${ctx.defaultBranch ? ` (${ctx.defaultBranch})` : ''}, or the token cannot see it (404); commit it there or set the workflow name`;
  } else if (op === 'actions/create-workflow-dispatch' && status === 422) {
    line = `the workflow ${ctx.workflow ?? 'leviathan.yml'} refused the dispatch (422 ${said}): it needs an on.workflow_dispatch trigger with the inputs \`task\` and \`attempt\``;
  } else if (status >= 500) {
    line = `GitHub answered ${status} for ${op} after retries (${said}); GitHub may be degraded, the next tick retries`;
  } else {
    line = `GitHub refused ${op} (${status} ${said})`;
  }
  return ctx.redact(line);
}

export function toForgeError(error: unknown, ctx: ErrorContext): ForgeError {
  if (error instanceof ForgeError) return error;
  const status = (error as ErrorLike)?.status;
  return new ForgeError(
    describeGitHubError(error, ctx),
    ctx.operation,
    typeof status === 'number' ? status : undefined,
  );
}

/** A response that was lost (transport failure, timeout, 5xx): the request may or may not have been applied. */
export function isUnconfirmed(error: unknown): boolean {
  const e = error as ErrorLike;
  return e?.status === undefined || e.status >= 500;
}
