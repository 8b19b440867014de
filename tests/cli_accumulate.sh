#!/usr/bin/env bash
# clgan train --accumulate (issue 14): K micro-batches of B per optimizer step equal one step on
# K x B images for a model without batch norm, with every loss (BCE, WGAN-GP), conditional and
# EMA; DiffAugment and batch norm train deterministically and resume exactly; a resume may
# change K (the global batch stays); bad values exit 2 naming them.
# usage: cli_accumulate.sh CLGAN_BINARY TESTS_DIR
set -u
clgan=$1
tests=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$tests/lib_cli.sh"
data=$(data_dir) || exit 1
require_device "$clgan"
require_data "$data"
diff_ck() { python3 "$tests/st_diff.py" "$@"; }

# The tolerance of the equivalence checks, from float summation order. One step's gradient of a
# weight is sum_i g_i / 32 over the 32 images of the step; one batch of 32 and two micro-batches
# of 16 add the same terms in another order, which changes the sum by at most 31 u sum_i |g_i|
# / 32 <= 31 u max|g_i| (u = 2^-24 = 6e-8). Per-image gradients of these small MLPs (inputs in
# [-1, 1], tanh / sigmoid outputs, weights ~0.1) are below 1, so a step's gradient differs by
# < 2e-6, and SGD (lr 0.05, linear in the gradient: Adam would hide a wrong scale, being
# invariant to it) moves a weight by < 1e-7 more or less. Six steps, whose gradients depend on
# the weights with a small Lipschitz constant times lr, stay below 6e-7: the bound is 1e-6.
# Measured: 7e-9. A gradient summed but not scaled (2x) moves weights by lr |g| ~ 1e-4.
tol=1e-6
base=(--model mlp --optimizer sgd --lr 0.05 --steps 6 --data "$data" --data-limit 96 --seed 5
      --quiet --log-every 1)

# ---- Equivalence: 1 x 32 == 2 x 16 -----------------------------------------------------------
equiv() {
  local name=$1; shift
  "$clgan" train "${base[@]}" "$@" --batch 32 --out "$tmp/$name-1" >/dev/null 2>"$tmp/err" ||
    { fail "$name: batch 32 run failed"; cat "$tmp/err"; return; }
  "$clgan" train "${base[@]}" "$@" --batch 16 --accumulate 2 --out "$tmp/$name-2" >"$tmp/out" 2>&1 ||
    { fail "$name: --accumulate 2 run failed"; cat "$tmp/out"; return; }
  out=$(diff_ck "$tmp/$name-1/checkpoint.safetensors" "$tmp/$name-2/checkpoint.safetensors" --tol $tol) &&
    ok "$name: --batch 16 --accumulate 2 equals --batch 32 ($out)" ||
    fail "$name: --accumulate 2 differs from --batch 32: $out"
  # The metrics count images: the same losses, to float rounding.
  paste -d, <(cut -d, -f3-9 "$tmp/$name-1/metrics.csv") <(cut -d, -f3-9 "$tmp/$name-2/metrics.csv") |
    awk -F, 'NR > 1 { for (i = 1; i <= 7; i++) { d = $i - $(i + 7); m = $i; if (d < 0) d = -d; if (m < 0) m = -m
                                                  if (d > 1e-5 * (m > 1 ? m : 1)) bad++ } }
             END { exit bad > 0 }' && ok "$name: metrics agree" || fail "$name: metrics differ"
}
equiv bce --conditional --ema 0.9 # plain BCE: tests/mpi_train.sh
# WGAN-GP at lr 0.005: at 0.05 the critic's outputs run away (D(x) 15 by step 6), which
# amplifies any rounding (measured 1e-6 then, 3e-8 here).
equiv wgan-gp --loss wgan-gp --discriminator "linear:128,lrelu:0.2,linear:1" --d-steps 2 --lr 0.005

# Deliberately apart: a different global batch is not the same run.
"$clgan" train "${base[@]}" --conditional --ema 0.9 --batch 16 --out "$tmp/b16" >/dev/null 2>&1
diff_ck "$tmp/bce-1/checkpoint.safetensors" "$tmp/b16/checkpoint.safetensors" --tol $tol >/dev/null &&
  fail "the check cannot fail: batch 16 alone passes as batch 32" || ok "batch 16 alone fails the check"

# ---- Batch norm and DiffAugment: deterministic, exact resume, resume with another K ----------
bn=(--model mlp-bn --diffaug translation,cutout --steps 4 --data "$data" --data-limit 96 --seed 2
    --quiet --log-every 1 --checkpoint-every 2)
# A run and its resume are two processes: bitwise equal checkpoints show determinism as well.
"$clgan" train "${bn[@]}" --batch 8 --accumulate 3 --out "$tmp/bn1" >/dev/null 2>&1 ||
  fail "mlp-bn + DiffAugment with --accumulate 3 failed"
"$clgan" train "${bn[@]}" --batch 8 --accumulate 3 --steps 2 --out "$tmp/bnh" >/dev/null 2>&1 &&
  "$clgan" train --resume "$tmp/bnh/checkpoint.safetensors" --steps 4 --data "$data" --data-limit 96 \
    --quiet --log-every 1 >/dev/null 2>&1 &&
  cmp -s "$tmp/bn1/checkpoint.safetensors" "$tmp/bnh/checkpoint.safetensors" &&
  ok "mlp-bn + DiffAugment with --accumulate 3 resumes exactly (bitwise)" ||
  fail "--accumulate 3 does not resume exactly"
grep -q '"accumulate":"3"' "$tmp/bn1/checkpoint.safetensors" &&
  grep -q '"global_batch":"24"' "$tmp/bn1/checkpoint.safetensors" &&
  ok "the checkpoint records accumulate 3 and the global batch 24" || fail "checkpoint metadata"

# A resume may split the global batch anew: two micro-batches of 16, then one batch of 32.
"$clgan" train "${base[@]}" --batch 32 --out "$tmp/plain" >/dev/null 2>&1
"$clgan" train "${base[@]}" --batch 16 --accumulate 2 --steps 3 --out "$tmp/re" >/dev/null 2>&1 &&
  "$clgan" train --resume "$tmp/re/checkpoint.safetensors" --accumulate 1 --steps 6 --data "$data" \
    --data-limit 96 --quiet >/dev/null 2>&1 &&
  out=$(diff_ck "$tmp/plain/checkpoint.safetensors" "$tmp/re/checkpoint.safetensors" --tol $tol) &&
  ok "resumed with --accumulate 1 (batch 32) continues the run ($out)" ||
  fail "resume with another --accumulate: ${out:-failed}"

# ---- Bad input ---------------------------------------------------------------------------------
expect "--accumulate 0 refused" 2 "--accumulate 0: out of range" -- \
  "$clgan" train --model mlp --steps 1 --accumulate 0 --data "$data" --out "$tmp/bad"
expect "--accumulate -3 refused" 2 "--accumulate -3: out of range" -- \
  "$clgan" train --model mlp --steps 1 --accumulate -3 --data "$data" --out "$tmp/bad"
expect "a global batch that does not divide refused" 2 "global batch of 32 .*cannot split evenly" -- \
  "$clgan" train --resume "$tmp/re/checkpoint.safetensors" --accumulate 3 --steps 9 --data "$data" --data-limit 96
expect "a global batch above the data set refused" 2 "global batch of 128 images .*larger than the data set \\(96" -- \
  "$clgan" train --model mlp --steps 1 --batch 64 --accumulate 2 --data "$data" --data-limit 96 --out "$tmp/bad"
finish
