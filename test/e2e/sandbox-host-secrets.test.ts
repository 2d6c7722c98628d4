/**
 * Credentials kept outside HOME, and root-only files, through the real worker against the real git server
 * (issue 7 §1: the agent must not see Leviathan's secrets). A hostile script (test/fixtures/hostile/
 * steal-host.sh) is told exactly where the worker's credentials are — a git credential store under
 * $XDG_CONFIG_HOME, the file $GIT_CONFIG_GLOBAL names, gh's hosts.yml in $GH_CONFIG_DIR, a sibling checkout's
 * .git/config with an extraheader, the Actions runner's credentials and workspace, /etc/shadow — and copies
 * all it can read into docs/ (raw, base64 and rot13). The attempt succeeds and opens a PR: that PR, and every
 * object on the origin, holds none of the planted values. Run as root, the script is not root on the host.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GitServer } from '../harness/git-server.js';
import { git, removeDir } from '../harness/repo.js';
import { dispatchAndWork } from '../helpers/attempt-run.js';
import { pullsOf, seedTarget, type Target } from '../helpers/loop.js';
import { HOSTILE } from '../helpers/sandbox.js';

const PLANTED = {
  xdgCredential: 'xdg-cred-3f9a7c1e5b2d',
  ghHosts: 'gh-hosts-8e6d4c2a0f1b',
  globalConfig: 'global-cfg-7a5c3e1b9d0f',
  ghConfigDir: 'gh-dir-2b4d6f8a0c1e',
  sibling: 'sibling-hdr-5e7a9c1b3d2f',
  runnerCredentials: 'runner-cred-9c8b7a6f5e4d',
  runnerWorkspace: 'runner-ws-1a2b3c4d5e6f',
  rootOnly: 'root-only-0f1e2d3c4b5a',
};
const VISIBLE = 'visible-control-6d5c4b3a2f1e';
const asRoot = process.getuid?.() === 0;

let server: GitServer;
let scratch: string;
let places: string[];
let env: Record<string, string>;
const targets: Target[] = [];

async function plant(path: string, text: string, mode = 0o644): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text, { mode });
  await chmod(path, mode);
  return path;
}

beforeAll(async () => {
  server = await GitServer.start();
  // Outside /tmp (the sandbox's /tmp is its own), where a real worker's files could be.
  scratch = await mkdtemp('/var/tmp/lev-host-secrets-');
  // Run as root, the sandbox runs as nobody, which must be able to reach the work trees made in here.
  await chmod(scratch, 0o711);
  const xdg = join(scratch, 'xdg-config');
  const runner = join(scratch, 'runner');
  const shown = join(scratch, 'shown');
  await plant(
    join(xdg, 'git', 'credentials'),
    `https://x-access-token:${PLANTED.xdgCredential}@github.com\n`,
  );
  await plant(join(xdg, 'gh', 'hosts.yml'), `github.com:\n    oauth_token: ${PLANTED.ghHosts}\n`);
  const globalConfig = await plant(
    join(scratch, 'gitconfig-global'),
    `[credential]\n\thelper = store --file ${xdg}/git/credentials\n[http]\n\textraheader = AUTHORIZATION: bearer ${PLANTED.globalConfig}\n`,
  );
  const ghDir = join(scratch, 'gh-config');
  await plant(join(ghDir, 'hosts.yml'), `github.com:\n    oauth_token: ${PLANTED.ghConfigDir}\n`);
  const sibling = await plant(
    join(scratch, 'checkouts', 'other', '.git', 'config'),
    `[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic ${PLANTED.sibling}\n`,
  );
  await plant(join(runner, '.credentials'), `{"token": "${PLANTED.runnerCredentials}"}\n`);
  await plant(join(runner, '.runner'), '{"agentName": "self-hosted"}\n');
  await mkdir(join(runner, '_work', '_temp'), { recursive: true });
  await chmod(join(runner, '_work', '_temp'), 0o711);
  const workspace = await plant(
    join(runner, '_work', 'repo', 'repo', '.git', 'config'),
    `[http]\n\textraheader = AUTHORIZATION: basic ${PLANTED.runnerWorkspace}\n`,
  );
  // Shown to the sandbox on purpose: only the uid it runs as keeps the root-only file from it.
  const rootOnly = await plant(join(shown, 'root-only.txt'), `${PLANTED.rootOnly}\n`, 0o600);
  const control = await plant(join(shown, 'control.txt'), `${VISIBLE}\n`);
  places = [
    xdg,
    join(xdg, 'git', 'credentials'),
    globalConfig,
    ghDir,
    sibling,
    join(scratch, 'checkouts'),
    runner,
    join(runner, '.credentials'),
    workspace,
    scratch,
    ...(asRoot ? [rootOnly] : []),
    control,
  ];
  env = {
    XDG_CONFIG_HOME: xdg,
    GIT_CONFIG_GLOBAL: globalConfig,
    GH_CONFIG_DIR: ghDir,
    RUNNER_TEMP: join(runner, '_work', '_temp'),
    // The script lives in this checkout, which the sandbox hides like any other; the control dir is shown.
    LEVIATHAN_SANDBOX_SHOW: `${HOSTILE}:${shown}`,
  };
}, 60_000);

afterAll(async () => {
  await server?.stop();
  for (const t of targets) await removeDir(t.root);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const unrot13 = (s: string) =>
  s.replace(/[a-zA-Z]/g, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });

describe.each(['bwrap', 'unshare'] as const)('executor.sandbox: %s', (mode) => {
  it('credentials outside HOME and root-only files never reach the PR or the origin; the agent is not host root', async () => {
    const id = `steal-host-${mode}`;
    const config = `version: 1\nscope:\n  allowed_paths: ["docs/**"]\nexecutor:\n  sandbox: ${mode}\n`;
    const backlog = `tasks:
  - id: ${id}
    title: Reads the host's credentials
    ready: true
    allowed_paths: [docs/**]
    run: ["sh ${HOSTILE}/steal-host.sh ${places.join(' ')}"]
`;
    const target = await seedTarget(server, id, { config, backlog });
    targets.push(target);
    const { deps, result } = await dispatchAndWork(target, { env });
    expect(result.outcome).toMatchObject({ status: 'succeeded' });
    expect((await pullsOf(deps.dir)).map((p) => p.head)).toContain(`leviathan/${id}`);

    const branch = `leviathan/${id}`;
    const show = (path: string) => git(target.bare, ['show', `${branch}:${path}`]);
    const raw = await show('docs/loot.md');
    const decoded = Buffer.from(await show('docs/loot.b64'), 'base64').toString('utf8');
    const rot = unrot13(await show('docs/loot.rot13'));
    // The script really read what it was shown: the control file is there, in all three forms.
    for (const text of [raw, decoded, rot]) expect(text).toContain(VISIBLE);
    const origin = await git(target.bare, ['cat-file', '--batch-all-objects', '--batch']);
    for (const value of Object.values(PLANTED)) {
      for (const text of [raw, decoded, rot, origin]) expect(text).not.toContain(value);
    }

    const who = Object.fromEntries(
      (await show('docs/id.txt'))
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
    if (asRoot) {
      // Never host root: bubblewrap runs it as nobody; unshare as root of a namespace that nobody owns,
      // without capabilities. Either way the root-only file it was shown stays closed to it.
      if (mode === 'bwrap') expect(who.uid).not.toBe('0');
      expect(raw).toContain(`== ${join(scratch, 'shown', 'root-only.txt')}\n`);
      expect(raw).not.toMatch(/^root:/m);
    }
  }, 120_000);
});
