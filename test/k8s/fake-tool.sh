#!/bin/bash
# One fake for kind, docker, kubectl, helm and gh (called by its link's name): it logs every call to
# $FAKE_STATE/calls.log and keeps just enough state in $FAKE_STATE to answer bootstrap.sh's queries the
# way the real tools would after the commands it ran. Test-only: no cluster exists on these machines.
set -u
S=${FAKE_STATE:?}
tool=${0##*/}
printf '%s %s\n' "$tool" "$*" >>"$S/calls.log"
args=" $* "
arg_after() { # the word after $1 in the arguments
  local prev=""
  for a in "${ARGV[@]}"; do
    if [ "$prev" = "$1" ]; then
      printf '%s' "$a"
      return
    fi
    prev=$a
  done
}
ARGV=("$@")
if [ -n "${FAKE_FAIL:-}" ] && [[ "$tool $*" == *"$FAKE_FAIL"* ]]; then
  echo "$tool: simulated failure" >&2
  exit 3
fi
case "$tool" in
kind)
  case "$args" in
  *" get clusters "*) cat "$S/kind-clusters" 2>/dev/null ;;
  *" create cluster "*) arg_after --name >>"$S/kind-clusters" && echo >>"$S/kind-clusters" ;;
  *" get nodes "*) [ -s "$S/kind-clusters" ] && printf '%s\n' leviathan-control-plane leviathan-worker leviathan-worker2 ;;
  *" load docker-image "*) cat "$S/image-id" >"$S/node-image" ;;
  *" delete cluster "*) rm -f "$S/kind-clusters" "$S/node-image" "$S"/helm-* "$S/applied" "$S/secret" ;;
  esac
  ;;
docker)
  case "$args" in
  *" info "*) [ -z "${FAKE_DOCKER_DOWN:-}" ] || exit 1 ;;
  *" image inspect "*)
    [ -f "$S/image-id" ] || exit 1
    case "$args" in
    *fingerprint*) cat "$S/image-fp" ;;
    *) cat "$S/image-id" ;;
    esac
    ;;
  *" build "*)
    fp=$(arg_after --label)
    printf '%s\n' "${fp#*=}" >"$S/image-fp"
    printf 'sha256:%s\n' "${fp#*=}" >"$S/image-id"
    ;;
  *" exec "*" crictl "*) cat "$S/node-image" 2>/dev/null ;;
  esac
  ;;
kubectl)
  case "$args" in
  *" diff "*) [ -f "$S/applied" ] || exit 1 ;;
  *" apply "*) : >"$S/applied" ;;
  *" get secret "*) [ -f "$S/secret" ] || exit 1 ;;
  *" create secret "*) : >"$S/secret" ;;
  *" wait "*) exit 0 ;;
  *) exit 1 ;;
  esac
  ;;
helm)
  case "$args" in
  *" list "*)
    name=$(arg_after --filter)
    name=${name#^}
    name=${name%$}
    want=$(arg_after --selector)
    [ "$(cat "$S/helm-$name" 2>/dev/null)" = "${want#*=}" ] && printf '%s\n' "$name"
    ;;
  *" upgrade "*)
    fp=$(arg_after --labels)
    printf '%s\n' "${fp#*=}" >"$S/helm-$(arg_after --install)"
    ;;
  *" status "*) [ -f "$S/helm-$(arg_after status)" ] || exit 1 ;;
  *" uninstall "*) rm -f "$S/helm-$(arg_after uninstall)" ;;
  esac
  ;;
gh)
  case "$args" in
  *" variable get "*) cat "$S/var-$(arg_after get)" 2>/dev/null || exit 1 ;;
  *" variable set "*) arg_after --body >"$S/var-$(arg_after set)" ;;
  *" workflow run "*) : >"$S/dispatched" ;;
  *" run list "*) [ -f "$S/dispatched" ] && echo 4242 ;;
  *" run view "*) printf '%s\n' "${FAKE_RUN_STATE:-completed success https://github.com/o/r/actions/runs/4242}" ;;
  esac
  ;;
esac
exit 0
