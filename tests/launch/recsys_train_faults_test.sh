#!/usr/bin/env bash
# Faults an operator meets, on a small real run under mpirun -np 2:
#  1. a rank stopped (SIGSTOP) during training: the collective watchdog ends the job within
#     --collective-timeout, non-zero, naming the stopped rank;
#  2. an index build failing half-way: the previous RUN/index is untouched (the new one is built
#     in RUN/index.partial), still serves queries, and the next build clears the partial one;
#  3. temporary files of killed writers are removed at the next start.
# Usage: recsys_train_faults_test.sh BIN_DIR   (run by ctest)
set -uo pipefail
bin=$1
work=$(mktemp -d)
run=$work/run
# Every process this test starts is found by the run folder in its command line.
cleanup() {
  pkill -9 -f -- "--out $run" 2>/dev/null
  pkill -9 -f -- "--run $run" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
source "$(dirname "$0")/../cli_test_lib.sh"
train=(mpirun -np 2 --oversubscribe "$bin/recsys_train" --out "$run")

if ! "${train[@]}" --products 2000 --queries 1500 --variant base --epochs 1 --stage data \
      >"$work/setup.log" 2>&1 ||
   ! "${train[@]}" --variant base --epochs 1 --stage recall >>"$work/setup.log" 2>&1 ||
   ! "${train[@]}" --stage embed >>"$work/setup.log" 2>&1 ||
   ! "${train[@]}" --stage index --nlist 16 >>"$work/setup.log" 2>&1; then
  echo "FAIL: could not build the run: $(tail -5 "$work/setup.log")"
  exit 1
fi

# The pid of rank R of the job whose command line holds "--out $run".
rank_pid() {
  local pid
  for pid in $(pgrep -f -- "recsys_train --out $run"); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      echo "$pid"
      return
    fi
  done
}

# Waits up to 60 s for a command to succeed.
wait_for() {
  local i
  for i in $(seq 600); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

# 1. Rank 1 stops in the middle of training.
"${train[@]}" --variant base --epochs 200 --patience 0 --stage recall --collective-timeout 3 \
  >"$work/stall.out" 2>"$work/stall.err" &
job=$!
if wait_for grep -q "epoch 1" "$work/stall.err"; then
  pid=$(rank_pid 1)
  kill -STOP "$pid"
  start=$(date +%s)
  wait $job
  code=$?
  echo "stalled job: exit $code after $(($(date +%s) - start)) s"
  if [ "$code" -ne 0 ] && grep -q "rank 1 did not arrive" "$work/stall.err" &&
      grep -q "timed out after 3 s" "$work/stall.err"; then
    pass "a stopped rank ends the job, named, within the timeout"
  else
    fail "stopped rank: exit $code: $(grep -v '^\[I' "$work/stall.err" | head -c 1200)"
  fi
else
  fail "training never started: $(tail -c 600 "$work/stall.err")"
  kill -9 $job
fi
pkill -9 -f -- "--out $run" 2>/dev/null
wait 2>/dev/null

# 2. An index build that fails half-way (the vector index is written, then the lexical build
#    refuses a dataset of another size) leaves RUN/index as it was: same files, same bytes, and
#    recsys_query still answers from it. A build killed at that point takes the same path: the
#    new index only ever lives in RUN/index.partial until it is complete.
cp -a "$run/index" "$work/index.before"
"$bin/recsys_data" generate --out "$work/other.h5" --products 1999 --queries 100 >/dev/null 2>&1
"${train[@]}" --data "$work/other.h5" --stage index --nlist 16 >"$work/index.log" 2>&1
if grep -q "holds 1999 products" "$work/index.log" && [ -f "$run/index.partial/manifest.h5" ] &&
    diff -r "$run/index" "$work/index.before" >/dev/null; then
  pass "an index build failing half-way leaves the previous index untouched"
else
  fail "the index changed under a failed build: $(grep error "$work/index.log" | head -c 600)"
fi
if mpirun -np 2 --oversubscribe "$bin/recsys_query" --run "$run" --k 3 --tsv "usb cable" \
    >"$work/query.tsv" 2>"$work/query.err" && [ -s "$work/query.tsv" ]; then
  pass "the previous index still answers queries"
else
  fail "query after the failed build: $(grep -i error "$work/query.err" | head -c 600)"
fi

# 3. The next start removes temporaries of dead writers; the next index build removes the
#    partial one and swaps in a whole new index.
stale="$run/checkpoints/two_tower_base.h5.tmp.$(hostname).999999999"
echo "half a checkpoint" >"$stale"
if "${train[@]}" --stage index --nlist 16 >"$work/rebuild.log" 2>&1 && [ ! -e "$stale" ] &&
    [ ! -e "$run/index.partial" ] && [ -f "$run/index/manifest.h5" ] &&
    grep -q "left by an interrupted build" "$work/rebuild.log" &&
    grep -q "that no longer runs" "$work/rebuild.log"; then
  pass "stale temporaries and the partial index are removed; the rebuilt index is whole"
else
  fail "rebuild: $(tail -c 800 "$work/rebuild.log")"
fi
finish
