/**
 * The forge contract: the same behaviour, asserted against every adapter (local and GitHub-on-emulator).
 * Each adapter supplies a driver that plays the human (push a branch, merge, close) and reads what the
 * forge stored (reviewers, comments, dispatches).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pullMarker } from '../../src/core/pr-body.js';
import type { DispatchRequest, Forge, PullInput } from '../../src/forge/forge.js';
import type { Clock } from '../helpers/loop.js';

export interface ContractDriver {
  forge: Forge;
  clock: Clock;
  pushBranch(branch: string): Promise<void>;
  merge(pull: number): Promise<void>;
  close(pull: number): Promise<void>;
  reviewersOf(pull: number): Promise<string[]>;
  commentsOf(pull: number): Promise<string[]>;
  dispatched(): Promise<DispatchRequest[]>;
  /** The sha `main` points at on the origin. */
  mainSha(): Promise<string>;
  /** Parents of a commit on the origin. */
  parentsOf(sha: string): Promise<string[]>;
  /** Checks the adapter recorded nothing wrong (e.g. the emulator's schema violations). */
  verify(): void;
  stop(): Promise<void>;
}

const PREFIX = 'leviathan/';
const LABELS = ['leviathan'];

function input(branch: string, extra: Partial<PullInput> = {}): PullInput {
  return {
    branch,
    base: 'main',
    title: `Work on ${branch}`,
    body: `Body of ${branch}\n\n${pullMarker(branch.replace(/^.*\//, ''), '01ATTEMPT')}\n`,
    draft: true,
    labels: LABELS,
    reviewers: [],
    ...extra,
  };
}

export function forgeContract(name: string, makeDriver: () => Promise<ContractDriver>): void {
  describe(`forge contract: ${name}`, () => {
    let d: ContractDriver;
    beforeAll(async () => {
      d = await makeDriver();
    });
    afterAll(async () => {
      await d?.stop();
    });
    const query = () => ({
      branchPrefix: PREFIX,
      labels: LABELS,
      closedSince: new Date(d.clock.now().getTime() - 24 * 3_600_000),
    });

    it('reads the default branch', async () => {
      expect(await d.forge.defaultBranch()).toBe('main');
      d.verify();
    });

    it('creates a draft pull with labels and reviewers, and a second upsert changes nothing', async () => {
      await d.pushBranch('leviathan/alpha');
      const first = await d.forge.upsertPull(input('leviathan/alpha', { reviewers: ['octo-reviewer'] }));
      expect(first.created).toBe(true);
      expect(first.pull).toMatchObject({ head: 'leviathan/alpha', base: 'main', state: 'open', draft: true });
      expect(first.pull.labels).toEqual(['leviathan']);
      expect(await d.reviewersOf(first.pull.number)).toEqual(['octo-reviewer']);
      const again = await d.forge.upsertPull(input('leviathan/alpha', { reviewers: ['octo-reviewer'] }));
      expect(again.created).toBe(false);
      expect(again.pull.number).toBe(first.pull.number);
      expect(await d.reviewersOf(first.pull.number)).toEqual(['octo-reviewer']);
      const found = await d.forge.findOpenPull('leviathan/alpha');
      expect(found?.number).toBe(first.pull.number);
      d.verify();
    });

    it('updates the open pull for the branch (title, body) instead of opening another', async () => {
      const updated = await d.forge.upsertPull(
        input('leviathan/alpha', { title: 'Retitled', body: 'new body' }),
      );
      expect(updated.created).toBe(false);
      expect(updated.pull).toMatchObject({ title: 'Retitled', body: 'new body' });
      const listed = (await d.forge.listPulls(query())).filter((p) => p.head === 'leviathan/alpha');
      expect(listed).toHaveLength(1);
      expect(listed[0]?.title).toBe('Retitled');
      d.verify();
    });

    it('lists by prefix, by label and by marker, and nothing else', async () => {
      await d.pushBranch('human/by-label');
      await d.pushBranch('human/by-marker');
      await d.pushBranch('human/unrelated');
      const byLabel = await d.forge.upsertPull(input('human/by-label', { body: 'no marker', draft: false }));
      const byMarker = await d.forge.upsertPull(input('human/by-marker', { labels: [], draft: false }));
      await d.forge.upsertPull(input('human/unrelated', { labels: [], body: 'a human pull', draft: false }));
      const heads = (await d.forge.listPulls(query())).map((p) => p.head).sort();
      expect(heads).toEqual(['human/by-label', 'human/by-marker', 'leviathan/alpha']);
      expect(byLabel.pull.draft).toBe(false);
      expect(byMarker.pull.labels).toEqual([]);
      d.verify();
    });

    it('comments on a pull', async () => {
      const pull = await d.forge.findOpenPull('leviathan/alpha');
      await d.forge.comment(pull!.number, 'attempt 2 of 3 failed: verify');
      expect(await d.commentsOf(pull!.number)).toEqual(['attempt 2 of 3 failed: verify']);
      d.verify();
    });

    it('dispatches a worker with task, attempt and base', async () => {
      const before = (await d.dispatched()).length;
      await d.forge.dispatchWorker({ task: 'alpha', attempt: '01ATTEMPT', ref: 'main' });
      const after = await d.dispatched();
      expect(after).toHaveLength(before + 1);
      expect(after.at(-1)).toEqual({ task: 'alpha', attempt: '01ATTEMPT', ref: 'main' });
      d.verify();
    });

    it('observes a merge on the next list, with a real merge commit on the base', async () => {
      const pull = (await d.forge.findOpenPull('leviathan/alpha'))!;
      d.clock.minutes(5);
      await d.merge(pull.number);
      const listed = (await d.forge.listPulls(query())).find((p) => p.number === pull.number);
      expect(listed?.state).toBe('merged');
      expect(listed?.merged_at).not.toBeNull();
      expect(await d.parentsOf(await d.mainSha())).toHaveLength(2);
      expect(await d.forge.findOpenPull('leviathan/alpha')).toBeNull();
      d.verify();
    });

    it('keeps closed pulls only while they were updated since closedSince', async () => {
      const pull = (await d.forge.findOpenPull('human/by-label'))!;
      await d.close(pull.number);
      expect((await d.forge.listPulls(query())).find((p) => p.number === pull.number)?.state).toBe('closed');
      d.clock.advance(2 * 24 * 3_600_000);
      const open = await d.forge.findOpenPull('human/by-marker');
      await d.forge.upsertPull(input('human/by-marker', { labels: [], draft: false, title: 'touched' }));
      const listed = await d.forge.listPulls(query());
      expect(listed.map((p) => p.number)).toEqual([open!.number]);
      d.verify();
    });
  });
}
