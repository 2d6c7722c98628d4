/**
 * ARC's Helm values and the runner image: every key of k8s/arc/scale-set.values.yaml exists in the
 * chart's values (a vendored copy of the pinned chart's file, and ../shared's when present), the runner pod
 * passes Pod Security "restricted" and the PodSpec schema, the AutoscalingRunnerSet these values render
 * validates against ARC's CRD (when ../shared/arc-crds is present), and the Dockerfile matches versions.env.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import * as core from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { arcCrdsDir, chartKeyPaths, K8S, ROOT, readYaml, valueKeyPaths, versions } from '../helpers/k8s.js';

// biome-ignore lint/suspicious/noExplicitAny: the values are YAML read as data
type Values = Record<string, any>;
const VALUES_FILE = join(K8S, 'arc/scale-set.values.yaml');
const values = readYaml<Values>(VALUES_FILE);
/** Below these the values are PodSpecs: their keys are checked by the PodSpec schema, not the chart. */
const POD_SPECS = ['template.spec', 'listenerTemplate.spec'];
const VENDORED_CHART_VALUES = join(ROOT, 'test/fixtures/arc/gha-runner-scale-set.values.yaml');
const crds = arcCrdsDir();
if (!crds) {
  console.warn(
    'skipped the AutoscalingRunnerSet CRD check in test/k8s/arc-values.test.ts: ../shared/arc-crds is not beside the repository (set ARC_CRDS_DIR to use another copy)',
  );
}

function unknownKeys(vals: Values, chartValuesText: string): string[] {
  const known = chartKeyPaths(chartValuesText);
  return valueKeyPaths(vals, POD_SPECS).filter((p) => !known.has(p));
}

describe('k8s/arc/scale-set.values.yaml against the chart', () => {
  it('every key exists in the chart values (commented-out optional keys included)', () => {
    expect(unknownKeys(values, readFileSync(VENDORED_CHART_VALUES, 'utf8'))).toEqual([]);
    if (crds)
      expect(
        unknownKeys(values, readFileSync(join(crds, 'gha-runner-scale-set.values.yaml'), 'utf8')),
      ).toEqual([]);
  });

  it('the check is real: a misspelt or invented key is reported', () => {
    const bad = {
      ...values,
      maxRunner: 3,
      listenerTemplate: { spec: {} },
      githubConfigSecret: { github_tokn: 'x' },
    };
    expect(unknownKeys(bad, readFileSync(VENDORED_CHART_VALUES, 'utf8'))).toEqual([
      'githubConfigSecret.github_tokn',
      'maxRunner',
    ]);
  });

  it('the scale set is "leviathan", scales from 0 to a bound, and names its secret without inlining it', () => {
    expect(values.runnerScaleSetName).toBe('leviathan');
    expect(readFileSync(join(K8S, 'lib.sh'), 'utf8')).toMatch(/^SCALE_SET=leviathan\b/m);
    expect(values.minRunners).toBe(0);
    expect(Number.isInteger(values.maxRunners) && values.maxRunners > 0).toBe(true);
    expect(typeof values.githubConfigSecret).toBe('string');
    expect(values.githubConfigSecret).toBe('leviathan-github-app');
    expect(readFileSync(VALUES_FILE, 'utf8')).not.toMatch(
      /github_app_private_key|github_token|BEGIN .*PRIVATE KEY/,
    );
  });

  it('the runner pod uses the built image with requests and limits, and passes Pod Security "restricted"', () => {
    const spec = values.template.spec;
    expect(() => new core.PodSpec(spec).validate()).not.toThrow();
    expect(() => new core.PodSpec(values.listenerTemplate.spec).validate()).not.toThrow();
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
    expect(spec.volumes ?? []).toEqual([]);
    const [runner, ...others] = spec.containers;
    expect(others).toEqual([]);
    expect(runner.name).toBe('runner');
    expect(runner.image).toBe(versions().RUNNER_IMAGE);
    expect(Object.keys(runner.resources.requests).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
    expect(Object.keys(runner.resources.limits).sort()).toEqual(['cpu', 'ephemeral-storage', 'memory']);
    for (const c of [runner, values.listenerTemplate.spec.containers[0]]) {
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
      expect(c.securityContext.privileged).toBeUndefined();
    }
    expect(values.containerMode).toBeUndefined(); // dind needs a privileged sidecar
  });
});

/** Fields a structural schema does not declare: the API server would drop them without a word. */
// biome-ignore lint/suspicious/noExplicitAny: walking an OpenAPI schema
function prunedFields(schema: any, value: unknown, path: string): string[] {
  if (!schema || schema['x-kubernetes-preserve-unknown-fields']) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => prunedFields(schema.items, v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const sub =
      schema.properties?.[k] ??
      (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (!sub && schema.additionalProperties !== true) return [`${path}.${k}`];
    return prunedFields(sub, v, `${path}.${k}`);
  });
}

(crds ? describe : describe.skip)('the AutoscalingRunnerSet these values render, against ARC CRD', () => {
  const crd = crds
    ? (parseAllDocuments(readFileSync(join(crds!, 'actions.github.com_autoscalingrunnersets.yaml'), 'utf8'))
        .map((d) => d.toJS())
        .find((d) => d?.kind === 'CustomResourceDefinition') as Values)
    : {};
  const version = crds ? crd.spec.versions.find((v: Values) => v.storage) : undefined;
  // What `helm template` makes of our values (the chart maps them one to one onto the spec).
  const ars = {
    apiVersion: `${crd.spec?.group}/${version?.name}`,
    kind: 'AutoscalingRunnerSet',
    metadata: { name: values.runnerScaleSetName, namespace: 'leviathan-runners' },
    spec: {
      githubConfigUrl: 'https://github.com/acme/widgets',
      githubConfigSecret: values.githubConfigSecret,
      runnerScaleSetName: values.runnerScaleSetName,
      minRunners: values.minRunners,
      maxRunners: values.maxRunners,
      listenerTemplate: values.listenerTemplate,
      template: values.template,
    },
  };
  const schema = version?.schema?.openAPIV3Schema;
  const validateArs = crds
    ? new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema)
    : () => true;

  it('validates, and declares every field it sets', () => {
    expect(crd.spec.names.kind).toBe('AutoscalingRunnerSet');
    const ok = validateArs(ars);
    expect((validateArs as { errors?: unknown }).errors ?? null).toBeNull();
    expect(ok).toBe(true);
    expect(prunedFields(schema.properties.spec, ars.spec, '.spec')).toEqual([]);
  });

  it('the check is real: a wrong type and an undeclared field are caught', () => {
    const bad = structuredClone(ars) as Values;
    bad.spec.maxRunners = 'many';
    expect(validateArs(bad)).toBe(false);
    bad.spec.maxRunners = 4;
    bad.spec.template.spec.containers[0].imagePullPolicyy = 'Never';
    expect(prunedFields(schema.properties.spec, bad.spec, '.spec')).toEqual([
      '.spec.template.spec.containers[0].imagePullPolicyy',
    ]);
  });
});

describe('k8s/runner/Dockerfile', () => {
  const text = readFileSync(join(K8S, 'runner/Dockerfile'), 'utf8');
  const v = versions();

  it('pins both bases by digest, with the defaults equal to versions.env', () => {
    for (const name of ['RUNNER_BASE_IMAGE', 'NODE_IMAGE']) {
      expect(v[name]).toMatch(/^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
      expect(text).toContain(`ARG ${name}=${v[name]}\n`);
    }
    expect(v.RUNNER_BASE_IMAGE).toMatch(/^ghcr\.io\/actions\/actions-runner:/);
    expect(v.NODE_IMAGE).toMatch(/\/node:24\./);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile ARG references, not JS templates
    expect(text.match(/^FROM .*/gm)).toEqual(['FROM ${NODE_IMAGE} AS node', 'FROM ${RUNNER_BASE_IMAGE}']);
    expect(v.ARC_CHART_VERSION).toMatch(/^0\.14\.\d+$/);
  });

  it('adds git, util-linux, bubblewrap and Node 24, and ends as the non-root runner user', () => {
    const install = /apt-get install[^\n]*/.exec(text)?.[0] ?? '';
    for (const pkg of ['git', 'util-linux', 'bubblewrap']) expect(install.split(/\s+/)).toContain(pkg);
    expect(text).toContain("node --version | grep -q '^v24\\.'");
    const users = text.match(/^USER .*/gm) ?? [];
    expect(users.at(-1)).toBe('USER runner');
  });
});
