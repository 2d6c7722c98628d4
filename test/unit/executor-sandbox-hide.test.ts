/** What the sandbox hides on the host (sandbox-hide.ts) and how it drops root (sandbox-argv.ts `asUser`). */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { asUser } from '../../src/executor/sandbox-argv.js';
import { hostPlaces, leviathanRoot } from '../../src/executor/sandbox-hide.js';

let dir: string;

beforeAll(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'lev-hide-')));
  for (const d of ['config', 'data', 'state', 'cache', 'gh', 'runner/_work/_temp', 'runner/_work/_tool']) {
    await mkdir(join(dir, d), { recursive: true });
  }
  await writeFile(join(dir, 'gitconfig'), '[user]\n');
  await writeFile(join(dir, 'runner', '.credentials'), '{}\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('hides the XDG directories, the git config files, gh, the runner and Leviathan itself; shows the tool cache', async () => {
  const { hide, show } = await hostPlaces({
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    GIT_CONFIG_GLOBAL: join(dir, 'gitconfig'),
    GH_CONFIG_DIR: join(dir, 'gh'),
    RUNNER_TEMP: join(dir, 'runner', '_work', '_temp'),
    RUNNER_TOOL_CACHE: join(dir, 'runner', '_work', '_tool'),
  });
  for (const p of ['config', 'data', 'state', 'cache', 'gitconfig', 'gh', 'runner/_work', 'runner']) {
    expect(hide).toContain(join(dir, p));
  }
  expect(hide).toContain(await realpath(leviathanRoot()));
  expect(show).toContain(join(dir, 'runner', '_work', '_tool'));
});

it('hides every non-system directory at the top of / and the secret places of /etc, /var and /run', async () => {
  const { hide } = await hostPlaces({});
  for (const p of ['/etc/shadow', '/root', '/home', '/var/lib', '/run']) {
    if (await realpath(p).catch(() => null)) expect(hide).toContain(await realpath(p));
  }
  for (const p of ['/usr', '/etc', '/opt', '/var', '/tmp', '/dev', '/proc', '/sys'])
    expect(hide).not.toContain(p);
});

it('never hides /, a system directory or one above it, whatever the environment says', async () => {
  const { hide } = await hostPlaces({
    XDG_CONFIG_HOME: '/',
    XDG_DATA_HOME: '/usr',
    XDG_CACHE_HOME: '/tmp',
    GH_CONFIG_DIR: '/etc',
  });
  for (const p of ['/', '/usr', '/tmp', '/etc']) expect(hide).not.toContain(p);
});

it('asUser starts the sandbox through setpriv as the given user, supplementary groups cleared', () => {
  const inv = asUser(
    '/usr/bin/setpriv',
    { uid: 65534, gid: 65533 },
    { file: '/usr/bin/bwrap', args: ['--x'], infoFd: 3 },
  );
  expect(inv).toEqual({
    file: '/usr/bin/setpriv',
    args: ['--reuid=65534', '--regid=65533', '--clear-groups', '--', '/usr/bin/bwrap', '--x'],
    infoFd: 3,
  });
});
