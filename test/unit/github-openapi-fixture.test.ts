import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { OPERATIONS } from '../../scripts/extract-openapi.js';
import { fixtureOperations, GitHubSchema, loadFixture } from '../harness/github/schema.js';

/** Every file of the GitHub forge. */
function forgeSources(): string[] {
  const dir = 'src/forge/github';
  return ['src/forge/github.ts', ...readdirSync(dir).map((f) => join(dir, f))].map((f) =>
    readFileSync(f, 'utf8'),
  );
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

describe('the committed OpenAPI fixture', () => {
  it('records the @octokit/openapi version it was extracted from and holds exactly the chosen operations', () => {
    const fixture = loadFixture();
    expect(fixture.info['x-octokit-openapi-version']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(fixtureOperations(fixture).sort()).toEqual([...OPERATIONS].sort());
  });

  it('holds every operation the GitHub forge calls', async () => {
    const schema = await GitHubSchema.load();
    const ops = fixtureOperations();
    const called = new Set<string>();
    for (const text of forgeSources()) {
      for (const m of text.matchAll(/\.rest\.(\w+)\.(\w+)\(/g)) called.add(`${m[1]}/${kebab(m[2]!)}`);
      for (const m of text.matchAll(/request\(\s*'(GET|POST|PATCH|PUT|DELETE) ([^']+)'/g)) {
        const match = schema.match(m[1]!, m[2]!.replace(/\{[^}]+\}/g, 'x'));
        called.add(match?.operationId ?? `${m[1]} ${m[2]}`);
      }
    }
    expect(called.size).toBeGreaterThanOrEqual(9);
    expect([...called].filter((op) => !ops.includes(op))).toEqual([]);
  });
});
