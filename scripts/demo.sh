#!/usr/bin/env bash
# The main job: install what is missing, build, and run a local group of
# member processes on 127.0.0.1 through the benchmarks and the replicated
# key-value store. Results (CSV, plots): perf-results/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh" build
out="$root/perf-results"
cd "$root"
section() { echo; echo "== $* =="; }
section "ceiling: raw one-sided writes between two processes"
build/perf/fabric_bw -o "$out" -b 5e8 -n 5000
section "ordered multicast throughput, 3 members, 10 KB messages, all send"
build/perf/bw -o "$out" -n 3 -s 10240 -p all -m 20000 2>/dev/null
section "ordered multicast throughput, 3 members, 10 KB messages, one sends"
build/perf/bw -o "$out" -n 3 -s 10240 -p one -m 20000 2>/dev/null
section "ordered multicast latency, 3 members, one message in flight"
build/perf/lat -o "$out" -n 3 -i 1000
section "large messages: raw RDMC and ordered multicast against group size (short sweep)"
build/perf/sweep -o "$out" -q -n 4 2>/dev/null
section "replicated key-value store, 3 members, concurrent load"
build/apps/kvstore --local 3 --ops 5000
section "view changes: kill -9 of one of 4 members, idle and under load; fault to new view"
build/perf/viewchange -o "$out" -n 4 -f kill -l both -r 5 2>/dev/null
section "joins: a fourth process joins 3 streaming members with a state of 0, 1 MiB, 1 GiB"
build/perf/join -o "$out" -r 1 2>/dev/null
section "idle cost of a 3-member group, then sends into sleeping engines"
build/perf/idle -o "$out" -l group -n 3 -t 5
section "shared state table: round trip against raw writes, push rate"
build/perf/sst_pingpong -o "$out" -t 0.5 -m 4 2>/dev/null
echo
echo "CSV and plots: $out"
