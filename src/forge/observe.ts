import type { Config } from '../core/config.js';
import { UserError } from '../core/errors.js';
import type { ObservedPull } from '../core/reconcile.js';
import type { Forge, PullRequest } from './forge.js';

/** How far back closed pulls are observed, so a merge seen late is still recorded. */
const CLOSED_LOOKBACK_MS = 7 * 24 * 3_600_000;

/**
 * Leviathan's open and recently closed pulls, as the scheduler, a manual claim and `status` all see them.
 * A forge that cannot be read is a one-line user error: callers fail closed.
 */
export async function observePulls(forge: Forge, config: Config, now: Date): Promise<ObservedPull[]> {
  let pulls: PullRequest[];
  try {
    pulls = await forge.listPulls({
      branchPrefix: config.pr.branch_prefix,
      labels: config.pr.labels,
      closedSince: new Date(now.getTime() - CLOSED_LOOKBACK_MS),
    });
  } catch (error) {
    throw new UserError(
      `cannot read pull requests from the ${forge.kind} forge: ${(error as Error).message}`,
    );
  }
  return pulls.map((p) => ({ number: p.number, head: p.head, body: p.body, state: p.state }));
}
