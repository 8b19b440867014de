#!/usr/bin/env bash
# Every preset trained by its own schedule on the data set, then judged by clgan eval (10,000
# samples against 10,000 training images, the floor once): the README's "The presets, judged"
# table. One row per preset: FID, KID, precision, recall, density, coverage, class entropy, the
# smallest and largest class share, and the training time.
#   bench/presets.sh [OUT_DIR] [PRESET...]      (default: runs/presets, every preset)
# Needs a release build. Environment: CLGAN_DATA, CLGAN_DEVICE, CLGAN_BENCH_BIN. Takes hours for
# every preset on a 2-core CPU (wgan and wgan-gp run 10,000 generator steps of 5 critic steps).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/presets}
shift || true
bin=${CLGAN_BENCH_BIN:-build/release/clgan}
[ -x "$bin" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
presets=("$@")
# Default: every preset the binary has but the 32x32 and 64x64 ones (the judge is made for the
# data's own 28x28 images).
[ ${#presets[@]} -gt 0 ] || mapfile -t presets < <("$bin" --list presets | grep -v '^dcgan32$\|^dcgan64$')
mkdir -p "$out"
printf '| preset | train s | FID | KID | precision | recall | density | coverage | class entropy | classes min-max %% |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for p in "${presets[@]}"; do
  run=$out/$p
  if [ ! -s "$run/checkpoint.safetensors" ] || [ ! -s "$run/train_seconds" ]; then
    start=$(date +%s.%N)
    "$bin" train --model "$p" --out "$run" --quiet >"$out/$p.train.log" 2>&1
    echo "$(date +%s.%N) - $start" | bc >"$run/train_seconds"
  fi
  "$bin" eval --checkpoint "$run/checkpoint.safetensors" --json "$out/$p.json" --no-floor --quiet \
    >"$out/$p.eval.txt"
  python3 - "$out/$p.json" "$p" "$(cat "$run/train_seconds")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["metrics"]
shares = s["classes"]["histogram"]
total = sum(shares)
lo, hi = min(shares) / total * 100, max(shares) / total * 100
print(f"| `{sys.argv[2]}` | {float(sys.argv[3]):.0f} | {s['fid']:.2f} | {s['kid']:.4f} | "
      f"{s['precision']:.3f} | {s['recall']:.3f} | {s['density']:.3f} | {s['coverage']:.3f} | "
      f"{s['classes']['entropy']:.3f} | {lo:.1f}-{hi:.1f} |")
PY
done
