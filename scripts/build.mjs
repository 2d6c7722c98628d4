// Bundles one file per entrypoint with ncc. Output is deterministic, committed, and diffed in CI.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';

const entrypoints = ['cli', 'scheduler', 'worker', 'worker-start', 'worker-finish'];
rmSync('dist', { recursive: true, force: true });
mkdirSync('dist');
for (const name of entrypoints) {
  const src = name === 'cli' ? 'src/cli/index.ts' : `src/actions/${name}.ts`;
  if (!existsSync(src)) continue;
  execFileSync('npx', ['ncc', 'build', src, '-o', `dist/${name}`, '--target', 'es2022', '-q'], {
    stdio: 'inherit',
  });
  rmSync(`dist/${name}/package.json`, { force: true });
}
writeFileSync('dist/package.json', '{ "type": "module" }\n');
