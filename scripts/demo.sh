#!/usr/bin/env bash
# The main job: install what is missing, build, and run the benchmarks on a
# local group of member processes on 127.0.0.1. Results: perf-results/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh" build
out="$root/perf-results"
cd "$root"
echo "== raw one-sided writes (the ceiling) =="
build/perf/fabric_bw -o "$out" -b 1e9
echo
echo "== shared state table: round trip and push rate, 2..5 members =="
build/perf/sst_pingpong -o "$out" -t 1
echo
echo "== idle cost: 4 members idle, then pings into sleeping engines =="
build/perf/sst_idle -o "$out" -t 5
echo
echo "CSV and plots: $out"
