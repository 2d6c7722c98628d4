import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Git } from './git.js';
import { type LeasedRef, pushLeased } from './leased-push.js';
import {
  LISTED_PREFIXES,
  noteRemoteTip,
  parseListing,
  rememberRemoteTips,
  takeRemoteTip,
} from './remote-tips.js';

/**
 * Leviathan's own repository for one attempt (issue 7 §2): a bare repository in a 0700 temporary directory,
 * outside the agent's work tree and the user's checkout, borrowing the checkout's objects read-only through
 * `objects/info/alternates`. The candidate tree is built here with plumbing, the base tree is read from here,
 * and the pushes go from here to the origin URL captured before the agent ran. No work tree, so no filter,
 * attribute or hook of anyone's making applies; git itself runs in the clean environment of `git.ts`.
 */
export interface TreeEntry {
  mode: string;
  oid: string;
  /** -1 for a gitlink. */
  size: number;
}

export interface PushTarget {
  /** The origin's URL, or an absolute path. */
  url: string;
  /** `http.*.extraheader` settings of the checkout (the Actions checkout's auth), passed with `-c`. */
  headers: string[];
  /**
   * The token the pushes go with when it is not the checkout's (the forge's PR token, an App installation
   * token, so the pushed commits trigger the repository's CI).
   */
  token?: string;
}

/** One entry of a tree being built: mode 0 / oid null removes the path. */
export interface IndexChange {
  path: string;
  mode: string;
  oid: string | null;
}

export class PrivateRepo {
  private constructor(
    readonly root: string,
    readonly git: Git,
    readonly objectFormat: 'sha1' | 'sha256',
  ) {}

  /** A private repository that sees the objects of `source` (a checkout, read only). */
  static async create(source: Git): Promise<PrivateRepo> {
    const layout = await source.layout();
    if (layout === null) throw new Error(`${source.cwd} is not a git repository`);
    const { objects, objectFormat: format, shallow } = layout;
    const root = await mkdtemp(join(tmpdir(), 'leviathan-delivery-'));
    await chmod(root, 0o700);
    const dir = join(root, 'repo.git');
    const git = source.at(root, { GIT_DIR: dir });
    await writeRepoFiles(dir, format, true);
    await writeFile(join(dir, 'objects', 'info', 'alternates'), `${objects}\n`);
    // A shallow checkout's history ends at its grafts; without them a push would look for missing parents.
    await copyFile(shallow, join(dir, 'shallow')).catch(() => {});
    return new PrivateRepo(root, git, format);
  }

  /** Where the origin is, read from the checkout before anyone else could change its config. */
  static async pushTarget(source: Git, token?: string): Promise<PushTarget> {
    const url = await source.originUrl();
    // A repository without a remote is its own forge: its branches are the ones to push.
    if (url === null) {
      return {
        url: resolve(source.cwd, await source.output(['rev-parse', '--git-common-dir'])),
        headers: [],
      };
    }
    const absolute =
      /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/:]+:/.test(url) || isAbsolute(url)
        ? url
        : resolve(source.cwd, url);
    const { headers } = await source.localConfig();
    return { url: absolute, headers, ...(token ? { token } : {}) };
  }

  /** Every entry of a commit's tree, recursively (replace objects never apply: see git.ts). */
  async treeEntries(commit: string): Promise<Map<string, TreeEntry>> {
    const out = await this.git.output(['ls-tree', '-r', '-l', '-z', '--full-tree', commit]);
    const entries = new Map<string, TreeEntry>();
    for (const record of out.split('\0')) {
      const m = /^(\d{6}) \w+ ([0-9a-f]+) +(-|\d+)\t([\s\S]+)$/.exec(record);
      if (m) entries.set(m[4]!, { mode: m[1]!, oid: m[2]!, size: m[3] === '-' ? -1 : Number(m[3]) });
    }
    return entries;
  }

  /** Writes one blob (content given as bytes, never read from a path git would resolve). */
  async writeBlob(content: Buffer): Promise<string> {
    return this.git.output(['hash-object', '-w', '--no-filters', '--stdin'], { input: content });
  }

  /**
   * Writes several blobs with one `hash-object`: the bytes go through files of this repository's own 0700
   * directory (written here, so no path of anyone else's is ever read), in order.
   */
  async writeBlobs(contents: readonly Buffer[]): Promise<string[]> {
    if (contents.length === 0) return [];
    if (contents.length === 1) return [await this.writeBlob(contents[0] as Buffer)];
    const scratch = await mkdtemp(join(this.root, 'blobs-'));
    try {
      const files = await Promise.all(
        contents.map(async (content, i) => {
          const file = join(scratch, String(i));
          await writeFile(file, content, { mode: 0o600 });
          return file;
        }),
      );
      const out = await this.git.output(['hash-object', '-w', '--no-filters', '--stdin-paths'], {
        input: `${files.join('\n')}\n`,
      });
      const oids = out.split('\n');
      if (oids.length !== contents.length) throw new Error('git wrote fewer blobs than it was given');
      return oids;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * The tree of `base` with `changes` applied (mode 0 removes a path), built in a temporary index that only
   * this repository sees. git's own path checks apply (`update-index` refuses `.git` components).
   */
  async buildTree(base: string, changes: ReadonlyArray<IndexChange>): Promise<string> {
    return (await this.buildTrees(base, changes, [])).tree;
  }

  /**
   * `buildTree`, and in the same index the tree with `then` applied on top as well (null when `then` is
   * empty, as `next`): the candidate and its follow-up commit (the backlog write-back) from one read of the base.
   */
  async buildTrees(
    base: string,
    changes: ReadonlyArray<IndexChange>,
    then: ReadonlyArray<IndexChange>,
  ): Promise<{ tree: string; next: string | null }> {
    const index = join(this.root, `index-${process.hrtime.bigint()}`);
    const env = { GIT_INDEX_FILE: index };
    const zero = this.objectFormat === 'sha256' ? '0'.repeat(64) : '0'.repeat(40);
    const info = (list: ReadonlyArray<IndexChange>) =>
      list
        .map((c) => (c.oid === null ? `0 ${zero}\t${c.path}\0` : `${c.mode} ${c.oid}\t${c.path}\0`))
        .join('');
    try {
      await this.git.run(['read-tree', base], { env });
      const overwritten = new Set(then.map((c) => c.path));
      // One check of the final index covers both trees unless `then` rewrites a path of `changes`.
      const checkTogether = then.length > 0 && !changes.some((c) => overwritten.has(c.path));
      if (changes.length > 0) {
        await this.git.run(['update-index', '-z', '--index-info'], { env, input: info(changes) });
        if (!checkTogether) await this.assertIndexHolds(env, changes);
      }
      const tree = await this.git.output(['write-tree'], { env });
      if (then.length === 0) return { tree, next: null };
      await this.git.run(['update-index', '-z', '--index-info'], { env, input: info(then) });
      await this.assertIndexHolds(env, checkTogether ? [...changes, ...then] : then);
      return { tree, next: await this.git.output(['write-tree'], { env }) };
    } finally {
      await rm(index, { force: true });
    }
  }

  /**
   * `update-index --index-info` drops some paths it refuses without failing (NTFS spellings such as
   * `.git::$INDEX_ALLOCATION`): the tree pushed must be the tree judged, so any difference is refused.
   */
  private async assertIndexHolds(
    env: Record<string, string>,
    changes: ReadonlyArray<{ path: string; mode: string; oid: string | null }>,
  ): Promise<void> {
    const listed = await this.git.runBuffer(['ls-files', '-z', '--stage'], { env });
    const held = new Map<string, string>();
    for (const record of listed.stdoutBytes.toString('utf8').split('\0')) {
      const tab = record.indexOf('\t');
      if (tab > 0) held.set(record.slice(tab + 1), record.slice(0, tab));
    }
    for (const c of changes) {
      const entry = held.get(c.path);
      const ok = c.oid === null ? entry === undefined : entry === `${c.mode} ${c.oid} 0`;
      if (!ok) throw new Error(`git refused the path ${JSON.stringify(c.path)}`);
    }
  }

  async commit(tree: string, parent: string, message: string): Promise<string> {
    return this.git.output(['commit-tree', tree, '-p', parent, '-F', '-'], { input: message });
  }

  async readBlob(oid: string): Promise<Buffer> {
    return (await this.git.runBuffer(['cat-file', 'blob', oid])).stdoutBytes;
  }

  /**
   * A fresh work tree at `dir` holding `commit`, with a repository of its own (so agents that run git work)
   * on a branch named like the base and with no remote: nothing done to its refs or remotes reaches the
   * origin. The files are written by this repository (its clean config and attributes; no filter can apply),
   * before the new `.git` exists; git then only records them there (no command of it touches the files).
   */
  async checkoutWorkTree(commit: string, dir: string, branch: string): Promise<void> {
    if (!/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(commit)) throw new Error(`not a commit id: ${commit}`);
    await mkdir(join(this.root, 'repo.git', 'refs', 'leviathan'), { recursive: true });
    await writeFile(join(this.root, 'repo.git', 'refs', 'leviathan', 'base'), `${commit}\n`);
    const index = join(this.root, `checkout-index-${process.hrtime.bigint()}`);
    try {
      // One read-tree writes the files (into the empty directory) and an index whose stat data matches them.
      const env = { GIT_INDEX_FILE: index, GIT_WORK_TREE: dir };
      await this.git.run(['read-tree', '--reset', '-u', `${commit}^{tree}`], { env });
      // The agent's repository: made as files (what `git init` would write that git needs), then one fetch
      // puts the commit on the branch HEAD names; the index just built is its index.
      const gitDir = join(dir, '.git');
      await writeRepoFiles(gitDir, this.objectFormat, false, branch);
      const wt = this.git.at(dir, { GIT_DIR: gitDir });
      await wt.run([
        'fetch',
        '--quiet',
        '--no-tags',
        '--depth=1',
        '--update-head-ok',
        '--no-write-fetch-head',
        join(this.root, 'repo.git'),
        `+refs/leviathan/base:refs/heads/${branch}`,
      ]);
      await copyFile(index, join(gitDir, 'index'));
    } finally {
      await rm(index, { force: true });
    }
  }

  /**
   * Pushes `commit` to `branch` on the origin only if the branch is still at `expected` (null: absent); with a
   * token (`token`, else the target's), as that token alone instead of the checkout's credentials.
   */
  async pushWithLease(
    target: PushTarget,
    commit: string,
    branch: string,
    expected: string | null,
    token?: string,
  ) {
    const git = this.originGit(target, token);
    const ref = `refs/heads/${branch}`;
    await git.run([
      'push',
      '--quiet',
      '--no-verify',
      `--force-with-lease=${ref}:${expected ?? ''}`,
      target.url,
      `${commit}:${ref}`,
    ]);
    noteRemoteTip(target.url, ref, commit);
  }

  /** `pushLeased` (leased-push.ts) from this repository, with `objects` as extra object directories. */
  pushLeased(
    target: PushTarget,
    leases: readonly LeasedRef[],
    objects: readonly string[] = [],
    token?: string,
    atomicOnly = false,
  ): Promise<{ stale: string[] }> {
    return pushLeased(this.originGit(target, token, objects), target.url, leases, atomicOnly);
  }

  /**
   * One `ls-remote` of the origin's branches and Leviathan's refs, remembered (remote-tips.ts) so the reads
   * right after it (the event log before a push, the forge's branch check) need no session of their own.
   */
  async listRemote(target: PushTarget): Promise<void> {
    const git = this.originGit(target);
    const r = await git.run(['ls-remote', target.url, ...LISTED_PREFIXES.map((p) => `${p}*`)], {
      allowFailure: true,
    });
    if (r.exitCode === 0)
      rememberRemoteTips(target.url, parseListing(r.stdout, LISTED_PREFIXES), LISTED_PREFIXES);
  }

  /** Git to talk to the target: a token alone when there is one, else the checkout's credentials. */
  private originGit(target: PushTarget, token = target.token, objects: readonly string[] = []): Git {
    const env: Record<string, string> = { GIT_DIR: join(this.root, 'repo.git') };
    if (objects.length > 0) env.GIT_ALTERNATE_OBJECT_DIRECTORIES = objects.join(delimiter);
    return token ? this.git.withToken(token, this.root, env) : this.git.at(this.root, env, target.headers);
  }

  /** A branch's tip as this command's listing of the origin saw it (null: absent), undefined when unknown. */
  static listedBranch(target: PushTarget, branch: string): string | null | undefined {
    return takeRemoteTip(target.url, `refs/heads/${branch}`);
  }

  /** The commit a branch of the origin is at, or null. */
  async remoteBranch(target: PushTarget, branch: string): Promise<string | null> {
    // This command's listing of the origin (the forge's default-branch read) saw it already.
    const seen = takeRemoteTip(target.url, `refs/heads/${branch}`);
    if (seen !== undefined) return seen;
    const git = this.originGit(target);
    const out = await git.output(['ls-remote', target.url, `refs/heads/${branch}`]);
    const line = out.split('\n').find((l) => l.endsWith(`\trefs/heads/${branch}`));
    return line ? line.split('\t')[0]! : null;
  }

  async remove(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * The files of a new repository at `gitDir` as `git init` would write the ones git needs (HEAD, config,
 * objects/, refs/), without a process: no hooks, no description, no template of anyone's.
 */
async function writeRepoFiles(
  gitDir: string,
  format: 'sha1' | 'sha256',
  bare: boolean,
  branch = 'main',
): Promise<void> {
  await mkdir(join(gitDir, 'objects', 'info'), { recursive: true });
  await mkdir(join(gitDir, 'refs', 'heads'), { recursive: true });
  await mkdir(join(gitDir, 'refs', 'tags'), { recursive: true });
  await writeFile(join(gitDir, 'HEAD'), `ref: refs/heads/${branch}\n`);
  if (!bare) {
    // What tools in the agent's work tree may expect of a repository `git init` made (no sample hooks).
    await mkdir(join(gitDir, 'hooks'), { recursive: true });
    await mkdir(join(gitDir, 'info'), { recursive: true });
    await writeFile(
      join(gitDir, 'info', 'exclude'),
      '# git ls-files --others --exclude-from=.git/info/exclude\n',
    );
    await writeFile(
      join(gitDir, 'description'),
      'Unnamed repository; edit this file to name it for gitweb.\n',
    );
  }
  const config = [
    '[core]',
    `\trepositoryformatversion = ${format === 'sha1' ? 0 : 1}`,
    '\tfilemode = true',
    `\tbare = ${bare}`,
    ...(bare ? [] : ['\tlogallrefupdates = true']),
    ...(format === 'sha1' ? [] : ['[extensions]', `\tobjectformat = ${format}`]),
    '',
  ];
  await writeFile(join(gitDir, 'config'), config.join('\n'));
}
