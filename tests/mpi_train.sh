#!/usr/bin/env bash
# Data-parallel clgan train over MPI (issue 14), with 2 ranks sharing the CPU device: 2 ranks x
# batch B == 1 rank x --accumulate 2 x B == 1 rank x batch 2B after several steps for a model
# without batch norm (BCE and WGAN-GP); the same mpirun twice gives bitwise-identical
# checkpoints; a 1-rank checkpoint resumes on 2 ranks and the reverse; rank 0 alone writes the
# run folder; bad input exits 2 naming it; a rank that fails ends the job with its message and
# leaves the checkpoint intact. Registered only when CMake found MPI (tests/CMakeLists.txt).
# usage: mpi_train.sh CLGAN_BINARY TESTS_DIR MPIEXEC
set -u
clgan=$1
tests=$2
mpiexec=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$tests/lib_cli.sh"
data=$(data_dir) || exit 1
require_device "$clgan"
require_data "$data"
diff_ck() { python3 "$tests/st_diff.py" "$@"; }

# Open MPI refuses root without these (even for --version), and more ranks than cores without
# --oversubscribe; other MPIs ignore the variables.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
flags=(-np 2)
if "$mpiexec" --version 2>&1 | grep -q "Open MPI"; then
  flags+=(--oversubscribe)
  export OMPI_MCA_btl=self,vader # one node: no network probing
fi
# Two ranks on one CPU device: one PoCL thread each (bench/RESULTS.md, "Scale").
export POCL_MAX_PTHREAD_COUNT=${POCL_MAX_PTHREAD_COUNT:-1}
mpi() { "$mpiexec" "${flags[@]}" "$clgan" "$@"; }

# Tolerance: tests/cli_accumulate.sh derives 1e-6 for these runs (SGD lr 0.05, 6 steps, 32
# images a step summed in another order): two ranks add two partial sums of 16 (the all-reduce)
# where one rank adds 32 terms, the same bound.
tol=1e-6
loud=(--model mlp --optimizer sgd --lr 0.05 --steps 6 --data "$data" --data-limit 96 --seed 5
      --log-every 1)
base=("${loud[@]}" --quiet)
"$clgan" train "${base[@]}" --batch 32 --out "$tmp/one" >/dev/null 2>&1 || fail "1 rank x 32 failed"
"$clgan" train "${base[@]}" --batch 16 --accumulate 2 --out "$tmp/acc" >/dev/null 2>&1 ||
  fail "1 rank x --accumulate 2 failed"
expect "mpirun -np 2 trains, banner names the global batch" 0 "global batch 32 = batch 16 x accumulate 1 x 2 rank" -- \
  mpi train "${loud[@]}" --batch 16 --out "$tmp/two"
for other in acc two; do
  out=$(diff_ck "$tmp/one/checkpoint.safetensors" "$tmp/$other/checkpoint.safetensors" --tol $tol) &&
    ok "$other equals 1 rank x batch 32 ($out)" || fail "$other differs from 1 rank x batch 32: $out"
done
out=$(diff_ck "$tmp/acc/checkpoint.safetensors" "$tmp/two/checkpoint.safetensors" --tol $tol) &&
  ok "2 ranks x 16 equals 1 rank x --accumulate 2 x 16 ($out)" || fail "2 ranks vs --accumulate 2: $out"
mpi train "${base[@]}" --batch 8 --accumulate 2 --out "$tmp/two-acc" >/dev/null 2>&1 &&
  out=$(diff_ck "$tmp/one/checkpoint.safetensors" "$tmp/two-acc/checkpoint.safetensors" --tol $tol) &&
  ok "2 ranks x --accumulate 2 x 8 equals 1 rank x 32 ($out)" || fail "2 ranks x --accumulate 2: ${out:-failed}"
gp=(--loss wgan-gp --discriminator "linear:128,lrelu:0.2,linear:1" --d-steps 2 --lr 0.005 --conditional)
"$clgan" train "${base[@]}" "${gp[@]}" --batch 32 --out "$tmp/gp1" >/dev/null 2>&1 &&
  mpi train "${base[@]}" "${gp[@]}" --batch 16 --out "$tmp/gp2" >/dev/null 2>&1 &&
  out=$(diff_ck "$tmp/gp1/checkpoint.safetensors" "$tmp/gp2/checkpoint.safetensors" --tol $tol) &&
  ok "conditional WGAN-GP: 2 ranks x 16 equals 1 rank x 32 ($out)" || fail "conditional WGAN-GP over 2 ranks: ${out:-failed}"

# The metrics count every rank's images: the same rows as one rank's, written once.
rows=$(($(wc -l <"$tmp/two/metrics.csv") - 1))
[ "$rows" = 6 ] && ok "metrics.csv written by rank 0 alone (6 rows)" || fail "metrics.csv has $rows rows, want 6"
paste -d, <(cut -d, -f3-9 "$tmp/one/metrics.csv") <(cut -d, -f3-9 "$tmp/two/metrics.csv") |
  awk -F, 'NR > 1 { for (i = 1; i <= 7; i++) { d = $i - $(i + 7); if (d < 0) d = -d; if (d > 1e-5) bad++ } }
           END { exit bad > 0 }' && ok "2-rank metrics equal 1-rank metrics" || fail "2-rank metrics differ"

# ---- Determinism -------------------------------------------------------------------------------
mpi train "${base[@]}" --batch 16 --out "$tmp/two-again" >/dev/null 2>&1 &&
  cmp -s "$tmp/two/checkpoint.safetensors" "$tmp/two-again/checkpoint.safetensors" &&
  ok "the same mpirun twice: bitwise-identical checkpoints" || fail "two identical mpiruns differ"

# ---- Resume across rank counts (the global batch stays 32) -------------------------------------
"$clgan" train "${base[@]}" --batch 32 --steps 3 --out "$tmp/r12" >/dev/null 2>&1 &&
  expect "2 ranks resume a 1-rank checkpoint" 0 "batch 16, 6 steps.*resumed" -- \
    mpi train --resume "$tmp/r12/checkpoint.safetensors" --steps 6 --data "$data" --data-limit 96 --log-every 1
out=$(diff_ck "$tmp/one/checkpoint.safetensors" "$tmp/r12/checkpoint.safetensors" --tol $tol) &&
  ok "1 rank then 2 ranks equals 1 rank throughout ($out)" || fail "1 -> 2 ranks: $out"
mpi train "${base[@]}" --batch 16 --steps 3 --out "$tmp/r21" >/dev/null 2>&1 &&
  expect "1 rank resumes a 2-rank checkpoint" 0 "batch 32, 6 steps.*resumed" -- \
    "$clgan" train --resume "$tmp/r21/checkpoint.safetensors" --steps 6 --data "$data" --data-limit 96 --log-every 1
out=$(diff_ck "$tmp/one/checkpoint.safetensors" "$tmp/r21/checkpoint.safetensors" --tol $tol) &&
  ok "2 ranks then 1 rank equals 1 rank throughout ($out)" || fail "2 -> 1 ranks: $out"
grep -q '"ranks":"2"' "$tmp/two/checkpoint.safetensors" && grep -q '"global_batch":"32"' "$tmp/two/checkpoint.safetensors" &&
  ok "the checkpoint records 2 ranks and the global batch 32" || fail "checkpoint metadata"

# ---- Bad input ---------------------------------------------------------------------------------
expect "--accumulate 0 under mpirun" 2 "--accumulate 0: out of range" -- \
  mpi train --model mlp --steps 1 --accumulate 0 --data "$data" --out "$tmp/bad"
"$clgan" train "${base[@]}" --batch 15 --steps 1 --out "$tmp/odd" >/dev/null 2>&1
expect "a global batch of 15 on 2 ranks refused" 2 "global batch of 15 images .*2 rank\\(s\\) x --accumulate 1 cannot split evenly" -- \
  mpi train --resume "$tmp/odd/checkpoint.safetensors" --steps 2 --data "$data" --data-limit 96

# ---- A rank that fails -------------------------------------------------------------------------
cp "$tmp/r12/checkpoint.safetensors" "$tmp/before.safetensors"
out=$(mpi train --resume "$tmp/r12/checkpoint.safetensors" --steps 9 --data "$data" --data-limit 96 \
        --device pocl,no-such-device 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q "rank 1 of 2: training failed" <<<"$out" && ok "rank 1's failure ends the job (exit $rc) with its message" ||
  { fail "a failing rank: exit $rc"; echo "$out" | tail -5; }
cmp -s "$tmp/before.safetensors" "$tmp/r12/checkpoint.safetensors" && ok "the checkpoint is intact" ||
  fail "the checkpoint changed"

# ---- A stop: mpirun passes Ctrl-C or SIGTERM on to the ranks as SIGTERM; they agree on the step.
# (SIGTERM here: a script's background job ignores SIGINT.) Bounded, should the stop not work.
"$mpiexec" "${flags[@]}" "$clgan" train --model mlp --steps 3000 --batch 16 --data "$data" --data-limit 96 --out "$tmp/sig" \
  --quiet >"$tmp/sig.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 60); do [ -s "$tmp/sig/metrics.csv" ] && break; sleep 0.5; done
sleep 1
kill -TERM $pid
wait $pid
step=$(sed -n 's/.*stopped by signal at step \([0-9]*\).*/\1/p' "$tmp/sig.log")
[ -n "$step" ] && grep -q "\"step\":\"$step\"" "$tmp/sig/checkpoint.safetensors" &&
  ok "SIGTERM to mpirun: every rank stopped after step $step, checkpoint saved" ||
  { fail "SIGTERM to mpirun"; tail -5 "$tmp/sig.log"; }
finish
