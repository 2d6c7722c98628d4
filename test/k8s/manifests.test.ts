/**
 * The kustomize manifests: `kubectl kustomize` builds the kind overlays, every object validates against its
 * Kubernetes schema (kubernetes-models), and the guardrails hold — runner egress only to DNS and HTTPS,
 * the quota fits maxRunners runners, no service account automounts a token, Pod Security labels.
 */

import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as core from 'kubernetes-models/v1';
import { K8S, type K8sObject, kustomize, onPath, readYaml } from '../helpers/k8s.js';

const MODELS: Record<string, Record<string, unknown>> = { v1: core, 'networking.k8s.io/v1': networking };

const hasKubectl = onPath('kubectl');
if (!hasKubectl)
  console.warn(
    'skipped test/k8s/manifests.test.ts: kubectl is not on PATH (kubectl kustomize renders the overlays)',
  );
const describeWithKubectl = hasKubectl ? describe : describe.skip;

type Model = { validate(): void };
function validate(obj: K8sObject): void {
  const Ctor = MODELS[obj.apiVersion]?.[obj.kind] as (new (data: unknown) => Model) | undefined;
  if (!Ctor) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind} (${obj.metadata.name})`);
  new Ctor(obj).validate();
}

/** Kubernetes quantities in base units (cores, bytes). */
function quantity(q: string | number): number {
  const m = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G)?$/.exec(String(q));
  if (!m) throw new Error(`not a quantity: ${q}`);
  const scale: Record<string, number> = {
    m: 1e-3,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
  };
  return Number(m[1]) * (m[2] ? scale[m[2]]! : 1);
}

function one(objs: K8sObject[], kind: string, name?: string): K8sObject & { spec: Record<string, unknown> } {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found).toHaveLength(1);
  return found[0] as K8sObject & { spec: Record<string, unknown> };
}

interface Rule {
  to: Record<string, unknown>[];
  ports: { protocol: string; port: number }[];
}

const scaleSet = readYaml<{
  maxRunners: number;
  template: {
    spec: { serviceAccountName: string; containers: { resources: Record<string, Record<string, string>> }[] };
  };
}>(join(K8S, 'arc/scale-set.values.yaml'));

describeWithKubectl('k8s/overlays/kind', () => {
  const objs = hasKubectl ? kustomize('overlays/kind') : [];

  it('renders exactly the expected objects, each valid against its schema', () => {
    const names = objs.map((o) => `${o.kind}/${o.metadata.namespace ?? '-'}/${o.metadata.name}`).sort();
    expect(names).toEqual([
      'LimitRange/leviathan-runners/runners',
      'Namespace/-/arc-systems',
      'Namespace/-/leviathan-runners',
      'NetworkPolicy/leviathan-runners/runner-egress',
      'ResourceQuota/leviathan-runners/runners',
      'ServiceAccount/arc-systems/default',
      'ServiceAccount/leviathan-runners/default',
      'ServiceAccount/leviathan-runners/leviathan-runner',
    ]);
    for (const obj of objs) expect(() => validate(obj)).not.toThrow();
  });

  it('the validation is real: a malformed object is rejected', () => {
    const quota = structuredClone(one(objs, 'ResourceQuota'));
    quota.spec.hard = 'lots';
    expect(() => validate(quota)).toThrow(/hard/);
  });

  it('runner egress: no ingress; out only DNS to kube-dns and TCP 443 to public addresses', () => {
    const np = one(objs, 'NetworkPolicy', 'runner-egress');
    expect(np.spec.podSelector).toEqual({});
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress ?? []).toEqual([]);
    const egress = np.spec.egress as Rule[];
    expect(egress).toHaveLength(2);
    const [dns, https] = egress as [Rule, Rule];
    expect(dns.to).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ]);
    expect(dns.ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
    expect(https.ports).toEqual([{ protocol: 'TCP', port: 443 }]);
    expect(https.to).toHaveLength(1);
    const block = https.to[0]!.ipBlock as { cidr: string; except: string[] };
    expect(block.cidr).toBe('0.0.0.0/0');
    for (const inner of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '127.0.0.0/8']) {
      expect(block.except).toContain(inner);
    }
  });

  it('the quota holds maxRunners runners at their limits, and a LimitRange gives defaults', () => {
    const hard = one(objs, 'ResourceQuota', 'runners').spec.hard as Record<string, string>;
    expect(hard).toMatchObject({
      pods: '4',
      'requests.cpu': '4',
      'limits.cpu': '8',
      persistentvolumeclaims: '0',
    });
    const res = scaleSet.template.spec.containers[0]!.resources;
    const n = scaleSet.maxRunners;
    expect(n).toBeGreaterThan(0);
    expect(Number(hard.pods)).toBeGreaterThanOrEqual(n);
    for (const kind of ['requests', 'limits'] as const) {
      for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
        expect(res[kind]![r]).toBeDefined();
        expect(n * quantity(res[kind]![r]!)).toBeLessThanOrEqual(quantity(hard[`${kind}.${r}`]!));
      }
    }
    const lr = one(objs, 'LimitRange', 'runners').spec.limits as Record<string, Record<string, string>>[];
    expect(lr[0]).toMatchObject({ type: 'Container' });
    expect(Object.keys(lr[0]!.default!).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
    expect(Object.keys(lr[0]!.defaultRequest!).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
  });

  it('no service account automounts a token, and the runners use one of them', () => {
    const sas = objs.filter((o) => o.kind === 'ServiceAccount');
    expect(sas).toHaveLength(3);
    for (const sa of sas) expect(sa.automountServiceAccountToken).toBe(false);
    const runnerSa = sas.find(
      (s) =>
        s.metadata.namespace === 'leviathan-runners' &&
        s.metadata.name === scaleSet.template.spec.serviceAccountName,
    );
    expect(runnerSa).toBeDefined();
  });

  it('Pod Security: the runner namespace enforces restricted; the controller namespace warns on it', () => {
    const labels = (name: string) => one(objs, 'Namespace', name).metadata.labels ?? {};
    expect(labels('leviathan-runners')['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(labels('arc-systems')).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
  });
});

describeWithKubectl('k8s/overlays/kind-pinned-egress (the https-cidrs component)', () => {
  const objs = hasKubectl ? kustomize('overlays/kind-pinned-egress') : [];

  it('HTTPS goes only to the named CIDRs; DNS, ingress and everything else stay as in kind', () => {
    const kind = kustomize('overlays/kind');
    const np = one(objs, 'NetworkPolicy', 'runner-egress');
    const [dns, https] = np.spec.egress as [Rule, Rule];
    expect(dns).toEqual((one(kind, 'NetworkPolicy', 'runner-egress').spec.egress as Rule[])[0]);
    expect(https.ports).toEqual([{ protocol: 'TCP', port: 443 }]);
    const cidrs = https.to.map((t) => (t.ipBlock as { cidr: string }).cidr);
    expect(cidrs.length).toBeGreaterThanOrEqual(2);
    for (const cidr of cidrs) {
      expect(cidr).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
      expect(cidr).not.toBe('0.0.0.0/0');
    }
    expect(cidrs).toContain('140.82.112.0/20'); // GitHub's API
    for (const obj of objs) expect(() => validate(obj)).not.toThrow();
    const rest = (os: K8sObject[]) => os.filter((o) => o.kind !== 'NetworkPolicy');
    expect(rest(objs)).toEqual(rest(kind));
  });
});

describe('k8s/kind/cluster.yaml', () => {
  const cluster = readYaml<{
    kind: string;
    apiVersion: string;
    name: string;
    nodes: { role: string; labels?: Record<string, string> }[];
  }>(join(K8S, 'kind/cluster.yaml'));
  const selector = (
    readYaml(join(K8S, 'arc/scale-set.values.yaml')) as {
      template: { spec: { nodeSelector: Record<string, string> } };
    }
  ).template.spec.nodeSelector;

  it('one control plane, and workers that carry the label the runner pods select', () => {
    expect(cluster).toMatchObject({
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      name: 'leviathan',
    });
    expect(cluster.nodes.filter((n) => n.role === 'control-plane')).toHaveLength(1);
    const workers = cluster.nodes.filter((n) => n.role === 'worker');
    expect(workers.length).toBeGreaterThanOrEqual(1);
    expect(Object.keys(selector)).toHaveLength(1);
    for (const w of workers) expect(w.labels).toMatchObject(selector);
    expect(cluster.nodes).toHaveLength(workers.length + 1);
  });
});
