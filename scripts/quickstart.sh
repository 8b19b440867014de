#!/usr/bin/env bash
# The README's first command: installs what is missing, builds a release clgan, shows the
# devices, checks GEMM, and trains the default model (mlp-bn) on Fashion-MNIST.
# Extra arguments go to `clgan train` (e.g. --model mlp --device gpu).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" >/dev/null
./build/release/clgan devices
./build/release/clgan gemm-check --reps 5
./build/release/clgan train "$@"
