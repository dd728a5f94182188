#!/usr/bin/env bash
# Installs packages (root), builds, and runs every test with ctest; prints each part's time.
# Usage: launch/run_tests.sh [extra ctest arguments, e.g. -R dist]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
t0=$(date +%s)
bash "$root/launch/setup.sh"
t1=$(date +%s)
bash "$root/launch/build.sh"
t2=$(date +%s)
source "$root/launch/env.sh"
cd "${RECSYS_BUILD_DIR:-$root/build}"
status=0
ctest --output-on-failure -j "${RECSYS_JOBS:-2}" "$@" || status=$?
t3=$(date +%s)
echo "run_tests: setup $((t1 - t0)) s, build $((t2 - t1)) s, tests $((t3 - t2)) s"
exit $status
