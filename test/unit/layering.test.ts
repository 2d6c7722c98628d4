/**
 * Dependencies point down (SPEC §6): cli/actions → scheduler/worker → forge/store/executor → core. The git
 * plumbing in `store/git.ts`, `store/ref-store.ts` (and its types, `store/ref-store-types.ts`) and
 * `store/remote-tips.ts` (the tips one `ls-remote` listed) is shared by its level (the executor collects
 * changes with it, the local forge keeps pull records with it). This reads every import in src/ and fails on any
 * that points up or sideways outside those.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';

const LEVEL: Record<string, number> = {
  core: 0,
  store: 1,
  forge: 1,
  executor: 1,
  scheduler: 2,
  worker: 2,
  cli: 3,
  actions: 3,
};
const SHARED_AT_LEVEL_1 = new Set([
  'store/git.ts',
  'store/ref-store.ts',
  'store/ref-store-types.ts',
  'store/remote-tips.ts',
]);

/** Why importing `target` (src-relative, e.g. `store/git.ts`) from `from` breaks the layering, or null. */
function layeringViolation(from: string, target: string): string | null {
  const [fromDir = ''] = from.split('/');
  const [toDir = ''] = target.split('/');
  if (fromDir === toDir) return null;
  const a = LEVEL[fromDir];
  const b = LEVEL[toDir];
  if (a === undefined || b === undefined) return `${from} → ${target}: unknown folder`;
  if (b < a) return null;
  if (b === a && a === 1 && SHARED_AT_LEVEL_1.has(target)) return null;
  return `${from} → ${target}: ${toDir} is not below ${fromDir}`;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

function imports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return ts
    .preProcessFile(source, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)).replace(/\.js$/, '.ts'));
}

describe('layering', () => {
  const SRC = 'src';
  const files = sourceFiles(SRC).map((f) => f.split(path.sep).join('/'));

  it('reads the whole tree', () => {
    expect(files.length).toBeGreaterThan(40);
  });

  it('every import in src/ points down', () => {
    const violations = files.flatMap((file) =>
      imports(file)
        .map((target) => layeringViolation(file.slice(SRC.length + 1), target.slice(SRC.length + 1)))
        .filter((v): v is string => v !== null),
    );
    expect(violations).toEqual([]);
  });

  it('flags upward and sideways imports', () => {
    expect(layeringViolation('core/state.ts', 'store/git.ts')).toMatch(/not below/);
    expect(layeringViolation('store/event-log.ts', 'scheduler/tick.ts')).toMatch(/not below/);
    expect(layeringViolation('worker/claim.ts', 'scheduler/tick.ts')).toMatch(/not below/);
    expect(layeringViolation('forge/local.ts', 'executor/changes.ts')).toMatch(/not below/);
    expect(layeringViolation('executor/changes.ts', 'store/git.ts')).toBeNull();
    expect(layeringViolation('cli/target.ts', 'forge/local.ts')).toBeNull();
  });
});
