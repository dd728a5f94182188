#!/usr/bin/env bash
# The lexical benchmark at 20K and 1M products (the default synthetic catalogue and a 1M one,
# generated into the scratch folder when missing), on 2 ranks by default: each run prints the
# 1-rank and the N-rank columns side by side.
# Usage: bench/run_lexical_bench.sh [recsys_bench_lexical options]   (NP=4 for 4 ranks)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/launch/env.sh"
bin=${RECSYS_BUILD_DIR:-$root/build}/bin
data=${RECSYS_BENCH_DATA:-/tmp/recsys_bench_lexical_data}
mkdir -p "$data"
[[ -f $data/20k.h5 ]] || "$bin/recsys_data" generate --out "$data/20k.h5"
[[ -f $data/1m.h5 ]] || "$bin/recsys_data" generate --products 1000000 --out "$data/1m.h5"
for n in 20k 1m; do
  mpirun -np "${NP:-2}" --oversubscribe --bind-to none "$bin/recsys_bench_lexical" \
    --data "$data/$n.h5" "$@"
done
