/**
 * The local forge (SPEC §5.2): the target is a plain git repository, pull requests are JSON records on the
 * ref `refs/leviathan/pulls` of its `origin` (or of the repository itself when it has no remote), and a
 * merge is a real `git merge --no-ff` pushed to the base branch.
 *
 * Records are written only through the ref-store's compare-and-swap (`RefStore.update`), so concurrent
 * writers never lose a record or hand out one number twice, and everything survives restarts and is visible
 * with git: `git show refs/leviathan/pulls:pulls/1.json` (after `git fetch origin refs/leviathan/pulls`).
 *
 * Leviathan itself never writes the base branch (SPEC §1.2): `merge()` is the human review step behind
 * `leviathan pr merge`, and it works in a throw-away repository, never in the user's working tree, index or
 * HEAD.
 */
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { notARepository } from '../core/hints.js';
import { Git, GitError, gitMessage } from '../store/git.js';
import { RefStore } from '../store/ref-store.js';
import {
  type FileChanges,
  RefStoreError,
  type RefView,
  type StorePublish,
} from '../store/ref-store-types.js';
import {
  fetchAlong,
  LISTED_PREFIXES,
  parseListing,
  peekRemoteTip,
  rememberRemoteTips,
} from '../store/remote-tips.js';
import {
  type DispatchRequest,
  type DispatchResult,
  type Forge,
  ForgeError,
  type LeasedRef,
  type ListPullsQuery,
  type PullInput,
  type PullRequest,
} from './forge.js';
import { indexAfter, readPulls, sealedMessage } from './pull-index.js';
import {
  closed,
  matchesQuery,
  merged,
  NEXT_FILE,
  openPullFor,
  PULLS_REF,
  type PullRecord,
  type PullsData,
  parsePullFiles,
  planUpsert,
  pullPath,
  requireOpen,
  requirePull,
  serializePull,
  sortedPulls,
  toPullRequest,
  withComment,
} from './pull-records.js';

export interface LocalForgeOptions {
  /** The target repository: a checkout with `origin`, or a repository without a remote (its own forge). */
  dir: string;
  /** Token for an HTTPS origin (sent as a header, never stored). */
  token?: string;
  /** Remote name; default `origin`. */
  remote?: string;
  /** A Git in `dir` whose answers about the repository are shared with the command's event log. */
  probe?: Git;
  /** The clock for every timestamp the forge writes. */
  now?: () => Date;
  /**
   * How `dispatchWorker` starts a worker. The forge cannot import the worker (dependencies point down:
   * worker → forge), so whoever owns both (the CLI's `run` loop, a test) injects it. Without it, requests are
   * queued in memory and drained with `takeDispatched()`.
   */
  dispatch?: (request: DispatchRequest) => Promise<DispatchResult>;
  /** Compare-and-swap attempts on the pulls ref before giving up (default 20). */
  maxTries?: number;
}

export interface MergeResult {
  pull: PullRequest;
  /** The merge commit now at the tip of the base branch. */
  mergeCommit: string;
}

/** Where the pulls and branches live, resolved once per forge. */
interface Target {
  /** The git common dir of the target repository (absolute). */
  gitDir: string;
  /** Null when the repository is its own forge. */
  remote: string | null;
  /** What git fetches from / pushes to from a temporary repository: the remote URL, or `gitDir`. */
  fetchUrl: string;
  /** Asked only when a merge pushes. */
  pushUrl: () => Promise<string>;
  /** For messages and pull URLs (credentials removed). */
  where: string;
  /** `http.*.extraheader` settings of the checkout, reused when no token is given (as the ref-store does). */
  headers: string[];
}

const LOST_RACE = /stale info|fetch first|non-fast-forward|\[rejected\]/i;

function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

function isRemoteUrl(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/:]+:/.test(url);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Ref prefixes the default-branch listing covers completely. */
const LISTED = LISTED_PREFIXES;

export class LocalForge implements Forge {
  readonly kind = 'local' as const;
  private readonly store: RefStore;
  private readonly git: Git;
  private readonly now: () => Date;
  private readonly queue: DispatchRequest[] = [];
  private target: Promise<Target> | null = null;

  constructor(private readonly options: LocalForgeOptions) {
    this.store = new RefStore({
      dir: options.dir,
      ref: PULLS_REF,
      ...(options.token ? { token: options.token } : {}),
      ...(options.remote ? { remote: options.remote } : {}),
      ...(options.probe ? { probe: options.probe } : {}),
      maxTries: options.maxTries ?? 20,
    });
    this.git = new Git(options.dir, options.token);
    this.now = options.now ?? (() => new Date());
  }

  /**
   * The origin's HEAD branch (`git ls-remote --symref`), `main` when the origin names none (an empty
   * repository). An origin that cannot be reached is a ForgeError, not a guess: callers fail closed.
   * Without a remote this is the repository's own HEAD branch.
   */
  async defaultBranch(): Promise<string> {
    const target = await this.resolveTarget();
    // One listing for the whole tick: the branches and Leviathan's refs too, so the fetches after it (base
    // branch, event log, pull records) are skipped when the tip is already here (see remote-tips.ts).
    const r = await this.git.run(
      ['ls-remote', '--symref', target.remote ?? target.gitDir, 'HEAD', ...LISTED.map((p) => `${p}*`)],
      { allowFailure: true },
    );
    if (r.exitCode !== 0) {
      throw new ForgeError(
        `could not read the default branch of ${target.where}: ${lastLine(r.stderr)}`,
        'defaultBranch',
      );
    }
    if (target.remote !== null) rememberRemoteTips(target.fetchUrl, parseListing(r.stdout, LISTED), LISTED);
    const match = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(r.stdout);
    return match?.[1] ?? 'main';
  }

  async listPulls(query: ListPullsQuery): Promise<PullRequest[]> {
    const { data, target } = await this.read('list');
    return sortedPulls(data)
      .filter((p) => matchesQuery(p, query))
      .map((p) => this.view(p, target));
  }

  async findOpenPull(branch: string): Promise<PullRequest | null> {
    const { data, target } = await this.read('find');
    const open = openPullFor(data, branch);
    return open ? this.view(open, target) : null;
  }

  async upsertPull(input: PullInput): Promise<{ pull: PullRequest; created: boolean }> {
    const target = await this.resolveTarget();
    const { carry } = input;
    // A carried branch push lands with the pull record in one atomic push when both go to one URL.
    const source = carry ? await this.store.pushSource() : null;
    const atomic = carry !== undefined && source !== null && source.url === carry.url;
    if (carry && !atomic) await carry.push([], []);
    const missing = await this.missingBranches(target, atomic ? [input.base] : [input.branch, input.base]);
    if (missing.length > 0) {
      throw new ForgeError(
        `cannot open a pull for ${input.branch} into ${input.base}: branch ${missing.join(' and ')} does not exist on ${target.where}`,
        'upsert',
        422,
      );
    }
    let carried = !atomic;
    // What the try being published writes: the carrier may land its own records with it.
    let planned: { record: PullRecord; created: boolean } | null = null;
    const publish = atomic
      ? async (lease: LeasedRef) => {
          const pull = planned
            ? {
                number: planned.record.number,
                url: this.view(planned.record, target).url,
                created: planned.created,
              }
            : undefined;
          const { landed } = await carry.push([lease], [source.objects], pull);
          carried ||= landed;
          return landed;
        }
      : undefined;
    const result = await this.update(
      'upsert',
      (data) => {
        const out = planUpsert(data, input, this.now());
        planned = null;
        if (out.kind === 'unchanged') return { kind: 'skip', value: { record: out.record, created: false } };
        planned = { record: out.record, created: out.kind === 'created' };
        const changes = new Map<string, string>([[pullPath(out.record.number), serializePull(out.record)]]);
        if (out.kind === 'created') changes.set(NEXT_FILE, `${out.next}\n`);
        return {
          kind: 'commit',
          changes,
          message: `pull #${out.record.number}: ${out.kind} (${input.branch})`,
          value: { record: out.record, created: out.kind === 'created' },
        };
      },
      publish,
      input.branch,
    );
    // The pull was already this one: the branch still goes, alone.
    if (carry && !carried) await carry.push([], []);
    return { pull: this.view(result.record, target), created: result.created };
  }

  async carriesAtomically(url: string): Promise<boolean> {
    await this.resolveTarget();
    return (await this.store.pushSource())?.url === url;
  }

  /** See `LocalForgeOptions.dispatch`: injected, or queued for the CLI's `run` loop. */
  async dispatchWorker(request: DispatchRequest): Promise<DispatchResult> {
    if (this.options.dispatch) {
      try {
        return await this.options.dispatch(request);
      } catch (error) {
        throw new ForgeError(`dispatching ${request.task} failed: ${messageOf(error)}`, 'dispatch');
      }
    }
    this.queue.push({ ...request });
    return { runUrl: `local: queued ${request.task} attempt ${request.attempt}` };
  }

  /** Drains the requests queued by `dispatchWorker` (oldest first). */
  takeDispatched(): DispatchRequest[] {
    return this.queue.splice(0, this.queue.length);
  }

  async comment(pullNumber: number, body: string): Promise<void> {
    await this.update('comment', (data) => {
      const record = withComment(requirePull(data, pullNumber), body, this.now());
      return this.write(record, `pull #${pullNumber}: comment`);
    });
  }

  // --- local only: the human review step ----------------------------------------------------------------

  /** Every pull, ascending by number, with its comments and merge commit. */
  async allPulls(): Promise<PullRecord[]> {
    return sortedPulls((await this.read('list')).data);
  }

  /** One pull with everything stored about it; ForgeError (404) when it does not exist. */
  async getPull(pullNumber: number): Promise<PullRecord> {
    return requirePull((await this.read('read')).data, pullNumber);
  }

  /** Marks an open pull closed (unmerged). */
  async close(pullNumber: number, options: { now?: Date } = {}): Promise<PullRequest> {
    const target = await this.resolveTarget();
    const record = await this.update('close', (data) => {
      const next = closed(requirePull(data, pullNumber), options.now ?? this.now());
      return this.write(next, `pull #${pullNumber}: closed`);
    });
    return this.view(record, target);
  }

  /**
   * Merges an open pull on behalf of the human: `git merge --no-ff` of its head into its base in a temporary
   * repository, pushed to the base branch only if the branch has not moved meanwhile (retried a few times if
   * it has), then the record is marked merged. A closed/merged pull, a missing branch or a conflict is a
   * ForgeError and changes nothing.
   */
  async merge(pullNumber: number, options: { now?: Date } = {}): Promise<MergeResult> {
    const target = await this.resolveTarget();
    const record = requirePull((await this.read('merge')).data, pullNumber);
    requireOpen(record, 'merge');
    const missing = await this.missingBranches(target, [record.head, record.base]);
    if (missing.length > 0) {
      throw new ForgeError(
        `cannot merge pull #${pullNumber}: branch ${missing.join(' and ')} does not exist on ${target.where}`,
        'merge',
        422,
      );
    }
    if (target.remote === null) await this.refuseCheckedOutBase(record.base);

    const when = options.now ?? this.now();
    const mergeCommit = await this.mergeAndPush(target, record, when);
    const final = await this.update('merge', (data) => {
      const current = requirePull(data, pullNumber);
      if (current.state === 'merged' && current.merge_commit === mergeCommit) {
        return { kind: 'skip', value: current };
      }
      return this.write(merged(current, mergeCommit, when), `pull #${pullNumber}: merged as ${mergeCommit}`);
    });
    return { pull: this.view(final, target), mergeCommit };
  }

  // --- internals ----------------------------------------------------------------------------------------

  private view(record: PullRecord, target: Target): PullRequest {
    return toPullRequest(record, `${target.where}#pull/${record.number}`);
  }

  private write(record: PullRecord, message: string) {
    return {
      kind: 'commit' as const,
      changes: new Map([[pullPath(record.number), serializePull(record)]]) as FileChanges,
      message,
      value: record,
    };
  }

  private async read(operation: string): Promise<{ data: PullsData; target: Target }> {
    const target = await this.resolveTarget();
    try {
      const view = await this.store.fetch();
      return { data: await parseView(view), target };
    } catch (error) {
      throw toForgeError(error, operation, target);
    }
  }

  /** One compare-and-swap update of the pulls ref; `fn` may run several times and must be pure. */
  private async update<T>(
    operation: string,
    fn: (
      data: PullsData,
    ) => { kind: 'commit'; changes: FileChanges; message: string; value: T } | { kind: 'skip'; value: T },
    publish?: StorePublish,
    /** The decision is about this branch's open pull only: the index spares reading the others. */
    branch?: string,
  ): Promise<T> {
    const target = await this.resolveTarget();
    try {
      const result = await this.store.update(async (view) => {
        const read = await readPulls(view, branch);
        const decision = fn(read.data);
        if (decision.kind !== 'commit') return decision;
        // Every commit of this forge carries the index of what it leaves, sealed by its tree.
        const index = indexAfter(read, decision.changes);
        return { ...decision, message: (tree: string) => sealedMessage(decision.message, index, tree) };
      }, publish);
      if (!result.ok) throw new ForgeError(result.refused, operation);
      return result.value;
    } catch (error) {
      throw toForgeError(error, operation, target);
    }
  }

  private resolveTarget(): Promise<Target> {
    this.target ??= this.openTarget().catch((error) => {
      this.target = null;
      throw error;
    });
    return this.target;
  }

  private async openTarget(): Promise<Target> {
    const shared = this.options.probe;
    const ask = shared?.cwd === this.options.dir ? shared : this.git;
    const layout = await ask.layout();
    if (layout === null) {
      throw new ForgeError(notARepository(this.options.dir), 'open');
    }
    const gitDir = layout.commonDir;
    const remote = this.options.remote ?? 'origin';
    const fetch = await ask.probe(['remote', 'get-url', remote]);
    if (fetch.exitCode !== 0) {
      return {
        gitDir,
        remote: null,
        fetchUrl: gitDir,
        pushUrl: async () => gitDir,
        where: gitDir,
        headers: [],
      };
    }
    // Relative remote paths are relative to the repository, not to a temporary one (asked only for those).
    const abs = async (url: string) => {
      if (isRemoteUrl(url) || isAbsolute(url)) return url;
      const top = await ask.probe(['rev-parse', '--show-toplevel']);
      return resolve(top.exitCode === 0 ? top.stdout.trim() : gitDir, url);
    };
    const headers = this.options.token ? [] : (await ask.localConfig(remote)).headers;
    const fetchUrl = await abs(fetch.stdout.trim());
    const pushUrl = async () => abs((await ask.probe(['remote', 'get-url', '--push', remote])).stdout.trim());
    // The pulls ride along with the event log's fetches from the same origin (one session for both).
    fetchAlong(fetchUrl, PULLS_REF);
    return { gitDir, remote, fetchUrl, pushUrl, where: redactUrl(fetchUrl), headers };
  }

  /** Which of `branches` do not exist where the pulls live. */
  private async missingBranches(target: Target, branches: string[]): Promise<string[]> {
    const refs = [...new Set(branches)].map((b) => `refs/heads/${b}`);
    // A listing of this very moment (the worker's, just before it pushed, and its own push) answers it.
    if (
      target.remote !== null &&
      refs.every((ref) => typeof peekRemoteTip(target.fetchUrl, ref) === 'string')
    )
      return [];
    const r = await this.git.run(['ls-remote', target.remote ?? target.gitDir, ...refs], {
      allowFailure: true,
    });
    if (r.exitCode !== 0) {
      throw new ForgeError(`could not list branches on ${target.where}: ${lastLine(r.stderr)}`, 'ls-remote');
    }
    const present = new Set(r.stdout.split('\n').map((l) => l.split('\t')[1]));
    return [...new Set(branches)].filter((b) => !present.has(`refs/heads/${b}`));
  }

  /** Without a remote the base branch lives in the user's repository; never move it under a checkout. */
  private async refuseCheckedOutBase(base: string): Promise<void> {
    const list = await this.git.output(['worktree', 'list', '--porcelain']);
    if (list.split('\n').includes(`branch refs/heads/${base}`)) {
      throw new ForgeError(
        `cannot merge into ${base}: it is checked out in a working tree of ${this.options.dir} and merging would move it under that checkout; switch to another branch first`,
        'merge',
        409,
      );
    }
  }

  /** The merge commit's author and committer: the human's git identity when set, else Leviathan. */
  private async identity(when: Date): Promise<Record<string, string>> {
    const get = async (key: string) =>
      (await this.git.run(['config', '--get', key], { allowFailure: true })).stdout.trim();
    const name = await get('user.name');
    const email = await get('user.email');
    const date = `${Math.floor(when.getTime() / 1000)} +0000`;
    return {
      ...(name ? { GIT_AUTHOR_NAME: name, GIT_COMMITTER_NAME: name } : {}),
      ...(email ? { GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_EMAIL: email } : {}),
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
    };
  }

  /**
   * The merge itself, in a temporary repository that borrows the user's objects (alternates) but has its own
   * refs, index and working tree; removed afterwards whatever happens. Returns the pushed merge commit.
   */
  private async mergeAndPush(target: Target, record: PullRecord, when: Date): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'leviathan-merge-'));
    try {
      const env = await this.identity(when);
      const git = new Git(dir, this.options.token, env, [...target.headers, 'core.hooksPath=/dev/null']);
      const format = await this.git.output(['rev-parse', '--show-object-format']);
      await git.run(['init', '--quiet', `--object-format=${format}`, '.']);
      if (await this.canBorrowObjects()) {
        await writeFile(
          join(dir, '.git', 'objects', 'info', 'alternates'),
          `${join(target.gitDir, 'objects')}\n`,
        );
      }
      // Written to the file, not passed as arguments: a URL may carry credentials and arguments end up in
      // error messages.
      const quote = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
      await appendFile(
        join(dir, '.git', 'config'),
        `[remote "origin"]\n\turl = ${quote(target.fetchUrl)}\n\tpushurl = ${quote(await target.pushUrl())}\n`,
      );

      const subject = `Merge pull request #${record.number} from ${record.head}`;
      for (let attempt = 1; ; attempt++) {
        const fetched = await git.run(
          [
            'fetch',
            '--quiet',
            '--no-tags',
            'origin',
            `+refs/heads/${record.base}:refs/merge/base`,
            `+refs/heads/${record.head}:refs/merge/head`,
          ],
          { allowFailure: true },
        );
        if (fetched.exitCode !== 0) {
          throw new ForgeError(
            `could not fetch ${record.base} and ${record.head} from ${target.where}: ${lastLine(fetched.stderr)}`,
            'merge',
          );
        }
        const base = (await git.revParse('refs/merge/base')) as string;
        const head = (await git.revParse('refs/merge/head')) as string;
        if (record.head_sha && head !== record.head_sha) {
          // Someone pushed to the branch after Leviathan judged it: what would be merged was never checked.
          throw new ForgeError(
            `pull #${record.number} cannot be merged: ${record.head} moved from ${record.head_sha.slice(0, 12)} (the commit Leviathan checked) to ${head.slice(0, 12)}; nothing was changed`,
            'merge',
            409,
          );
        }
        const contained = await git.run(['merge-base', '--is-ancestor', head, base], { allowFailure: true });
        if (contained.exitCode === 0) {
          throw new ForgeError(
            `pull #${record.number} has nothing to merge: ${record.head} is already contained in ${record.base}`,
            'merge',
            409,
          );
        }
        await git.run(['checkout', '--quiet', '--force', '--detach', base]);
        const m = await git.run(
          [
            'merge',
            '--no-ff',
            '--no-edit',
            '--no-verify',
            '--no-gpg-sign',
            '-m',
            subject,
            '-m',
            record.title,
            head,
          ],
          { allowFailure: true },
        );
        if (m.exitCode !== 0) {
          const conflicts = (await git.output(['diff', '--name-only', '--diff-filter=U']))
            .split('\n')
            .filter(Boolean);
          const why =
            conflicts.length > 0 ? `conflicts in ${conflicts.join(', ')}` : lastLine(m.stderr || m.stdout);
          throw new ForgeError(
            `pull #${record.number} cannot be merged into ${record.base}: ${why}; nothing was changed`,
            'merge',
            409,
          );
        }
        const commit = await git.output(['rev-parse', 'HEAD']);
        // The lease makes the push a compare-and-swap on the base branch: it lands only if the branch is
        // still at the commit this merge was computed from.
        const pushed = await git.run(
          [
            'push',
            '--porcelain',
            '--no-verify',
            `--force-with-lease=refs/heads/${record.base}:${base}`,
            'origin',
            `${commit}:refs/heads/${record.base}`,
          ],
          { allowFailure: true },
        );
        if (pushed.exitCode === 0) return commit;
        const output = `${pushed.stdout}\n${pushed.stderr}`;
        if (LOST_RACE.test(output) && attempt < 5) {
          await new Promise((r) => setTimeout(r, 50 * attempt + Math.random() * 100));
          continue;
        }
        throw new ForgeError(
          `pushing the merge of pull #${record.number} to ${record.base} on ${target.where} failed: ${lastLine(output)}`,
          'merge',
        );
      }
    } catch (error) {
      if (error instanceof ForgeError) throw error;
      throw new ForgeError(`merging pull #${record.number} failed: ${messageOf(error)}`, 'merge');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Alternates save copying the user's objects, but a shallow or partial repository would make the temporary
   * one believe it has history it lacks; those fetch everything instead.
   */
  private async canBorrowObjects(): Promise<boolean> {
    const shallow = await this.git.output(['rev-parse', '--is-shallow-repository']);
    const partial = await this.git.run(['config', '--get', 'extensions.partialclone'], {
      allowFailure: true,
    });
    return shallow !== 'true' && partial.stdout.trim() === '';
  }
}

async function parseView(view: RefView): Promise<PullsData> {
  return parsePullFiles(await view.readAll());
}

/** Git's whole message on one line, with any credentials in URLs removed. */
function lastLine(text: string): string {
  return gitMessage(text);
}

function toForgeError(error: unknown, operation: string, target: Target): ForgeError {
  if (error instanceof ForgeError) return error;
  if (error instanceof RefStoreError) {
    const status = error.code === 'auth_failed' ? 401 : error.code === 'contention' ? 409 : undefined;
    return new ForgeError(error.message, operation, status);
  }
  if (error instanceof GitError) {
    return new ForgeError(`${operation} on ${target.where} failed: ${error.message}`, operation);
  }
  return new ForgeError(`${operation} on ${target.where} failed: ${messageOf(error)}`, operation);
}
