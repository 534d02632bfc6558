#!/usr/bin/env bash
# Fuzzes the targets of tests/fuzz with libFuzzer, one after the other:
#   fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (60 s; every target)
# Installs clang and libFuzzer if missing (Debian 12: clang-14, whose
# libclang_rt.fuzzer is in libclang-rt-14-dev), builds build-fuzz with
# clang, -Dfuzzing=true and ASan+UBSan, runs each target on a copy of its
# corpus, merges the inputs that reach new code into tests/fuzz/corpus/TARGET
# and prints per target the executions, new corpus files and crashes. A
# crash, leak or timeout leaves its input in build-fuzz/fuzz-runs/TARGET/;
# once the bug is fixed, the input goes into the corpus too, so that every
# build replays it (meson test --suite fuzz). Exits 1 if anything crashed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift $(($# > 0 ? 1 : 0))
build=$root/build-fuzz
corpus_root=$root/tests/fuzz/corpus

if ! command -v clang >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null |
     grep -q "install ok installed"; then
  echo "fuzz: installing clang and libFuzzer"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
"$root/scripts/deps.sh"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for dir in "$corpus_root"/*/; do targets+=("$(basename "$dir")"); done
fi
if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$root" -Dfuzzing=true -Db_sanitize=address,undefined \
    -Db_lundef=false >/dev/null
fi
exes=()
for t in "${targets[@]}"; do exes+=("tests/fuzz/fuzz_$t"); done
if ! out=$(ninja -C "$build" "${exes[@]}" 2>&1); then echo "$out" | tail -40 >&2; exit 1; fi

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
total=0 crashed=0
printf '%-12s %12s %10s %8s %8s\n' target executions exec/s corpus crashes
for t in "${targets[@]}"; do
  exe=$build/tests/fuzz/fuzz_$t
  work=$build/fuzz-runs/$t
  rm -rf "$work"
  mkdir -p "$work/corpus"
  cp "$corpus_root/$t"/* "$work/corpus/"
  before=$(find "$corpus_root/$t" -type f | wc -l)
  # The library logs refusals on stderr; libFuzzer reports on its own copy.
  "$exe" -max_total_time="$seconds" -timeout=10 -close_fd_mask=2 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" >"$work/fuzz.log" 2>&1 || true
  "$exe" -merge=1 -close_fd_mask=2 "$corpus_root/$t" "$work/corpus" >"$work/merge.log" 2>&1 || true
  after=$(find "$corpus_root/$t" -type f | wc -l)
  runs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$work/fuzz.log")
  rate=$(awk '/stat::average_exec_per_sec:/ {print $2}' "$work/fuzz.log")
  artifacts=$(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'timeout-*' -o -name 'oom-*' \))
  found=$(printf '%s' "$artifacts" | grep -c . || true)
  # A run that died before its statistics executed what its log last counted.
  runs=${runs:-$(grep -o '^#[0-9]*' "$work/fuzz.log" | tail -1 | tr -d '#')}
  printf '%-12s %12s %10s %8s %8s\n' "$t" "${runs:-0}" "${rate:-?}" "$before+$((after - before))" "$found"
  total=$((total + ${runs:-0}))
  if [ "$found" -gt 0 ]; then
    crashed=1
    printf '%s\n' "$artifacts" | sed 's/^/  input: /'
    echo "  log: $work/fuzz.log"
  fi
done
echo "fuzz: $total executions in all"
exit $crashed
