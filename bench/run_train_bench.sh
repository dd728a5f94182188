#!/usr/bin/env bash
# Two-tower training throughput on 1 and 2 ranks (one thread each) with the same global batch
# (so the same training), and the scaling ratio, next to the PyTorch figures of
# TRAINING_REFERENCE.md. The machine is shared and noisy, so 1 and 2 ranks are run alternately,
# RECSYS_BENCH_REPEAT times (default 3), and the medians compared.
# Usage: bench/run_train_bench.sh [recsys_bench_train options, e.g. --inputs dataset]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/launch/env.sh"
bin=${RECSYS_BUILD_DIR:-$root/build}/bin
repeat=${RECSYS_BENCH_REPEAT:-3}
csv=$(mktemp)
trap 'rm -f "$csv"' EXIT
for ((i = 1; i <= repeat; ++i)); do
  for np in 1 2; do
    mpirun -np "$np" --oversubscribe "$bin/recsys_bench_train" --threads 1 --csv "$csv" "$@"
  done
done
# csv rows: ranks,threads,global_batch,inputs,samples_per_s,ms_per_step
sort -t, -k1,1n -k5,5g "$csv" | awk -F, -v repeat="$repeat" '
  { n[$1]++; if (n[$1] == int((repeat + 1) / 2)) { median[$1] = $5; ms[$1] = $6 }
    inputs = $4; batch = $3
    runs[$1] = runs[$1] (runs[$1] == "" ? "" : " ") sprintf("%.0f", $5) }
  END {
    print ""
    printf "Global batch %d; median of %d alternating runs per configuration (all runs in brackets):\n", batch, repeat
    print ""
    print "| configuration | inputs | samples/s | ms/step | vs 1 rank |"
    print "|---|---|---|---|---|"
    for (r = 1; r <= 2; ++r) {
      printf "| %d rank%s x 1 thread | %s | %.0f [%s] | %.1f | %.2fx |\n", r, (r > 1 ? "s" : ""),
             inputs, median[r], runs[r], ms[r], median[r] / median[1]
    }
    print ""
    print "PyTorch on the synthetic job at batch 512 per process (TRAINING_REFERENCE.md): 1 process x"
    print "1 thread, sparse + SparseAdam 7600 samples/s; DDP (gloo) 2 x 1 thread: 6898 samples/s (0.91x)."
  }'
