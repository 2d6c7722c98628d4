import { appendFile } from 'node:fs/promises';

/** Appends Markdown to the job summary when running inside GitHub Actions; a no-op elsewhere. */
export async function writeStepSummary(markdown: string, env = process.env): Promise<void> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (file) await appendFile(file, `${markdown}\n`);
}
