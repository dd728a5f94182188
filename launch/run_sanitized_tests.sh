#!/usr/bin/env bash
# Builds the tests of core/, dist/, data/ and shards/ and the fuzz corpus replays (the ctest label
# "sanitized"; tests/CMakeLists.txt lists the few left out because they link LibTorch) with
# AddressSanitizer and UndefinedBehaviorSanitizer into build-asan/ (or $RECSYS_ASAN_BUILD_DIR),
# and runs them. Any sanitizer report fails its test: UBSan findings halt (-fno-sanitize-recover).
# Leak checking is off: Open MPI's own allocations at MPI_Finalize would drown every MPI test's
# output. Usage: launch/run_sanitized_tests.sh [extra ctest arguments, e.g. -R data_]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RECSYS_ASAN_BUILD_DIR:-$root/build-asan}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
t0=$(date +%s)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRECSYS_SANITIZE=ON >/dev/null
fi
cmake --build "$build" -j "${RECSYS_JOBS:-2}" --target recsys_sanitized_tests
t1=$(date +%s)
source "$root/launch/env.sh"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
status=0
ctest --output-on-failure -L sanitized -j "${RECSYS_JOBS:-2}" "$@" || status=$?
t2=$(date +%s)
echo "run_sanitized_tests: build $((t1 - t0)) s, tests $((t2 - t1)) s"
exit $status
