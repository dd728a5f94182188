#!/usr/bin/env bash
# The main job end to end on a small synthetic default, on 2 MPI ranks:
# installs packages (root), builds, generates a dataset with mpirun -np 2 and inspects it.
# Usage: launch/quickstart.sh [RUN_DIR]   (default: runs/quickstart)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run=${1:-$root/runs/quickstart}
bash "$root/launch/setup.sh"
bash "$root/launch/build.sh"
source "$root/launch/env.sh"
bin=${RECSYS_BUILD_DIR:-$root/build}/bin
mkdir -p "$run"

echo "== data: synthetic catalogue on 2 ranks"
mpirun -np 2 --oversubscribe "$bin/recsys_data" generate --products 20000 --queries 10000 \
  --seed 1 --out "$run/dataset.h5"
"$bin/recsys_data" inspect "$run/dataset.h5"
echo "quickstart: done; outputs in $run"
