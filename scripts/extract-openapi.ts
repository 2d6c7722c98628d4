/**
 * Extracts the REST operations Leviathan uses (with every component they reference) from GitHub's official
 * OpenAPI description in `@octokit/openapi` into the committed fixture the GitHub emulator validates against.
 * The package is ~400 MB, so it is not a dependency; install it only to refresh the fixture:
 *
 *   npm install --no-save @octokit/openapi && npx tsx scripts/extract-openapi.ts
 *
 * Add an operation here (and re-run) before the forge or the emulator uses it; `test/unit/github-openapi-fixture`
 * fails when the code calls an operation the fixture lacks.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const OPERATIONS = [
  'repos/get',
  'pulls/list',
  'pulls/get',
  'pulls/create',
  'pulls/update',
  'pulls/merge',
  'pulls/request-reviewers',
  'issues/get',
  'issues/create',
  'issues/update',
  'issues/list-for-repo',
  'issues/create-comment',
  'issues/list-comments',
  'issues/add-labels',
  'issues/set-labels',
  'actions/create-workflow-dispatch',
  'actions/list-workflow-runs-for-repo',
  'actions/get-workflow-run',
];

const OUT = 'test/harness/github/openapi.json';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function main(): void {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('@octokit/openapi/package.json');
  const version = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string }).version;
  const spec = JSON.parse(
    readFileSync(join(dirname(pkgFile), 'generated', 'api.github.com.json'), 'utf8'),
  ) as Record<string, Json> & {
    paths: Record<string, Record<string, Json>>;
    components: Record<string, Record<string, Json>>;
  };

  const paths: Record<string, Record<string, Json>> = {};
  const found = new Set<string>();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const id = (op as { operationId?: string }).operationId;
      if (id && OPERATIONS.includes(id)) {
        paths[path] ??= {};
        paths[path][method] = strip(op);
        found.add(id);
      }
    }
  }
  const missing = OPERATIONS.filter((id) => !found.has(id));
  if (missing.length > 0)
    throw new Error(`operations not in @octokit/openapi ${version}: ${missing.join(', ')}`);

  // Every component reachable from the chosen operations, transitively.
  const components: Record<string, Record<string, Json>> = {};
  const queue: Json[] = [paths as Json];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const node = queue.pop();
    if (Array.isArray(node)) queue.push(...node);
    else if (node && typeof node === 'object') {
      const ref = node.$ref;
      if (typeof ref === 'string' && !seen.has(ref)) {
        seen.add(ref);
        const [, , kind = '', name = ''] = ref.split('/');
        const target = strip(spec.components[kind]?.[name] ?? null);
        if (target === null) throw new Error(`unresolved ${ref}`);
        components[kind] ??= {};
        components[kind][name] = target;
        queue.push(target);
      }
      for (const value of Object.values(node)) queue.push(value);
    }
  }
  for (const kind of Object.keys(components)) {
    components[kind] = Object.fromEntries(
      Object.entries(components[kind]!).sort(([a], [b]) => a.localeCompare(b)),
    );
  }
  const info = spec.info as Record<string, Json>;
  const fixture = {
    openapi: spec.openapi,
    info: { title: info.title, version: info.version, 'x-octokit-openapi-version': version },
    servers: spec.servers,
    paths,
    components,
  };
  writeFileSync(OUT, `${JSON.stringify(fixture, null, 1)}\n`);
  console.log(`${OUT}: ${found.size} operations, ${seen.size} components from @octokit/openapi ${version}`);
}

/** Examples are documentation, not contract, and most of the size. */
function strip(node: Json): Json {
  if (Array.isArray(node)) return node.map(strip);
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k]) => k !== 'examples' && k !== 'example' && k !== 'x-github')
        .map(([k, v]) => [k, strip(v)]),
    );
  }
  return node;
}

if (process.argv[1]?.endsWith('extract-openapi.ts')) main();
