import { UserError } from '../core/errors.js';
import { ForgeError } from '../forge/forge.js';
import { GitError } from '../store/git.js';
import { ChainBrokenError } from '../store/log-types.js';
import { RefStoreError } from '../store/ref-store-types.js';

/**
 * Failures of the parts below the CLI that a user can act on (a broken chain, an unreachable remote or forge)
 * are reported as one line, like any other user error; only real bugs reach the crash path.
 */
export function asUserError(error: unknown): UserError | null {
  if (error instanceof ChainBrokenError) {
    return new UserError(`${error.message}; dispatching nothing (run 'leviathan verify' for details)`);
  }
  if (error instanceof RefStoreError || error instanceof ForgeError || error instanceof GitError) {
    return new UserError(error.message);
  }
  return null;
}

/** Runs `fn`, turning those failures into a `UserError` for callers that use a command's logic directly. */
export async function userFacing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw asUserError(error) ?? error;
  }
}
