# shellcheck shell=bash disable=SC2034 # (the names are used by the scripts that source this file)
# Shared by bootstrap.sh and teardown.sh: names, pinned versions, dry-run execution, prerequisite lines.
# Every command that changes something goes through `run` (printed; executed unless --dry-run); read-only
# queries go through `q` and always run, which is how a second run knows there is nothing to do.

K8S_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$K8S_DIR")
# shellcheck source-path=SCRIPTDIR source=arc/versions.env
. "$K8S_DIR/arc/versions.env"

CLUSTER=${LEVIATHAN_KIND_CLUSTER:-leviathan}
CONTEXT="kind-$CLUSTER"
CONTROLLER_NS=arc-systems
CONTROLLER_RELEASE=arc
RUNNER_NS=leviathan-runners
SCALE_SET=leviathan # = runnerScaleSetName in arc/scale-set.values.yaml, the runs-on label
APP_SECRET=leviathan-github-app
DRY_RUN=0
CHANGES=0
MISSING=0

say() { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }

# Print a command, shell-quoted, as it would be typed.
show() {
  local line="" arg
  for arg in "$@"; do line+=" $(printf '%q' "$arg")"; done
  printf '+%s\n' "$line"
}

# A command that changes something. A failure stops the script with one line on how to go on.
run() {
  CHANGES=$((CHANGES + 1))
  show "$@"
  [ "$DRY_RUN" = 1 ] && return 0
  local rc=0
  "$@" || rc=$?
  if [ "$rc" != 0 ]; then
    warn "failed (exit $rc): $1 $2 … — fix the cause above and run ${0##*/} again; finished steps are skipped"
    exit 1
  fi
}

# A check that changes nothing but is worth seeing (waits, the smoke test).
check() {
  show "$@"
  if [ "$DRY_RUN" = 0 ]; then "$@"; fi
}

# A read-only query; its failure means "absent".
q() { "$@" 2>/dev/null; }

missing() {
  warn "missing: $*"
  MISSING=$((MISSING + 1))
}
need_tool() { command -v "$1" >/dev/null 2>&1 || missing "$1 is not on PATH ($2)"; }
need_env() { [ -n "${!1:-}" ] || missing "$1 is not set ($2)"; }
stop_if_missing() {
  if [ "$MISSING" -gt 0 ]; then
    warn "$MISSING prerequisite(s) missing; nothing was changed."
    exit 1
  fi
}

# A short content hash of files and extra strings, recorded on what we create to spot drift.
fingerprint() {
  local files=() extra=()
  while [ "$#" -gt 0 ]; do
    if [ "$1" = -- ]; then
      shift
      extra=("$@")
      break
    fi
    files+=("$1")
    shift
  done
  { cat "${files[@]}"; printf '%s\n' "${extra[@]}"; } | sha256sum | cut -c1-16
}

cluster_exists() { q kind get clusters | grep -qx "$CLUSTER"; }

# owner/repo for the smoke test: LEVIATHAN_SMOKE_REPO, else the repository GITHUB_CONFIG_URL names.
smoke_repo() {
  if [ -n "${LEVIATHAN_SMOKE_REPO:-}" ]; then
    say "$LEVIATHAN_SMOKE_REPO"
    return
  fi
  local path=${GITHUB_CONFIG_URL#https://*/}
  path=${path%/}
  case "$path" in
  enterprises/* | */*/*) return 1 ;;
  */*) say "$path" ;;
  *) return 1 ;;
  esac
}
