#!/usr/bin/env bash
# Fuzzes every parser of outside input (issue 9): builds the libFuzzer harnesses in fuzz/ with
# the `fuzz` preset (clang, ASan + UBSan), replays every input in fuzz/regressions/<harness>/
# (each once crashed a parser), then runs each harness for SECONDS on a copy of its seed corpus
# in fuzz/corpus/<harness>/ with its dictionary. Fails when any harness crashes, leaks, times out
# or trips a sanitizer; the input that did it is left in build/fuzz/run/<harness>/ (crash-*,
# leak-*, timeout-*, oom-*), to be copied into fuzz/regressions/<harness>/ once fixed.
#
#   scripts/fuzz.sh [SECONDS [HARNESS...]]     SECONDS per harness (default 30), all harnesses
#                                              unless some are named (fuzz_idx, fuzz_spec, ...)
# CI (scripts/test.sh) runs `scripts/fuzz.sh 20`. Replay one input: build/fuzz/fuzz/<harness> FILE
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
[ $# -gt 0 ] && shift
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] &&
  harnesses=(fuzz_idx fuzz_npy fuzz_safetensors fuzz_spec fuzz_tuning fuzz_csv fuzz_cifar
             fuzz_image)
case "$seconds" in
  '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac

if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang is missing (scripts/setup.sh installs it)" >&2
  exit 1
fi
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$(nproc)" >/dev/null

# UBSan stops at the first report (the harnesses are built with -fno-sanitize-recover too).
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS="abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
bin=build/fuzz/fuzz
run=build/fuzz/run
failed=()
# Each harness rewrites its input in a temporary file for every run: on tmpfs that costs about
# what a memfd does (on ext4, a hundred times more).
tmp=$(mktemp -d /dev/shm/clgan-fuzz.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for h in "${harnesses[@]}"; do
  if [ ! -x "$bin/$h" ] || [ ! -d "fuzz/corpus/$h" ]; then
    echo "fuzz.sh: no harness or seed corpus named $h" >&2
    exit 2
  fi
  rm -rf "${run:?}/$h"
  mkdir -p "$run/$h/corpus"
  cp fuzz/corpus/"$h"/* "$run/$h/corpus/"
  log="$run/$h/fuzz.log"
  export TMPDIR="$tmp"

  regressions=()
  if [ -d "fuzz/regressions/$h" ]; then
    while IFS= read -r -d '' f; do regressions+=("$f"); done \
      < <(find "fuzz/regressions/$h" -type f ! -name '*.md' -print0 | sort -z)
  fi
  if [ ${#regressions[@]} -gt 0 ] &&
     ! "$bin/$h" -rss_limit_mb=2048 -timeout=10 "${regressions[@]}" >"$run/$h/replay.log" 2>&1; then
    echo "FAIL $h: a regression input crashes again (log: $run/$h/replay.log)"
    grep -E "^Running:" "$run/$h/replay.log" | tail -1
    grep -m1 -B3 -A12 -E "^==[0-9]+== ?ERROR|runtime error:" "$run/$h/replay.log" || true
    failed+=("$h")
    continue
  fi

  dict=()
  [ -f "fuzz/$h.dict" ] && dict=(-dict="fuzz/$h.dict")
  start=$SECONDS
  if "$bin/$h" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$run/$h/" "$run/$h/corpus" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1)
    echo "ok   $h: ${runs:-?} inputs in $((SECONDS - start)) s, ${cov:-cov: ?}," \
         "${#regressions[@]} regression inputs replayed"
  else
    found=$(ls "$run/$h" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' | head -1 || true)
    echo "FAIL $h (log: $log; input: $run/$h/${found:-?})"
    grep -m1 -B3 -A12 -E "^==[0-9]+== ?ERROR|runtime error:" "$log" || tail -15 "$log"
    failed+=("$h")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${#failed[@]} harness(es) failed: ${failed[*]}" >&2
  exit 1
fi
