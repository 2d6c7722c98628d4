/**
 * The private repository's refs read and moved as files (git's own lock protocol, no process), and the
 * in-process queue that keeps fetches into one private repository from overlapping (see ref-store.ts).
 */
import { mkdir, open as openFile, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Mode } from './ref-store-mode.js';

/**
 * Runs `fn` after every earlier task queued under `key` in this process. Fetches into one private repository
 * are serialised this way (they share its shallow file and tracking refs); other processes are handled by
 * retrying on git's lock errors.
 */
const queues = new Map<string, Promise<unknown>>();
export function exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(key) ?? Promise.resolve()).then(fn, fn);
  const tail = run.then(
    () => {},
    () => {},
  );
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

/**
 * A ref of the private repository read as a file (loose, else packed), null when it is not there, undefined
 * when the files cannot tell (another ref format): then the caller asks git.
 */
export async function readRefFile(mode: Mode, ref: string): Promise<string | null | undefined> {
  const dir = mode.lockKey;
  if (mode.remote === null || (await stat(join(dir, 'reftable')).catch(() => null))) return undefined;
  const loose = await readFile(join(dir, ref), 'utf8').catch(() => null);
  if (loose !== null) return /^[0-9a-f]{40,64}$/.test(loose.trim()) ? loose.trim() : undefined;
  const packed = await readFile(join(dir, 'packed-refs'), 'utf8').catch(() => '');
  for (const line of packed.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0 && line.slice(sp + 1) === ref && /^[0-9a-f]{40,64}$/.test(line.slice(0, sp)))
      return line.slice(0, sp);
  }
  return null;
}

/**
 * Moves a ref of the private repository by git's own file protocol (create `<ref>.lock` exclusively, write,
 * rename over the ref), without a process. False when it cannot (another ref format, a lock held by a git
 * of another process): then the caller asks git.
 */
export async function writeRefFile(mode: Mode, ref: string, oid: string): Promise<boolean> {
  const dir = mode.lockKey;
  if (mode.remote === null || (await stat(join(dir, 'reftable')).catch(() => null))) return false;
  const file = join(dir, ref);
  const lock = `${file}.lock`;
  try {
    await mkdir(dirname(file), { recursive: true });
  } catch {
    return false;
  }
  const handle = await openFile(lock, 'wx').catch(() => null);
  if (handle === null) return false;
  try {
    try {
      await handle.writeFile(`${oid}\n`);
    } finally {
      await handle.close();
    }
    await rename(lock, file);
    return true;
  } catch {
    await rm(lock, { force: true }).catch(() => {});
    return false;
  }
}
