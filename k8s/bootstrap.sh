#!/usr/bin/env bash
# Leviathan's runners in kind through actions-runner-controller: cluster, runner image, manifests, the App
# secret, the ARC controller and the "leviathan" scale set, then a smoke test. Idempotent: each step asks
# first and acts only on a difference, so a second run changes nothing. See docs/kubernetes.md.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<'USAGE'
usage: k8s/bootstrap.sh [--dry-run] [--no-smoke]
  --dry-run   print every command that would run, in order, and change nothing
  --no-smoke  skip the smoke test (dispatching leviathan.yml in dry-run mode onto the new runners)
environment: GITHUB_CONFIG_URL, GITHUB_APP_ID, GITHUB_APP_INSTALLATION_ID, GITHUB_APP_PRIVATE_KEY_FILE;
  optional LEVIATHAN_SMOKE_REPO (owner/repo), LEVIATHAN_SMOKE_TIMEOUT (seconds, 900),
  LEVIATHAN_KIND_CLUSTER (leviathan)
USAGE
}

SMOKE=1
for arg in "$@"; do
  case "$arg" in
  --dry-run) DRY_RUN=1 ;;
  --no-smoke) SMOKE=0 ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    warn "bootstrap.sh: unknown option '$arg' (try --help)"
    exit 1
    ;;
  esac
done
cd "$REPO_DIR"

# ---- prerequisites: one line each, all of them, before anything runs
need_tool kind "https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
need_tool kubectl "https://kubernetes.io/docs/tasks/tools/"
need_tool helm "Helm 3.13 or later, https://helm.sh/docs/intro/install/"
need_tool docker "kind runs its nodes in Docker: https://docs.docker.com/engine/install/"
if command -v docker >/dev/null 2>&1 && ! q docker info >/dev/null; then
  missing "docker is installed but its daemon does not answer ('docker info' failed): start Docker"
fi
need_env GITHUB_CONFIG_URL "the repository or organisation the runners register with, e.g. https://github.com/OWNER/REPO"
if [ -n "${GITHUB_CONFIG_URL:-}" ] && [[ "$GITHUB_CONFIG_URL" != https://* ]]; then
  missing "GITHUB_CONFIG_URL must start with https:// (got '$GITHUB_CONFIG_URL')"
fi
need_env GITHUB_APP_ID "the GitHub App's id or client id, from its settings page"
need_env GITHUB_APP_INSTALLATION_ID "the id at the end of the App installation's URL"
need_env GITHUB_APP_PRIVATE_KEY_FILE "the path of the App's private key, a .pem file"
if [ -n "${GITHUB_APP_PRIVATE_KEY_FILE:-}" ] && [ ! -r "$GITHUB_APP_PRIVATE_KEY_FILE" ]; then
  missing "GITHUB_APP_PRIVATE_KEY_FILE names '$GITHUB_APP_PRIVATE_KEY_FILE', which is not a readable file"
fi
if [ "$SMOKE" = 1 ]; then
  need_tool gh "the smoke test dispatches leviathan.yml with it: https://cli.github.com/ (or pass --no-smoke)"
  if [[ "${GITHUB_CONFIG_URL:-}" == https://* ]] && ! smoke_repo >/dev/null; then
    missing "LEVIATHAN_SMOKE_REPO is not set (GITHUB_CONFIG_URL names no repository; set OWNER/REPO or pass --no-smoke)"
  fi
fi
stop_if_missing
[ "$DRY_RUN" = 1 ] && say "dry run: printing the commands, changing nothing"

# ---- 1. the kind cluster
if cluster_exists; then
  say "cluster '$CLUSTER': exists"
else
  run kind create cluster --name "$CLUSTER" --config k8s/kind/cluster.yaml --wait 180s
fi

# ---- 2. the runner image, built locally and loaded into every node (never pulled)
image_fp=$(fingerprint k8s/runner/Dockerfile k8s/arc/versions.env)
built=0
if [ "$(q docker image inspect -f '{{index .Config.Labels "leviathan.fingerprint"}}' "$RUNNER_IMAGE" || true)" = "$image_fp" ]; then
  say "image '$RUNNER_IMAGE': up to date"
else
  run docker build --label "leviathan.fingerprint=$image_fp" \
    --build-arg "RUNNER_BASE_IMAGE=$RUNNER_BASE_IMAGE" --build-arg "NODE_IMAGE=$NODE_IMAGE" \
    -t "$RUNNER_IMAGE" k8s/runner
  built=1
fi
image_loaded() {
  local id node
  id=$(q docker image inspect -f '{{.Id}}' "$RUNNER_IMAGE") || return 1
  for node in $(q kind get nodes --name "$CLUSTER"); do
    [ "$(q docker exec "$node" crictl images -q "docker.io/library/$RUNNER_IMAGE")" = "$id" ] || return 1
  done
  [ -n "$(q kind get nodes --name "$CLUSTER")" ]
}
if [ "$built" = 0 ] && image_loaded; then
  say "image '$RUNNER_IMAGE': loaded on every node"
else
  run kind load docker-image "$RUNNER_IMAGE" --name "$CLUSTER"
fi

# ---- 3. namespaces, NetworkPolicy, quota, service accounts
if q kubectl --context "$CONTEXT" diff -k k8s/overlays/kind >/dev/null; then
  say "manifests (k8s/overlays/kind): up to date"
else
  run kubectl --context "$CONTEXT" apply -k k8s/overlays/kind
fi

# ---- 4. the GitHub App secret, referenced by name from scale-set.values.yaml (rotate: delete it, rerun)
if q kubectl --context "$CONTEXT" -n "$RUNNER_NS" get secret "$APP_SECRET" -o name >/dev/null; then
  say "secret '$RUNNER_NS/$APP_SECRET': exists"
else
  run kubectl --context "$CONTEXT" -n "$RUNNER_NS" create secret generic "$APP_SECRET" \
    --from-literal=github_app_id="${GITHUB_APP_ID}" \
    --from-literal=github_app_installation_id="${GITHUB_APP_INSTALLATION_ID}" \
    --from-file=github_app_private_key="${GITHUB_APP_PRIVATE_KEY_FILE}"
fi

# ---- 5. ARC: the controller, then the scale set (a release is redone only when its inputs changed)
# --deployed: a failed release (helm list shows those too by default) is redone.
release() { # name namespace chart fingerprint helm-args...
  local name=$1 ns=$2 chart=$3 fp=$4
  shift 4
  if [ "$(q helm --kube-context "$CONTEXT" -n "$ns" list --deployed --filter "^$name\$" --selector "leviathan-fingerprint=$fp" -q)" = "$name" ]; then
    say "helm release '$ns/$name': up to date"
  else
    run helm upgrade --install "$name" "$ARC_CHART_REPO/$chart" --version "$ARC_CHART_VERSION" \
      --kube-context "$CONTEXT" --namespace "$ns" "$@" --labels "leviathan-fingerprint=$fp" --wait --timeout 5m
  fi
}
release "$CONTROLLER_RELEASE" "$CONTROLLER_NS" gha-runner-scale-set-controller \
  "$(fingerprint k8s/arc/controller.values.yaml -- "$ARC_CHART_VERSION")" \
  --values k8s/arc/controller.values.yaml
release "$SCALE_SET" "$RUNNER_NS" gha-runner-scale-set \
  "$(fingerprint k8s/arc/scale-set.values.yaml -- "$ARC_CHART_VERSION" "$GITHUB_CONFIG_URL")" \
  --values k8s/arc/scale-set.values.yaml --set "githubConfigUrl=$GITHUB_CONFIG_URL"

# ---- 6. the repository variable that sends Leviathan's jobs to these runners
if [ "$SMOKE" = 1 ]; then
  repo=$(smoke_repo)
  if [ "$(q gh variable get LEVIATHAN_RUNS_ON -R "$repo" || true)" = "$SCALE_SET" ]; then
    say "variable LEVIATHAN_RUNS_ON on $repo: $SCALE_SET"
  else
    run gh variable set LEVIATHAN_RUNS_ON --body "$SCALE_SET" -R "$repo"
  fi
fi

if [ "$CHANGES" = 0 ]; then
  say "nothing to do: everything above is up to date"
elif [ "$DRY_RUN" = 1 ]; then
  say "$CHANGES change(s) would be made"
fi

# ---- 7. smoke test: leviathan.yml in dry-run mode on the new runners, with a deadline
[ "$SMOKE" = 1 ] || exit 0
timeout_s=${LEVIATHAN_SMOKE_TIMEOUT:-900}
poll_s=${LEVIATHAN_SMOKE_POLL:-10}
say "smoke test: dispatching leviathan.yml (dry-run) on $repo, waiting up to ${timeout_s}s"
check kubectl --context "$CONTEXT" -n "$CONTROLLER_NS" wait pod \
  -l "actions.github.com/scale-set-name=$SCALE_SET" --for=condition=Ready --timeout=180s
since=$(date -u +%s)
check gh workflow run leviathan.yml -R "$repo" -f dry-run=true
if [ "$DRY_RUN" = 1 ]; then
  say "(then: wait for that run with gh run view, up to ${timeout_s}s)"
  exit 0
fi

where_to_look() {
  warn "  the run is waiting for a runner labelled '$SCALE_SET'. Look at:"
  warn "  - the listener:  kubectl --context $CONTEXT -n $CONTROLLER_NS logs -l actions.github.com/scale-set-name=$SCALE_SET"
  warn "  - the runners:   kubectl --context $CONTEXT -n $RUNNER_NS get autoscalingrunnersets,ephemeralrunners,pods"
  warn "  - the controller: kubectl --context $CONTEXT -n $CONTROLLER_NS logs deploy/$CONTROLLER_RELEASE-gha-rs-controller"
  warn "  - the quota:     kubectl --context $CONTEXT -n $RUNNER_NS describe resourcequota runners"
  warn "  - GitHub: the App is installed on $repo, and LEVIATHAN_RUNS_ON is '$SCALE_SET' (gh variable list -R $repo)"
  warn "  docs/kubernetes.md, 'Known failure modes', says what each one means."
}

deadline=$((since + timeout_s))
run_id=""
state=""
while :; do
  if [ -z "$run_id" ]; then
    run_id=$(q gh run list -R "$repo" --workflow leviathan.yml --event workflow_dispatch --limit 10 \
      --json databaseId,createdAt -q ".[] | select((.createdAt | fromdateiso8601) >= $((since - 60))) | .databaseId" |
      head -n 1 || true)
  fi
  if [ -n "$run_id" ]; then
    state=$(q gh run view "$run_id" -R "$repo" --json status,conclusion,url -q '.status + " " + .conclusion + " " + .url' || true)
    case "$state" in
    "completed success "*)
      say "smoke test passed: ${state##* }"
      exit 0
      ;;
    completed*)
      warn "smoke test failed: run ${state##* } concluded '$(echo "$state" | cut -d' ' -f2)'; see: gh run view $run_id -R $repo --log-failed"
      exit 1
      ;;
    esac
  fi
  if [ "$(date -u +%s)" -ge "$deadline" ]; then
    if [ -z "$run_id" ]; then
      warn "smoke test timed out after ${timeout_s}s: no run of leviathan.yml appeared on $repo (is the workflow on the default branch?)"
    else
      warn "smoke test timed out after ${timeout_s}s: run ${state##* } is still '${state%% *}'"
      where_to_look
    fi
    exit 1
  fi
  sleep "$poll_s"
done
