/** One git server per test file (kept apart from helpers/loop.ts so the benchmarks can import that without jest). */
import { afterAll, beforeAll } from '@jest/globals';
import { GitServer } from '../harness/git-server.js';
import { removeDir } from '../harness/repo.js';
import { forkTarget, type SeedInput, seedTarget, type Target } from './loop.js';

/** Registers beforeAll/afterAll for one git server; `seed` makes a target that is removed after the file. */
export function serverBed(prefix: string) {
  let server: GitServer | undefined;
  let seeded = 0;
  const targets: Target[] = [];
  beforeAll(async () => {
    server = await GitServer.start();
  });
  afterAll(async () => {
    await server?.stop();
    for (const t of targets) await removeDir(t.root);
  });
  return {
    async seed(input: SeedInput): Promise<Target> {
      seeded += 1;
      const target = await seedTarget(server as GitServer, `${prefix}-${seeded}`, input);
      targets.push(target);
      return target;
    },
    /** A copy of `target` to change without touching it (see `forkTarget`, and its `anchors`). */
    async fork(target: Target, options: { anchors?: boolean } = {}): Promise<Target> {
      seeded += 1;
      const copy = await forkTarget(target, `${prefix}-${seeded}`, options);
      targets.push(copy);
      return copy;
    },
  };
}
