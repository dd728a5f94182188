#!/usr/bin/env bash
# The main job end to end on the small embedded default, on 2 MPI ranks: installs packages
# (root), builds, then recsys_train generates a synthetic dataset, trains the four two-tower
# variants, embeds the catalogue, builds the sharded index, prints the recall table, and
# recsys_search answers a few queries through the scatter-gather router.
# Usage: launch/quickstart.sh [RUN_DIR]   (default: runs/quickstart)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run=${1:-$root/runs/quickstart}
bash "$root/launch/setup.sh"
bash "$root/launch/build.sh"
source "$root/launch/env.sh"
bin=${RECSYS_BUILD_DIR:-$root/build}/bin

mpirun -np 2 --oversubscribe "$bin/recsys_train" --out "$run" --products 20000 --queries 10000 \
  --epochs 3 --seed 1
"$bin/recsys_data" inspect "$run/dataset.h5"
echo "== nearest products of products 0, 1 and 2, through the router on 2 ranks"
mpirun -np 2 --oversubscribe "$bin/recsys_search" --index "$run/index" \
  --vectors "$run/vectors.h5" --rows 0,1,2 --k 5 --nprobe 8
echo "quickstart: done; outputs in $run (results/recall_metrics.md, index/, checkpoints/)"
