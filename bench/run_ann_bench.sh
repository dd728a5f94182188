#!/usr/bin/env bash
# The ANN benchmark with the reference settings (1M x 64, nlist 1024), on 2 ranks by default.
# Usage: bench/run_ann_bench.sh [recsys_bench_ann options]   (NP=1 for a single rank)
#
# One run prints every column side by side: FAISS (1 and 2 threads) and this index on one rank
# run on rank 0 while the other ranks sleep; this index on all ranks runs on all of them. So the
# 1-rank vs 2-rank comparison needs no second invocation. --bind-to none: by default Open MPI
# pins each of 2 ranks to one core, which would squeeze FAISS's 2 threads onto one core.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/launch/env.sh"
bin=${RECSYS_BUILD_DIR:-$root/build}/bin
exec mpirun -np "${NP:-2}" --oversubscribe --bind-to none "$bin/recsys_bench_ann" "$@"
