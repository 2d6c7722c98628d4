import type { GitHubForge } from '../../src/forge/github.js';
import { git } from '../harness/repo.js';
import { githubBed } from '../helpers/github.js';
import { forgeContract } from './forge-contract.js';

const CONFIG = 'version: 1\n';
const BACKLOG = 'version: 1\ntasks: []\n';

forgeContract('github (emulator)', async () => {
  const bed = await githubBed('contract-gh', { config: CONFIG, backlog: BACKLOG });
  const forge: GitHubForge = bed.forge();
  return {
    forge,
    clock: bed.clock,
    pushBranch: async (b) => {
      await bed.pushBranch(b);
    },
    merge: async (n) => {
      await bed.emu.human.merge(n);
    },
    close: async (n) => bed.emu.human.close(n),
    reviewersOf: async (n) => bed.emu.pull(n).pull!.requested_reviewers,
    commentsOf: async (n) => bed.emu.pull(n).comments.map((c) => c.body),
    dispatched: async () =>
      bed.emu.runs.map((r) => ({
        task: String(r.inputs.task),
        attempt: String(r.inputs.attempt),
        ref: r.ref,
      })),
    mainSha: () => git(bed.target.bare, ['rev-parse', 'refs/heads/main']),
    parentsOf: async (sha) =>
      (await git(bed.target.bare, ['rev-parse', `${sha}^@`])).split('\n').filter(Boolean),
    verify: () => {
      if (bed.emu.violations.length > 0) throw new Error(bed.emu.violations.join('\n'));
    },
    stop: bed.stop,
  };
});
