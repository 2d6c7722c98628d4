import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readResultFile } from '../../src/executor/result-file.js';

let root: string;
let n = 0;
async function fresh(): Promise<string> {
  const dir = join(root, `r${n++}`, 'result');
  await mkdir(dir, { recursive: true });
  return join(dir, 'result.json');
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'leviathan-result-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('readResultFile (hostile result files)', () => {
  it('reads an honest report', async () => {
    const file = await fresh();
    await writeFile(file, '{"cost_usd": 1.5, "turns": 4}');
    expect(await readResultFile(file)).toEqual({ usage: { cost_usd_micros: 1_500_000, turns: 4 } });
  });

  it('no file is no report', async () => {
    expect(await readResultFile(await fresh())).toEqual({});
  });

  it('never follows a link to a file the agent could not read', async () => {
    const file = await fresh();
    const secret = join(root, 'secret.json');
    await writeFile(secret, '{"cost_usd": 99}');
    await symlink(secret, file);
    const r = await readResultFile(file);
    expect(r.usage).toBeUndefined();
    expect(r.warning).toMatch(/could not be opened/);
  });

  it('never follows a replaced directory', async () => {
    const file = await fresh();
    const dir = join(file, '..');
    await rm(dir, { recursive: true });
    const elsewhere = join(root, 'elsewhere');
    await mkdir(elsewhere, { recursive: true });
    await writeFile(join(elsewhere, 'result.json'), '{"cost_usd": 99}');
    await symlink(elsewhere, dir);
    expect(await readResultFile(file)).toEqual({ warning: expect.stringMatching(/replaced/) });
  });

  it('does not block on a FIFO', async () => {
    const file = await fresh();
    execFileSync('mkfifo', [file]);
    const r = await readResultFile(file);
    expect(r.usage).toBeUndefined();
    expect(r.warning).toMatch(/not a regular file/);
  });

  it('does not read a huge file', async () => {
    const file = await fresh();
    await writeFile(file, Buffer.alloc(8 * 1024 * 1024, 0x20));
    expect(await readResultFile(file)).toEqual({ warning: expect.stringMatching(/over 65536 bytes/) });
  });

  it('a directory in its place is a warning', async () => {
    const file = await fresh();
    await mkdir(file);
    expect((await readResultFile(file)).warning).toMatch(/not a regular file/);
  });
});
