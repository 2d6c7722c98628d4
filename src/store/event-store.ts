import type { EventDraft, LeviathanEvent } from '../core/events.js';
import type { State } from '../core/state-types.js';
import type { StorePublish } from './ref-store-types.js';

export type AppendResult = { ok: true; events: LeviathanEvent[] } | { ok: false; refused: string };

/**
 * What the scheduler and worker need of the event log. `precondition` is re-checked on every retry against
 * the state the append would land on; returning a string refuses the append with that reason.
 */
export interface EventStore {
  read(): Promise<{ state: State }>;
  /**
   * `publish`, when given, pushes the append's commit instead of the store (in one atomic push with other
   * refs, the commit's objects in `pushSource().objects`): true when it landed, false when the log's lease was
   * stale (the append re-reads and tries again); whatever it throws ends the append with nothing written.
   */
  append(
    drafts: EventDraft[],
    precondition?: (state: State) => true | string,
    publish?: StorePublish,
  ): Promise<AppendResult>;
  /** Where an append's commit can be pushed by someone else (see `publish`); null: only the store pushes. */
  pushSource?(): Promise<{ url: string; objects: string } | null>;
  /** The config's `events.public_key` ('' = none): reads then require the tip sealed by it. */
  trustKey?(publicKey: string): void;
}
