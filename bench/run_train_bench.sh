#!/usr/bin/env bash
# Two-tower training throughput on 1 and 2 ranks (one thread each) with the same global batch
# (so the same training), and the scaling ratio, next to the PyTorch figures of
# TRAINING_REFERENCE.md. A third configuration is the machine's ceiling: 2 ranks that each train
# alone and exchange nothing (recsys_bench_train --independent); its samples/s is twice the slower
# rank's, the most an evenly split synchronous step could reach on these two cores. The machine is
# shared and noisy, so the three are run in turn, RECSYS_BENCH_REPEAT times (default 3), and the
# medians compared.
# Usage: bench/run_train_bench.sh [recsys_bench_train options, e.g. --inputs dataset]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/launch/env.sh"
bin=${RECSYS_BUILD_DIR:-$root/build}/bin
repeat=${RECSYS_BENCH_REPEAT:-3}
csv=$(mktemp)
trap 'rm -f "$csv"' EXIT
for ((i = 1; i <= repeat; ++i)); do
  for config in "1" "2" "2 --independent"; do
    read -r np mode <<<"$config"
    mpirun -np "$np" --oversubscribe "$bin/recsys_bench_train" --threads 1 --csv "$csv" $mode "$@"
  done
done
# csv rows: ranks,mode,threads,global_batch,inputs,samples_per_s,ms_per_step
sort -t, -k1,1n -k2,2 -k6,6g "$csv" | awk -F, -v repeat="$repeat" '
  { key = $1 "," $2; n[key]++
    if (n[key] == int((repeat + 1) / 2)) { median[key] = $6; ms[key] = $7 }
    inputs = $5; batch = $4
    runs[key] = runs[key] (runs[key] == "" ? "" : " ") sprintf("%.0f", $6) }
  END {
    print ""
    printf "Global batch %d; median of %d runs per configuration, taken in turn (all runs in brackets):\n", batch, repeat
    print ""
    print "| configuration | inputs | samples/s | ms/step | vs 1 rank |"
    print "|---|---|---|---|---|"
    split("1,data-parallel|2,data-parallel|2,independent", keys, "|")
    split("1 rank x 1 thread|2 ranks x 1 thread|ceiling: 2 independent ranks, nothing exchanged", names, "|")
    for (k = 1; k <= 3; ++k) {
      key = keys[k]
      printf "| %s | %s | %.0f [%s] | %.1f | %.2fx |\n", names[k], inputs, median[key], runs[key],
             ms[key], median[key] / median["1,data-parallel"]
    }
    print ""
    print "PyTorch on the synthetic job at batch 512 per process (TRAINING_REFERENCE.md): 1 process x"
    print "1 thread, sparse + SparseAdam 7600 samples/s; DDP (gloo) 2 x 1 thread: 6898 samples/s (0.91x)."
  }'
