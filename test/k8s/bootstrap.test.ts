/**
 * k8s/bootstrap.sh and k8s/teardown.sh, offline: fake kind/docker/kubectl/helm/gh on a PATH that holds
 * nothing else (test/k8s/fake-tool.sh keeps just enough state to answer the scripts' queries as the real
 * tools would). A dry run prints the commands in order and changes nothing; each missing prerequisite is one
 * line and exit 1; after a (simulated) first run a second one has nothing to do; the smoke test says where to
 * look when the run waits for a runner; the scripts pass shellcheck.
 */

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  commands,
  type FakeWorld,
  fakeWorld,
  K8S,
  onPath,
  ROOT,
  removeFakeWorlds,
  runScript,
} from '../helpers/k8s.js';

afterAll(removeFakeWorlds);

/** Invocations that change something (everything else the scripts call is a query). */
const MUTATING =
  /^(kind (create|load|delete)|docker build|kubectl .*(apply|create) |helm .*(upgrade|uninstall)|gh (variable set|workflow run))/;
const mutations = (w: FakeWorld) => w.calls().filter((c) => MUTATING.test(c));
/** A printed command reduced to the tool and what it does, e.g. `helm upgrade arc`. */
function step(cmd: string): string {
  const w = cmd.split(' ');
  if (w[0] === 'helm') return `helm ${w[1]} ${w[w[1] === 'upgrade' ? 3 : 2]}`;
  if (w[0] === 'kubectl') return `kubectl ${w.find((x) => ['apply', 'create', 'wait'].includes(x))}`;
  return `${w[0]} ${w[1]}`;
}

const FIRST_RUN = [
  'kind create',
  'docker build',
  'kind load',
  'kubectl apply',
  'kubectl create',
  'helm upgrade arc',
  'helm upgrade leviathan',
  'gh variable',
  'kubectl wait',
  'gh workflow',
];

describe('k8s/bootstrap.sh --dry-run on a fresh machine', () => {
  const w = fakeWorld();
  const r = runScript('bootstrap.sh', ['--dry-run'], w.env);

  it('exits 0 and prints the kind, docker, kubectl, helm and gh commands in order', () => {
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const cmds = commands(r.stdout);
    expect(cmds.map(step)).toEqual(FIRST_RUN);
    expect(cmds[0]).toBe('kind create cluster --name leviathan --config k8s/kind/cluster.yaml --wait 180s');
    expect(cmds[3]).toBe('kubectl --context kind-leviathan apply -k k8s/overlays/kind');
    expect(cmds[5]).toContain(
      'oci://ghcr.io/actions/actions-runner-controller-charts/gha-runner-scale-set-controller --version 0.14.',
    );
    expect(cmds[6]).toContain(
      '--values k8s/arc/scale-set.values.yaml --set githubConfigUrl=https://github.com/acme/widgets',
    );
    expect(cmds[9]).toBe('gh workflow run leviathan.yml -R acme/widgets -f dry-run=true');
    expect(r.stdout).toContain('8 change(s) would be made');
  });

  it('changes nothing, and prints the key file by path, never its content', () => {
    expect(w.calls().length).toBeGreaterThan(0); // it did ask
    expect(mutations(w)).toEqual([]);
    expect(r.stdout).toContain(`--from-file=github_app_private_key=${w.keyFile}`);
    expect(r.stdout + r.stderr).not.toContain('PRIVATE-KEY-CONTENT');
  });
});

describe('k8s/bootstrap.sh prerequisites', () => {
  const none = () => ({});
  /** [what is wrong, the tool left off PATH, the environment changed, the line expected] */
  const PREREQS: [string, string, (w: FakeWorld) => Record<string, string>, RegExp][] = [
    ['no kind', 'kind', none, /^missing: kind is not on PATH/],
    ['no kubectl', 'kubectl', none, /^missing: kubectl is not on PATH/],
    ['no helm', 'helm', none, /^missing: helm is not on PATH/],
    ['no docker', 'docker', none, /^missing: docker is not on PATH/],
    ['no gh', 'gh', none, /^missing: gh is not on PATH .*--no-smoke/],
    [
      'docker daemon down',
      '',
      () => ({ FAKE_DOCKER_DOWN: '1' }),
      /^missing: docker is installed but its daemon does not/,
    ],
    ['no GITHUB_CONFIG_URL', '', () => ({ GITHUB_CONFIG_URL: '' }), /^missing: GITHUB_CONFIG_URL is not set/],
    [
      'a URL without https',
      '',
      () => ({ GITHUB_CONFIG_URL: 'github.com/acme/widgets' }),
      /must start with https:\/\//,
    ],
    ['no GITHUB_APP_ID', '', () => ({ GITHUB_APP_ID: '' }), /^missing: GITHUB_APP_ID is not set/],
    [
      'no GITHUB_APP_INSTALLATION_ID',
      '',
      () => ({ GITHUB_APP_INSTALLATION_ID: '' }),
      /^missing: GITHUB_APP_INSTALLATION_ID/,
    ],
    [
      'no GITHUB_APP_PRIVATE_KEY_FILE',
      '',
      () => ({ GITHUB_APP_PRIVATE_KEY_FILE: '' }),
      /^missing: GITHUB_APP_PRIVATE_KEY_FILE is/,
    ],
    [
      'an unreadable key file',
      '',
      (w) => ({ GITHUB_APP_PRIVATE_KEY_FILE: join(w.dir, 'no.pem') }),
      /no\.pem', which is not a readable/,
    ],
    [
      'no smoke repository',
      '',
      () => ({ GITHUB_CONFIG_URL: 'https://github.com/acme' }),
      /^missing: LEVIATHAN_SMOKE_REPO is not/,
    ],
  ];

  for (const [what, drop, override, line] of PREREQS) {
    it(`${what}: one clear line, exit 1, nothing run (real run and dry run alike)`, () => {
      const tools = ['kind', 'kubectl', 'helm', 'docker', 'gh'].filter((t) => t !== drop);
      const w = fakeWorld(tools);
      for (const args of [[], ['--dry-run']]) {
        const r = runScript('bootstrap.sh', args, { ...w.env, ...override(w) });
        expect(r.status).toBe(1);
        const lines = r.stderr.trim().split('\n');
        expect(lines).toHaveLength(2);
        expect(lines[0]).toMatch(line);
        expect(lines[1]).toBe('1 prerequisite(s) missing; nothing was changed.');
        expect(commands(r.stdout)).toEqual([]);
      }
      expect(mutations(w)).toEqual([]);
    });
  }

  it('on a bare machine every prerequisite is listed, one line each', () => {
    const w = fakeWorld([]);
    const r = runScript('bootstrap.sh', [], { PATH: w.bin });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.slice(0, -1).map((l) => l.split(' ')[1])).toEqual([
      'kind',
      'kubectl',
      'helm',
      'docker',
      'GITHUB_CONFIG_URL',
      'GITHUB_APP_ID',
      'GITHUB_APP_INSTALLATION_ID',
      'GITHUB_APP_PRIVATE_KEY_FILE',
      'gh',
    ]);
    expect(lines.at(-1)).toBe('9 prerequisite(s) missing; nothing was changed.');
  });

  it('--no-smoke needs neither gh nor a repository; an unknown option is one line and exit 1', () => {
    const w = fakeWorld(['kind', 'kubectl', 'helm', 'docker']);
    const ok = runScript('bootstrap.sh', ['--dry-run', '--no-smoke'], {
      ...w.env,
      GITHUB_CONFIG_URL: 'https://github.com/acme',
    });
    expect(ok.status).toBe(0);
    expect(commands(ok.stdout).map(step)).toEqual(FIRST_RUN.slice(0, 7));
    const bad = runScript('bootstrap.sh', ['--dryrun'], w.env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe("bootstrap.sh: unknown option '--dryrun' (try --help)\n");
  });
});

describe('k8s/bootstrap.sh after a failed step', () => {
  it('stops with one line on how to go on; the next run resumes at the failed step', () => {
    const w = fakeWorld();
    const failed = runScript('bootstrap.sh', [], { ...w.env, FAKE_FAIL: 'upgrade --install leviathan' });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toBe(
      'helm: simulated failure\nfailed (exit 3): helm upgrade … — fix the cause above and run bootstrap.sh again; finished steps are skipped\n',
    );
    expect(commands(failed.stdout).map(step)).toEqual(FIRST_RUN.slice(0, 7));
    const resumed = runScript('bootstrap.sh', ['--no-smoke'], w.env);
    expect(resumed.status).toBe(0);
    expect(commands(resumed.stdout).map(step)).toEqual(['helm upgrade leviathan']);
  });
});

describe('k8s/bootstrap.sh twice (a simulated first run, then again)', () => {
  const w = fakeWorld();
  const first = runScript('bootstrap.sh', [], w.env);
  const afterFirst = w.calls().length;
  const second = runScript('bootstrap.sh', ['--dry-run'], w.env);
  const secondCalls = w.calls().slice(afterFirst);

  it('the first run does every step and the smoke test passes', () => {
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(commands(first.stdout).map(step)).toEqual(FIRST_RUN);
    expect(mutations(w).map(step)).toEqual(FIRST_RUN.filter((s) => s !== 'kubectl wait'));
    expect(first.stdout).toContain('smoke test passed: https://github.com/o/r/actions/runs/4242');
  });

  it('the second shows nothing to do: only the smoke test would run', () => {
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('nothing to do: everything above is up to date');
    expect(commands(second.stdout).map(step)).toEqual(['kubectl wait', 'gh workflow']);
    expect(secondCalls.filter((c) => MUTATING.test(c))).toEqual([]);
    const quiet = runScript('bootstrap.sh', ['--no-smoke'], w.env);
    expect(quiet.status).toBe(0);
    expect(commands(quiet.stdout)).toEqual([]);
  });

  it('a changed input redoes exactly the step it feeds', () => {
    const env = { ...w.env, GITHUB_CONFIG_URL: 'https://github.com/acme/gadgets' };
    const r = runScript('bootstrap.sh', ['--dry-run', '--no-smoke'], env);
    expect(r.status).toBe(0);
    expect(commands(r.stdout).map(step)).toEqual(['helm upgrade leviathan']);
    expect(r.stdout).toContain('1 change(s) would be made');
  });

  it('a run still waiting for a runner times out with where to look; a failed run points at its log', () => {
    const queued = runScript('bootstrap.sh', [], {
      ...w.env,
      FAKE_RUN_STATE: 'queued  https://github.com/acme/widgets/actions/runs/4242',
      LEVIATHAN_SMOKE_TIMEOUT: '0',
    });
    expect(queued.status).toBe(1);
    expect(queued.stderr).toContain(
      "timed out after 0s: run https://github.com/acme/widgets/actions/runs/4242 is still 'queued'",
    );
    expect(queued.stderr).toContain("waiting for a runner labelled 'leviathan'");
    expect(queued.stderr).toContain('-n arc-systems logs -l actions.github.com/scale-set-name=leviathan');
    expect(queued.stderr).toContain('get autoscalingrunnersets,ephemeralrunners,pods');
    expect(queued.stderr).toContain("docs/kubernetes.md, 'Known failure modes'");
    const failed = runScript('bootstrap.sh', [], {
      ...w.env,
      FAKE_RUN_STATE: 'completed failure https://x/runs/4242',
    });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toBe(
      "smoke test failed: run https://x/runs/4242 concluded 'failure'; see: gh run view 4242 -R acme/widgets --log-failed\n",
    );
  });

  it('teardown removes the scale set, then the controller, then the cluster; again, nothing to do', () => {
    const dry = runScript('teardown.sh', ['--dry-run'], w.env);
    expect(dry.status).toBe(0);
    expect(commands(dry.stdout).map(step)).toEqual([
      'helm uninstall leviathan',
      'helm uninstall arc',
      'kind delete',
    ]);
    const before = mutations(w).length;
    const real = runScript('teardown.sh', [], w.env);
    expect(real.status).toBe(0);
    expect(mutations(w).length - before).toBe(3);
    const again = runScript('teardown.sh', [], w.env);
    expect(again.status).toBe(0);
    expect(commands(again.stdout)).toEqual([]);
    expect(again.stdout).toContain("nothing to do: cluster 'leviathan' does not exist");
    expect(again.stdout).toContain('gh variable delete LEVIATHAN_RUNS_ON');
  });
});

const hasShellcheck = onPath('shellcheck');
if (!hasShellcheck)
  console.warn(
    'skipped the shellcheck test in test/k8s/bootstrap.test.ts: shellcheck is not on PATH (.ci/run installs it)',
  );
(hasShellcheck ? it : it.skip)('the scripts pass shellcheck', () => {
  const files = ['bootstrap.sh', 'teardown.sh', 'lib.sh'].map((f) => join(K8S, f));
  const r = spawnSync('shellcheck', ['-x', ...files, join(ROOT, 'test/k8s/fake-tool.sh')], {
    encoding: 'utf8',
  });
  expect(r.stdout).toBe('');
  expect(r.status).toBe(0);
});
