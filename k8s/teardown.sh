#!/usr/bin/env bash
# Removes what bootstrap.sh made: the scale set first (so it deregisters from GitHub instead of staying
# there offline, and the controller is still alive to clear its finalizers), the controller, then the
# kind cluster. Idempotent: what is already gone is skipped. See docs/kubernetes.md.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for arg in "$@"; do
  case "$arg" in
  --dry-run) DRY_RUN=1 ;;
  -h | --help)
    say "usage: k8s/teardown.sh [--dry-run]   (LEVIATHAN_KIND_CLUSTER names the cluster, default leviathan)"
    exit 0
    ;;
  *)
    warn "teardown.sh: unknown option '$arg' (try --help)"
    exit 1
    ;;
  esac
done
cd "$REPO_DIR"

need_tool kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
need_tool helm "https://helm.sh/docs/intro/install/"
need_tool docker "https://docs.docker.com/engine/install/"
stop_if_missing
[ "$DRY_RUN" = 1 ] && say "dry run: printing the commands, changing nothing"

if cluster_exists; then
  for pair in "$RUNNER_NS/$SCALE_SET" "$CONTROLLER_NS/$CONTROLLER_RELEASE"; do
    ns=${pair%/*}
    name=${pair#*/}
    if q helm --kube-context "$CONTEXT" -n "$ns" status "$name" >/dev/null; then
      run helm uninstall "$name" --kube-context "$CONTEXT" --namespace "$ns" --wait --timeout 5m
    fi
  done
  run kind delete cluster --name "$CLUSTER"
fi

if [ "$CHANGES" = 0 ]; then
  say "nothing to do: cluster '$CLUSTER' does not exist"
fi
say "note: if a repository variable LEVIATHAN_RUNS_ON still says '$SCALE_SET', delete it" \
  "(gh variable delete LEVIATHAN_RUNS_ON -R OWNER/REPO), or Leviathan's jobs wait for runners that are gone."
