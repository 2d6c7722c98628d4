/**
 * Wording the CLI and the actions show in more than one place, kept here so it changes in one line (for
 * instance the setup hint).
 */

/** How a repository gets its first backlog and config. */
export const SETUP_HINT =
  'copy the templates (mkdir -p .leviathan && cp <leviathan>/templates/*.yaml .leviathan/), or run `leviathan init`';

/** Where the scheduler reads the documents from, and what that asks of the user. */
export const COMMIT_HINT =
  'commit .leviathan/ and push it to the base branch: tick and run read the documents only from there';

/** The command that gives a blocked task another chance. */
export function retryCommand(task: string): string {
  return `leviathan retry ${task}`;
}

/** One wording everywhere for a directory that is not inside a git repository (and what to do). */
export function notARepository(dir: string): string {
  return `${dir} is not a git repository`;
}
export const NOT_A_REPOSITORY_HINT = "run 'git init' there, or pass --dir";

/** `--dir` (or the working directory) names nothing. */
export function noSuchDirectory(dir: string): string {
  return `${dir}: no such directory`;
}
