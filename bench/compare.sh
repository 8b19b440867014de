#!/usr/bin/env bash
# One run, both peers: clgan's training throughput and the PyTorch program's on the same machine
# and data, and their ratio. usage: bench/compare.sh [MODEL] [STEPS]   (MODEL: mlp or mlp-bn)
# Needs a built tree (build/release) and Debian's python3-torch.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-mlp}
steps=${2:-300}
bin=${CLGAN_BENCH_BIN:-build/release/bench/clgan_bench_train}
[ -x "$bin" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
# Debian's PyTorch runs its GEMMs through libblas.so.3; with only the reference BLAS installed it
# is no fair peer. Use OpenBLAS (single-threaded runs: the OpenMP build), unpacked into .deps/
# without touching the system when it is not installed.
oblas=/usr/lib/x86_64-linux-gnu/openblas-openmp
if [ ! -e "$oblas/libblas.so.3" ]; then
  oblas=$PWD/.deps/openblas/usr/lib/x86_64-linux-gnu/openblas-openmp
  if [ ! -e "$oblas/libblas.so.3" ]; then
    mkdir -p .deps && (cd .deps && apt-get download libopenblas0-openmp >/dev/null &&
      dpkg -x libopenblas0-openmp_*.deb openblas)
  fi
fi
export LD_LIBRARY_PATH="$oblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
ours=$("$bin" --model "$model" --steps "$steps" --no-profile | grep '^clgan ')
peer=$(OMP_NUM_THREADS=1 /usr/bin/python3 bench/peer_mlp.py --model "$model" --steps "$steps" --threads 1 | grep '^peer ')
echo "$ours"
echo "$peer"
a=$(sed -E 's/.*img_per_s=([0-9.]+).*/\1/' <<<"$ours")
b=$(sed -E 's/.*img_per_s=([0-9.]+).*/\1/' <<<"$peer")
awk -v a="$a" -v b="$b" -v m="$model" 'BEGIN { printf "ratio %s: clgan / pytorch (1 thread) img/s = %.2f\n", m, a / b }'
