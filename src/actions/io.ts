/**
 * What every Leviathan action shares: inputs, masked tokens, one `::group::` per phase, annotations for bad
 * documents, and the one-line reason a job failed as its last line.
 */
import * as core from '@actions/core';
import { ulid } from 'ulid';
import { type Diagnostic, UserError } from '../core/errors.js';
import type { Actor } from '../core/events.js';
import type { RunContext } from '../core/run-context.js';
import type { Forge } from '../forge/forge.js';
import { EventLog } from '../store/event-log.js';
import { Git } from '../store/git.js';
import { sealerFromEnv } from '../store/log-seal.js';
import { openActionForge } from './forge.js';

export function input(name: string, options: { required?: boolean } = {}): string {
  return core.getInput(name, { required: Boolean(options.required), trimWhitespace: true });
}

export function booleanInput(name: string): boolean {
  return /^(true|1|yes)$/i.test(input(name));
}

/** A token input, masked in the log before anything else can print it. */
export function tokenInput(name: string, required = false): string {
  const value = input(name, { required });
  if (value) core.setSecret(value);
  return value;
}

/** The run this job belongs to, as a human opens it. */
export function runUrl(env = process.env): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: id } = env;
  return server && repo && id ? `${server}/${repo}/actions/runs/${id}` : undefined;
}

/** Progress messages become log groups: each phase's lines fold under its name. */
export function phases(): { progress: (message: string) => void; end: () => void } {
  let open = false;
  return {
    progress(message) {
      if (open) core.endGroup();
      core.startGroup(message);
      open = true;
    },
    end() {
      if (open) core.endGroup();
      open = false;
    },
  };
}

export function actionContext(kind: Actor['kind'], progress?: (m: string) => void): RunContext {
  const url = runUrl();
  return {
    now: () => new Date(),
    newId: () => ulid(),
    actor: { kind, ...(url ? { run_url: url } : {}) },
    ...(progress ? { progress } : {}),
  };
}

export interface ActionTarget {
  git: Git;
  events: EventLog;
  forge: Forge;
}

/** The checkout in `GITHUB_WORKSPACE`, its event log and the GitHub forge, all with the job's token. */
export function openActionTarget(token: string, prToken?: string): ActionTarget {
  const dir = process.env.GITHUB_WORKSPACE || process.cwd();
  const forge = openActionForge({
    token,
    ...(prToken ? { prToken } : {}),
    ...(input('workflow') ? { workflow: input('workflow') } : {}),
    env: process.env,
    warn: (line) => core.warning(line),
  });
  const git = new Git(dir, token);
  return { git, events: new EventLog({ dir, token, probe: git, sealer: sealerFromEnv() }), forge };
}

function annotate(diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    core.error(`${d.path ? `${d.path}: ` : ''}${d.message}${d.hint ? ` (${d.hint})` : ''}`, {
      title: 'Leviathan',
      file: d.file,
      startLine: d.line,
      startColumn: d.column,
    });
  }
}

/** Runs an action's body; any failure ends the job with annotations and one plain reason as its last line. */
export async function runAction(body: () => Promise<void>, end: () => void = () => {}): Promise<void> {
  try {
    await body();
    end();
  } catch (error) {
    end();
    if (error instanceof UserError) annotate(error.diagnostics);
    else if (process.env.LEVIATHAN_DEBUG) core.info((error as Error).stack ?? String(error));
    core.setFailed(
      error instanceof UserError
        ? `leviathan: ${error.message}`
        : `leviathan: unexpected error: ${(error as Error).message ?? String(error)}`,
    );
  }
}
