/**
 * The seam between the actions and the GitHub forge (issue 8, built on another branch). Until that forge is
 * merged the actions refuse to run rather than pretend; the merge replaces this body with `new GitHubForge`.
 */
import { UserError } from '../core/errors.js';
import type { Forge } from '../forge/forge.js';

export interface ActionForgeOptions {
  token: string;
  prToken?: string;
  workflow?: string;
  env: Record<string, string | undefined>;
  warn: (line: string) => void;
}

export function openActionForge(_options: ActionForgeOptions): Forge {
  throw new UserError('the GitHub forge is not part of this build yet');
}
