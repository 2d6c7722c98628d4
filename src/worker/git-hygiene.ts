import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Git } from '../store/git.js';

/**
 * The agent runs with write access to the checkout, `.git` included. Before Leviathan pushes anything after
 * it (the PR branch, WIP, events), the repository config is put back as it was before the agent ran — a
 * planted `url.*.insteadOf`, `remote.origin.url` or credential helper could send the token elsewhere — and
 * hooks and fsmonitor are switched off for every later git command in that checkout, which is the worker's
 * own (the Actions workspace or a scratch clone).
 */
const HARDENING =
  '\n# Added by Leviathan after the agent ran: no hooks or fsmonitor may run.\n[core]\n\thooksPath = /dev/null\n\tfsmonitor = false\n';

export interface SavedGitConfig {
  /** The repository's config file. */
  original: string;
  /** Its copy in the attempt's private directory. */
  saved: string;
}

/** Copies the repository's config into the attempt's private directory before the agent runs. */
export async function saveGitConfig(git: Git, dir: string): Promise<SavedGitConfig> {
  const original = resolve(git.cwd, await git.output(['rev-parse', '--git-path', 'config']));
  const saved = join(dir, 'git-config.before-agent');
  await copyFile(original, saved);
  return { original, saved };
}

/** Puts the saved config back, with hooks and fsmonitor disabled. */
export async function restoreGitConfig(config: SavedGitConfig): Promise<void> {
  await writeFile(config.original, `${await readFile(config.saved, 'utf8')}${HARDENING}`);
}
