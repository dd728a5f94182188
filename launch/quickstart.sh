#!/usr/bin/env bash
# The main job end to end on the small embedded default, on 2 MPI ranks: installs packages
# (root), builds, then recsys_train generates a synthetic dataset, trains the four two-tower
# variants, embeds the catalogue with the best of them, builds the sharded vector and lexical
# indexes, trains the FM, DCN and XGBoost rankers on the hybrid candidates, prints the recall
# table and the two-stage ranking comparison, and recsys_query answers three shopping queries
# typed as text through the scatter-gather routers (hybrid: the query tower's neighbours and
# BM25, fused) and the DCN ranker.
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
echo "== three shopping queries through the deployed recall stage and the DCN ranker on 2 ranks"
mpirun -np 2 --oversubscribe "$bin/recsys_query" --run "$run" --k 5 --ranker dcn \
  "wireless bluetooth headphones" "red running shoes" "usb c cable"
echo "quickstart: done; outputs in $run (results/recall_metrics.md, results/ranking_comparison.md"
echo "and .png, results/rerank.md, results/curves/, index/, checkpoints/)"
