/**
 * The one interface the scheduler and worker use to talk to where pull requests live (in the spirit of
 * Renovate's platform interface). `github` and `local` implement it; callers never know which.
 */

export type PullState = 'open' | 'closed' | 'merged';

export interface PullRequest {
  number: number;
  title: string;
  body: string;
  /** Head branch, e.g. `leviathan/docs-guide`. */
  head: string;
  base: string;
  state: PullState;
  draft: boolean;
  labels: string[];
  url: string;
  /** The head commit, where the forge reports it. */
  head_sha?: string;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  merged_at: string | null;
}

export interface PullInput {
  branch: string;
  /**
   * The commit the branch was pushed at, the tree Leviathan judged: a merge takes exactly this commit and
   * is refused when the branch has moved (GitHub's merge takes the same `sha` guard).
   */
  headSha?: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
  labels: string[];
  reviewers: string[];
  /**
   * The PR branch's push, not done yet: the forge lands it before (or, the local forge, together with) its
   * own write. It must land exactly once even when the pull is unchanged; it throws `BranchPushError` when
   * the branch could not be pushed (its lease lost, or the push failed).
   */
  carry?: CarriedPush;
}

/** A ref pushed with a lease: it lands only if the ref is still at `expected` (null: absent). */
export interface LeasedRef {
  ref: string;
  commit: string;
  expected: string | null;
}

/**
 * A branch push a forge carries along (see `PullInput.carry`). `push(refs, objects, pull)` pushes the branch
 * and `refs` in one atomic push to `url`, each ref with its lease (`objects`: object directories holding the
 * commits of `refs`); `pull` is the pull those refs write (an atomic carrier names it, so the caller may land
 * records of its own in the same push). `landed: false` when only a lease of `refs` was stale (nothing
 * landed: decide again and retry; `stale` names them); a stale branch lease or any other failure throws
 * `BranchPushError`.
 */
export interface CarriedPush {
  readonly url: string;
  /** `atomicOnly` (the carrier's own use): an origin without atomic pushes throws and nothing is pushed. */
  push(
    refs: LeasedRef[],
    objects: string[],
    pull?: CarriedPull,
    atomicOnly?: boolean,
  ): Promise<{ landed: boolean; stale: string[] }>;
}

/** The pull an atomic carrier is about to write with the branch. */
export interface CarriedPull {
  number: number;
  url: string;
  created: boolean;
}

export interface ListPullsQuery {
  /** Only pulls whose head starts with this prefix. */
  branchPrefix: string;
  /** Any of these labels marks a Leviathan pull (in addition to the prefix). */
  labels: string[];
  /** Closed or merged pulls updated at or after this instant are included too. */
  closedSince: Date;
}

export interface DispatchRequest {
  task: string;
  attempt: string;
  /** The base branch the worker must start from. */
  ref: string;
}

export interface DispatchResult {
  /** Where a human can watch the worker (an Actions run URL, or a local description). */
  runUrl?: string;
  /** The forge's id of the worker run, when it told us (GitHub: the workflow run id). */
  runId?: string;
  /**
   * The request was sent but its answer was lost (connection dropped, timeout, 5xx): the worker may or may
   * not run. It is not re-sent; a second worker for one attempt would be refused at `attempt.started`.
   */
  unconfirmed?: boolean;
}

/** A worker run as the forge reports it. */
export interface WorkerRun {
  id: string;
  status: 'queued' | 'in_progress' | 'completed';
  /** `success`, `failure`, `cancelled`, `timed_out`, … once completed. */
  conclusion: string | null;
  url: string;
}

/** An issue Leviathan keeps (the dashboard): found by its marker and label, never duplicated. */
export interface IssueInput {
  /** A hidden HTML comment the body starts with; the issue is the one whose body carries it. */
  marker: string;
  /** Only an issue with this label counts: a label sticks only when someone with triage access sets it. */
  label: string;
  title: string;
  body: string;
}

export interface EnsuredIssue {
  number: number;
  url: string;
  /** `unchanged`: its title, body and state were already these, and nothing was written. */
  action: 'created' | 'updated' | 'unchanged';
}

export interface Forge {
  readonly kind: 'github' | 'local';
  defaultBranch(): Promise<string>;
  /** Open pulls plus recently closed/merged ones, all pages. */
  listPulls(query: ListPullsQuery): Promise<PullRequest[]>;
  /** The open pull whose head is `branch`, if any. */
  findOpenPull(branch: string): Promise<PullRequest | null>;
  /** Creates the pull for `branch`, or updates the open one (idempotent). */
  upsertPull(input: PullInput): Promise<{ pull: PullRequest; created: boolean; warnings?: string[] }>;
  dispatchWorker(request: DispatchRequest): Promise<DispatchResult>;
  /** One worker run by the id `dispatchWorker` returned; null when the forge has no such run. */
  getRun?(runId: string): Promise<WorkerRun | null>;
  comment(pullNumber: number, body: string): Promise<void>;
  /** Creates the marked issue, or brings the one there is (reopened if closed) to this title and body. */
  ensureIssue?(input: IssueInput): Promise<EnsuredIssue>;
  /**
   * The token the PR branch is pushed with when the forge has one of its own (GitHub's PR token, so the
   * repository's CI runs on the pushed commits); undefined: the checkout's credentials.
   */
  pushToken?(): string | undefined;
  /**
   * True when a carried push to `url` lands in one atomic push with the forge's own write (the local forge
   * with its pulls on that origin), so nothing of a pull exists unless the whole push landed.
   */
  carriesAtomically?(url: string): Promise<boolean>;
}

/** The forge could not be read or written after retries; callers fail closed. */
export class ForgeError extends Error {
  override readonly name: string = 'ForgeError';
  constructor(
    message: string,
    readonly operation: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A carried branch push (`PullInput.carry`) did not land: nothing of the pull was written. */
export class BranchPushError extends ForgeError {
  override readonly name: string = 'BranchPushError';
  constructor(message: string) {
    super(message, 'push');
  }
}

/** The carried push's owner refused to push (`refused` says why): nothing of the pull was written. */
export class CarryRefusedError extends BranchPushError {
  override readonly name: string = 'CarryRefusedError';
  constructor(readonly refused: string) {
    super(`the push was refused: ${refused}`);
  }
}
