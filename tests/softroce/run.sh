#!/usr/bin/env bash
# The soft-RoCE suite: boots a Debian guest with an rdma_rxe device (the rig,
# tests/softroce/rig.sh) and runs the multi-process tests and
# benchmarks there over libfabric verbs. Binaries come from this build.
#   run.sh BUILD_DIR
# Exit 77 (skip) where the guest cannot be built or booted here. The guest
# image is cached in $RIG_DIR (default /var/cache/libgroup-softroce) between runs.
set -uo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
export RIG_DIR=${RIG_DIR:-/var/cache/libgroup-softroce}
export RIG_TIMEOUT=${RIG_TIMEOUT:-2400}
# Four members with 100 MB RDMC buffers each need more than the rig's 4 GiB.
export RIG_MEM=${RIG_MEM:-8192}
if [ "$(id -u)" != 0 ]; then echo "softroce: needs root for the guest image; skipping"; exit 77; fi
# The guest must not outlive this runner, however it ends: rig.sh gets SIGKILL when we die
# (PR_SET_PDEATHSIG) and passes that on down to qemu. The traps end us at once on what
# meson (TERM on timeout) or a terminal (INT, HUP) sends; bash defers a trap until a
# foreground child exits, hence the background job and wait.
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM
rig() { setpriv --pdeathsig KILL bash "$here/rig.sh" "$@" & wait $!; }
if ! rig build; then echo "softroce: cannot build the guest image; skipping"; exit 77; fi
bins=("$build/tests/test_sst_multi" "$build/tests/test_multicast" "$build/tests/test_rdmc"
      "$build/tests/test_epoch" "$build/tests/test_links" "$build/tests/test_viewchange"
      "$build/tests/test_persist_mp" "$build/tests/test_restart"
      "$build/apps/kvstore"
      "$build/perf/fabric_bw" "$build/perf/sst_pingpong")
rig run "$here/job.sh" "${bins[@]}"
rc=$?
# 125: the rig itself failed (no qemu, no boot): not a verdict on libgroup.
[ "$rc" = 125 ] && { echo "softroce: the guest did not run; skipping"; exit 77; }
exit "$rc"
