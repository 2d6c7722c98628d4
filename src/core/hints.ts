/**
 * Wording the CLI and the actions show in more than one place, kept here so it changes in one line (for
 * instance once `leviathan init` exists).
 */

/** How a repository gets its first backlog and config. */
export const SETUP_HINT =
  'copy the templates (mkdir -p .leviathan && cp <leviathan>/templates/*.yaml .leviathan/), or run `leviathan init` once it exists';

/** Where the scheduler reads the documents from, and what that asks of the user. */
export const COMMIT_HINT =
  'commit .leviathan/ and push it to the base branch: tick and run read the documents only from there';

/** The command that gives a blocked task another chance. */
export function retryCommand(task: string): string {
  return `leviathan retry ${task}`;
}
