import type { DispatchRequest } from '../../src/forge/forge.js';
import { LocalForge } from '../../src/forge/local.js';
import { GitServer } from '../harness/git-server.js';
import { git } from '../harness/repo.js';
import { Clock, seedTarget } from '../helpers/loop.js';
import { forgeContract } from './forge-contract.js';

forgeContract('local', async () => {
  const server = await GitServer.start();
  const target = await seedTarget(server, 'contract-local', {
    config: 'version: 1\n',
    backlog: 'version: 1\ntasks: []\n',
  });
  const clock = new Clock('2026-11-26T10:00:00.000Z');
  const sent: DispatchRequest[] = [];
  const forge = new LocalForge({
    dir: target.dir,
    now: clock.now,
    dispatch: async (r) => {
      sent.push({ ...r });
      return {};
    },
  });
  return {
    forge,
    clock,
    pushBranch: async (b) => {
      await git(target.bare, ['update-ref', `refs/heads/${b}`, 'refs/heads/main']);
      const { commitFiles } = await import('../harness/repo.js');
      await commitFiles(target.bare, b, { [`notes/${b.replace(/\//g, '-')}.md`]: `${b}\n` }, `work on ${b}`);
    },
    merge: async (n) => {
      await forge.merge(n);
    },
    close: async (n) => {
      await forge.close(n);
    },
    reviewersOf: async (n) => (await forge.getPull(n)).reviewers,
    commentsOf: async (n) => (await forge.getPull(n)).comments.map((c) => c.body),
    dispatched: async () => sent,
    mainSha: () => git(target.bare, ['rev-parse', 'refs/heads/main']),
    parentsOf: async (sha) => (await git(target.bare, ['rev-parse', `${sha}^@`])).split('\n').filter(Boolean),
    verify: () => {},
    stop: () => server.stop(),
  };
});
