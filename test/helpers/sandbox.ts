/** Shared set-up for the sandbox tests: PATHs without the sandbox tools, and a look for lingering processes. */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const HOSTILE = resolve('test/fixtures/hostile');

/** A directory of links to every program on PATH except `without`, to stand in for a machine lacking them. */
export async function pathWithout(dir: string, without: readonly string[]): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  for (const from of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const names = await readdir(from).catch(() => [] as string[]);
    for (const name of names) {
      if (without.includes(name)) continue;
      await symlink(join(from, name), join(bin, name)).catch(() => {});
    }
  }
  return bin;
}

let lingered = 0;
/**
 * A `sleep` duration no other test process uses, so `sleepers` finds only this test's processes even when
 * the same file runs twice at once on the machine.
 */
export function lingerSeconds(): number {
  lingered += 1;
  return 100_000 + (process.pid % 100_000) * 10 + (lingered % 10);
}

/** Host pids of running (not zombie) processes whose command line is exactly `sleep <seconds>`. */
export function sleepers(seconds: number): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
      if (cmd.join(' ') === `sleep ${seconds}` && state !== 'Z' && state !== 'X') found.push(Number(pid));
    } catch {
      // gone while we looked
    }
  }
  return found;
}
