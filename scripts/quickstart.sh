#!/usr/bin/env bash
# The README's first command: installs what is missing, builds a release clgan and runs the
# main job on the default device (CLGAN_DEVICE or --device in CLGAN_ARGS picks another).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" >/dev/null
./build/release/clgan devices
./build/release/clgan gemm-check
