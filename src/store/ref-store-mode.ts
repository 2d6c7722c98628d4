/**
 * How a ref store reaches its data: remote mode (a private bare repository under `.git/leviathan/`) or local
 * mode (the repository is its own store), opened once per store, and the git messages it tells apart.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { notARepository } from '../core/hints.js';
import { Git, gitMessage } from './git.js';
import { LooseObjectWriter } from './object-writer.js';
import { RefStoreError, type RefStoreOptions } from './ref-store-types.js';

export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

export function isRemoteUrl(url: string): boolean {
  // scheme://… or scp-like user@host:path; anything else is a local path.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/:]+:/.test(url);
}

export const AUTH_FAILURE =
  /Authentication failed|could not read Username|could not read Password|terminal prompts disabled|returned error: 40[13]|HTTP 40[13]/i;
// Another process of this machine working in the same private repository at the same moment.
export const LOCK_FAILURE =
  /\.lock'?: File exists|Unable to create '.*\.lock'|cannot lock ref|unable to lock|shallow\.lock|shallow file has changed/i;
export const MISSING_REF = /couldn't find remote ref|no such ref was fetched/i;
export const LOST_RACE =
  /stale info|fetch first|non-fast-forward|cannot lock ref|failed to update ref|incorrect old value|but expected|failed to lock/i;

/** Loose objects in the private repository above which it is packed (see `open`). */
const AUX_LOOSE_LIMIT_KIB = 64 * 1024;
/** Loose-object fan-out directories (of 256) from which their size is worth asking git for. */
const AUX_LOOSE_DIRS_CHECK = 128;

export interface TipInfo {
  commit: string;
  tree: string;
  message: string;
  /** Fetched without blobs: check for missing blobs before reading (else cat-file fetches them lazily). */
  filtered: boolean;
}

export interface Mode {
  git: Git;
  /** The repository whose fetches must not overlap (see `exclusive`). */
  lockKey: string;
  /** Null in local mode (the repository is its own store). */
  remote: string | null;
  /** Where the tip is tracked: a private ref in remote mode, the ref itself in local mode. */
  trackingRef: string;
  /** For messages. */
  where: string;
  /** The remote's URL (null in local mode): the key of the tips an `ls-remote` saw (see remote-tips.ts). */
  url: string | null;
  /** Remote mode: objects are written into the private repository without git (object-writer.ts). */
  writer: LooseObjectWriter | null;
}

/** Opens the store of `options`: local mode (the repository is its own store) or remote mode. */
export async function openMode(options: RefStoreOptions, ref: string, remoteName: string): Promise<Mode> {
  const shared = options.probe;
  const user = shared?.cwd === options.dir ? shared : new Git(options.dir, options.token);
  const layout = await user.layout();
  if (layout === null) {
    throw new RefStoreError('bad_repository', notARepository(options.dir));
  }
  const { commonDir, objectFormat } = layout;
  const cfg = await user.localConfig(remoteName);
  let url = cfg.url;
  const headers = cfg.headers;
  if (url === null) {
    const git = new Git(options.dir, options.token);
    const head = await git.run(['symbolic-ref', '-q', 'HEAD'], { allowFailure: true });
    if (head.stdout.trim() === ref) {
      throw new RefStoreError(
        'bad_repository',
        `${ref} is checked out in ${options.dir}; switch away from it`,
      );
    }
    return {
      git,
      lockKey: commonDir,
      remote: null,
      trackingRef: ref,
      where: `the local repository ${options.dir}`,
      url: null,
      writer: null,
    };
  }
  if (!isRemoteUrl(url) && !isAbsolute(url)) {
    // git resolves a relative remote path against the top level (a bare repository: its git dir); the
    // private repository lives elsewhere, so it gets the absolute path.
    const top = await user.probe(['rev-parse', '--show-toplevel']);
    url = resolve(top.exitCode === 0 ? top.stdout.trim() : commonDir, url);
  }

  const aux = join(commonDir, 'leviathan', `${remoteName.replace(/[^A-Za-z0-9._-]/g, '_')}.git`);
  await ensureAuxRepo(aux, objectFormat, url);
  // The checkout's own credentials (actions/checkout keeps an extraheader in .git/config) still apply when
  // no token was given; with a token, only the token is sent.
  const git = new Git(aux, options.token, { GIT_DIR: aux }, options.token ? [] : headers);
  // The private repository's own config and object directories are read as files: no git process for
  // what is nearly always "unchanged" (a tick opens two stores).
  if ((await auxRemoteUrl(aux)) !== url) await git.run(['config', 'remote.origin.url', url]);
  // Every append leaves loose objects (a snapshot blob each time); in a long-lived checkout, pack them now
  // and then. Unreachable ones older than an hour go: nothing in flight is that old.
  if ((await looseObjectDirs(aux)) >= AUX_LOOSE_DIRS_CHECK) {
    const objects = await git.run(['count-objects', '-v'], { allowFailure: true });
    const looseKiB = Number(/^size: (\d+)$/m.exec(objects.stdout)?.[1] ?? 0);
    if (looseKiB > AUX_LOOSE_LIMIT_KIB)
      await git.run(['gc', '--quiet', '--prune=1.hour.ago'], { allowFailure: true });
  }
  return {
    git,
    lockKey: aux,
    remote: 'origin',
    trackingRef: `refs/leviathan/remotes/${remoteName}/${ref.slice('refs/'.length)}`,
    where: redactUrl(url),
    url,
    writer:
      objectFormat === 'sha1' || objectFormat === 'sha256'
        ? new LooseObjectWriter(join(aux, 'objects'), objectFormat)
        : null,
  };
}

export function authError(mode: Mode, ref: string): RefStoreError {
  return new RefStoreError(
    'auth_failed',
    `authentication to ${mode.where} failed: the token is missing, wrong or lacks access to ${ref}`,
  );
}

export function lastLines(text: string): string {
  return gitMessage(text);
}

/** `remote.origin.url` as written in the private repository's config (see `ensureAuxRepo`), or null. */
async function auxRemoteUrl(aux: string): Promise<string | null> {
  const text = await readFile(join(aux, 'config'), 'utf8').catch(() => '');
  const section = /^\[remote "origin"\]\n((?:\t.*\n)*)/m.exec(text)?.[1] ?? '';
  const quoted = /^\turl = "((?:[^"\\]|\\.)*)"$/m.exec(section)?.[1];
  return quoted === undefined ? null : quoted.replace(/\\(.)/g, '$1');
}

/** How many of the 256 loose-object directories exist (a cheap proxy for how many loose objects there are). */
async function looseObjectDirs(aux: string): Promise<number> {
  const names = await readdir(join(aux, 'objects')).catch(() => [] as string[]);
  return names.filter((n) => /^[0-9a-f]{2}$/.test(n)).length;
}

/** Creates the private bare repository once, atomically (concurrent processes may race to create it). */
async function ensureAuxRepo(aux: string, objectFormat: string, url: string): Promise<void> {
  if (await stat(join(aux, 'HEAD')).catch(() => null)) return;
  await mkdir(join(aux, '..'), { recursive: true });
  const tmp = `${aux}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const git = new Git(join(aux, '..'));
  await git.run(['init', '--quiet', '--bare', `--object-format=${objectFormat}`, tmp]);
  const quoted = url.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  // A partial clone of one remote; maintenance off (it would have to understand promisor packs, and this
  // repository only ever holds a few small trees and blobs).
  await writeFile(
    join(tmp, 'config'),
    [
      '[core]',
      '\trepositoryformatversion = 1',
      '\tbare = true',
      '\tlogallrefupdates = false',
      '\tlooseCompression = 1',
      '[extensions]',
      '\tpartialclone = origin',
      ...(objectFormat === 'sha1' ? [] : [`\tobjectformat = ${objectFormat}`]),
      '[remote "origin"]',
      `\turl = "${quoted}"`,
      '\tpromisor = true',
      '\tpartialclonefilter = blob:none',
      '[gc]',
      '\tauto = 0',
      '[maintenance]',
      '\tauto = false',
      '[fetch]',
      '\twriteCommitGraph = false',
      '',
    ].join('\n'),
  );
  try {
    await rename(tmp, aux);
  } catch {
    // Another process created it first.
    await rm(tmp, { recursive: true, force: true });
  }
}
