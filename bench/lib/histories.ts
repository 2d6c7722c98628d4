/**
 * Generated event-log histories for the benchmarks, written as Leviathan writes them (day files and a sealed
 * state.json in one commit on `leviathan-events`).
 */
import { chainEvents } from '../../src/core/chain.js';
import type { EventDraft, LeviathanEvent } from '../../src/core/events.js';
import { project } from '../../src/core/state.js';
import { appendMessage, serializeState } from '../../src/store/log-format.js';
import { RefStore } from '../../src/store/ref-store.js';

export const STEP_MS = 5 * 60_000; // one event per scheduler tick
export const END = Date.parse('2026-11-26T12:00:00.000Z'); // histories end at the same moment: same newest day

/**
 * Drafts of a realistic log: tasks delivered by one attempt (created → dispatched → started → pr.created →
 * succeeded → pr.merged → task.completed), every fourth after a failed first attempt. Data carries the schema
 * defaults, as stored events do.
 */
export function* lifecycleDrafts(count: number): Generator<EventDraft> {
  const actor = { kind: 'scheduler' as const };
  let n = 0;
  for (let k = 0; ; k++) {
    const task = `task-${k}`;
    const pr = k + 1;
    const attempts = k % 4 === 3 ? 2 : 1;
    for (let a = 1; a <= attempts; a++) {
      const attempt = `att-${k}-${a}`;
      const branch = `leviathan/${task}`;
      const deadline = new Date(END).toISOString();
      const steps: Array<Omit<EventDraft, 'id' | 'ts' | 'actor' | 'task'>> = [
        { type: 'attempt.created', attempt, data: { number: a, branch, deadline, manual: false } },
        { type: 'attempt.dispatched', attempt, data: { forge: 'github', run_id: '1' } },
        { type: 'attempt.started', attempt, data: {} },
        ...(a < attempts
          ? [
              {
                type: 'attempt.failed' as const,
                attempt,
                data: { reason: 'verify_failed' as const, detail: '' },
              },
            ]
          : [
              { type: 'pr.created' as const, attempt, data: { number: pr, branch, url: '', updated: false } },
              { type: 'attempt.succeeded' as const, attempt, data: { pr } },
              { type: 'pr.merged' as const, data: { number: pr } },
              { type: 'task.completed' as const, data: { via: 'pr_merged' as const, pr } },
            ]),
      ];
      for (const step of steps) {
        if (n >= count) return;
        const ts = new Date(END - (count - 1 - n) * STEP_MS).toISOString();
        yield { id: `ev-${n}`, ts, task, actor, ...step } as EventDraft;
        n += 1;
      }
    }
  }
}

export const dayOf = (e: LeviathanEvent) => e.ts.slice(0, 10);

/** Day files (path → NDJSON) of chained events. */
export function dayFiles(events: readonly LeviathanEvent[]): Map<string, string> {
  const parts = new Map<string, string[]>();
  for (const e of events) {
    const path = `events/${dayOf(e)}.ndjson`;
    const list = parts.get(path) ?? [];
    if (list.length === 0) parts.set(path, list);
    list.push(`${JSON.stringify(e)}\n`);
  }
  return new Map([...parts].map(([p, l]) => [p, l.join('')]));
}

/** Writes `drafts`, chained, as one sealed Leviathan commit on `leviathan-events` of the bare repository. */
export async function seedEvents(bare: string, drafts: Iterable<EventDraft>) {
  const events = chainEvents(null, [...drafts]);
  const state = project(events);
  const files = dayFiles(events);
  const changes = new Map<string, string>([...files, ['state.json', serializeState(state)]]);
  const last = events[events.length - 1] as LeviathanEvent;
  // The bare repository has no remote, so the store writes it in place.
  const store = new RefStore({ dir: bare, ref: 'refs/heads/leviathan-events' });
  const commit = await store.commit(changes, (tree) => appendMessage(1, last.seq, last.hash, tree), null);
  if (!(await store.push(commit, null))) throw new Error('seeding lost a race');
  const newest = [...files.keys()].sort().pop() as string;
  return {
    stateBytes: Buffer.byteLength(changes.get('state.json') as string),
    files: files.size,
    newestBytes: Buffer.byteLength(files.get(newest) as string),
    totalBytes: [...files.values()].reduce((s, t) => s + Buffer.byteLength(t), 0),
  };
}
