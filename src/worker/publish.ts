/**
 * SPEC §3.2 step 7 for a judged, verified candidate: push the PR branch, open or update its pull request and
 * record the outcome, only while the attempt is still running (see deliver.ts for the steps before).
 */

import type { EventDraft, FailureReason } from '../core/events.js';
import { renderPullBody } from '../core/pr-body.js';
import type { sanitizeTask } from '../core/task-text.js';
import type { GuardReport } from '../executor/diff-guard.js';
import type { RunSandboxedResult } from '../executor/sandboxed-run.js';
import { BranchPushError, type CarriedPush, CarryRefusedError } from '../forge/forge.js';
import type { PrivateRepo } from '../store/private-repo.js';
import type { AttemptContext, AttemptOutcome, WorkerDeps } from './attempt.js';
import { attemptDraft, stillRunning } from './attempt-events.js';
import { carriedPush } from './branch.js';
import { carryOutcome } from './outcome-carry.js';

export interface Candidate {
  deps: WorkerDeps;
  ctx: AttemptContext;
  repo: PrivateRepo;
  /** The commit judged and verified: exactly what is pushed. */
  head: string;
  report: GuardReport;
  executed?: RunSandboxedResult;
  usage: { usage?: NonNullable<RunSandboxedResult['usage']> };
  shown: ReturnType<typeof sanitizeTask>;
  redact: (text: string) => string;
  late: () => boolean;
}

/** How deliver.ts ends an attempt: a recorded failure (WIP kept), or terminal events under "still running". */
export interface Endings {
  fail(reason: FailureReason, detail: string, extra?: { report?: GuardReport }): Promise<AttemptOutcome>;
  /** Null when recorded; else the late result's detail. */
  record(drafts: EventDraft[]): Promise<string | null>;
}

export async function publishCandidate(c: Candidate, { fail, record }: Endings): Promise<AttemptOutcome> {
  const { deps, ctx, repo, head, report, executed, usage, shown, redact, late } = c;
  const { config, task } = ctx;
  const target = ctx.pushTarget;
  const say = deps.progress ?? (() => {});
  // Nothing leaves for the forge once the deadline passed or the scheduler has timed the attempt out. When
  // the outcome rides in the forge's atomic push, the log's lease and precondition check that at the push
  // itself; otherwise one listing of the origin first (the log is fetched only when it moved since this
  // worker's own append, and the forge sees the branches without asking again), then the log.
  const logSource = await carriedLog(deps, target.url);
  const stillHere = async (): Promise<true | string> => {
    if (late()) return 'the deadline passed';
    return stillRunning((await deps.events.read()).state, ctx.attempt);
  };
  let running: true | string = late() ? 'the deadline passed' : true;
  if (running === true && logSource === null) {
    await repo.listRemote(target);
    running = await stillHere();
  }
  if (running !== true) {
    return await fail('timeout', `late result, not delivered: ${running} before the push`, {
      report,
    });
  }

  say(`pushing ${ctx.branch} at ${head.slice(0, 12)} and opening the pull request`);
  // The branch push rides with the forge's write (one atomic push on the local forge), each ref leased.
  let branchCarry: CarriedPush;
  try {
    branchCarry = await carriedPush(repo, target, {
      branch: ctx.branch,
      commit: head,
      expected: ctx.branchAt,
      prefix: config.pr.branch_prefix,
      base: ctx.base,
      token: deps.forge.pushToken?.(),
    });
  } catch (error) {
    return await fail('push_error', (error as Error).message, { report });
  }
  const outcomeEvents = (pull: { number: number; url: string; created: boolean }) => [
    attemptDraft(deps, ctx, {
      type: 'pr.created',
      data: {
        number: pull.number,
        branch: ctx.branch,
        url: pull.url,
        updated: !pull.created,
        head_sha: head,
      },
    }),
    attemptDraft(deps, ctx, {
      type: 'attempt.succeeded',
      data: { pr: pull.number, commit: head, ...usage },
    }),
  ];
  const carried =
    logSource === null
      ? null
      : carryOutcome(
          branchCarry,
          deps.events,
          logSource.objects,
          outcomeEvents,
          (s) => stillRunning(s, ctx.attempt),
          stillHere,
        );
  let pull: Awaited<ReturnType<WorkerDeps['forge']['upsertPull']>>;
  try {
    pull = await deps.forge.upsertPull({
      carry: carried?.carry ?? branchCarry,
      branch: ctx.branch,
      headSha: head,
      base: ctx.base,
      title: shown.task.title,
      body: redact(
        renderPullBody({
          task,
          removed: shown.removed,
          attempt: ctx.attempt,
          attemptNumber: ctx.number,
          maxAttempts: ctx.maxAttempts,
          checks: report.checks,
          headSha: head,
          sandbox: executed?.sandbox ?? config.executor.sandbox,
          ...(deps.runUrl ? { runUrl: deps.runUrl } : {}),
        }),
      ),
      draft: config.pr.draft,
      labels: [...new Set([...config.pr.labels, ...task.labels])],
      reviewers: config.pr.reviewers,
    });
  } catch (error) {
    if (error instanceof CarryRefusedError) {
      return await fail('timeout', `late result, not delivered: ${error.refused} before the push`, {
        report,
      });
    }
    const reason = error instanceof BranchPushError ? 'push_error' : 'pr_error';
    return await fail(reason, (error as Error).message, { report });
  }
  const lateDetail = carried?.recorded()
    ? null
    : await record(outcomeEvents({ number: pull.pull.number, url: pull.pull.url, created: pull.created }));
  if (lateDetail) return { status: 'failed', reason: 'timeout', detail: lateDetail, report };
  return {
    status: 'succeeded',
    pr: pull.pull.number,
    url: pull.pull.url,
    created: pull.created,
    report,
  };
}

/**
 * The log's push source when the outcome can ride in the forge's atomic push to `url` (see outcome-carry.ts);
 * null when it cannot (another forge, another origin, or no way to tell).
 */
async function carriedLog(deps: WorkerDeps, url: string): Promise<{ url: string; objects: string } | null> {
  try {
    if (!deps.events.pushSource || !(await deps.forge.carriesAtomically?.(url))) return null;
    const source = await deps.events.pushSource();
    return source?.url === url ? source : null;
  } catch {
    return null;
  }
}
