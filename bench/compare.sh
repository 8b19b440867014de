#!/usr/bin/env bash
# One run, both peers: clgan's training throughput and the PyTorch program's on the same machine
# and data, and their ratio, for each model named (default: mlp mlp-bn dcgan).
#   bench/compare.sh [--steps N] [MODEL...]
# Needs a release build (cmake --preset release && cmake --build --preset release) and Debian's
# python3-torch. PyTorch runs on one thread (two were slower on this 2-core machine).
# Environment: CLGAN_DATA (the Fashion-MNIST folder, for both peers), CLGAN_BENCH_PYTHON (a Python
# with torch; default /usr/bin/python3), CLGAN_BENCH_PEER_DEVICE (cpu, the default, or cuda: then
# the peer runs on the GPU and no OpenBLAS is needed; clgan's device is $CLGAN_DEVICE).
set -euo pipefail
cd "$(dirname "$0")/.."
steps=300
if [ "${1:-}" = --steps ]; then steps=$2; shift 2; fi
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(mlp mlp-bn dcgan)
bin=${CLGAN_BENCH_BIN:-build/release/bench/clgan_bench_train}
py=${CLGAN_BENCH_PYTHON:-/usr/bin/python3}
peer_device=${CLGAN_BENCH_PEER_DEVICE:-cpu}
data_args=()
[ -z "${CLGAN_DATA:-}" ] || data_args=(--data "$CLGAN_DATA")
[ -x "$bin" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
# Debian's PyTorch runs its GEMMs through libblas.so.3; with only the reference BLAS installed it
# is no fair peer. Use OpenBLAS (the OpenMP build, one thread), unpacked into .deps/ without
# touching the system when it is not installed.
oblas=/usr/lib/x86_64-linux-gnu/openblas-openmp
if [ "$peer_device" = cpu ] && [ ! -e "$oblas/libblas.so.3" ]; then
  oblas=$PWD/.deps/openblas/usr/lib/x86_64-linux-gnu/openblas-openmp
  if [ ! -e "$oblas/libblas.so.3" ]; then
    mkdir -p .deps && (cd .deps && apt-get download libopenblas0-openmp >/dev/null &&
      dpkg -x libopenblas0-openmp_*.deb openblas)
  fi
fi
for model in "${models[@]}"; do
  case $model in
    dcgan) peer=(bench/peer_dcgan.py) ;;
    *) peer=(bench/peer_mlp.py --model "$model") ;;
  esac
  s=$steps
  [ "$model" = dcgan ] && s=$((steps / 10 > 20 ? steps / 10 : 20))
  # (not tee /dev/stderr: with stderr on a file, tee reopens it at offset 0 over earlier lines)
  out=$("$bin" --model "$model" --steps "$s" "${data_args[@]}" | grep -v '^clgan .*: device time')
  printf '%s\n' "$out" >&2
  ours=$(grep '^clgan ' <<<"$out")
  theirs=$(LD_LIBRARY_PATH="$oblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" OMP_NUM_THREADS=1 \
    "$py" "${peer[@]}" --steps "$s" --threads 1 --device "$peer_device" "${data_args[@]}" 2>/dev/null | grep '^peer ')
  echo "$ours"
  echo "$theirs"
  a=$(sed -E 's/.*img_per_s=([0-9.]+).*/\1/' <<<"$ours")
  b=$(sed -E 's/.*img_per_s=([0-9.]+).*/\1/' <<<"$theirs")
  awk -v a="$a" -v b="$b" -v m="$model" -v p="$peer_device" 'BEGIN { printf "ratio %s: clgan / PyTorch (%s) img/s = %.2f\n\n", m, p == "cpu" ? "1 thread, OpenBLAS" : p, a / b }'
done
