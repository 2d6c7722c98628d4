import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { markTaskDone } from '../core/backlog-writeback.js';
import { BACKLOG_FILE } from '../core/documents.js';
import { UserError } from '../core/errors.js';
import type { EventDraft, FailureReason } from '../core/events.js';
import { wipBranch } from '../core/reconcile.js';
import type { RunContext } from '../core/run-context.js';
import { sanitizeTask } from '../core/task-text.js';
import { describeFindings, type ThreatScanResult, unsafePaths } from '../core/threat-scan.js';
import { buildAgentEnv, resultFileIn } from '../executor/agent-env.js';
import { MODE_SYMLINK } from '../executor/changes.js';
import { checkDiff, type DiffGuardOptions, type GuardReport } from '../executor/diff-guard.js';
import type { RunSandboxedResult } from '../executor/sandboxed-run.js';
import {
  readRegularFile,
  type ScannedChange,
  scanWorkTree,
  type WorkTreeScan,
} from '../executor/work-tree.js';
import { PrivateRepo } from '../store/private-repo.js';
import { attemptRedactor, attemptSecrets, verifyInSandbox } from './agent-run.js';
import type { AttemptContext, AttemptOutcome, ExecuteDeps, WorkerDeps } from './attempt.js';
import { attemptDraft, stillRunning, workerOutcome } from './attempt-events.js';
import { checkOwnBranch, commitMessage } from './branch.js';
import { publishCandidate } from './publish.js';
import { scanCandidate } from './threats.js';
import { buildManifest, WIP_MANIFEST } from './wip.js';

/**
 * SPEC §3.2 steps 4–7 as issue 7 §2 puts them: the result is read as data. After the agent is gone,
 * Leviathan walks its work tree (a plain directory: the CLI's fresh work tree or, for Actions'
 * worker-finish, an unpacked artifact), builds the candidate tree in a private repository, judges it against
 * the base tree read from there, verifies it in a fresh copy, and pushes exactly the commit it judged, by SHA
 * with a lease. One deadline bounds all of it; every terminal event carries the precondition "the attempt is
 * still running", so the scheduler's `attempt.timed_out` and the worker's outcome never both count.
 */

/** Entries the walk reads at most: far beyond any sane cap, so a runaway tree cannot stall the worker. */
const WALK_FACTOR = 20;
const WALK_MIN = 50_000;

export function agentEnv(deps: ExecuteDeps, ctx: AttemptContext) {
  return buildAgentEnv({
    source: deps.env ?? process.env,
    allowlist: ctx.config.executor.env_allowlist,
    promptFile: ctx.promptFile,
    taskFile: ctx.taskFile,
    resultFile: resultFileIn(ctx.taskDir),
    taskId: ctx.task.id,
    attemptId: ctx.attempt,
    attemptNumber: ctx.number,
    ...(ctx.feedbackFile !== undefined ? { feedbackFile: ctx.feedbackFile } : {}),
    timeoutSeconds: remainingMs(deps, ctx) / 1000,
  }).env;
}

export function remainingMs(deps: RunContext, ctx: Pick<AttemptContext, 'deadline'>): number {
  return Math.max(0, Date.parse(ctx.deadline) - deps.now().getTime());
}

/**
 * Writes the content of `changes` (read without following links) into the private repository, and `extra`
 * blobs with them (one git process for all); returns the entries and the extra blobs' ids.
 */
async function writeChanges(
  repo: PrivateRepo,
  changes: readonly ScannedChange[],
  maxBytes: number,
  extra: readonly Buffer[] = [],
) {
  const contents: Buffer[] = [];
  const pending: Array<{ path: string; mode: string; at: number | null }> = [];
  for (const c of changes) {
    if (c.status === 'D') {
      pending.push({ path: c.path, mode: c.mode, at: null });
      continue;
    }
    let content: Buffer | null;
    if (c.mode === MODE_SYMLINK) content = c.linkTarget === undefined ? null : Buffer.from(c.linkTarget);
    else content = c.source ? await readRegularFile(c.source, Math.max(maxBytes, c.size)) : null;
    if (content === null || content.length !== c.size) {
      throw new DeliveryError(
        'scope_violation',
        `${JSON.stringify(c.path)} changed or vanished while being read`,
      );
    }
    pending.push({ path: c.path, mode: c.mode, at: contents.length });
    contents.push(content);
  }
  const oids = await repo.writeBlobs([...contents, ...extra]);
  const written = pending.map((p) => ({
    path: p.path,
    mode: p.mode,
    oid: p.at === null ? null : oids[p.at]!,
  }));
  return { written, extra: oids.slice(contents.length) };
}

/** A result refused before delivery could read it; it ends the attempt as `attempt.failed`. */
export interface DeliveryRefusal {
  reason: FailureReason;
  detail: string;
}

class DeliveryError extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
  ) {
    super(message);
  }
}

/** Applies issue 7 §2 to the work tree at `workTree` and records the outcome; never throws for the agent's doing. */
export async function deliverWorkTree(
  deps: WorkerDeps,
  ctx: AttemptContext,
  workTree: string,
  executed?: RunSandboxedResult,
  /** Why the agent's work was refused before it became a work tree (a crafted artifact): recorded as is. */
  refusal?: DeliveryRefusal,
): Promise<AttemptOutcome> {
  const say = deps.progress ?? (() => {});
  const redact = attemptRedactor(deps, ctx);
  const { config, task } = ctx;
  const repo = await PrivateRepo.create(deps.git);
  const target = ctx.pushTarget;
  const wip = wipBranch(task.id, ctx.attempt);
  // What the agent was shown (agent-env sanitises the same way); the PR says what was removed.
  const shown = sanitizeTask(task);
  const subject = commitMessage(shown.task.title, task.id, ctx.attempt);
  const late = () => remainingMs(deps, ctx) <= 0;
  let scan: WorkTreeScan | null = null;
  let guardOptions: DiffGuardOptions | null = null;
  let threats: ThreatScanResult = { findings: [], truncated: false };
  // What the agent reported it spent rides on whichever terminal event this attempt gets (late ones too).
  const usage = executed?.usage ? { usage: executed.usage } : {};

  /** The terminal events, only while the attempt is still running; else the result is recorded as late. */
  const record = async (drafts: EventDraft[]): Promise<string | null> => {
    const result = await deps.events.append(drafts, (s) => stillRunning(s, ctx.attempt));
    if (result.ok) return null;
    const detail = `late result, not delivered: ${result.refused} when the worker finished`;
    // On record after the scheduler's timeout; never a second outcome after a worker's own.
    let ended: string | null = null;
    const lateResult = await deps.events.append(
      [attemptDraft(deps, ctx, { type: 'attempt.failed', data: { reason: 'timeout', detail, ...usage } })],
      (s) => {
        ended = workerOutcome(s, ctx.attempt);
        return ended ?? true;
      },
    );
    if (!lateResult.ok && ended === null)
      throw new UserError(`could not record the attempt's outcome: ${lateResult.refused}`);
    return detail;
  };

  const keepWip = async (): Promise<string | undefined> => {
    if (!scan || scan.changes.length === 0) return undefined;
    const current = scan;
    const opts = guardOptions as DiffGuardOptions;
    const bytes = current.changes.reduce((n, c) => n + (c.status === 'D' ? 0 : c.size), 0);
    const within = !current.truncated && current.changes.length <= opts.maxFiles && bytes <= opts.maxBytes;
    // Content only for what the task could have shipped; the rest is listed, never pushed (a workflow file on
    // any branch may run).
    // A file the threat scan flagged never leaves: no content, no blob id; a path that holds a finding
    // itself is not even listed.
    const flagged = new Set(threats.findings.map((f) => f.path));
    const unsafe = unsafePaths(threats);
    const why = (c: ScannedChange): string | undefined => {
      if (flagged.has(c.path))
        return 'withheld by the threat scan (a token, a secret value or hidden Unicode)';
      if (flagged.size > 0) return 'withheld with the rest of a candidate the threat scan flagged';
      if (!within) return 'over the caps';
      const one = checkDiff([c], {
        ...opts,
        maxFiles: Number.POSITIVE_INFINITY,
        maxBytes: Number.POSITIVE_INFINITY,
      });
      return one.ok ? undefined : one.violations.join('; ');
    };
    const reasons = new Map(current.changes.map((c) => [c.path, why(c)]));
    const content = current.changes.filter((c) => reasons.get(c.path) === undefined);
    const entries = (await writeChanges(repo, content, opts.maxBytes)).written;
    if (content.length < current.changes.length) {
      const listed: WorkTreeScan = {
        ...current,
        changes: current.changes
          .filter((c) => !unsafe.has(c.path))
          .map((c) => (flagged.has(c.path) ? { ...c, oid: null, source: undefined } : c)),
      };
      const manifest = await buildManifest(
        listed,
        repo.objectFormat,
        (p) => reasons.get(p),
        `Leviathan kept this instead of content it may not push (attempt ${ctx.attempt}).`,
      );
      entries.push({ path: WIP_MANIFEST, mode: '100644', oid: await repo.writeBlob(Buffer.from(manifest)) });
    }
    const tree = await repo.buildTree(ctx.baseSha, entries);
    const commit = await repo.commit(tree, ctx.baseSha, `WIP: ${subject}`);
    await pushOwn(repo, target, commit, wip, ctx, null);
    return wip;
  };

  const fail = async (
    reason: FailureReason,
    detail: string,
    extra: { output_tail?: string; report?: GuardReport } = {},
  ): Promise<AttemptOutcome> => {
    let kept: string | undefined;
    try {
      kept = await keepWip();
    } catch (error) {
      detail = `${detail}; the WIP could not be kept: ${(error as Error).message}`;
    }
    // Redacted again here: a detail may quote output, and an event can never hold a token.
    detail = redact(detail);
    const data = {
      reason,
      detail,
      ...(kept ? { wip_branch: kept } : {}),
      ...(extra.output_tail !== undefined ? { output_tail: redact(extra.output_tail) } : {}),
      ...usage,
    };
    const lateDetail = await record([attemptDraft(deps, ctx, { type: 'attempt.failed', data })]);
    const outcome: AttemptOutcome = lateDetail
      ? { status: 'failed', reason: 'timeout', detail: lateDetail }
      : {
          status: 'failed',
          reason,
          detail,
          ...(kept ? { wip_branch: kept } : {}),
          ...(data.output_tail ? { output_tail: data.output_tail } : {}),
        };
    return extra.report ? { ...outcome, report: extra.report } : outcome;
  };

  try {
    if (refusal) return await fail(refusal.reason, refusal.detail);
    say('reading the work tree');
    const base = await repo.treeEntries(ctx.baseSha);
    guardOptions = {
      taskGlobs: task.allowed_paths,
      scope: config.scope,
      maxFiles: config.limits.max_files_changed,
      maxBytes: config.limits.max_diff_bytes,
    };
    scan = await scanWorkTree(workTree, base, {
      maxEntries: Math.max(WALK_MIN, base.size + WALK_FACTOR * config.limits.max_files_changed),
      objectFormat: repo.objectFormat,
      maxReadBytes: config.limits.max_diff_bytes,
    });
    guardOptions.links = scan.links;
    threats = await scanCandidate(scan, attemptSecrets(deps, ctx), config.limits.max_diff_bytes);

    if (executed && executed.status === 'timeout') {
      return await fail(
        'timeout',
        `the attempt's time limit ran out during: ${executed.failedCommand ?? 'the executor'}`,
        {
          output_tail: executed.outputTail,
        },
      );
    }
    if (executed?.sandboxError !== undefined) return await fail('executor_error', executed.sandboxError);
    if (executed && executed.status === 'failed') {
      const why = executed.error ?? `exit ${executed.exitCode ?? executed.signal}`;
      return await fail('executor_error', `${executed.failedCommand ?? 'executor'} failed (${why})`, {
        output_tail: executed.outputTail,
      });
    }
    if (late()) return await fail('timeout', "the attempt's deadline passed before its result was checked");
    if (scan.truncated) {
      return await fail(
        'limit_exceeded',
        `the work tree has more than ${scan.entries - 1} entries; not read further`,
      );
    }

    // The backlog write-back is part of the push, so it counts in the caps.
    let writeback: string | null = null;
    if (config.pr.mark_done_in_backlog) {
      const own = scan.changes.find((c) => c.path === BACKLOG_FILE);
      const text = own
        ? own.source
          ? ((await readRegularFile(own.source, config.limits.max_diff_bytes))?.toString('utf8') ?? null)
          : null
        : await repo.git.readFile(ctx.baseSha, BACKLOG_FILE);
      const marked = text === null ? null : markTaskDone(text, task.id);
      if (marked !== null && marked !== text) writeback = marked;
    }
    say('checking the candidate tree against the guardrails');
    const guard = checkDiff(scan.changes, {
      ...guardOptions,
      ...(writeback !== null ? { extra: { files: 1, bytes: Buffer.byteLength(writeback) } } : {}),
    });
    if (!guard.ok) {
      return await fail(guard.reason, guard.violations.join('; ') || guard.reason, { report: guard.report });
    }
    // After the guard (a scope or cap violation keeps its own reason); either way a flagged file's content
    // never leaves (see keepWip).
    if (threats.findings.length > 0) {
      say('the threat scan flagged the candidate; nothing of its content is pushed');
      return await fail('secret_in_diff', describeFindings(threats), { report: guard.report });
    }

    let head: string;
    // The write-back's tree is built with the candidate's, from the same index; committed after verify.
    let markedTree: string | null = null;
    try {
      const written = await writeChanges(
        repo,
        scan.changes,
        config.limits.max_diff_bytes,
        writeback === null ? [] : [Buffer.from(writeback)],
      );
      const marked = written.extra.map((oid) => ({ path: BACKLOG_FILE, mode: '100644', oid }));
      const trees = await repo.buildTrees(ctx.baseSha, written.written, marked);
      markedTree = trees.next;
      head = await repo.commit(trees.tree, ctx.baseSha, subject);
    } catch (error) {
      const reason = error instanceof DeliveryError ? error.reason : 'scope_violation';
      return await fail(reason, `the candidate tree could not be built: ${(error as Error).message}`, {
        report: guard.report,
      });
    }

    const verify = task.verify ?? config.executor.verify;
    if (verify) {
      if (late())
        return await fail('timeout', `the deadline passed before \`${verify}\` ran`, {
          report: guard.report,
        });
      say(`verifying in a fresh copy of the candidate: ${verify}`);
      const fresh = await mkdtemp(join(tmpdir(), 'leviathan-verify-'));
      try {
        await repo.checkoutWorkTree(head, fresh, ctx.base);
        const verified = await verifyInSandbox(deps, ctx, fresh, {
          command: verify,
          env: agentEnv(deps, ctx),
          deadline: Date.now() + remainingMs(deps, ctx),
        });
        if (verified.sandboxError !== undefined) {
          return await fail('executor_error', verified.sandboxError, { report: guard.report });
        }
        const discarded =
          verified.changed.length > 0 ? `; its changes were discarded: ${verified.changed.join(', ')}` : '';
        if (discarded) say(`verify changed files in its copy${discarded}`);
        if (verified.status !== 'ok') {
          const reason: FailureReason = verified.status === 'timeout' ? 'timeout' : 'verify_failed';
          return await fail(
            reason,
            `verify \`${verify}\` ${verified.status === 'timeout' ? 'timed out' : 'failed'}${discarded}`,
            {
              output_tail: verified.outputTail,
              report: guard.report,
            },
          );
        }
      } finally {
        await rm(fresh, { recursive: true, force: true }).catch(() => {});
      }
    }

    if (markedTree !== null) {
      head = await repo.commit(
        markedTree,
        head,
        commitMessage(`Mark ${task.id} done in the backlog`, task.id, ctx.attempt),
      );
    }

    return await publishCandidate(
      { deps, ctx, repo, head, report: guard.report, executed, usage, shown, redact, late },
      { fail, record },
    );
  } catch (error) {
    if (error instanceof UserError) throw error;
    // Anything unexpected is a failed attempt with its reason, never an aborted loop.
    return fail('executor_error', `unexpected failure while delivering: ${(error as Error).message}`);
  } finally {
    await repo.remove().catch(() => {});
  }
}

/** Every push of an attempt: one of Leviathan's own branches, a valid ref name, by SHA with a lease. */
async function pushOwn(
  repo: PrivateRepo,
  target: AttemptContext['pushTarget'],
  commit: string,
  branch: string,
  ctx: AttemptContext,
  expected: string | null,
  token?: string,
): Promise<void> {
  await checkOwnBranch(repo, branch, ctx.config.pr.branch_prefix, ctx.base);
  await repo.pushWithLease(target, commit, branch, expected, token);
}
