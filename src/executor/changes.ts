import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Git, GitOptions } from '../store/git.js';

export type ChangeStatus = 'A' | 'M' | 'D' | 'T';

export const MODE_FILE = '100644';
export const MODE_EXECUTABLE = '100755';
export const MODE_SYMLINK = '120000';
export const MODE_SUBMODULE = '160000';
export const MODE_NONE = '000000';

/** One path that differs between the base commit and the checkout. */
export interface ChangedEntry {
  path: string;
  /** A added, M modified (content or executable bit), D deleted, T type changed (file ↔ symlink ↔ submodule). */
  status: ChangeStatus;
  /** Git mode before (`000000` when added) and after (`000000` when deleted). */
  oldMode: string;
  mode: string;
  /** Object id of the new content; null when deleted. */
  oid: string | null;
  /** Size in bytes of the new blob (0 when deleted or a submodule). */
  size: number;
  /** For a symlink (new mode 120000): the link target exactly as stored. */
  linkTarget?: string;
}

export interface ChangeSet {
  base: string;
  /** The tree of the checkout as it would be committed; commit exactly this tree so what was checked ships. */
  tree: string;
  changes: ChangedEntry[];
}

const ZERO_OID = /^0+$/;

/**
 * `-c` arguments for git commands run after the agent. Repository-local config is writable by the agent (it
 * lives in `.git/config`), and git runs commands named there while reading the work tree: clean/process
 * filters, the fsmonitor hook, hooks. These neutralise them, so collecting the diff never executes anything the
 * agent planted. Filters from the runner's global config still apply. Not covered (the caller's concern):
 * settings that redirect network access, such as `url.*.insteadOf` or `remote.origin.url`.
 */
export async function hardeningArgs(git: Git): Promise<string[]> {
  const args = ['-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null'];
  const r = await git.run(['config', '--local', '--includes', '--name-only', '--get-regexp', '^filter\\.'], {
    allowFailure: true,
  });
  const drivers = new Set<string>();
  for (const key of r.exitCode === 0 ? r.stdout.split('\n') : []) {
    const m = /^filter\.(.+)\.[^.]+$/.exec(key.trim());
    if (m) drivers.add(m[1]!);
  }
  for (const d of drivers) {
    for (const key of ['clean', 'smudge', 'process']) args.push('-c', `filter.${d}.${key}=`);
    args.push('-c', `filter.${d}.required=false`);
  }
  return args;
}

/** Parses `git diff --raw -z --no-abbrev` output: `:<old> <new> <oldoid> <newoid> <status>\0<path>\0`. */
export function parseRawDiff(out: string): Omit<ChangedEntry, 'size' | 'linkTarget'>[] {
  const fields = out.split('\0');
  const entries: Omit<ChangedEntry, 'size' | 'linkTarget'>[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const meta = fields[i]!;
    const path = fields[i + 1]!;
    const m = /^:(\d{6}) (\d{6}) ([0-9a-f]+) ([0-9a-f]+) ([AMDT])$/.exec(meta);
    if (!m) throw new Error(`unexpected git diff --raw record: ${JSON.stringify(meta)}`);
    const [, oldMode, mode, , newOid, status] = m;
    entries.push({
      path,
      status: status as ChangeStatus,
      oldMode: oldMode!,
      mode: mode!,
      oid: ZERO_OID.test(newOid!) ? null : newOid!,
    });
  }
  return entries;
}

/**
 * Everything that changed in the checkout (`git.cwd`, its top level) since `baseSha`: tracked modifications,
 * untracked files and deletions (SPEC §3.2 step 4).
 *
 * How: the base tree is read into a TEMPORARY index (`GIT_INDEX_FILE` in a temp dir), `git add -A` stages the
 * whole working tree into it, and `git diff --cached --raw -z --no-renames <base>` compares. So
 * - the user's (and the agent's) index is neither read nor touched: flags the agent may have set there
 *   (assume-unchanged, skip-worktree, intent-to-add) hide nothing;
 * - ignored files are left out, exactly as they are left out of the commit; a tracked file stays tracked
 *   even if it matches an ignore rule;
 * - a rename is a deletion plus an addition, so both paths get checked;
 * - `-z` keeps names with spaces, quotes, newlines or non-ASCII characters intact.
 * The tree written from that index is returned; the worker commits that tree, so the diff it checked is
 * exactly the diff it ships. Refused (thrown): a `git.cwd` that is not the top level of its checkout, and a
 * sparse checkout (its missing files would look deleted).
 */
export async function collectChanges(git: Git, baseSha: string): Promise<ChangeSet> {
  // Every command that reads an index may run fsmonitor or a filter (to re-check racy entries): harden all.
  const hardening = await hardeningArgs(git);
  const run = (args: string[], options?: GitOptions) => git.run([...hardening, ...args], options);
  const output = async (args: string[], options?: GitOptions) =>
    (await run(args, options)).stdout.replace(/\n$/, '');

  // The agent may have removed `.git` (git would then find an enclosing repository) or set core.worktree.
  const top = await run(['rev-parse', '--show-toplevel'], { allowFailure: true });
  if (top.exitCode !== 0 || (await realpath(top.stdout.trim())) !== (await realpath(git.cwd))) {
    throw new Error(`${git.cwd} is not the top level of a git checkout`);
  }
  const sparse = await run(['config', '--bool', 'core.sparseCheckout'], { allowFailure: true });
  if (sparse.stdout.trim() === 'true')
    throw new Error('sparse checkouts are not supported: use a full checkout');
  const base = await output(['rev-parse', '--verify', `${baseSha}^{commit}`]);
  const dir = await mkdtemp(join(tmpdir(), 'leviathan-index-'));
  try {
    const env = { GIT_INDEX_FILE: join(dir, 'index') };
    await run(['read-tree', base], { env });
    await run(['add', '-A', '--', ':/'], { env });
    const tree = await output(['write-tree'], { env });
    const diffArgs = [
      'diff',
      '--cached',
      '--raw',
      '-z',
      '--no-abbrev',
      '--no-renames',
      '--no-ext-diff',
      base,
    ];
    const entries = parseRawDiff(await output(diffArgs, { env }));

    const oids = [...new Set(entries.flatMap((e) => (e.oid && e.mode !== MODE_SUBMODULE ? [e.oid] : [])))];
    const sizes = new Map<string, number>();
    if (oids.length > 0) {
      const out = await output(['cat-file', '--batch-check=%(objectname) %(objectsize)'], {
        input: `${oids.join('\n')}\n`,
      });
      for (const line of out.split('\n')) {
        const [oid, size] = line.split(' ');
        if (oid && size) sizes.set(oid, Number(size));
      }
    }

    const changes: ChangedEntry[] = [];
    for (const e of entries) {
      const entry: ChangedEntry = { ...e, size: e.oid ? (sizes.get(e.oid) ?? 0) : 0 };
      if (e.mode === MODE_SYMLINK && e.oid)
        entry.linkTarget = (await run(['cat-file', 'blob', e.oid])).stdout;
      changes.push(entry);
    }
    return { base, tree, changes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
