#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every test
# plainly and under AddressSanitizer+UBSan (leak checking on), the
# multi-process tests under ThreadSanitizer, and print one summary line.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" || exit 1
passed=0 failed=0
run_suite() { # DIR LABEL "MESON TEST ARGS" [meson setup options...]
  local dir=$1 label=$2 test_args=$3; shift 3
  if ! "$root/scripts/build.sh" "$dir" "$@"; then
    echo "$label: build failed"; failed=$((failed + 1)); return
  fi
  echo "== $label =="
  # shellcheck disable=SC2086
  meson test -C "$root/$dir" --print-errorlogs --num-processes 2 $test_args \
    | tee "$root/$dir/test-summary.txt"
  local ok fail
  ok=$(awk '/^Ok:/ {print $2}' "$root/$dir/test-summary.txt")
  fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {s += $NF} END {print s + 0}' "$root/$dir/test-summary.txt")
  passed=$((passed + ${ok:-0})); failed=$((failed + ${fail:-1}))
}
run_suite build "tests" ""
# Sanitized members run several times slower: their waits, and the silence
# after which a member is suspected, scale with them (tests/harness/test_time.h).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 GROUP_TEST_TIME_SCALE=3 \
  run_suite build-asan "tests under ASan+UBSan" "" -Db_sanitize=address,undefined -Db_lundef=false
TSAN_OPTIONS="halt_on_error=1 suppressions=$root/tests/tsan.supp" GROUP_TEST_TIME_SCALE=10 \
  run_suite build-tsan "multi-process tests under TSan" "--suite multi" -Db_sanitize=thread -Db_lundef=false
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
