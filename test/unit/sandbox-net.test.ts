import { describe, expect, it } from '@jest/globals';
import { proxyEnv } from '../../src/executor/egress-sandbox.js';
import { bwrapInvocation, unshareInvocation } from '../../src/executor/sandbox-argv.js';
import { isolateBwrapNetwork, isolateUnshareNetwork } from '../../src/executor/sandbox-net.js';

const layout = { workTree: '/w', hide: [], readOnly: [] };
const tools = {
  unshare: '/usr/bin/unshare',
  setpriv: '/usr/bin/setpriv',
  mount: '/bin/mount',
  pivotRoot: '/sbin/pivot_root',
};

describe('the sandbox network flags (executor.network none | allowlist)', () => {
  it('bwrap gets --unshare-net and nothing else changes', () => {
    const inv = bwrapInvocation('/usr/bin/bwrap', layout, new Map(), ['/bin/true']);
    const isolated = isolateBwrapNetwork(inv);
    expect(isolated.args).toEqual(['--unshare-net', ...inv.args]);
    expect(isolated.file).toBe(inv.file);
  });

  it('unshare gets --net and the set-up script brings its loopback up first, the command untouched', () => {
    const inv = unshareInvocation(tools, '/r', layout, ['/bin/sh', '-c', 'echo hi']);
    const isolated = isolateUnshareNetwork(inv, tools.unshare, '/usr/sbin/ip');
    const at = isolated.args.indexOf(tools.unshare);
    expect(isolated.args[at + 1]).toBe('--net');
    const script = isolated.args[isolated.args.indexOf('-c', at) + 1]!;
    expect(script.split('\n')[0]).toMatch(/^'\/usr\/sbin\/ip' link set lo up \|\|/);
    expect(isolated.args.slice(-3)).toEqual(['/bin/sh', '-c', 'echo hi']);
    expect(isolated.args).toHaveLength(inv.args.length + 1);
  });

  it('the proxy variables point every common client at the forwarder, loopback excepted', () => {
    const env = proxyEnv(3128);
    for (const k of ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy', 'ALL_PROXY']) {
      expect(env[k]).toBe('http://127.0.0.1:3128');
    }
    expect(env.NO_PROXY).toBe('localhost,127.0.0.1,::1');
  });
});
