/**
 * `src/core` is the pure domain (SPEC §6, docs/architecture.md): no file system, processes or network, and no
 * imports from other `src/` folders. This reads every file there and fails on any such import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';

const CORE_DIR = path.resolve(process.cwd(), 'src/core');

const FORBIDDEN_MODULES = new Set([
  'fs',
  'fs/promises',
  'child_process',
  'net',
  'http',
  'https',
  'http2',
  'dgram',
  'tls',
  'dns',
  'worker_threads',
  'cluster',
]);

/** Every module specifier in a file: static, type-only, re-exports, dynamic `import()` and `require()`. */
function specifiers(source: string): string[] {
  // preProcessFile tokenises, so commented-out imports and strings that merely mention a module do not count.
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** Why each import of `file` (relative to src/core) breaks purity. */
function purityViolations(source: string, file: string): string[] {
  const out: string[] = [];
  for (const spec of specifiers(source)) {
    const bare = spec.startsWith('node:') ? spec.slice('node:'.length) : spec;
    if (FORBIDDEN_MODULES.has(bare)) out.push(`${file}: imports ${spec} (I/O is not allowed in core)`);
    if (spec.startsWith('.') || spec.startsWith('/')) {
      const target = path.posix.normalize(path.posix.join('src/core', path.posix.dirname(file), spec));
      if (spec.startsWith('/') || !target.startsWith('src/core/')) {
        out.push(`${file}: imports ${spec}, which leaves src/core`);
      }
    }
  }
  return out;
}

function coreFiles(dir = CORE_DIR): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...coreFiles(full));
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name)) files.push(full);
  }
  return files;
}

describe('core purity', () => {
  it('finds the core files', () => {
    const names = coreFiles().map((f) => path.relative(CORE_DIR, f));
    expect(names).toEqual(expect.arrayContaining(['chain.ts', 'state.ts', 'select.ts', 'events.ts']));
  });

  it('no file in src/core does I/O or imports from outside src/core', () => {
    const violations = coreFiles().flatMap((f) =>
      purityViolations(readFileSync(f, 'utf8'), path.relative(CORE_DIR, f).split(path.sep).join('/')),
    );
    expect(violations).toEqual([]);
  });

  it.each([
    ["import { readFileSync } from 'node:fs';", 'node:fs'],
    ['import * as fs from "fs";', 'fs'],
    ["import { readFile } from 'node:fs/promises';", 'node:fs/promises'],
    ["import { execFile } from 'node:child_process';", 'node:child_process'],
    ["import cp from 'child_process';", 'child_process'],
    ["import net from 'node:net';", 'node:net'],
    ["import http from 'node:http';", 'node:http'],
    ["import https from 'node:https';", 'node:https'],
    ["import dgram from 'node:dgram';", 'node:dgram'],
    ["export { readFileSync } from 'fs';", 'fs'],
    ["const m = await import('node:http');", 'node:http'],
    ["const fs = require('fs');", 'fs'],
  ])('flags %s', (source, spec) => {
    const v = purityViolations(source, 'sample.ts');
    expect(v).toHaveLength(1);
    expect(v[0]).toContain(`imports ${spec}`);
  });

  it.each([
    "import { GitClient } from '../store/git.js';",
    "import type { Forge } from '../forge/forge.js';",
    "export * from '../scheduler/tick.js';",
    "import x from './nested/../../cli/index.js';",
    "import x from '/abs/elsewhere.js';",
  ])('flags an import that leaves src/core: %s', (source) => {
    expect(purityViolations(source, 'sample.ts')).toEqual([expect.stringContaining('leaves src/core')]);
  });

  it('allows pure imports: siblings, packages, node:crypto', () => {
    const source = [
      "import { z } from 'zod';",
      "import { createHash } from 'node:crypto';",
      "import type { State } from './state-types.js';",
      "import { x } from './sub/../paths.js';",
      "// import { readFileSync } from 'node:fs';",
      'const text = "import fs from \'fs\'";',
    ].join('\n');
    expect(purityViolations(source, 'sample.ts')).toEqual([]);
    expect(purityViolations("import { y } from '../paths.js';", 'sub/inner.ts')).toEqual([]);
  });
});
