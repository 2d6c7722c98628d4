import { z } from 'zod';
import { UsageSchema } from './usage.js';

/** Why an attempt failed (SPEC §3.2 step 7). */
export const FAILURE_REASONS = [
  'executor_error',
  'timeout',
  'no_changes',
  'scope_violation',
  'limit_exceeded',
  'verify_failed',
  'push_error',
  'pr_error',
  'dispatch_error',
  /** The threat scan found a token shape, a known secret value or hidden Unicode in the candidate (issue 11). */
  'secret_in_diff',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Why a task stopped being dispatched: it used its attempts, or a human closed its PR unmerged. */
export const BLOCK_REASONS = ['max_attempts', 'pr_closed'] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

const isoTime = z.iso.datetime();
const sha = z.string().regex(/^[0-9a-f]{64}$/);

export const ActorSchema = z.strictObject({
  kind: z.enum(['scheduler', 'worker', 'cli', 'human']),
  run_url: z.string().optional(),
});
export type Actor = z.infer<typeof ActorSchema>;

/** Per-type payloads. Every field a projection reads is required so a replay never guesses. */
export const EventData = {
  'attempt.created': z.strictObject({
    number: z.number().int().min(1),
    branch: z.string(),
    deadline: isoTime,
    manual: z.boolean().default(false),
  }),
  'attempt.dispatched': z.strictObject({
    forge: z.string(),
    run_id: z.string().optional(),
    run_url: z.string().optional(),
    /** The dispatch was sent but its answer was lost; it was not re-sent. */
    unconfirmed: z.boolean().optional(),
  }),
  'attempt.started': z.strictObject({ base_sha: z.string().optional() }),
  'attempt.succeeded': z.strictObject({
    pr: z.number().int().min(1),
    commit: z.string().optional(),
    /** What the agent reported it spent (its result file); absent: unknown spend. */
    usage: UsageSchema.optional(),
  }),
  'attempt.failed': z.strictObject({
    reason: z.enum(FAILURE_REASONS),
    detail: z.string().default(''),
    wip_branch: z.string().optional(),
    output_tail: z.string().optional(),
    /** What the agent reported it spent (its result file); absent: unknown spend. */
    usage: UsageSchema.optional(),
  }),
  'attempt.timed_out': z.strictObject({
    deadline: isoTime,
    wip_branch: z.string().optional(),
    /** The worker run's conclusion when the run ended without a terminal event (cancelled, runner died). */
    conclusion: z.string().optional(),
  }),
  'pr.created': z.strictObject({
    number: z.number().int().min(1),
    branch: z.string(),
    url: z.string().default(''),
    updated: z.boolean().default(false),
    /** The commit pushed to the branch: the tree the guard judged. */
    head_sha: z.string().optional(),
  }),
  'pr.merged': z.strictObject({ number: z.number().int().min(1), merge_commit: z.string().optional() }),
  'pr.closed': z.strictObject({ number: z.number().int().min(1) }),
  'task.completed': z.strictObject({
    via: z.enum(['pr_merged', 'backlog_done']),
    pr: z.number().int().min(1).optional(),
  }),
  'task.blocked': z.strictObject({
    reason: z.enum(BLOCK_REASONS),
    attempts: z.number().int().min(0),
    /** A hash of the task's backlog entry when it was blocked, so `status` can tell that it changed since. */
    entry: z.string().optional(),
  }),
  /** A human gave a blocked (or exhausted) task another chance: its attempt budget starts again. */
  'task.retried': z.strictObject({ reason: z.string().default('') }),
  'breaker.tripped': z.strictObject({
    consecutive_failures: z.number().int().min(0),
    threshold: z.number().int().min(1),
  }),
  'breaker.reset': z.strictObject({ reason: z.string().default(''), by: z.enum(['manual', 'cooldown']) }),
  'config.invalid': z.strictObject({ file: z.string(), errors: z.array(z.string()) }),
} as const;

export type EventType = keyof typeof EventData;
export const EVENT_TYPES = Object.keys(EventData) as EventType[];

const envelope = {
  v: z.literal(1),
  seq: z.number().int().min(1),
  id: z.string().min(1),
  ts: isoTime,
  task: z.string().optional(),
  attempt: z.string().optional(),
  actor: ActorSchema,
  prev: sha.nullable(),
  hash: sha,
};

function variant<T extends EventType>(type: T) {
  return z.strictObject({ ...envelope, type: z.literal(type), data: EventData[type] });
}

export const EventSchema = z.discriminatedUnion('type', [
  variant('attempt.created'),
  variant('attempt.dispatched'),
  variant('attempt.started'),
  variant('attempt.succeeded'),
  variant('attempt.failed'),
  variant('attempt.timed_out'),
  variant('pr.created'),
  variant('pr.merged'),
  variant('pr.closed'),
  variant('task.completed'),
  variant('task.blocked'),
  variant('task.retried'),
  variant('breaker.tripped'),
  variant('breaker.reset'),
  variant('config.invalid'),
]);

/** A chained, hashed event as stored on the `leviathan-events` branch. */
export type LeviathanEvent = z.output<typeof EventSchema>;
export type EventOf<T extends EventType> = Extract<LeviathanEvent, { type: T }>;

/** What a writer supplies; the log assigns `v`, `seq`, `prev` and `hash`. */
export type EventDraft = {
  [T in EventType]: {
    type: T;
    id: string;
    ts: string;
    task?: string;
    attempt?: string;
    actor: Actor;
    data: z.input<(typeof EventData)[T]>;
  };
}[EventType];
