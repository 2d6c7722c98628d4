import type { FailureReason } from './events.js';

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
  wip_branch?: string;
  pr?: number;
}

export interface PullState {
  number: number;
  branch: string;
  state: 'open' | 'merged' | 'closed';
  attempt?: string;
}

export interface TaskState {
  id: string;
  /** Attempt ids in creation order; their count is what `max_attempts` limits. */
  attempts: string[];
  failures: number;
  pr?: PullState;
  completed: boolean;
  blocked: boolean;
}

export interface BreakerState {
  open: boolean;
  consecutive_failures: number;
  tripped_at?: string;
}

/** The projection of the event log; `state.json` on the events branch is this object. */
export interface State {
  v: 1;
  seq: number;
  hash: string | null;
  /** Timestamp of the last applied event (for cooldowns and pruning). */
  ts: string | null;
  tasks: Record<string, TaskState>;
  attempts: Record<string, AttemptState>;
  breaker: BreakerState;
  /** Dispatches (attempt.created) per UTC hour key `YYYY-MM-DDTHH`; only the last 48 hours are kept. */
  dispatches: Record<string, number>;
}
