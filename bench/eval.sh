#!/usr/bin/env bash
# clgan eval's speed: 10,000 samples of a checkpoint against 10,000 training images with an
# existing (cached) classifier, broken down into sampling, features, FID, KID and the nearest
# neighbours of precision / recall / density / coverage, and the whole command's wall time.
#   bench/eval.sh CHECKPOINT [RUNS]
# Needs a release build (cmake --preset release && cmake --build --preset release) and a cached
# classifier for the data (the first clgan eval trains one; this script runs one eval first so
# that none of the timed runs does). Environment: CLGAN_DATA, CLGAN_DEVICE, CLGAN_BENCH_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
ckpt=${1:?usage: bench/eval.sh CHECKPOINT [RUNS]}
runs=${2:-3}
bin=${CLGAN_BENCH_BIN:-build/release/clgan}
[ -x "$bin" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
"$bin" eval --checkpoint "$ckpt" --count 100 --no-floor >/dev/null
for i in $(seq "$runs"); do
  for floor in --no-floor ""; do
    start=$(date +%s.%N)
    out=$("$bin" eval --checkpoint "$ckpt" --count 10000 $floor)
    end=$(date +%s.%N)
    wall=$(echo "$end - $start" | bc)
    printf 'run %d%s: %.1f s wall; %s\n' "$i" "${floor:+ (no floor)}" "$wall" \
      "$(grep -o 'time: .*' <<<"$out")"
  done
done
