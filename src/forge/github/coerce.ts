/** GitHub's REST objects → the forge's domain types, in one place. */
import type { PullRequest, WorkerRun } from '../forge.js';

export interface RestPull {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  draft?: boolean;
  labels: Array<{ name?: string } | string>;
  head: { ref: string; sha: string };
  base: { ref: string };
  html_url: string;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  merged_at: string | null;
}

/** Label names as REST gives them (objects or, in some answers, plain strings). */
function labelNames(labels: RestPull['labels']): string[] {
  return labels.map((l) => (typeof l === 'string' ? l : (l.name ?? ''))).filter(Boolean);
}

export function toPull(raw: RestPull): PullRequest {
  return {
    number: raw.number,
    title: raw.title,
    body: raw.body ?? '',
    head: raw.head.ref,
    head_sha: raw.head.sha,
    base: raw.base.ref,
    state: raw.merged_at ? 'merged' : raw.state === 'open' ? 'open' : 'closed',
    draft: Boolean(raw.draft),
    labels: labelNames(raw.labels),
    url: raw.html_url,
    created_at: raw.created_at,
    updated_at: raw.updated_at,
    closed_at: raw.closed_at,
    merged_at: raw.merged_at,
  };
}

export interface RestRun {
  id: number;
  status: string | null;
  conclusion: string | null;
  html_url: string;
}

export function toRun(raw: RestRun): WorkerRun {
  const status =
    raw.status === 'completed'
      ? 'completed'
      : raw.status === 'queued' ||
          raw.status === 'pending' ||
          raw.status === 'waiting' ||
          raw.status === 'requested'
        ? 'queued'
        : 'in_progress';
  return { id: String(raw.id), status, conclusion: raw.conclusion, url: raw.html_url };
}

export interface RestIssue {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  html_url: string;
  labels: Array<{ name?: string } | string>;
  pull_request?: unknown;
}

export interface MarkedIssue {
  number: number;
  title: string;
  body: string;
  open: boolean;
  url: string;
  labels: string[];
  isPull: boolean;
}

export function toIssue(raw: RestIssue): MarkedIssue {
  return {
    number: raw.number,
    title: raw.title,
    body: raw.body ?? '',
    open: raw.state === 'open',
    url: raw.html_url,
    labels: labelNames(raw.labels),
    isPull: raw.pull_request !== undefined && raw.pull_request !== null,
  };
}
