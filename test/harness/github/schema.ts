/**
 * GitHub's OpenAPI description (the committed extract in `openapi.json`, see `scripts/extract-openapi.ts`) as
 * the emulator uses it: routing, request and response validation with Ajv (+ ajv-formats), and `sample()`,
 * which builds the smallest object a schema accepts so responses carry every required field.
 *
 * Ajv directly rather than openapi-backend: the latter loads an ESM-only reference parser through
 * `require`, which Jest's module runtime cannot do; the fixture's references are all local, so Ajv resolves
 * them itself.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = { [key: string]: Json };

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'openapi.json');

export interface Fixture {
  info: { version: string; 'x-octokit-openapi-version': string };
  paths: Record<string, Record<string, { operationId: string }>>;
  components: { schemas: Record<string, Schema> };
}

export function loadFixture(): Fixture {
  return JSON.parse(readFileSync(FIXTURE, 'utf8')) as Fixture;
}

/** The operation ids the fixture holds. */
export function fixtureOperations(fixture = loadFixture()): string[] {
  return Object.values(fixture.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
}

/**
 * Ajv accepts OpenAPI 3.0's `nullable` only next to a `type`; GitHub puts it next to `allOf`/`$ref` too. The
 * same meaning, spelled for Ajv: `anyOf: [schema, null]`.
 */
function nullableForAjv(node: Json): Json {
  if (Array.isArray(node)) return node.map(nullableForAjv);
  if (node && typeof node === 'object') {
    const out: Schema = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, nullableForAjv(v)]));
    if (out.nullable === true && out.type === undefined) {
      delete out.nullable;
      return { anyOf: [out, { type: 'null' }] };
    }
    return out;
  }
  return node;
}

interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Json;
}

interface Route {
  operationId: string;
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  params: ValidateFunction;
  query: ValidateFunction;
  body: ValidateFunction | null;
  responses: Map<string, ValidateFunction | null>;
}

export interface Match {
  operationId: string;
  /** The path template, e.g. `/repos/{owner}/{repo}/pulls/{pull_number}`. */
  template: string;
  params: Record<string, string>;
}

const COMPONENTS = 'github-components';

/** `#/components/...` → the components schema registered under its own id. */
function rebase(node: Json): Json {
  if (Array.isArray(node)) return node.map(rebase);
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${COMPONENTS}${v}` : rebase(v),
      ]),
    );
  }
  return node;
}

function newAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, coerceTypes: coerce ? 'array' : false });
  // ajv-formats is CommonJS: under ESM its function may be the default export's `default`.
  const mod = ajvFormats as unknown as { default?: (a: Ajv) => void };
  (mod.default ?? (ajvFormats as unknown as (a: Ajv) => void))(ajv);
  ajv.addFormat('repo.nwo', /^[^/]+\/[^/]+$/);
  return ajv;
}

function lines(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
  );
}

let shared: GitHubSchema | null = null;

export class GitHubSchema {
  private readonly routes: Route[] = [];
  private readonly basicError: ValidateFunction;

  private constructor(readonly fixture: Fixture) {
    const components = nullableForAjv(rebase(fixture.components as unknown as Json)) as Schema;
    const strictAjv = newAjv(false);
    const paramAjv = newAjv(true);
    for (const ajv of [strictAjv, paramAjv]) ajv.addSchema({ $id: COMPONENTS, components }, COMPONENTS);
    const resolve = (node: Json): Schema => {
      let n = node as Schema;
      while (typeof n?.$ref === 'string') {
        const [, kind = '', name = ''] = n.$ref.replace(/^#/, '').split('/').slice(1);
        n = (fixture.components as unknown as Record<string, Record<string, Schema>>)[kind]![name]!;
      }
      return n;
    };
    const compile = (ajv: Ajv, schema: Json) => ajv.compile(nullableForAjv(rebase(schema)) as Schema);
    this.basicError = compile(strictAjv, { $ref: '#/components/schemas/basic-error' });
    for (const [template, item] of Object.entries(fixture.paths)) {
      for (const [method, raw] of Object.entries(item)) {
        const op = raw as unknown as {
          operationId: string;
          parameters?: Json[];
          requestBody?: Json;
          responses: Record<string, Json>;
        };
        const params = (op.parameters ?? []).map((p) => resolve(p) as unknown as Param);
        const group = (where: Param['in']) => ({
          type: 'object',
          properties: Object.fromEntries(params.filter((p) => p.in === where).map((p) => [p.name, p.schema])),
          required: params.filter((p) => p.in === where && p.required).map((p) => p.name),
        });
        const names: string[] = [];
        const pattern = new RegExp(
          `^${template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
            names.push(name);
            return '([^/]+)';
          })}$`,
        );
        const bodySchema = op.requestBody
          ? (resolve(op.requestBody).content as Record<string, { schema: Json }> | undefined)?.[
              'application/json'
            ]?.schema
          : undefined;
        const responses = new Map<string, ValidateFunction | null>();
        for (const [status, response] of Object.entries(op.responses)) {
          const schema = (resolve(response).content as Record<string, { schema: Json }> | undefined)?.[
            'application/json'
          ]?.schema;
          responses.set(status, schema ? compile(strictAjv, schema) : null);
        }
        this.routes.push({
          operationId: op.operationId,
          method,
          template,
          pattern,
          names,
          params: compile(paramAjv, group('path') as unknown as Json),
          query: compile(paramAjv, group('query') as unknown as Json),
          body: bodySchema ? compile(strictAjv, bodySchema) : null,
          responses,
        });
      }
    }
  }

  /** One instance per process: compiling the validators is the expensive part. */
  static async load(): Promise<GitHubSchema> {
    shared ??= new GitHubSchema(loadFixture());
    return shared;
  }

  get version(): string {
    return this.fixture.info['x-octokit-openapi-version'];
  }

  match(method: string, path: string): Match | null {
    for (const route of this.routes) {
      if (route.method !== method.toLowerCase()) continue;
      const m = route.pattern.exec(path);
      if (!m) continue;
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? '')]));
      return { operationId: route.operationId, template: route.template, params };
    }
    return null;
  }

  private route(operationId: string): Route {
    const route = this.routes.find((r) => r.operationId === operationId);
    if (!route) throw new Error(`operation ${operationId} is not in the fixture`);
    return route;
  }

  /** Problems with a request, one line each (empty when valid). */
  requestErrors(
    operationId: string,
    request: { params: Record<string, string>; query: Record<string, string>; body: unknown },
  ): string[] {
    const route = this.route(operationId);
    const out: string[] = [];
    if (!route.params({ ...request.params })) out.push(...lines(route.params).map((l) => `path ${l}`));
    if (!route.query({ ...request.query })) out.push(...lines(route.query).map((l) => `query ${l}`));
    if (route.body && !route.body(request.body ?? {})) out.push(...lines(route.body).map((l) => `body ${l}`));
    if (!route.body && request.body !== undefined) out.push('body: this operation takes none');
    return out;
  }

  /** Problems with a response body for an operation and status, one line each (empty when valid). */
  responseErrors(operationId: string, status: number, body: unknown): string[] {
    const route = this.route(operationId);
    if (!route.responses.has(String(status))) {
      if (status >= 400)
        return this.basicError(body) ? [] : lines(this.basicError).map((l) => `error body ${l}`);
      return [`status ${status} is not documented for ${operationId}`];
    }
    const validate = route.responses.get(String(status));
    if (!validate) return body === undefined || body === null ? [] : [`status ${status} has no body`];
    return validate(body) ? [] : lines(validate);
  }

  /** The smallest value `#/components/schemas/<name>` accepts: every required property, placeholder values. */
  sample(name: string): Record<string, unknown> {
    return this.sampleOf({ $ref: `#/components/schemas/${name}` }, 0) as Record<string, unknown>;
  }

  private sampleOf(schema: Json, depth: number): unknown {
    if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return null;
    if (typeof schema.$ref === 'string') {
      const name = schema.$ref.split('/').pop() as string;
      return this.sampleOf(this.fixture.components.schemas[name] ?? null, depth + 1);
    }
    if (schema.nullable === true) return null;
    if (Array.isArray(schema.enum)) return schema.enum[0];
    const branches = (schema.allOf ?? schema.anyOf ?? schema.oneOf) as Json[] | undefined;
    if (Array.isArray(branches)) {
      if (schema.allOf) return Object.assign({}, ...branches.map((b) => this.sampleOf(b, depth)));
      return this.sampleOf(branches[0] ?? null, depth);
    }
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    switch (type) {
      case 'object': {
        const props = (schema.properties ?? {}) as Record<string, Json>;
        const required = (schema.required ?? []) as string[];
        return Object.fromEntries(required.map((key) => [key, this.sampleOf(props[key] ?? {}, depth)]));
      }
      case 'array':
        return [];
      case 'integer':
      case 'number':
        return typeof schema.minimum === 'number' ? schema.minimum : 1;
      case 'boolean':
        return false;
      case 'null':
        return null;
      case 'string':
        switch (schema.format) {
          case 'date-time':
            return '2026-01-01T00:00:00Z';
          case 'uri':
          case 'uri-template':
            return 'https://github.test/';
          case 'email':
            return 'leviathan@example.com';
          default:
            return '';
        }
      default:
        return {};
    }
  }
}
