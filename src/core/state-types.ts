import type { BlockReason, FailureReason } from './events.js';

export type AttemptStatus = 'created' | 'dispatched' | 'running' | 'succeeded' | 'failed' | 'timed_out';

export interface AttemptState {
  id: string;
  task: string;
  /** 1-based attempt number within its task. */
  number: number;
  status: AttemptStatus;
  branch: string;
  created_at: string;
  deadline: string;
  manual: boolean;
  reason?: FailureReason | 'timeout' | 'pr_closed';
  /** The failure's detail as recorded (what `status` shows for a blocked task). */
  detail?: string;
  wip_branch?: string;
  pr?: number;
  /** The forge's worker run (from `attempt.dispatched`), so a run that ended silently is noticed early. */
  run_id?: string;
}

/** Spend reported by attempts: known micro-dollars, and how many attempts reported no cost. */
export interface Spend {
  micros: number;
  unknown: number;
}

export interface PullState {
  number: number;
  branch: string;
  state: 'open' | 'merged' | 'closed';
  attempt?: string;
}

/**
 * What the next attempt of a task is told about the one before it (`LEVIATHAN_FEEDBACK_FILE`): the newest
 * failed attempt's reason, detail and output tail as recorded (redacted by the worker that recorded them).
 */
export interface LastFailure {
  attempt: string;
  number: number;
  reason: FailureReason | 'timeout';
  detail?: string;
  output_tail?: string;
}

/** A task still in play: not completed, or completed while an attempt or its PR is still open. */
export interface TaskState {
  id: string;
  /** How many attempts were ever created for the task: what `max_attempts` limits, and the last number. */
  attempts: number;
  /** The newest attempt's id; that attempt is kept in `State.attempts` while the task is in `State.tasks`. */
  last_attempt?: string;
  failures: number;
  pr?: PullState;
  completed: boolean;
  blocked: boolean;
  /** Why it was blocked, and the hash of its backlog entry then (so a changed entry can be offered a retry). */
  blocked_reason?: BlockReason;
  blocked_entry?: string;
  /** `attempts` when a human last retried the task: only attempts after it count toward `max_attempts`. */
  retry_base?: number;
  /** What the task's attempts reported they spent (absent: none finished yet). */
  spend?: Spend;
  /** The newest failed attempt of the task, for the next attempt's feedback. */
  last_failure?: LastFailure;
}

/**
 * A settled task: completed, with no attempt and no PR open. Completion is final, so this is all any query
 * still reads of it (the attempts count for `max_attempts` and the status table, the merged PR for its row).
 */
export interface SettledTask {
  attempts: number;
  /** The number of the task's pull request, if it was merged. */
  pr?: number;
}

/** What every query sees of a task, whether it is in play (`State.tasks`) or settled (`State.done`). */
export type TaskSummary = Pick<
  TaskState,
  | 'id'
  | 'attempts'
  | 'completed'
  | 'blocked'
  | 'pr'
  | 'last_attempt'
  | 'blocked_reason'
  | 'blocked_entry'
  | 'retry_base'
>;

export interface BreakerState {
  open: boolean;
  consecutive_failures: number;
  tripped_at?: string;
}

/**
 * The projection of the event log; `state.json` on the events branch is this object. It holds what scheduling
 * needs, not the history: its size is bounded by the tasks in play and the open attempts, plus a few bytes
 * per settled task.
 */
export interface State {
  /** Format version of the snapshot (not of the events): a reader replays a snapshot of another version. */
  v: 3;
  seq: number;
  hash: string | null;
  /** Timestamp of the last applied event (for cooldowns and pruning). */
  ts: string | null;
  /** Tasks in play: not completed, or completed with an attempt or a PR still open. */
  tasks: Record<string, TaskState>;
  /** Settled tasks (completed, nothing open), a few bytes each; a new attempt or PR moves one back to `tasks`. */
  done: Record<string, SettledTask>;
  /** Attempts that are open (created, dispatched, running), and the newest attempt of every task in `tasks`. */
  attempts: Record<string, AttemptState>;
  breaker: BreakerState;
  /** Dispatches (attempt.created) per UTC hour key `YYYY-MM-DDTHH`; only the last 48 hours are kept. */
  dispatches: Record<string, number>;
  /** Spend per UTC day key `YYYY-MM-DD` (terminal attempt events); only the last few days are kept. */
  spend: Record<string, Spend>;
}
