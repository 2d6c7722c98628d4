/**
 * How one command is started inside a sandbox: the argv for bubblewrap, or for util-linux `unshare` with a
 * set-up script. Both give the command new user, PID and mount namespaces, `/` read-only, its own `/proc`,
 * a private `/tmp`, an empty `HOME`, only the work tree writable and the hidden paths replaced by empty
 * directories. In a PID namespace every process dies when its init does, so nothing outlives the command
 * (`setsid`, double fork and `nohup` included); `--die-with-parent` / `--pdeathsig` tie that init to us.
 */

/** The agent's `HOME` inside the sandbox: an empty directory in its private `/tmp`. */
export const SANDBOX_HOME = '/tmp/home';

export interface SandboxLayout {
  /** The only writable place, mounted at its own path. Absolute. */
  workTree: string;
  /** Absolute paths that must not be visible: a directory becomes an empty one, a file `/dev/null`. */
  hide: readonly string[];
  /** Absolute paths shown read-only even when they lie inside a hidden directory (the task files). */
  readOnly: readonly string[];
  /** Directories writable besides the work tree, even inside a hidden directory (the result file's). */
  writable?: readonly string[];
}

export interface SandboxTools {
  bwrap?: string;
  unshare?: string;
  setpriv?: string;
  mount?: string;
  pivotRoot?: string;
}

export interface Invocation {
  file: string;
  args: string[];
  /**
   * The descriptor on which the sandbox writes `{"child-pid": N}`, the host pid of its PID namespace's init:
   * that init leads a session of its own, so it is waited for by pid, not with our process group.
   */
  infoFd?: 3;
}

type MountOp = { op: 'hide' | 'ro' | 'rw'; path: string };

/** Parents before children, so a hidden directory inside the work tree (or a task file inside a hidden one) wins. */
export function mountPlan(layout: SandboxLayout): MountOp[] {
  const ops: MountOp[] = [
    { op: 'rw', path: layout.workTree },
    ...(layout.writable ?? []).map((path) => ({ op: 'rw' as const, path })),
    ...layout.hide.map((path) => ({ op: 'hide' as const, path })),
    ...layout.readOnly.map((path) => ({ op: 'ro' as const, path })),
  ];
  const depth = (p: string) => p.split('/').filter(Boolean).length;
  const rank = { hide: 0, rw: 1, ro: 2 };
  return ops
    .map((o, i) => ({ o, i }))
    .sort((a, b) => depth(a.o.path) - depth(b.o.path) || rank[a.o.op] - rank[b.o.op] || a.i - b.i)
    .map(({ o }) => o);
}

/**
 * bubblewrap: `--ro-bind / /` first, then the fresh `/dev`, `/proc` and `/tmp`, then the plan; bwrap resolves
 * every source in the old root, so a work tree under `/tmp` or a hidden directory is still found.
 */
export function bwrapInvocation(
  bwrap: string,
  layout: SandboxLayout,
  hiddenKinds: ReadonlyMap<string, 'dir' | 'file'>,
  argv: readonly string[],
): Invocation {
  const args = [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--die-with-parent',
    '--new-session',
    '--info-fd',
    '3',
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--tmpfs',
    '/tmp',
    '--dir',
    SANDBOX_HOME,
  ];
  const emptied: string[] = [];
  for (const { op, path } of mountPlan(layout)) {
    if (op === 'rw') args.push('--bind', path, path);
    else if (op === 'ro') args.push('--ro-bind', path, path);
    else if (hiddenKinds.get(path) === 'dir') {
      args.push('--tmpfs', path);
      emptied.push(path);
    } else if (hiddenKinds.get(path) === 'file') args.push('--ro-bind', '/dev/null', path);
  }
  // Read-only only now: a work tree or task file inside a hidden directory needs its mount point made first.
  for (const path of emptied) args.push('--remount-ro', path);
  args.push('--chdir', layout.workTree, '--', ...argv);
  return { file: bwrap, args, infoFd: 3 };
}

/**
 * The set-up script `unshare` runs as root of the new user namespace (PID 1 of the new PID namespace): a
 * read-only copy of `/` at $R (each mount re-mounted read-only with the flags the kernel locks kept), fresh
 * `/proc` and `/tmp`, the plan, then `pivot_root` into it and every capability dropped before the command.
 */
const UNSHARE_SCRIPT = `set -eu
fail() { echo "leviathan sandbox: $*" >&2; exit 125; }
R=$1; WT=$2; MOUNT=$3; PIVOT=$4; SETPRIV=$5; shift 5; HIDDEN=''
"$MOUNT" --rbind / "$R" || fail "cannot bind / at $R"
"$MOUNT" --make-rprivate "$R"
locked() { f=ro; for o in $(echo "$1" | tr , ' '); do case $o in nosuid|nodev|noexec|noatime|nodiratime|relatime|strictatime) f="$f,$o";; esac; done; echo "$f"; }
info=$(cat /proc/self/mountinfo)
while read -r _id _parent _dev _root mp opts _rest; do
  mp=$(printf '%b' "$mp")
  case $mp in "$R/proc"|"$R/proc"/*) continue;; "$R"|"$R"/*) ;; *) continue;; esac
  "$MOUNT" -o "remount,bind,$(locked "$opts")" "$mp" 2>/dev/null || fail "cannot make $mp read-only"
done <<EOF
$info
EOF
"$MOUNT" -t proc -o nosuid,nodev,noexec proc "$R/proc" || fail "cannot mount a private /proc"
"$MOUNT" -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/tmp" || fail "cannot mount a private /tmp"
[ -d "$R/dev/shm" ] && "$MOUNT" -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm" 2>/dev/null || true
while [ "$1" != -- ]; do
  op=$1; p=$2; shift 2
  case $op in
    hide)
      if [ -d "$p" ]; then mkdir -p "$R$p" 2>/dev/null || true; "$MOUNT" -t tmpfs -o mode=0755,size=64k,nosuid,nodev tmpfs "$R$p" || fail "cannot hide $p"; HIDDEN="$HIDDEN$p
"
      elif [ -e "$p" ]; then mkdir -p "$(dirname "$R$p")"; [ -e "$R$p" ] || : > "$R$p"; "$MOUNT" --bind /dev/null "$R$p" || fail "cannot hide $p"; fi ;;
    rw|ro)
      if [ -d "$p" ]; then mkdir -p "$R$p"; else mkdir -p "$(dirname "$R$p")"; [ -e "$R$p" ] || : > "$R$p"; fi
      "$MOUNT" --bind "$p" "$R$p" || fail "cannot mount $p"
      if [ "$op" = ro ]; then
        o=$(grep " $R$p " /proc/self/mountinfo | tail -n 1 | cut -d' ' -f6)
        "$MOUNT" -o "remount,bind,$(locked "$o")" "$R$p" || fail "cannot make $p read-only"
      fi ;;
  esac
done
shift
# Hidden directories become read-only only now that the mount points inside them exist.
while IFS= read -r h; do
  [ -z "$h" ] || "$MOUNT" -o remount,bind,ro,nosuid,nodev "$R$h" || fail "cannot hide $h"
done <<EOF
$HIDDEN
EOF
mkdir -p "$R${SANDBOX_HOME}" "$R/tmp/.oldroot"
cd "$R"
"$PIVOT" . tmp/.oldroot || fail "pivot_root failed"
"$MOUNT" --make-rprivate /tmp/.oldroot 2>/dev/null || true
umount -l /tmp/.oldroot 2>/dev/null || "$MOUNT" -l /tmp/.oldroot 2>/dev/null || fail "cannot detach the old root"
rmdir /tmp/.oldroot
cd "$WT" || fail "no work tree at $WT"
unset OLDPWD
exec "$SETPRIV" --bounding-set=-all --inh-caps=-all --no-new-privs -- "$@"
`;

/**
 * util-linux: `setpriv --pdeathsig KILL` ties `unshare` to us, `--kill-child` ties the namespace's init to
 * `unshare`. `root` is an empty directory of ours that the new root is built on.
 */
export function unshareInvocation(
  tools: Required<Pick<SandboxTools, 'unshare' | 'setpriv' | 'mount' | 'pivotRoot'>>,
  root: string,
  layout: SandboxLayout,
  argv: readonly string[],
): Invocation {
  const plan = mountPlan(layout).flatMap(({ op, path }) => [op, path]);
  return {
    file: tools.setpriv,
    args: [
      '--pdeathsig',
      'KILL',
      '--',
      tools.unshare,
      '--user',
      '--map-root-user',
      '--pid',
      '--mount',
      '--ipc',
      '--uts',
      '--fork',
      '--kill-child',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      UNSHARE_SCRIPT,
      'leviathan-sandbox',
      root,
      layout.workTree,
      tools.mount,
      tools.pivotRoot,
      tools.setpriv,
      ...plan,
      '--',
      ...argv,
    ],
  };
}

/** The unprivileged host user a sandbox runs as when Leviathan itself is root (see `asUser`). */
export interface SandboxIdentity {
  uid: number;
  gid: number;
}

/**
 * `inv` started as `identity` instead of us: `setpriv` sets the real and effective ids and clears the
 * supplementary groups before it executes the sandbox, which then builds its user namespace as that user.
 * Root outside must never be root inside (a user namespace made by host root maps uid 0 to host uid 0).
 */
export function asUser(setpriv: string, identity: SandboxIdentity, inv: Invocation): Invocation {
  return {
    ...inv,
    file: setpriv,
    args: [
      `--reuid=${identity.uid}`,
      `--regid=${identity.gid}`,
      '--clear-groups',
      '--',
      inv.file,
      ...inv.args,
    ],
  };
}
