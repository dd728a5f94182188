#!/usr/bin/env bash
# Two-tower training throughput on 1 and 2 ranks (one thread each) and the scaling ratio, next
# to the PyTorch figures of TRAINING_REFERENCE.md.
# Usage: bench/run_train_bench.sh [recsys_bench_train options, e.g. --inputs dataset]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/launch/env.sh"
bin=${RECSYS_BUILD_DIR:-$root/build}/bin
csv=$(mktemp)
trap 'rm -f "$csv"' EXIT
for np in 1 2; do
  mpirun -np "$np" --oversubscribe "$bin/recsys_bench_train" --threads 1 --csv "$csv" "$@"
done
awk -F, '
  NR == 1 { base = $5 }
  { rows[NR] = sprintf("| %d rank%s x %d thread | %s | %.0f | %.1f | %.2fx |", $1,
                       ($1 > 1 ? "s" : ""), $2, $4, $5, $6, $5 / base) }
  END {
    print ""
    print "| configuration | inputs | samples/s | ms/step | vs 1 rank |"
    print "|---|---|---|---|---|"
    for (i = 1; i <= NR; ++i) print rows[i]
    print ""
    print "PyTorch on this job (TRAINING_REFERENCE.md): 1 process x 1 thread, sparse + SparseAdam"
    print "7600 samples/s; DDP (gloo) 2 processes x 1 thread, sparse: 6898 samples/s (0.91x)."
  }' "$csv"
