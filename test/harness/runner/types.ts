/** What the workflow runner takes and gives back: its options, the token issuer, runs, jobs and steps. */
import type { JobStatus } from './expressions.js';
import type { JobDef, Permissions, StepDef, WorkflowDef } from './workflow.js';

export type JobResult = 'success' | 'failure' | 'cancelled' | 'skipped';

export interface TokenIssuer {
  /** The `GITHUB_TOKEN` of one job: exactly the permissions it was granted. */
  forJob(permissions: Permissions, job: string): Promise<string> | string;
  /** An App installation token (create-github-app-token). */
  forApp?(inputs: Record<string, string>): Promise<string> | string;
}

export interface RunnerOptions {
  workflowFile: string;
  /** The workflow text, when it is not the file as committed (e.g. what `init` wrote). */
  content?: string;
  /** This repository: `uses: <actionsRepo>/actions/<name>@<ref>` runs `<checkout>/actions/<name>`. */
  checkout: string;
  actionsRepo: string;
  /** The repository the workflow runs in (`owner/name`) and how to clone a repository from the git server. */
  repository: string;
  cloneUrl: (repository: string) => string;
  defaultBranch?: string;
  serverUrl?: string;
  apiUrl?: string;
  tokens: TokenIssuer;
  vars?: Record<string, string>;
  secrets?: Record<string, string>;
  /** Extra environment every step sees (a runner machine's own environment). */
  env?: Record<string, string>;
  /** Milliseconds per `timeout-minutes` minute (tests shrink it). */
  minuteMs?: number;
  /** The same for one job (by id), e.g. only the agent job's clock shrunk. */
  jobMinuteMs?: Record<string, number>;
  /**
   * How long a step gets between the stop signals at cancellation or timeout, as the hosted runner does:
   * SIGINT, three quarters of this, SIGTERM, the rest, SIGKILL (GitHub: 7.5 s + 2.5 s; default here 2 s).
   */
  cancelGraceMs?: number;
  /** Called before each step; return `'cancel'` to cancel the run there (as a user pressing Cancel). */
  beforeStep?: (
    job: string,
    step: StepDef,
    run: WorkflowRun,
  ) => Promise<'cancel' | undefined> | 'cancel' | undefined;
  /** Where each run's directories go (default the system temp dir). */
  root?: string;
}

export interface StepRun {
  id: string;
  name: string;
  outcome: 'success' | 'failure' | 'cancelled' | 'skipped';
  outputs: Record<string, string>;
}

export interface JobRun {
  id: string;
  result: JobResult;
  outputs: Record<string, string>;
  steps: StepRun[];
  log: string;
  summary: string;
  runsOn: string;
  permissions: Permissions;
  token?: string;
}

export interface WorkflowRun {
  id: number;
  event: string;
  inputs: Record<string, unknown>;
  jobs: Record<string, JobRun>;
  conclusion: 'success' | 'failure' | 'cancelled';
  artifacts: string;
}

/** What every job of one run shares. */
export interface Shared {
  run: WorkflowRun;
  root: string;
  ref: string;
  eventPayload: object;
  workflow: WorkflowDef;
  cancelled: boolean;
}

export interface JobState {
  job: JobDef;
  token: string;
  workspace: string;
  temp: string;
  home: string;
  log: string[];
  summary: string[];
  env: Record<string, string>;
  path: string[];
  steps: Record<string, { outputs: Record<string, string>; outcome: string; conclusion: string }>;
  stepRuns: StepRun[];
  status: JobStatus;
  deadline: number;
  cancelled: { value: boolean };
  setCancel: (fn: () => void) => void;
  shared: { run: WorkflowRun; root: string; ref: string };
}
