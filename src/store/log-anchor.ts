/**
 * The anchor: a local record of the last event-log tip this machine verified, so a tip that does not extend
 * it (rolled back, re-chained, truncated, the branch deleted) is caught even when every hash checks out.
 * Kept in `$LEVIATHAN_STATE_DIR`, else `$XDG_STATE_HOME/leviathan`, else `~/.local/state/leviathan`, one file
 * per events ref of one origin, outside any checkout (an agent's work tree never reaches it).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Anchor {
  commit: string | null;
  seq: number;
  hash: string | null;
  /** SHA-256 of the tip's state.json text (null when unknown). */
  state: string | null;
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LEVIATHAN_STATE_DIR) return env.LEVIATHAN_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'leviathan');
  return join(env.HOME || homedir(), '.local', 'state', 'leviathan');
}

export class AnchorFile {
  readonly path: string;

  /** `where`: what identifies the log (the origin URL without credentials and the ref). */
  constructor(
    readonly where: string,
    dir: string = stateDir(),
  ) {
    const id = createHash('sha256').update(where).digest('hex').slice(0, 32);
    this.path = join(dir, 'anchors', `${id}.json`);
  }

  async read(): Promise<Anchor | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return null;
    }
    try {
      const a = JSON.parse(text) as Anchor;
      return typeof a.seq === 'number' ? a : null;
    } catch {
      return null;
    }
  }

  /** Records `anchor` unless the file already holds a later seq (another process saw further). */
  async write(anchor: Anchor): Promise<void> {
    const current = await this.read();
    if (current && current.seq > anchor.seq) return;
    if (current && current.commit === anchor.commit && current.state === anchor.state) return;
    await mkdir(join(this.path, '..'), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await writeFile(tmp, `${JSON.stringify({ where: this.where, ...anchor })}\n`, { mode: 0o600 });
    await rename(tmp, this.path);
  }
}
