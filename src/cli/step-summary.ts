import { appendFile } from 'node:fs/promises';

/**
 * Appends Markdown to the job summary when running inside GitHub Actions; a no-op elsewhere (given as a
 * function, the Markdown is rendered only when there is a summary to write).
 */
export async function writeStepSummary(markdown: string | (() => string), env = process.env): Promise<void> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (file) await appendFile(file, `${typeof markdown === 'function' ? markdown() : markdown}\n`);
}
