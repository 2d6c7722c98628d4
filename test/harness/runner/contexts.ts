/**
 * The expression contexts a job's steps see (`github`, `inputs`, `vars`, `secrets`, `needs`, `runner`, …), the
 * permissions a job's token carries, and `env:` maps evaluated at any level.
 */
import { type ExpressionScope, interpolate, stringify } from './expressions.js';
import type { RunnerOptions, WorkflowRun } from './types.js';
import type { JobDef, Permissions, WorkflowDef } from './workflow.js';

const ALL_SCOPES = [
  'actions',
  'checks',
  'contents',
  'deployments',
  'id-token',
  'issues',
  'discussions',
  'packages',
  'pages',
  'pull-requests',
  'repository-projects',
  'security-events',
  'statuses',
];

/** What a job's `permissions:` (or the workflow's) grant; GitHub's restricted default when neither says. */
export function effectivePermissions(job: JobDef, workflow: WorkflowDef): Permissions {
  const p = job.permissions ?? workflow.permissions;
  if (p === undefined) return { contents: 'read', packages: 'read', metadata: 'read' };
  if (p === 'read-all' || p === 'write-all') {
    const level = p === 'read-all' ? 'read' : 'write';
    return Object.fromEntries([...ALL_SCOPES, 'metadata'].map((s) => [s, level])) as Permissions;
  }
  return { metadata: 'read', ...p };
}

export function baseContexts(
  o: RunnerOptions,
  shared: { run: WorkflowRun; ref: string; eventPayload: object; root: string; workflow: WorkflowDef },
  job: JobDef,
  needs: object,
): Record<string, unknown> {
  return {
    github: {
      event_name: shared.run.event,
      event: shared.eventPayload,
      repository: o.repository,
      repository_owner: o.repository.split('/')[0],
      ref: `refs/heads/${shared.ref}`,
      ref_name: shared.ref,
      run_id: String(shared.run.id),
      run_number: String(shared.run.id),
      run_attempt: '1',
      workflow: shared.workflow.name ?? 'workflow',
      job: job.id,
      actor: 'octocat',
      server_url: o.serverUrl ?? 'https://github.com',
      api_url: o.apiUrl ?? 'https://api.github.com',
    },
    inputs: shared.run.inputs,
    vars: o.vars ?? {},
    secrets: { ...o.secrets },
    needs,
    env: {},
    steps: {},
    job: { status: 'success' },
    runner: { os: 'Linux', arch: 'X64', name: 'leviathan-test-runner', temp: '' },
    matrix: {},
    strategy: {},
  };
}

export function envOf(
  env: Record<string, unknown> | undefined,
  scope: ExpressionScope,
): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, stringify(interpolate(v, scope))]));
}
