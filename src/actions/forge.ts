/** The GitHub forge as the actions open it: the job's token, the optional PR token, the runner's env. */
import type { Forge } from '../forge/forge.js';
import { GitHubForge, githubForgeOptionsFromEnv } from '../forge/github.js';

export interface ActionForgeOptions {
  token: string;
  prToken?: string;
  workflow?: string;
  env: Record<string, string | undefined>;
  warn: (line: string) => void;
}

export function openActionForge(options: ActionForgeOptions): Forge {
  return new GitHubForge(
    githubForgeOptionsFromEnv(
      { ...options.env, GITHUB_TOKEN: options.token, LEVIATHAN_TOKEN: options.token },
      {
        ...(options.prToken ? { prToken: options.prToken } : {}),
        ...(options.workflow ? { workflow: options.workflow } : {}),
        warn: options.warn,
      },
    ),
  );
}
