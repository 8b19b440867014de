#!/usr/bin/env bash
# Start-up: the time from launch to the end of the first training step, by phase, with a cold
# and a warm PoCL kernel cache (issue 11: warm under 0.5 s), for each model named (default:
# mlp-bn, the README's first model).
#   bench/startup.sh [--runs N] [MODEL...]
# Cold: PoCL's cache pointed at an empty folder (POCL_CACHE_DIR), so every OpenCL program,
# clgan's and CLBlast's, is compiled. Warm: the same folder again, N times. The phases are
# clgan_bench_train --startup's (exec to main, device open, data read and upload, trainer,
# step-0 sample grid, first step); then the wall time of a whole `clgan train --steps 1` process,
# warm, which adds the checkpoint, the last sample grid and the exit.
# Needs a release build (cmake --preset release && cmake --build --preset release).
# Environment: CLGAN_DATA, CLGAN_DEVICE, CLGAN_BENCH_BIN (clgan_bench_train), CLGAN_BIN (clgan).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
if [ "${1:-}" = --runs ]; then runs=$2; shift 2; fi
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(mlp-bn)
bin=${CLGAN_BENCH_BIN:-build/release/bench/clgan_bench_train}
clgan=${CLGAN_BIN:-build/release/clgan}
for b in "$bin" "$clgan"; do
  [ -x "$b" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
done
data_args=()
[ -z "${CLGAN_DATA:-}" ] || data_args=(--data "$CLGAN_DATA")
cache=$(mktemp -d)
out=$(mktemp -d)
trap 'rm -rf "$cache" "$out"' EXIT
for model in "${models[@]}"; do
  rm -rf "${cache:?}"/*
  echo "cold: $(POCL_CACHE_DIR=$cache "$bin" --startup --model "$model" "${data_args[@]}")"
  for ((i = 1; i <= runs; i++)); do
    echo "warm: $(POCL_CACHE_DIR=$cache "$bin" --startup --model "$model" "${data_args[@]}")"
  done
  for ((i = 1; i <= runs; i++)); do
    rm -rf "${out:?}"/run
    t0=$(date +%s.%N)
    POCL_CACHE_DIR=$cache "$clgan" train --model "$model" --steps 1 --out "$out/run" --quiet \
      "${data_args[@]}" >/dev/null
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v m="$model" 'BEGIN { printf "warm: clgan train --model %s --steps 1, whole process %.3f s\n", m, b - a }'
  done
done
