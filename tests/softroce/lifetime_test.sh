#!/usr/bin/env bash
# The soft-RoCE guest dies with its runner, however the runner ends. For each way to end
# it (meson's SIGTERM to the test's process group on a timeout, SIGTERM, SIGINT or SIGKILL
# to run.sh alone), start run.sh, wait until its qemu runs, end the runner, and require
# that nothing the run started is left within a bound.
#   lifetime_test.sh BUILD_DIR
# Exit 77 (skip) where the guest cannot be built or started here, like run.sh.
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
export RIG_DIR=${RIG_DIR:-/var/cache/libgroup-softroce}
if [ "$(id -u)" != 0 ]; then echo "lifetime: needs root for the guest image; skipping"; exit 77; fi
# Building the image can take minutes; a run only has to get as far as starting qemu.
if ! bash "$here/rig.sh" build; then echo "lifetime: cannot build the guest image; skipping"; exit 77; fi
START_S=60 GONE_S=20

# Every process of a run carries its tag in the environment, also once reparented to init,
# which identifies it without racing on reused PIDs.
tag_prefix=softroce-lifetime-$$
tagged() { # TAG_REGEX: PIDs of the processes whose LIFETIME_TAG matches
  grep -lsz "^LIFETIME_TAG=$1\$" /proc/[0-9]*/environ | cut -d/ -f3 || true
}
qemu_of() { # TAG: PIDs of the run's qemu
  local p
  for p in $(tagged "$1"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = qemu-system-x86 ] && echo "$p"
  done
  return 0
}
show() { # TAG: what of the run is still alive
  local p
  for p in $(tagged "$1"); do ps -o pid=,ppid=,pgid=,args= -p "$p" | cut -c1-160 || true; done
}
kill_tagged() { # TAG_REGEX
  local p
  for p in $(tagged "$1"); do kill -KILL "$p" 2>/dev/null || true; done
}
logs=$(mktemp -d)
cleanup() {
  kill_tagged "$tag_prefix-.*"
  # The killed runs could not remove their job dirs (binaries copied for the guest).
  sed -n "s|.*job dir \($RIG_DIR/jobs/[^;/]*\);.*|\1|p" "$logs"/*.log 2>/dev/null | xargs -r rm -rf
  rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM
# Job control gives each runner a process group of its own, as meson does, and leaves its
# SIGINT alone (a non-interactive shell's background jobs would ignore it otherwise).
set -m

failed=0
one_case() { # NAME SIGNAL WHOM (pid | group)
  local name=$1 sig=$2 whom=$3 tag=$tag_prefix-$1 log=$logs/$1.log runner deadline
  # cleanup cannot run if this script is SIGKILLed (meson's last resort): the runner, and
  # with it the guest, dies with us instead.
  LIFETIME_TAG=$tag setpriv --pdeathsig KILL bash "$here/run.sh" "$build" > "$log" 2>&1 &
  runner=$!
  deadline=$((SECONDS + START_S))
  until [ -n "$(qemu_of "$tag")" ]; do
    if ! kill -0 "$runner" 2>/dev/null; then
      local rc=0; wait "$runner" || rc=$?
      cat "$log"
      [ "$rc" = 77 ] && { echo "lifetime: the runner skipped; skipping"; exit 77; }
      echo "FAIL $name: run.sh exited ($rc) before starting qemu"; exit 1
    fi
    [ "$SECONDS" -lt "$deadline" ] || { cat "$log"; echo "FAIL $name: no qemu within ${START_S}s"; exit 1; }
    sleep 0.2
  done
  local target=$runner; [ "$whom" = group ] && target=-$runner
  kill "-$sig" -- "$target"
  deadline=$((SECONDS + GONE_S))
  while [ -n "$(tagged "$tag")" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  if [ -n "$(tagged "$tag")" ]; then
    echo "FAIL $name: still running ${GONE_S}s after SIG$sig to the runner's $whom:"; show "$tag"
    failed=$((failed + 1))
    kill_tagged "$tag"
  else
    echo "PASS $name"
  fi
  wait "$runner" 2>/dev/null || true
}
one_case meson-timeout TERM group
one_case term TERM pid
one_case int INT pid
one_case kill KILL pid
exit "$failed"
