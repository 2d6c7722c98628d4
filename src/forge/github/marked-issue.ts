/**
 * One issue Leviathan keeps up to date (the dashboard), found statelessly as Renovate finds its dependency
 * dashboard: the oldest issue, open or closed, that carries our label and starts with our marker. The label
 * matters: anyone can open an issue whose body starts with the marker, but a label sticks only when someone
 * with triage access sets it, so a stranger's issue is never taken over. A closed one is reopened rather
 * than a second one created; nothing is written when title, body and state are already right.
 */
import type { EnsuredIssue, IssueInput } from '../forge.js';
import type { GitHubClient } from './client.js';
import { type MarkedIssue, type RestIssue, toIssue } from './coerce.js';

export interface IssueApi {
  api: GitHubClient;
  owner: string;
  repo: string;
  /** Runs one API call, turning its failure into a ForgeError for `operation`. */
  call<T>(operation: string, fn: () => Promise<T>): Promise<T>;
}

async function findMarked(io: IssueApi, input: IssueInput): Promise<MarkedIssue | null> {
  return io.call('issues/list-for-repo', async () => {
    const pages = io.api.paginate.iterator(io.api.rest.issues.listForRepo, {
      owner: io.owner,
      repo: io.repo,
      state: 'all',
      labels: input.label,
      sort: 'created',
      direction: 'asc',
      per_page: 100,
    });
    for await (const { data } of pages) {
      for (const raw of data as unknown as RestIssue[]) {
        const issue = toIssue(raw);
        if (!issue.isPull && issue.labels.includes(input.label) && issue.body.startsWith(input.marker))
          return issue;
      }
    }
    return null;
  });
}

export async function ensureMarkedIssue(io: IssueApi, input: IssueInput): Promise<EnsuredIssue> {
  const body = input.body.startsWith(input.marker) ? input.body : `${input.marker}\n${input.body}`;
  const found = await findMarked(io, input);
  if (!found) {
    const { data } = await io.call('issues/create', () =>
      io.api.rest.issues.create({
        owner: io.owner,
        repo: io.repo,
        title: input.title,
        body,
        labels: [input.label],
      }),
    );
    return { number: data.number, url: data.html_url, action: 'created' };
  }
  if (found.title === input.title && found.body === body && found.open) {
    return { number: found.number, url: found.url, action: 'unchanged' };
  }
  await io.call('issues/update', () =>
    io.api.rest.issues.update({
      owner: io.owner,
      repo: io.repo,
      issue_number: found.number,
      title: input.title,
      body,
      state: 'open',
    }),
  );
  return { number: found.number, url: found.url, action: 'updated' };
}
