import { UNSANDBOXED_NOTE } from '../core/pr-body.js';
import { renderGuardReport } from '../executor/diff-guard.js';
import type { RefusedHost } from '../executor/egress-proxy.js';
import type { AttemptResult } from './attempt.js';

export function attemptHeadline({ context, outcome }: AttemptResult): string {
  const unsandboxed = context.config.executor.sandbox === 'none' ? ' (unsandboxed)' : '';
  const which = `${context.task.id} attempt ${context.number}/${context.maxAttempts}${unsandboxed}`;
  if (outcome.status === 'succeeded') {
    return `${which} succeeded: pull request #${outcome.pr} ${outcome.created ? 'opened' : 'updated'}`;
  }
  const kept = outcome.wip_branch ? `; work kept on ${outcome.wip_branch}` : '';
  return `${which} failed (${outcome.reason}): ${outcome.detail}${kept}`;
}

/** The hosts the egress proxy refused (`executor.network: allowlist`), for the maintainer to judge. */
export function renderEgressRefused(refused: readonly RefusedHost[]): string {
  const rows = refused.map((r) => `- \`${r.host.replace(/`/g, "'")}:${r.port}\` — ${r.why}`);
  return [
    `**Network egress refused** (${refused.length}; add a name to \`executor.network_allow\` only if the agent needs it):`,
    ...rows,
  ].join('\n');
}

/** The attempt's job summary: outcome, then the guardrail report when the diff was checked. */
export function renderAttemptMarkdown(result: AttemptResult): string {
  const lines = [`## Leviathan attempt — ${attemptHeadline(result)}`, ''];
  if (result.context.config.executor.sandbox === 'none') lines.push(UNSANDBOXED_NOTE, '');
  const { outcome } = result;
  if (outcome.status === 'succeeded') lines.push(`Pull request: [#${outcome.pr}](${outcome.url})`, '');
  else if (outcome.wip_branch) lines.push(`Work kept on \`${outcome.wip_branch}\`.`, '');
  if (result.egress_refused?.length) lines.push(renderEgressRefused(result.egress_refused), '');
  const report = outcome.report;
  lines.push(
    report ? renderGuardReport(report) : '_The diff was not checked (the executor did not finish)._',
  );
  return `${lines.join('\n')}\n`;
}
