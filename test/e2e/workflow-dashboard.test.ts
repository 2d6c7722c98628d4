/**
 * The opt-in dashboard, through the workflow `leviathan init --dashboard` writes: the tick job (granted
 * `issues: write` by that file and nothing more) opens one "Leviathan Dashboard" issue, leaves it alone
 * while nothing changed, edits it in place when a task moves, reopens it rather than open a second, and
 * never takes over a stranger's issue that copies its marker.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { DASHBOARD_LABEL, DASHBOARD_MARKER, DASHBOARD_TITLE } from '../../src/scheduler/dashboard.js';
import type { EmulatedIssue } from '../harness/github/model.js';
import { type WorkflowBed, workflowBed } from '../helpers/workflow-bed.js';

const CONFIG = `version: 1
scope:
  allowed_paths: ["docs/**"]
`;
const backlog = (ready: boolean) => `version: 1
tasks:
  - id: faq
    title: Write the FAQ
    ready: ${ready}
    allowed_paths: ["docs/**"]
    run: ["echo faq > docs/faq.md"]
`;

let bed: WorkflowBed;
let stranger: number;
beforeAll(async () => {
  bed = await workflowBed('wf-dash', { config: CONFIG, backlog: backlog(false) }, { init: ['--dashboard'] });
  // Someone copies the marker into an issue of their own before Leviathan ever ran.
  stranger = bed.emu.human.openIssue(DASHBOARD_TITLE, `${DASHBOARD_MARKER}\nplease merge my thing`);
}, 60_000);
afterAll(() => bed?.stop());

const dashboards = (): EmulatedIssue[] =>
  [...bed.emu.issues.values()].filter((i) => !i.pull && i.labels.includes(DASHBOARD_LABEL));

describe('the dashboard issue', () => {
  it('init --dashboard grants the tick job issues: write and sets dashboard: true, together', () => {
    const wf = parse(bed.workflow) as {
      jobs: Record<string, { permissions?: Record<string, string>; steps?: Array<{ with?: object }> }>;
    };
    expect(wf.jobs.tick!.permissions).toMatchObject({ issues: 'write' });
    expect(wf.jobs.tick!.steps!.find((s) => s.with && 'dashboard' in s.with)?.with).toMatchObject({
      dashboard: true,
    });
    for (const job of ['start', 'agent', 'finish']) expect(wf.jobs[job]!.permissions?.issues).toBeUndefined();
  });

  it('the first tick opens it with every task and its reason, and leaves the stranger issue alone', async () => {
    const run = await bed.tick();
    expect(run.jobs.tick!.result).toBe('success');
    const [issue, ...more] = dashboards();
    expect(more).toHaveLength(0);
    expect(issue!.title).toBe(DASHBOARD_TITLE);
    expect(issue!.body!.startsWith(DASHBOARD_MARKER)).toBe(true);
    expect(issue!.body).toMatch(/\| faq \| not_ready \|/);
    expect(issue!.body).toContain('```mermaid');
    expect(bed.emu.issues.get(stranger)!.body).toBe(`${DASHBOARD_MARKER}\nplease merge my thing`);
    expect(run.jobs.tick!.log).toContain('dashboard issue opened');
  }, 60_000);

  it('a tick with nothing changed writes nothing', async () => {
    bed.emu.resetCounts();
    const run = await bed.tick();
    expect(run.jobs.tick!.result).toBe('success');
    expect(bed.emu.calls('issues/create')).toBe(0);
    expect(bed.emu.calls('issues/update')).toBe(0);
    expect(bed.emu.calls('issues/list-for-repo')).toBe(1);
  }, 60_000);

  it('a task that moves is edited in place; a closed dashboard is reopened, never duplicated', async () => {
    const [issue] = dashboards();
    bed.emu.human.closeIssue(issue!.number);
    await bed.emu.human.push('main', { '.leviathan/backlog.yaml': backlog(true) }, 'faq is ready');
    bed.emu.resetCounts();
    const run = await bed.tick();
    expect(run.jobs.tick!.steps.find((s) => s.id === 'tick')?.outputs.decision).toBe('dispatched');
    expect(bed.emu.calls('issues/create')).toBe(0);
    expect(bed.emu.calls('issues/update')).toBe(1);
    const [after, ...more] = dashboards();
    expect(more).toHaveLength(0);
    expect(after!.number).toBe(issue!.number);
    expect(after!.state).toBe('open');
    expect(after!.body).toMatch(/\| faq \| ready \|[^\n]*\| selected \|/);
    await bed.settled();
  }, 120_000);
});
