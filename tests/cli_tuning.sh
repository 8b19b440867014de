#!/usr/bin/env bash
# Which GEMM tuning a run uses, as the CLI says it (issue 11): `clgan devices` and the training
# banner name the source (built-in for a tuning class, cached in a file, none, off); a PoCL CPU
# with none gets the one-line advice to run `clgan tune`, and CLGAN_NO_TUNING=1 silences it;
# `clgan tune --if-untuned` searches nothing where there is tuning or where tuning is off.
# $CLGAN_TUNING_CLASS stands in for a CPU that clgan ships nothing for. One search of one
# candidate runs; nothing is timed.
# usage: cli_tuning.sh CLGAN_BINARY TESTS_DIR
set -u
clgan=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$2/lib_cli.sh"
require_device "$clgan"
data=$(data_dir) || exit 1

# Every run here reads a cache of this test's own, never the user's.
export CLGAN_TUNING_FILE=$tmp/tuning.txt
# CLBlast's tuning matters where CLBlast computes the GEMMs; a CPU's default is clgan's packed
# kernels (checked at the end).
export CLGAN_GEMM=clblast
unset CLGAN_NO_TUNING CLGAN_TUNING_CLASS

# The selected device (marked '*'), its platform, and its cache key as clgan tune stores it:
# "name | driver | platform".
listing=$("$clgan" devices)
name=$(sed -nE 's/^  \* [0-9]+ +[0-9]+:[0-9]+ +[a-z]+ +(.*)$/\1/p' <<<"$listing")
driver=$(sed -n '/^  \*/{n;p}' <<<"$listing" | sed -E 's/.*, driver (.*), [^,]*$/\1/')
platform=$(sed -n '/^platform/h; /^  \*/{x;p}' <<<"$listing" | sed -E 's/^platform [0-9]+: (.*) \(.*$/\1/')
# A CPU through PoCL: the case whose defaults are known slow.
pocl_cpu=0
grep -qE '^  \* [0-9]+ +[0-9]+:[0-9]+ +cpu ' <<<"$listing" &&
  [ "$platform" = "Portable Computing Language" ] && pocl_cpu=1

# ---- clgan devices ----------------------------------------------------------------------------
expect "devices names the tuning" 0 "GEMM tuning: (built-in for [a-z0-9]+:|cached in|none for)" -- "$clgan" devices
expect "devices: a class with shipped sets" 0 "GEMM tuning: built-in for pocl:skylake-avx512" -- \
  env CLGAN_TUNING_CLASS=pocl:skylake-avx512 "$clgan" devices
expect "devices: a class with none" 0 "GEMM tuning: none for pocl:no-such-cpu: CLBlast's defaults" -- \
  env CLGAN_TUNING_CLASS=pocl:no-such-cpu "$clgan" devices
if [ "$pocl_cpu" = 1 ]; then
  expect "devices: none on a PoCL CPU says to tune" 0 "none for pocl:no-such-cpu.*run .clgan tune. once" -- \
    env CLGAN_TUNING_CLASS=pocl:no-such-cpu "$clgan" devices
fi
expect "devices: tuning off" 0 "GEMM tuning: off \(.CLGAN_NO_TUNING\)" -- env CLGAN_NO_TUNING=1 "$clgan" devices

# A cache line for the selected device.
printf '%s | %s | %s\tGemmRoutine\t1.0\tXGEMM_MIN_INDIRECT_SIZE=1\n' "$name" "$driver" "$platform" >"$tmp/cached.txt"
expect "devices: a cached set wins over the class's" 0 "GEMM tuning: cached in $tmp/cached.txt" -- \
  env CLGAN_TUNING_FILE="$tmp/cached.txt" CLGAN_TUNING_CLASS=pocl:skylake-avx512 "$clgan" devices

# ---- clgan tune --if-untuned: no search where there is nothing to do ---------------------------
expect "tune --if-untuned with built-in sets" 0 "built-in for pocl:skylake-avx512; no search" -- \
  env CLGAN_TUNING_CLASS=pocl:skylake-avx512 "$clgan" tune --if-untuned --out "$tmp/t.txt"
expect "tune --if-untuned with a cached set" 0 "cached in $tmp/cached.txt; no search" -- \
  env CLGAN_TUNING_CLASS=pocl:no-such-cpu "$clgan" tune --if-untuned --out "$tmp/cached.txt"
expect "tune --if-untuned with tuning off" 0 "no search \(CLGAN_NO_TUNING is set\)" -- \
  env CLGAN_NO_TUNING=1 CLGAN_TUNING_CLASS=pocl:no-such-cpu "$clgan" tune --if-untuned --out "$tmp/t.txt"
[ ! -e "$tmp/t.txt" ] && ok "--if-untuned with nothing to do stores nothing" || fail "--if-untuned wrote $tmp/t.txt"
# Where it has something to do it searches (one candidate here) and stores: what the quick start
# runs on a fresh machine. (Its first version listed the devices before forking the search, and
# the search hung in PoCL, whose threads do not survive a fork.)
if [ "$pocl_cpu" = 1 ]; then
  out=$(CLGAN_TUNING_CLASS=none timeout 600 "$clgan" tune --if-untuned --quiet --max-candidates 1 \
    --budget 60 --reps 1 --model mlp --out "$tmp/t.txt" 2>&1)
  rc=$?
  if [ "$rc" = 0 ] && grep -q "has no GEMM tuning.*tuning it once" <<<"$out" &&
    grep -q "stored in $tmp/t.txt" <<<"$out"; then
    ok "tune --if-untuned with none searches and stores"
  else
    fail "tune --if-untuned with none: exit $rc"; echo "$out" | tail -8 | sed 's/^/    /'
  fi
  expect "and then there is nothing to do" 0 "cached in $tmp/t.txt; no search" -- \
    env CLGAN_TUNING_CLASS=none "$clgan" tune --if-untuned --out "$tmp/t.txt"
fi

# ---- The training banner and the advice -------------------------------------------------------
require_data "$data"
train() {
  "$clgan" train --model mlp --steps 2 --data-limit 256 --batch 64 --data "$data" --out "$tmp/run" \
    --sample-every 0 --checkpoint-every 0 --log-every 1 "$@" 2>&1
}
note="note: no GEMM tuning for this device \(pocl:no-such-cpu\).*clgan tune"
out=$(CLGAN_TUNING_CLASS=pocl:skylake-avx512 train)
grep -qE "GEMM tuning built-in for pocl:skylake-avx512" <<<"$out" && ok "banner: built-in and its class" ||
  { fail "banner lacks the built-in class"; echo "$out" | head -5; }
out=$(CLGAN_TUNING_FILE=$tmp/cached.txt train)
grep -qE "GEMM tuning cached in $tmp/cached.txt" <<<"$out" && ok "banner: cached and its file" ||
  { fail "banner lacks the cache file"; echo "$out" | head -5; }
out=$(CLGAN_TUNING_CLASS=pocl:no-such-cpu train)
grep -qE "GEMM tuning none for pocl:no-such-cpu" <<<"$out" && ok "banner: none" ||
  { fail "banner lacks 'none'"; echo "$out" | head -5; }
if [ "$pocl_cpu" = 1 ]; then
  [ "$(grep -cE "$note" <<<"$out")" = 1 ] && ok "an untuned PoCL CPU gets the advice, in one line" ||
    { fail "no one-line advice for an untuned PoCL CPU"; echo "$out" | head -8; }
fi
out=$(CLGAN_NO_TUNING=1 CLGAN_TUNING_CLASS=pocl:no-such-cpu train)
grep -qE "GEMM tuning off" <<<"$out" && ok "banner: off" || { fail "banner lacks 'off'"; echo "$out" | head -5; }
grep -qE "note: no GEMM tuning" <<<"$out" && fail "CLGAN_NO_TUNING=1 still gives the advice" ||
  ok "CLGAN_NO_TUNING=1: no advice"
out=$(CLGAN_TUNING_CLASS=pocl:skylake-avx512 train)
grep -qE "note: no GEMM tuning" <<<"$out" && fail "a tuned device gets the advice" || ok "a tuned device: no advice"

# ---- A CPU's default: clgan's packed kernels, which need no CLBlast tuning --------------------
if [ "$pocl_cpu" = 1 ]; then
  unset CLGAN_GEMM
  expect "devices: a CPU's GEMMs are the packed kernels" 0 "GEMM: clgan's packed kernels \(CPU micro-kernel, (6 x 16|12 x 32) tiles\)" -- \
    "$clgan" devices
  expect "devices: CLGAN_GEMM_MR names the tiles in use" 0 "GEMM: clgan's packed kernels \(CPU micro-kernel, 6 x 16 tiles\)" -- \
    env CLGAN_GEMM_MR=6 "$clgan" devices
  out=$(CLGAN_TUNING_CLASS=pocl:no-such-cpu train)
  grep -qE "GEMM clgan's packed kernels" <<<"$out" && ok "banner: packed kernels" ||
    { fail "banner lacks the packed kernels"; echo "$out" | head -5; }
  out=$(CLGAN_GEMM_MR=6 train)
  grep -qE "GEMM clgan's packed kernels \(CPU micro-kernel, 6 x 16 tiles\)" <<<"$out" &&
    ok "banner: CLGAN_GEMM_MR's tiles" || { fail "banner lacks 6 x 16 tiles"; echo "$out" | head -5; }
  grep -qE "note: no GEMM tuning" <<<"$out" && fail "the packed kernels get the tuning advice" ||
    ok "packed kernels on an untuned class: no advice"
  expect "tune --if-untuned: the packed kernels need none" 0 "no search \(its GEMMs run on clgan's packed kernels" -- \
    env CLGAN_TUNING_CLASS=pocl:no-such-cpu "$clgan" tune --if-untuned --out "$tmp/t2.txt"
  [ ! -e "$tmp/t2.txt" ] && ok "--if-untuned with packed kernels stores nothing" || fail "--if-untuned wrote $tmp/t2.txt"
  expect "CLGAN_GEMM names a choice" 2 "CLGAN_GEMM='fast': expected auto, clblast or packed" -- \
    env CLGAN_GEMM=fast "$clgan" train --model mlp --steps 1 --data "$data" --out "$tmp/run2"
  expect "CLGAN_GEMM_MR names a tile height" 2 "CLGAN_GEMM_MR='8' \\(clgan_device_cfg.gemm_mr -1\\): expected 6 or 12" -- \
    env CLGAN_GEMM_MR=8 "$clgan" train --model mlp --steps 1 --data "$data" --out "$tmp/run3"
  expect "CLGAN_VEC_WIDTH names a width" 2 "CLGAN_VEC_WIDTH='4' \\(clgan_device_cfg.vec_width -1\\): expected 1 or 16" -- \
    env CLGAN_VEC_WIDTH=4 "$clgan" train --model mlp --steps 1 --data "$data" --out "$tmp/run4"
fi
finish
