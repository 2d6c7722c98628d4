import { isAbsolute } from 'node:path';
import type { Backlog } from '../core/backlog.js';
import type { Config } from '../core/config.js';
import { BACKLOG_FILE, CONFIG_FILE, parseBacklogText, parseConfigText } from '../core/documents.js';
import { type Diagnostic, UserError } from '../core/errors.js';
import { COMMIT_HINT, SETUP_HINT } from '../core/hints.js';
import type { Git } from './git.js';
import { takeRemoteTip } from './remote-tips.js';

/** Where the base branch's tip is fetched to, so reading it never touches the user's branches. */
const BASE_REF = 'refs/leviathan/remotes/base';

export interface BaseDocuments {
  backlog: Backlog;
  config: Config;
  /** The commit the documents were read from. */
  sha: string;
  /** The documents' load and schema warnings (not the scope warnings: those are `validate`'s). */
  warnings: Diagnostic[];
  /** The blob ids of the documents present in that commit (path → id), as git named them while reading. */
  blobs?: Map<string, string>;
}

/** The documents could not be read or are invalid: the scheduler must dispatch nothing (fail closed). */
export class InvalidDocumentsError extends UserError {}

/**
 * Fetches the tip of `branch` from origin (or reads the local branch when there is no remote) and returns its
 * commit. Only this branch's backlog is ever trusted (SPEC §1.1): never a PR's, never the working tree's.
 */
export async function fetchBranchTip(git: Git, branch: string): Promise<string> {
  return (await readFetched(git, branch, [])).sha;
}

/** Where a branch's tip is read from, and the tip this tick's `ls-remote` saw when the fetch was skipped. */
interface Fetched {
  ref: string;
  expect?: string;
}

/**
 * Fetches `branch` from origin when there is one; returns the ref its tip is then read from. When this tick's
 * listing of the origin (see remote-tips.ts) saw the tip, the fetch waits: `readFetched` fetches only if the
 * ref here holds another commit.
 */
async function fetchBranch(git: Git, branch: string, force = false): Promise<Fetched> {
  const url = await git.originUrl();
  if (!url) return { ref: `refs/heads/${branch}` };
  const keyed = isAbsolute(url) || /^[a-z][a-z0-9+.-]*:\/\//i.test(url);
  const seen = force || !keyed ? undefined : takeRemoteTip(url, `refs/heads/${branch}`);
  if (typeof seen === 'string') return { ref: BASE_REF, expect: seen };
  // A shallow checkout (Actions' default) stays shallow; a full clone is not made shallow behind its back.
  const shallow = (await git.output(['rev-parse', '--is-shallow-repository'])) === 'true';
  const depth = shallow ? ['--depth=1'] : [];
  await git.run(['fetch', '--quiet', '--no-tags', ...depth, 'origin', `+refs/heads/${branch}:${BASE_REF}`]);
  return { ref: BASE_REF };
}

/** `readAt` after `fetchBranch`, fetching after all when the skipped fetch would have moved the ref. */
async function readFetched(
  git: Git,
  branch: string,
  paths: string[],
): Promise<{ sha: string; texts: (string | null)[]; blobs: Map<string, string> }> {
  const at = await fetchBranch(git, branch);
  if (at.expect !== undefined) {
    // The listed commit itself when it is here already (a clone has it under its remote-tracking branch):
    // objects are named by their content, so this is the tip's content whichever ref brought it.
    const here = (await readAt(git, at.expect, paths, true)) ?? (await readAt(git, at.ref, paths, true));
    if (here && here.sha === at.expect) return here;
    return readAt(git, (await fetchBranch(git, branch, true)).ref, paths);
  }
  return readAt(git, at.ref, paths);
}

/** The commit `ref` points at and the texts of `paths` in it (null when absent), from one `cat-file`. */
async function readAt(
  git: Git,
  ref: string,
  paths: string[],
): Promise<{ sha: string; texts: (string | null)[]; blobs: Map<string, string> }>;
async function readAt(
  git: Git,
  ref: string,
  paths: string[],
  quiet: true,
): Promise<{ sha: string; texts: (string | null)[]; blobs: Map<string, string> } | null>;
async function readAt(
  git: Git,
  ref: string,
  paths: string[],
  quiet = false,
): Promise<{ sha: string; texts: (string | null)[]; blobs: Map<string, string> } | null> {
  const wanted = [`${ref}^{commit}`, ...paths.map((p) => `${ref}:${p}`)];
  const r = await git.runBuffer(['cat-file', '--batch'], {
    input: `${wanted.join('\n')}\n`,
    allowFailure: true,
  });
  const buf = r.stdoutBytes;
  const out: (string | null)[] = [];
  const blobs = new Map<string, string>();
  let pos = 0;
  for (let i = 0; i < wanted.length && pos < buf.length; i++) {
    const nl = buf.indexOf(10, pos);
    if (nl < 0) break;
    const header = buf.subarray(pos, nl).toString('utf8').split(' ');
    pos = nl + 1;
    if (header.length !== 3 || header[2] === undefined || !/^\d+$/.test(header[2])) {
      out.push(null);
      continue;
    }
    const size = Number(header[2]);
    if (i > 0 && header[1] === 'blob') blobs.set(paths[i - 1] as string, header[0] as string);
    out.push(
      i === 0
        ? (header[0] as string)
        : header[1] === 'blob'
          ? buf.subarray(pos, pos + size).toString('utf8')
          : null,
    );
    pos += size + 1;
  }
  const sha = out[0];
  if (typeof sha !== 'string') {
    if (quiet) return null;
    const branch = ref.replace(/^refs\/heads\//, '').replace(/^refs\/leviathan\/base$/, 'the base branch');
    throw new UserError(
      `base branch ${branch} was not found${(await git.originUrl()) ? ' on origin' : ''}`,
      [],
      1,
      await missingBranchHint(git),
    );
  }
  return { sha, texts: paths.map((_, i) => out[i + 1] ?? null), blobs };
}

/** A repository without any commit needs one; otherwise the branch itself is missing. */
async function missingBranchHint(git: Git): Promise<string> {
  const head = await git.run(['rev-parse', '--verify', '--quiet', 'HEAD'], { allowFailure: true });
  return head.exitCode === 0 ? COMMIT_HINT : `the repository has no commits yet: ${COMMIT_HINT}`;
}

/** Parses both documents as they are in one commit; a missing config means defaults. */
export async function readDocumentsAt(git: Git, sha: string): Promise<BaseDocuments> {
  return documentsAt(git, sha);
}

async function documentsAt(git: Git, ref: string | { branch: string }): Promise<BaseDocuments> {
  const paths = [CONFIG_FILE, BACKLOG_FILE];
  const { sha, texts, blobs } =
    typeof ref === 'string' ? await readAt(git, ref, paths) : await readFetched(git, ref.branch, paths);
  const [configText, backlogText] = texts;
  const config = parseConfigText(configText ?? '', CONFIG_FILE);
  if (!config.ok) throw new InvalidDocumentsError(`${CONFIG_FILE} is invalid`, config.diagnostics);
  if (backlogText === null || backlogText === undefined) {
    throw new InvalidDocumentsError(
      `${BACKLOG_FILE} is missing on the base branch`,
      [],
      1,
      `${COMMIT_HINT}; to start one, ${SETUP_HINT}`,
    );
  }
  // The scope warnings are validate's to show; what acts on the base branch judges scope per task itself.
  const backlog = parseBacklogText(backlogText, BACKLOG_FILE, config.value, false);
  if (!backlog.ok) throw new InvalidDocumentsError(`${BACKLOG_FILE} is invalid`, backlog.diagnostics);
  return {
    backlog: backlog.value,
    config: config.value,
    sha,
    warnings: [...config.warnings, ...backlog.warnings],
    blobs,
  };
}

/**
 * Reads config and backlog from the base branch: the default branch first, then `config.base_branch` when the
 * config names another one.
 */
export async function loadBaseDocuments(
  git: Git,
  defaultBranch: string,
): Promise<BaseDocuments & { base: string }> {
  const first = await documentsAt(git, { branch: defaultBranch });
  const base = first.config.base_branch || defaultBranch;
  if (base === defaultBranch) return { ...first, base };
  return { ...(await documentsAt(git, { branch: base })), base };
}
