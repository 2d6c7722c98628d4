/**
 * Loading what the runner interprets: a workflow file, checked by @actions/workflow-parser exactly as GitHub
 * would check it (a file it rejects fails the test), and an action's `action.yml`. Values are then read from
 * the same YAML document the parser accepted.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parse as parseYaml } from 'yaml';

export type Permissions = Record<string, 'read' | 'write' | 'none'>;

export interface StepDef {
  id?: string;
  name?: string;
  if?: unknown;
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  shell?: string;
  'working-directory'?: string;
  'continue-on-error'?: unknown;
  'timeout-minutes'?: unknown;
}

export interface ConcurrencyDef {
  group: string;
  'cancel-in-progress'?: unknown;
}

export interface JobDef {
  id: string;
  needs: string[];
  if?: unknown;
  'runs-on'?: unknown;
  permissions?: Permissions | 'read-all' | 'write-all';
  env?: Record<string, unknown>;
  defaults?: { run?: { shell?: string; 'working-directory'?: string } };
  concurrency?: string | ConcurrencyDef;
  'timeout-minutes'?: unknown;
  outputs?: Record<string, string>;
  steps: StepDef[];
}

export interface WorkflowDef {
  file: string;
  name?: string;
  on: Record<string, unknown>;
  env?: Record<string, unknown>;
  permissions?: Permissions | 'read-all' | 'write-all';
  defaults?: JobDef['defaults'];
  concurrency?: string | ConcurrencyDef;
  jobs: JobDef[];
  dispatchInputs: Record<string, { type?: string; default?: unknown; required?: boolean }>;
}

/** Parses and validates a workflow; throws with every problem the parser found. */
export async function validateWorkflow(name: string, content: string): Promise<void> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    errors.push(...(template.errors ?? []).map((e) => e.Message));
  }
  if (errors.length > 0 || !parsed.value) {
    throw new Error(`${name} is not a valid workflow:\n${[...new Set(errors)].join('\n')}`);
  }
}

export async function loadWorkflow(file: string, content?: string): Promise<WorkflowDef> {
  const text = content ?? (await readFile(file, 'utf8'));
  await validateWorkflow(basename(file), text);
  const doc = parseYaml(text) as Record<string, unknown>;
  const on = normaliseOn(doc.on);
  const jobs = Object.entries(doc.jobs as Record<string, Record<string, unknown>>).map(([id, raw]) => {
    const needs = raw.needs === undefined ? [] : ([] as string[]).concat(raw.needs as string | string[]);
    return { ...(raw as object), id, needs, steps: (raw.steps as StepDef[]) ?? [] } as JobDef;
  });
  const dispatch = (on.workflow_dispatch ?? {}) as { inputs?: WorkflowDef['dispatchInputs'] };
  return {
    file,
    ...(typeof doc.name === 'string' ? { name: doc.name } : {}),
    on,
    ...(doc.env ? { env: doc.env as Record<string, unknown> } : {}),
    ...(doc.permissions !== undefined ? { permissions: doc.permissions as WorkflowDef['permissions'] } : {}),
    ...(doc.defaults ? { defaults: doc.defaults as JobDef['defaults'] } : {}),
    ...(doc.concurrency ? { concurrency: doc.concurrency as WorkflowDef['concurrency'] } : {}),
    jobs,
    dispatchInputs: dispatch.inputs ?? {},
  };
}

function normaliseOn(on: unknown): Record<string, unknown> {
  if (typeof on === 'string') return { [on]: {} };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e: string) => [e, {}]));
  return Object.fromEntries(Object.entries(on as Record<string, unknown>).map(([k, v]) => [k, v ?? {}]));
}

export interface ActionDef {
  dir: string;
  name: string;
  inputs: Record<string, { default?: unknown; required?: boolean }>;
  outputs: Record<string, { value?: string }>;
  runs:
    | { using: 'node20' | 'node24'; main: string; post?: string }
    | { using: 'composite'; steps: StepDef[] };
}

export async function loadAction(dir: string): Promise<ActionDef> {
  const doc = parseYaml(await readFile(join(dir, 'action.yml'), 'utf8')) as Omit<ActionDef, 'dir'>;
  const runs = doc.runs as { using: string };
  if (!['node20', 'node24', 'composite'].includes(runs.using)) {
    throw new Error(`${dir}/action.yml: runs.using ${runs.using} is not supported by the test runner`);
  }
  return { dir, name: doc.name, inputs: doc.inputs ?? {}, outputs: doc.outputs ?? {}, runs: doc.runs };
}

/** Validates an `action.yml` against GitHub's action schema (@actions/workflow-parser). */
export async function validateActionFile(file: string): Promise<void> {
  const { parseAction } = await import('@actions/workflow-parser/actions/index');
  const parsed = parseAction(
    { name: file, content: await readFile(file, 'utf8') },
    new NoOperationTraceWriter(),
  );
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || !parsed.value)
    throw new Error(`${file} is not a valid action:\n${errors.join('\n')}`);
}
