#!/usr/bin/env bash
# Load benchmark of recsys_serve with wrk on loopback: queries/s and p50/p95/p99 latency at 1, 8
# and 32 connections for recall only (hybrid, no ranker) and for 200 candidates ranked by DCN,
# then product adds/s; errors counted; resident memory of the ranks before and after. Prints a
# Markdown table.
# Usage: bench/run_serve_bench.sh RUN [RANKS (2)] [SECONDS per cell (10)]
#   RUN: a run folder with a DCN ranker (recsys_train ... --rankers dcn-2), e.g. one of 1M
#   products: recsys_train --out RUN --products 1000000 --variant base --rankers dcn-2 ...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run=${1:?usage: run_serve_bench.sh RUN [RANKS] [SECONDS]}
ranks=${2:-2}
seconds=${3:-10}
bin=${RECSYS_BUILD_DIR:-$root/build}/bin
source "$root/launch/env.sh"
command -v wrk >/dev/null || { echo "wrk is not installed (launch/setup.sh installs it)" >&2; exit 1; }
log=$(mktemp)
# Adds of this benchmark must not stay in the run: the add log moves aside and comes back.
adds=$run/serve/adds
if [ -d "$adds" ]; then mv "$adds" "$adds.before-bench"; fi
cleanup() {
  [ -n "${pid:-}" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$adds" "$log"
  if [ -d "$adds.before-bench" ]; then mv "$adds.before-bench" "$adds"; fi
}
trap cleanup EXIT

mpirun -np "$ranks" --oversubscribe "$bin/recsys_serve" --run "$run" --port 0 --http-threads 40 \
  --ranker dcn >"$log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1200); do
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "recsys_serve did not start" >&2; cat "$log" >&2; exit 1; }
url=http://127.0.0.1:$port
products=$(sed -n 's/.*recsys_serve: \([0-9]*\) products.*/\1/p' "$log")

rss_mib() {  # resident memory of the ranks, summed, in MiB
  local total=0 p
  for p in $(pgrep -f "$bin/recsys_serve --run $run"); do
    total=$((total + $(awk '/VmRSS/ {print $2}' "/proc/$p/status")))
  done
  echo $((total / 1024))
}
before=$(rss_mib)
# cell NAME CONNECTIONS KIND BODY: one wrk run; prints a table row.
cell() {
  local out
  out=$(BENCH_KIND=$3 BENCH_BODY=$4 wrk -t "$(( $2 < 2 ? 1 : 2 ))" -c "$2" -d "${seconds}s" \
    --timeout 5s -s "$root/bench/serve_bench.lua" "$url" | grep '^result')
  local rps p50 p95 p99 errors
  rps=$(echo "$out" | sed 's/.*rps=\([0-9.]*\).*/\1/')
  p50=$(echo "$out" | sed 's/.*p50_ms=\([0-9.]*\).*/\1/')
  p95=$(echo "$out" | sed 's/.*p95_ms=\([0-9.]*\).*/\1/')
  p99=$(echo "$out" | sed 's/.*p99_ms=\([0-9.]*\).*/\1/')
  errors=$(echo "$out" | sed 's/.*errors=\([0-9]*\).*/\1/')
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$rps" "$p50" "$p95" "$p99" "$errors"
}
curl -s -H 'Content-Type: application/json' -d '{"query": "warm up"}' "$url/recommend" >/dev/null
echo "recsys_serve on $ranks rank(s), $products products, loopback, wrk ${seconds} s per row ($(getconf _NPROCESSORS_ONLN) cores shared by server and wrk)"
echo
echo "| workload | connections | requests/s | p50 ms | p95 ms | p99 ms | errors |"
echo "|---|---|---|---|---|---|---|"
for c in 1 8 32; do cell "recall only (hybrid, M 100, no ranker)" "$c" recommend '"ranker": "none"'; done
for c in 1 8 32; do cell "recall 200 + DCN" "$c" recommend '"ranker": "dcn", "candidates": 200'; done
for c in 1 8; do cell "POST /products (adds)" "$c" add ""; done
after=$(rss_mib)
syncs=$(curl -s "$url/metrics" | sed -n 's/^recsys_add_log_syncs_total \(.*\)/\1/p')
added=$(curl -s "$url/metrics" | sed -n 's/^recsys_products_added_total \(.*\)/\1/p')
echo
echo "resident memory of the $ranks ranks: $before MiB before, $after MiB after; $added products added in $syncs group commits"
