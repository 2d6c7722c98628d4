import type { EventDraft, LeviathanEvent } from '../core/events.js';
import type { State } from '../core/state-types.js';

export type AppendResult = { ok: true; events: LeviathanEvent[] } | { ok: false; refused: string };

/**
 * What the scheduler and worker need of the event log. `precondition` is re-checked on every retry against
 * the state the append would land on; returning a string refuses the append with that reason.
 */
export interface EventStore {
  read(): Promise<{ state: State }>;
  append(drafts: EventDraft[], precondition?: (state: State) => true | string): Promise<AppendResult>;
  /** The config's `events.public_key` ('' = none): reads then require the tip sealed by it. */
  trustKey?(publicKey: string): void;
}
