import { createRedactor, knownSecrets, type Redactor } from '../core/redact.js';
import { isSecretLikeName, resultDirIn } from '../executor/agent-env.js';
import {
  type NetworkPolicy,
  type RunSandboxedResult,
  runSandboxed,
  type VerifyCandidateResult,
  verifyCandidate,
} from '../executor/sandboxed-run.js';
import type { AttemptContext, ExecuteDeps } from './attempt.js';

/**
 * The worker's side of the sandbox (issue 7 §1): what the agent may not see, what must never leave in its
 * output, and `verify` on a fresh copy of the candidate tree.
 */

/** The environment secrets are looked up in: the worker's source environment. */
function hostEnv(deps: ExecuteDeps): Record<string, string | undefined> {
  return deps.env ?? process.env;
}

/** Every secret value the worker knows: tokens, credential-like and allow-listed variables. */
export function attemptSecrets(deps: ExecuteDeps, ctx: Pick<AttemptContext, 'config'>): string[] {
  return knownSecrets({
    env: hostEnv(deps),
    isSecretName: isSecretLikeName,
    allowlist: ctx.config.executor.env_allowlist,
    ...(deps.secrets ? { extra: deps.secrets } : {}),
  });
}

/** Every secret the worker knows, and token shapes. */
export function attemptRedactor(deps: ExecuteDeps, ctx: Pick<AttemptContext, 'config'>): Redactor {
  return createRedactor({ secrets: attemptSecrets(deps, ctx) });
}

/**
 * Leviathan's own places around the agent's work tree: the checkout it reads the base from (its `.git` holds
 * the private store repository and maybe credentials), the attempt's directory (the prompt and task files are
 * shown read-only), the user's checkout and the runner's temp directory.
 */
async function hiddenPaths(deps: ExecuteDeps, ctx: AttemptContext): Promise<string[]> {
  const gitDir = (await deps.git.layout().catch(() => null))?.gitDir ?? '';
  const env = hostEnv(deps);
  return [
    deps.git.cwd,
    ...(gitDir ? [gitDir] : []),
    ctx.taskDir,
    ...(env.RUNNER_TEMP ? [env.RUNNER_TEMP] : []),
    ...(deps.hide ?? []),
  ];
}

/** The task files the agent may read (shown read-only inside the hidden task directory). */
function taskFiles(ctx: AttemptContext): string[] {
  return [ctx.promptFile, ctx.taskFile, ...(ctx.feedbackFile !== undefined ? [ctx.feedbackFile] : [])];
}

/** `executor.network` and its allow-list. */
function networkPolicy(ctx: Pick<AttemptContext, 'config'>): NetworkPolicy {
  return { mode: ctx.config.executor.network, allow: ctx.config.executor.network_allow };
}

interface AgentRunInput {
  commands: readonly string[];
  env: Record<string, string>;
  /** Epoch ms on the real clock (the worker's clock may be injected). */
  deadline: number;
}

/** The task's commands in the sandbox `executor.sandbox` asks for, in the checkout. */
export async function runAgentCommands(
  deps: ExecuteDeps,
  ctx: AttemptContext,
  input: AgentRunInput,
): Promise<RunSandboxedResult> {
  const env = hostEnv(deps);
  return runSandboxed({
    mode: ctx.config.executor.sandbox,
    network: networkPolicy(ctx),
    workTree: ctx.workTree,
    commands: input.commands,
    env: input.env,
    deadline: input.deadline,
    hide: await hiddenPaths(deps, ctx),
    readOnly: taskFiles(ctx),
    writable: [resultDirIn(ctx.taskDir)],
    redact: attemptRedactor(deps, ctx),
    hostEnv: env,
    ...(env.PATH !== undefined ? { searchPath: env.PATH } : {}),
    ...(deps.onOutput ? { onOutput: (chunk: string) => deps.onOutput?.(chunk) } : {}),
  });
}

/**
 * `verify` in a fresh sandbox on a fresh copy of the candidate tree checked out at `candidate` (never the
 * agent's work tree); what it changes is discarded and reported.
 */
export async function verifyInSandbox(
  deps: ExecuteDeps,
  ctx: AttemptContext,
  candidate: string,
  input: { command: string; env: Record<string, string>; deadline: number },
): Promise<VerifyCandidateResult> {
  const host = hostEnv(deps);
  return verifyCandidate({
    mode: ctx.config.executor.sandbox,
    network: networkPolicy(ctx),
    candidate,
    ...input,
    hide: [...(await hiddenPaths(deps, ctx)), ctx.workTree],
    readOnly: taskFiles(ctx),
    redact: attemptRedactor(deps, ctx),
    hostEnv: host,
    ...(host.PATH !== undefined ? { searchPath: host.PATH } : {}),
  });
}
