import { renderGuardReport } from '../executor/diff-guard.js';
import type { AttemptResult } from './attempt.js';

export function attemptHeadline({ context, outcome }: AttemptResult): string {
  const which = `${context.task.id} attempt ${context.number}/${context.maxAttempts}`;
  if (outcome.status === 'succeeded') {
    return `${which} succeeded: pull request #${outcome.pr} ${outcome.created ? 'opened' : 'updated'}`;
  }
  const kept = outcome.wip_branch ? `; work kept on ${outcome.wip_branch}` : '';
  return `${which} failed (${outcome.reason}): ${outcome.detail}${kept}`;
}

/** The attempt's job summary: outcome, then the guardrail report when the diff was checked. */
export function renderAttemptMarkdown(result: AttemptResult): string {
  const lines = [`## Leviathan attempt — ${attemptHeadline(result)}`, ''];
  const report = result.outcome.report;
  lines.push(
    report ? renderGuardReport(report) : '_The diff was not checked (the executor did not finish)._',
  );
  return `${lines.join('\n')}\n`;
}
