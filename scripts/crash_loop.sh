#!/usr/bin/env bash
# Long crash loops of the persistence test: kill -9 of a random member and
# a new process on its log, CYCLES times in all, in runs of at most 1000
# cycles (one run's processes are numbered below the harness's limit).
# Each run ends with its checks: nothing reported persisted is missing
# from any log, the logs agree, the members end with the same state.
#   scripts/crash_loop.sh [CYCLES [BUILD_DIR]]     (default 1000, build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
total=${1:-1000}
build=${2:-build}
"$root/scripts/build.sh" "$build"
done_cycles=0 run=0
while [ "$done_cycles" -lt "$total" ]; do
  n=$((total - done_cycles)); [ "$n" -gt 1000 ] && n=1000
  run=$((run + 1))
  echo "run $run: $n cycles ($done_cycles of $total done)"
  out=$(mktemp)
  status=0
  GROUP_TEST_CRASH_CYCLES=$n "$root/$build/tests/test_persist_mp" crash_loop >"$out" 2>&1 ||
    status=$?
  grep -E 'cycles in|highest version|^log [0-9]|OK|FAILED|ERROR' "$out" || true
  if [ "$status" -ne 0 ]; then echo "run $run failed: output in $out"; exit 1; fi
  rm -f "$out"
  done_cycles=$((done_cycles + n))
done
echo "crash loop: $done_cycles cycles passed"
