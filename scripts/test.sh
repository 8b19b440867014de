#!/usr/bin/env bash
# The README's second command, and what CI runs: installs what is missing, builds with
# warnings as errors and runs the whole CTest suite on PoCL (CLGAN_DEVICE overrides).
# CI=true: a test that finds no OpenCL device fails instead of skipping.
# Then the suite under the asan preset, and every parser of outside input is fuzzed for CLGAN_FUZZ_SECONDS each (default 20; 0 skips)
# under ASan and UBSan, after replaying the inputs that once crashed one (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CI=true
export CLGAN_DEVICE="${CLGAN_DEVICE:-pocl}"
cmake --preset ci >/dev/null
cmake --build --preset ci -j"$(nproc)"
ctest --preset ci "$@"
# The whole suite again under AddressSanitizer and UBSan (LeakSanitizer ignores PoCL's and LLVM's
# own allocations: tests/lsan.supp). CLGAN_ASAN=0 skips it.
if [ "${CLGAN_ASAN:-1}" != 0 ]; then
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j"$(nproc)"
  ctest --preset asan -j"$(nproc)"
fi
fuzz_seconds="${CLGAN_FUZZ_SECONDS:-20}"
if [ "$fuzz_seconds" != 0 ]; then
  scripts/fuzz.sh "$fuzz_seconds"
fi
