#!/usr/bin/env bash
# Installs every Debian package the project builds, tests and runs with. Idempotent; run as root.
# CUDA and NCCL are not installed here: the build detects them under /usr/local/cuda when present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libopenblas-dev            # without it FAISS and LibTorch use reference BLAS (~5x slower)
  libtorch-dev               # LibTorch 1.13 (CPU)
  libfaiss-dev               # FAISS 1.7.3 (CPU)
  libopenmpi-dev openmpi-bin # Open MPI 4.1
  libhdf5-dev hdf5-tools     # HDF5 1.10 (C, C++) and h5diff / h5dump
  libboost-program-options-dev
  libgtest-dev
  libxgboost-dev             # XGBoost 1.7 C API: the LambdaMART (rank:ndcg) ranking baseline
  gnuplot-nox                # PNG charts of the ranking comparison and training curves
  libcpp-httplib-dev         # recsys_serve's HTTP server (a shared library: use its pkg-config flags)
  nlohmann-json3-dev         # recsys_serve's JSON requests and replies
  prometheus-cpp-dev         # recsys_serve's /metrics (Prometheus text format)
  curl                       # the serving tests' HTTP client
  wrk                        # the serving load benchmark (bench/run_serve_bench.sh)
  chromium                   # headless screenshot test of the search page
)

# --fuzz: also clang and its libFuzzer / sanitizer runtimes, for -DRECSYS_FUZZ=ON (tests/fuzz).
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages (${missing[*]}); run this script as root" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
