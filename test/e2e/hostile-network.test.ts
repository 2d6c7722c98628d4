/**
 * `executor.network` through the real worker (issues 7 and 11): a task's `run:` command
 * (test/fixtures/hostile/push-origin.sh) tries `git push <origin-url> HEAD:main` to the test's git server on
 * 127.0.0.1 — one that takes pushes without a token, the worst case — and to reach it raw with node
 * `net.connect` and curl. Under `none` and the default (`allowlist`, empty list) every try fails and the
 * origin's refs are what Leviathan itself pushed; under `open` the same script writes `main`: the fence is
 * the network namespace, nothing else.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { tick } from '../../src/scheduler/tick.js';
import { runAttempt } from '../../src/worker/attempt.js';
import { renderAttemptMarkdown } from '../../src/worker/summary.js';
import { git } from '../harness/repo.js';
import { Clock, originRefs, pushedRefs, tickOptions, workerDeps } from '../helpers/loop.js';
import { serverBed } from '../helpers/server-bed.js';

const SCRIPT = join(resolve('test/fixtures/hostile'), 'push-origin.sh');
const OWN_REF =
  /^refs\/(heads\/(leviathan\/[a-z0-9._-]+|leviathan-wip\/[a-z0-9._-]+\/[0-9A-Z]+|leviathan-events)|leviathan\/pulls)$/;

const config = (network: string) => `version: 1
scope:
  allowed_paths: [".leviathan/**", "docs/**"]
limits:
  max_dispatches_per_hour: 20
  attempt_timeout_minutes: 2
${network ? `executor:\n  network: ${network}\n` : ''}`;

const backlog = (url: string, extra = '') => `version: 1
tasks:
  - id: push-origin
    title: Write the notes (and push to main)
    ready: true
    allowed_paths: ["docs/**"]
    run: [${JSON.stringify(`sh ${SCRIPT} ${url}${extra}`)}]
`;

const bed = serverBed('network');

async function attack(network: string, extra = '') {
  const clock = new Clock('2026-12-03T10:00:00.000Z');
  // The backlog needs the URL, which needs the repository: seed, then write the real backlog.
  const target = await bed.seed({ config: config(network), backlog: 'version: 1\ntasks: []\n' });
  await git(target.dir, ['config', 'user.name', 'm']);
  await git(target.dir, ['config', 'user.email', 'm@x']);
  await writeFile(join(target.dir, '.leviathan', 'backlog.yaml'), backlog(target.url, extra));
  await git(target.dir, ['commit', '-qam', 'backlog']);
  await git(target.dir, ['push', '-q', 'origin', 'HEAD:main']);
  const before = await originRefs(target);
  const pushesBefore = (await pushedRefs(target)).length;
  clock.minutes(1);
  const report = await tick(tickOptions(target.dir, clock.now));
  expect(report.task).toBe('push-origin');
  clock.advance(5_000);
  const deps = await workerDeps(target, clock.now);
  // The script lives in this checkout, which the sandbox hides like any other.
  deps.env = { ...deps.env, LEVIATHAN_SANDBOX_SHOW: dirname(SCRIPT) };
  const result = await runAttempt(deps, report.task!, report.attempt!);
  const after = await originRefs(target);
  const branch = after.get('refs/heads/leviathan/push-origin');
  const text = branch ? await git(target.bare, ['show', `${branch}:docs/network-report.md`]) : '';
  return {
    target,
    result,
    summary: renderAttemptMarkdown(result),
    before,
    after,
    pushes: (await pushedRefs(target)).slice(pushesBefore),
    text,
  };
}

describe.each([
  ['none', 'none'],
  ['the default (allowlist, empty list)', ''],
])('executor.network: %s', (_label, network) => {
  it('the hostile command cannot push to the origin on 127.0.0.1 nor reach it raw; refs unchanged', async () => {
    const { result, before, after, pushes, text } = await attack(network);
    expect(result.outcome).toMatchObject({ status: 'succeeded' });
    expect(text).toMatch(/^push main: failed$/m);
    expect(text).toMatch(/^push pwned: failed$/m);
    expect(text).toMatch(/^node: (ECONNREFUSED|ENETUNREACH|timeout)$/m);
    expect(text).toMatch(/^curl: failed$/m);
    expect(text).not.toMatch(/pushed|connected|reached/);
    expect(after.get('refs/heads/main')).toBe(before.get('refs/heads/main'));
    expect(after.has('refs/heads/pwned')).toBe(false);
    // Only Leviathan's own refs moved: its task branch, the event log, the pull records.
    for (const p of pushes) expect(p.ref).toMatch(OWN_REF);
  });
});

describe('executor.network: open (the host network, documented as a risk)', () => {
  it('the same command writes the base branch: the namespace is what stops it', async () => {
    const { before, after } = await attack('open');
    expect(after.get('refs/heads/main')).not.toBe(before.get('refs/heads/main'));
    expect(after.has('refs/heads/pwned')).toBe(true);
  });
});

describe('executor.network: allowlist with a name listed', () => {
  it('the push still fails (the origin is not listed, raw IPs never are) and each refused host is in the summary', async () => {
    const curl =
      ' && curl -s -m 5 https://evil.example.net/ ; curl -s -m 5 --noproxy "" https://127.0.0.1/ ; true';
    const { result, before, after, pushes, text, summary } = await attack(
      'allowlist\n  network_allow: [api.example.test]',
      curl,
    );
    expect(result.outcome).toMatchObject({ status: 'succeeded' });
    expect(text).toMatch(/^push main: failed$/m);
    expect(after.get('refs/heads/main')).toBe(before.get('refs/heads/main'));
    for (const p of pushes) expect(p.ref).toMatch(OWN_REF);
    const hosts = (result.egress_refused ?? []).map((r) => `${r.host}:${r.port}`);
    // 127.0.0.1 is in NO_PROXY, so git and curl go direct and find no route; told to use the proxy, curl is
    // refused there (a raw IP), as is the unlisted name.
    expect(hosts).toEqual(expect.arrayContaining(['evil.example.net:443', '127.0.0.1:443']));
    expect(summary).toContain('**Network egress refused**');
    expect(summary).toContain('`evil.example.net:443` — not in executor.network_allow');
    expect(summary).toContain('`127.0.0.1:443` — a raw IP address');
  });
});
