/**
 * The agent job's work tree comes back as a tar artifact, and the agent job is untrusted: the archive is data
 * to be judged, never extracted by a tool that trusts it. It is size-capped before it is read, every header is
 * checked (no absolute path, no `..`, nothing under `.git/`, no hard link or device, no symlink leading out,
 * no member or total above the caps, bounded member count) before anything is written, and only then are the
 * members written by this code into the checkout.
 */
import { mkdir, open, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { FailureReason } from '../core/events.js';

export interface ArtifactLimits {
  /** The archive file itself. */
  maxArchiveBytes: number;
  /** Any one member. */
  maxMemberBytes: number;
  /** All members together (a tar bomb's declared sizes). */
  maxTotalBytes: number;
  maxMembers: number;
}

export const DEFAULT_ARTIFACT_LIMITS: ArtifactLimits = {
  maxArchiveBytes: 512 * 1024 * 1024,
  maxMemberBytes: 64 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
  maxMembers: 50_000,
};

export class ArtifactRefused extends Error {
  override readonly name = 'ArtifactRefused';
  constructor(
    readonly reason: Extract<FailureReason, 'scope_violation' | 'limit_exceeded'>,
    message: string,
  ) {
    super(message);
  }
}

interface Member {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  offset: number;
  linkTarget?: string;
}

const BLOCK = 512;

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(header: Buffer, start: number, length: number): number {
  if (header[start]! & 0x80) {
    // GNU base-256: a huge size, which is exactly what the caps are for.
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + header[i]!;
    return value;
  }
  const text = field(header, start, length).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function parsePax(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = body;
  while (rest.length > 0) {
    const space = rest.indexOf(' ');
    const length = Number(rest.slice(0, space));
    if (!Number.isFinite(length) || length <= 0) break;
    const record = rest.slice(space + 1, length - 1);
    const eq = record.indexOf('=');
    out[record.slice(0, eq)] = record.slice(eq + 1);
    rest = rest.slice(length);
  }
  return out;
}

/** The member's path, normalised, or a refusal: absolute, `..`, or inside `.git`. */
function safePath(raw: string): string {
  const trimmed = raw.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) {
    throw new ArtifactRefused(
      'scope_violation',
      `artifact member ${JSON.stringify(raw)} is an absolute path`,
    );
  }
  const parts = trimmed.split('/');
  if (parts.includes('..')) {
    throw new ArtifactRefused(
      'scope_violation',
      `artifact member ${JSON.stringify(raw)} leaves the work tree (..)`,
    );
  }
  const path = posix.normalize(trimmed);
  if (path === '.git' || path.startsWith('.git/')) {
    throw new ArtifactRefused('scope_violation', `artifact member ${JSON.stringify(raw)} is inside .git`);
  }
  return path;
}

/** Reads and checks every header; returns the members, or throws `ArtifactRefused`. */
export async function inspectArchive(
  file: string,
  limits: ArtifactLimits = DEFAULT_ARTIFACT_LIMITS,
): Promise<Member[]> {
  const size = (await stat(file)).size;
  if (size > limits.maxArchiveBytes) {
    throw new ArtifactRefused(
      'limit_exceeded',
      `artifact is ${size} bytes, above the ${limits.maxArchiveBytes}-byte cap`,
    );
  }
  const handle = await open(file, 'r');
  try {
    const members: Member[] = [];
    let offset = 0;
    let total = 0;
    let pending: Record<string, string> = {};
    const header = Buffer.alloc(BLOCK);
    while (offset + BLOCK <= size) {
      await handle.read(header, 0, BLOCK, offset);
      if (header.every((b) => b === 0)) break;
      const type = String.fromCharCode(header[156]!) || '0';
      const declared = Number(pending.size ?? octal(header, 124, 12));
      const dataOffset = offset + BLOCK;
      const next = dataOffset + Math.ceil(declared / BLOCK) * BLOCK;
      if (type === 'x' || type === 'L' || type === 'K') {
        if (declared > 1024 * 1024)
          throw new ArtifactRefused('limit_exceeded', 'artifact has an oversized extended header');
        const body = Buffer.alloc(declared);
        await handle.read(body, 0, declared, dataOffset);
        if (type === 'x') pending = { ...pending, ...parsePax(body.toString('utf8')) };
        else if (type === 'L') pending.path = field(body, 0, declared);
        else pending.linkpath = field(body, 0, declared);
        offset = next;
        continue;
      }
      if (type === 'g') {
        offset = next;
        continue;
      }
      const prefix = field(header, 345, 155);
      const name = pending.path ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      const linkTarget = pending.linkpath ?? field(header, 157, 100);
      pending = {};
      if (members.length + 1 > limits.maxMembers) {
        throw new ArtifactRefused('limit_exceeded', `artifact has more than ${limits.maxMembers} members`);
      }
      if (declared > limits.maxMemberBytes) {
        throw new ArtifactRefused(
          'limit_exceeded',
          `artifact member ${JSON.stringify(name)} is ${declared} bytes, above the ${limits.maxMemberBytes}-byte cap`,
        );
      }
      total += declared;
      if (total > limits.maxTotalBytes) {
        throw new ArtifactRefused(
          'limit_exceeded',
          `artifact members add up to more than ${limits.maxTotalBytes} bytes`,
        );
      }
      if (next > size && declared > 0) {
        throw new ArtifactRefused(
          'limit_exceeded',
          `artifact member ${JSON.stringify(name)} declares more data than the archive holds`,
        );
      }
      const path = safePath(name);
      const mode = octal(header, 100, 8);
      if (type === '5') {
        if (path !== '.') members.push({ path, type: 'dir', mode, size: 0, offset: dataOffset });
      } else if (type === '0' || type === '\0' || type === '7') {
        members.push({ path, type: 'file', mode, size: declared, offset: dataOffset });
      } else if (type === '2') {
        const resolved = posix.normalize(posix.join(posix.dirname(path), linkTarget));
        if (linkTarget.startsWith('/') || resolved === '..' || resolved.startsWith('../')) {
          throw new ArtifactRefused(
            'scope_violation',
            `artifact symlink ${path} points outside the work tree (${linkTarget})`,
          );
        }
        members.push({ path, type: 'symlink', mode, size: 0, offset: dataOffset, linkTarget });
      } else {
        throw new ArtifactRefused(
          'scope_violation',
          `artifact member ${path} is a ${type === '1' ? 'hard link' : `type-${type} entry`}, which is not allowed`,
        );
      }
      offset = next;
    }
    // A member reached through a symlinked directory would land outside the tree: refuse it.
    const links = new Set(members.filter((m) => m.type === 'symlink').map((m) => m.path));
    for (const m of members) {
      const parts = m.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        if (links.has(parts.slice(0, i).join('/'))) {
          throw new ArtifactRefused(
            'scope_violation',
            `artifact member ${m.path} is written through a symlink`,
          );
        }
      }
    }
    return members;
  } finally {
    await handle.close();
  }
}

/**
 * Replaces the checkout's work tree (everything but `.git`) with the archive's members, after every check
 * passed. Deletions the agent made show up as files missing from the archive.
 */
export async function unpackWorkTree(
  file: string,
  dest: string,
  limits: ArtifactLimits = DEFAULT_ARTIFACT_LIMITS,
): Promise<number> {
  const members = await inspectArchive(file, limits);
  for (const entry of await readdir(dest)) {
    if (entry !== '.git') await rm(join(dest, entry), { recursive: true, force: true });
  }
  const handle = await open(file, 'r');
  try {
    for (const m of members) {
      const target = join(dest, m.path);
      if (m.type === 'dir') {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      await rm(target, { recursive: true, force: true });
      if (m.type === 'symlink') {
        await symlink(m.linkTarget!, target);
        continue;
      }
      const body = Buffer.alloc(m.size);
      if (m.size > 0) await handle.read(body, 0, m.size, m.offset);
      await writeFile(target, body, { mode: m.mode & 0o111 ? 0o755 : 0o644 });
    }
    return members.length;
  } finally {
    await handle.close();
  }
}

/**
 * Where the agent job leaves the spend it reported, beside the work-tree archive (`leviathan-result.json`): the
 * upload step ships both and finish reads it back from the same place as the downloaded archive.
 */
export function archiveResultFile(archive: string): string {
  return join(dirname(archive), 'leviathan-result.json');
}
