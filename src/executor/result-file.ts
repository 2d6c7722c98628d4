import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseResultFile, RESULT_FILE_MAX_BYTES, type ResultFileReading } from '../core/usage.js';

/**
 * Reads `LEVIATHAN_RESULT_FILE` after the agent is gone, as the agent's data: never through a link (of the
 * file or of its directory), only a regular file (a FIFO would block, a device would never end), at most the
 * cap plus one byte, then parsed by core/usage.ts. Never throws: what cannot be read is a warning.
 */
export async function readResultFile(path: string): Promise<ResultFileReading> {
  try {
    const dir = await lstat(dirname(path));
    if (!dir.isDirectory()) return { warning: 'the result file directory was replaced; ignored' };
  } catch {
    return {};
  }
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    return { warning: `the result file could not be opened (${code ?? 'error'}); ignored` };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { warning: 'the result file is not a regular file; ignored' };
    if (stat.size > RESULT_FILE_MAX_BYTES) {
      return { warning: `the result file is over ${RESULT_FILE_MAX_BYTES} bytes; ignored` };
    }
    const buffer = Buffer.alloc(RESULT_FILE_MAX_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return parseResultFile(buffer.subarray(0, length));
  } catch (error) {
    return { warning: `the result file could not be read (${(error as Error).message}); ignored` };
  } finally {
    await handle.close().catch(() => {});
  }
}
