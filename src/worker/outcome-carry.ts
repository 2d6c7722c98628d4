/**
 * The attempt's outcome rides in the delivery push (issue 10: at most four origin sessions per attempt).
 *
 * When the forge lands the PR branch and its pull record in one atomic push (`Forge.carriesAtomically`) and
 * the event log lives on the same origin, `pr.created` and `attempt.succeeded` join that push with the log's
 * own lease. The branch, the pull and the outcome then land together or not at all, and the log's
 * precondition (the attempt is still running) is checked on the very tip the push replaces: a result the
 * scheduler timed out meanwhile never becomes a pull request, and no read of the log is needed before the
 * push. A lost lease of the log re-reads the log and tries again; a lost lease of the pulls hands the retry
 * back to the forge, which decides the pull again.
 */
import type { EventDraft, LeviathanEvent } from '../core/events.js';
import type { State } from '../core/state-types.js';
import { type CarriedPull, type CarriedPush, CarryRefusedError } from '../forge/forge.js';
import type { EventStore } from '../store/event-store.js';
import { AtomicUnsupportedError } from '../store/leased-push.js';

export interface OutcomeCarry {
  carry: CarriedPush;
  /** The outcome events the push landed with the pull; null when it carried none (record them afterwards). */
  recorded(): LeviathanEvent[] | null;
}

/** Only the pulls' lease was stale: the forge must decide the pull again. */
class PullsMoved extends Error {}

/**
 * `drafts` as the log holds them (by id), or null when it holds none: an append that may only find them.
 * Their ids are this worker's own, so another worker's outcome for the same attempt is never taken for ours.
 * Asked twice when the first ask fails (the connection that lost the push's answer may still be down); null
 * when neither could ask.
 */
async function foundOnLog(events: EventStore, drafts: EventDraft[]): Promise<LeviathanEvent[] | null> {
  for (let tries = 1; ; tries += 1) {
    try {
      const found = await events.append(drafts, () => 'not on the log');
      return found.ok ? found.events : null;
    } catch {
      if (tries >= 2) return null;
    }
  }
}

/**
 * Wraps `carry` so that a push naming its pull also lands `outcome(pull)` on the log when `precondition`
 * accepts the log's tip. A push without a pull (the pull was already this one), or to an origin without
 * atomic pushes, first asks `running` (the attempt is still running, read from the log) and pushes the branch as before; the outcome is then recorded
 * after it (`recorded()` stays null).
 */
export function carryOutcome(
  carry: CarriedPush,
  events: EventStore,
  logObjects: string,
  outcome: (pull: CarriedPull) => EventDraft[],
  precondition: (state: State) => true | string,
  running: () => Promise<true | string>,
): OutcomeCarry {
  let recorded: LeviathanEvent[] | null = null;
  let atomic = true;
  const alone: CarriedPush['push'] = async (refs, objects) => {
    const verdict = await running();
    if (verdict !== true) throw new CarryRefusedError(verdict);
    return carry.push(refs, objects);
  };
  const wrapped: CarriedPush = {
    url: carry.url,
    push: async (refs, objects, pull) => {
      if (!pull || !atomic) return alone(refs, objects);
      const along = [...new Set([...objects, logObjects])];
      const drafts = outcome(pull);
      let appended: Awaited<ReturnType<EventStore['append']>>;
      try {
        appended = await events.append(drafts, precondition, async (lease) => {
          const pushed = await carry.push([...refs, lease], along, undefined, true);
          if (pushed.landed) return true;
          if (pushed.stale.some((ref) => ref !== lease.ref)) throw new PullsMoved();
          return false;
        });
      } catch (error) {
        if (error instanceof PullsMoved) return { landed: false, stale: refs.map((r) => r.ref) };
        if (error instanceof AtomicUnsupportedError) {
          atomic = false;
          return alone(refs, objects);
        }
        // The push's answer was lost but the origin may have taken it: then it all landed, once.
        const found = error instanceof CarryRefusedError ? null : await foundOnLog(events, drafts);
        if (!found) throw error;
        recorded = found;
        return { landed: true, stale: [] };
      }
      if (!appended.ok) throw new CarryRefusedError(appended.refused);
      recorded = appended.events;
      return { landed: true, stale: [] };
    },
  };
  return { carry: wrapped, recorded: () => recorded };
}
