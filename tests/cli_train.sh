#!/usr/bin/env bash
# clgan train and clgan sample end to end on Fashion-MNIST: a short real run whose D separates
# real from fake and whose samples are not degenerate; sampling to PNG, IDX and .npy; resume
# equals uninterrupted; SIGINT saves a checkpoint; bad input gets a clear message and exit 2;
# hinge and WGAN-GP runs show what their losses should (metrics, samples); DiffAugment's option,
# its refusals and its exact resume.
# usage: cli_train.sh CLGAN_BINARY TESTS_DIR
set -u
clgan=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$2/lib_cli.sh"
data=$(data_dir) || exit 1
require_device "$clgan"
require_data "$data"

# ---- A short real run -------------------------------------------------------------------------
run=$tmp/run
expect "train mlp 200 steps" 0 "200 steps in" -- \
  "$clgan" train --model mlp --steps 200 --data "$data" --out "$run" --log-every 20 --sample-every 100 --seed 3
for f in metrics.csv losses.png checkpoint.safetensors samples/step_000000.png samples/step_000100.png samples/step_000200.png; do
  [ -s "$run/$f" ] && ok "run folder has $f" || fail "run folder lacks $f"
done
rows=$(($(wc -l <"$run/metrics.csv") - 1))
[ "$rows" = 10 ] && ok "metrics.csv has 10 rows" || fail "metrics.csv has $rows rows, want 10"
head -1 "$run/metrics.csv" | grep -q '^step,epoch,d_loss,g_loss,d_real,d_fake' && ok "metrics header" || fail "metrics header"
# D learns early: in every window of the first 100 steps D(x) is above D(G(z)), by 0.1 on average.
awk -F, 'NR > 1 && NR <= 6 { if ($5 > $6) above++; gap += $5 - $6 } END { exit !(above == 5 && gap / 5 > 0.1) }' \
  "$run/metrics.csv" && ok "D(x) rises above D(G(z)) early" || fail "D does not separate real from fake early"
awk -F, 'NR > 1 { for (i = 3; i <= 9; i++) if ($i != $i + 0 || $i == "nan" || $i == "inf") bad++ } END { exit bad > 0 }' \
  "$run/metrics.csv" && ok "metrics are finite numbers" || fail "non-numeric metrics"

# ---- Sampling ---------------------------------------------------------------------------------
ck=$run/checkpoint.safetensors
expect "sample png" 0 "64 images" -- "$clgan" sample --checkpoint "$ck" --out "$tmp/s.png"
expect "sample idx + raw" 0 "raw floats" -- "$clgan" sample --checkpoint "$ck" --count 16 --out "$tmp/s.idx" --raw "$tmp/s.npy"
expect "sample idx.gz" 0 "16 images" -- "$clgan" sample --checkpoint "$ck" --count 16 --out "$tmp/s.idx.gz"
size=$(stat -c %s "$tmp/s.idx")
[ "$size" = $((16 + 16 * 784)) ] && ok "IDX size" || fail "IDX has $size bytes"
[ "$(gzip -dc "$tmp/s.idx.gz" | cmp - "$tmp/s.idx" && echo same)" = same ] && ok ".idx.gz holds the same images" || fail ".idx.gz differs"
[ "$(stat -c %s "$tmp/s.npy")" = $((128 + 16 * 784 * 4)) ] && ok ".npy size" || fail ".npy size"
# Not degenerate: pixels vary within images, and images differ from one another.
od -An -v -tu1 -w784 -j16 "$tmp/s.idx" | awk '
  { n = 0; s = 0; ss = 0; for (i = 1; i <= NF; i++) { s += $i; ss += $i * $i; n++ }
    m = s / n; sd = sqrt(ss / n - m * m); if (sd > 10) varied++; means[NR] = m; rows[NR] = $0 }
  END { distinct = 0; for (i = 2; i <= NR; i++) if (rows[i] != rows[1]) distinct++;
        exit !(varied == NR && distinct == NR - 1) }' \
  && ok "samples vary within and between images" || fail "samples are degenerate"
# Same seed, same images; the latent file path.
"$clgan" sample --checkpoint "$ck" --count 16 --out "$tmp/t.idx" >/dev/null 2>&1
cmp -s "$tmp/s.idx" "$tmp/t.idx" && ok "sampling is deterministic" || fail "sampling differs between runs"
{ printf '\x93NUMPY\x01\x00\x76\x00'; printf "%-117s\n" "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 100), }"; head -c 1200 /dev/zero; } >"$tmp/z.npy"
expect "sample --latent" 0 "3 images" -- "$clgan" sample --checkpoint "$ck" --latent "$tmp/z.npy" --out "$tmp/z.png"
{ printf '\x93NUMPY\x01\x00\x76\x00'; printf "%-117s\n" "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 7), }"; head -c 84 /dev/zero; } >"$tmp/z7.npy"
expect "latent of the wrong size" 2 "7 values.*takes 100" -- "$clgan" sample --checkpoint "$ck" --latent "$tmp/z7.npy" --out "$tmp/z.png"
# Walking in the latent space: rows of 8 steps between two random vectors. A generator is
# continuous, so neighbouring steps differ less than a row's two ends.
expect "sample --interpolate" 0 "32 images" -- "$clgan" sample --checkpoint "$ck" --interpolate 8 --rows 4 --out "$tmp/walk.idx"
od -An -v -tu1 -w784 -j16 "$tmp/walk.idx" | awk '
  function dist(p, q,   i, d, x, y, n) { n = split(p, x, " "); split(q, y, " "); d = 0
    for (i = 1; i <= n; i++) d += (x[i] > y[i] ? x[i] - y[i] : y[i] - x[i]); return d / n }
  { img[NR - 1] = $0 }
  END { if (NR != 32) exit 1
        for (r = 0; r < 4; r++) { ends += dist(img[8 * r], img[8 * r + 7])
          for (k = 0; k < 7; k++) step += dist(img[8 * r + k], img[8 * r + k + 1]) / 7 }
        printf "    mean neighbouring-step difference %.2f, ends %.2f\n", step / 4, ends / 4
        exit !(ends > 0 && step < 0.6 * ends) }' \
  && ok "interpolation is smooth: neighbouring steps differ less than the ends" || fail "interpolation is not smooth"
# The memorisation check: each sample beside its nearest training image, with test images'
# distances for scale.
expect "sample --nearest" 0 "16 test images: mean distance" -- "$clgan" sample --checkpoint "$ck" --count 16 --out "$tmp/n16.png" --nearest "$tmp/nn.png" --data "$data"
[ -s "$tmp/nn.png" ] && ok "--nearest wrote its grid" || fail "--nearest wrote no grid"
"$clgan" sample --checkpoint "$ck" --count 16 --out "$tmp/n16.png" --nearest "$tmp/nn.png" --data "$data" 2>&1 |
  awk '/neighbours. classes:/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+:[0-9]+$/) { split($i, p, ":"); n += p[2] }
        if (n == 16 && /of 10 classes/) found = 1 } END { exit !found }' \
  && ok "the 16 samples' neighbours' classes add up to 16, of 10" || fail "no class histogram of the neighbours"
expect "nearest: too many" 2 "at most 256 samples \\(300 asked\\)" -- "$clgan" sample --checkpoint "$ck" --count 300 --out "$tmp/n.png" --nearest "$tmp/nn2.png" --data "$data"
expect "nearest: not a png" 2 "must end in .png" -- "$clgan" sample --checkpoint "$ck" --out "$tmp/n.png" --nearest "$tmp/nn.jpg"
expect "data without nearest" 2 "--data goes with --nearest" -- "$clgan" sample --checkpoint "$ck" --out "$tmp/n.png" --data "$data"
expect "interpolate 1 step" 2 "--interpolate must be in 2..64" -- "$clgan" sample --checkpoint "$ck" --interpolate 1 --out "$tmp/w.png"
expect "rows without interpolate" 2 "--rows goes with --interpolate" -- "$clgan" sample --checkpoint "$ck" --rows 3 --out "$tmp/w.png"
expect "interpolate with latent" 2 "exclude each other" -- "$clgan" sample --checkpoint "$ck" --interpolate 4 --latent "$tmp/z.npy" --out "$tmp/w.png"

# ---- Resume equals uninterrupted ---------------------------------------------------------------
"$clgan" train --model mlp --steps 60 --data "$data" --out "$tmp/full" --log-every 10 --seed 5 >/dev/null 2>&1
"$clgan" train --model mlp --steps 30 --data "$data" --out "$tmp/part" --log-every 10 --seed 5 >/dev/null 2>&1
expect "resume" 0 "30 steps in" -- "$clgan" train --resume "$tmp/part/checkpoint.safetensors" --steps 60 --log-every 10
cut -d, -f1-9 "$tmp/full/metrics.csv" >"$tmp/a.csv"
cut -d, -f1-9 "$tmp/part/metrics.csv" >"$tmp/b.csv"
cmp -s "$tmp/a.csv" "$tmp/b.csv" && ok "resumed metrics equal the uninterrupted run's" || { fail "resumed metrics differ"; diff "$tmp/a.csv" "$tmp/b.csv" | head -5; }

# ---- SIGINT finishes the step and saves ---------------------------------------------------------
"$clgan" train --model mlp --steps 5000 --data "$data" --out "$tmp/sig" --log-every 5 >"$tmp/sig.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/sig/metrics.csv" ] && [ "$(wc -l <"$tmp/sig/metrics.csv")" -ge 2 ] && break; sleep 0.2; done
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" = 0 ] && grep -q "stopped by signal" "$tmp/sig.log" && [ -s "$tmp/sig/checkpoint.safetensors" ] \
  && ok "SIGINT saves a checkpoint and exits 0" || { fail "SIGINT: exit $rc"; tail -3 "$tmp/sig.log"; }

# A second signal while the run stops (Ctrl-C pressed twice; `timeout -s INT` signals the process
# and then its group) must not kill it before its checkpoint and summary are out.
for round in 1 2 3; do
  "$clgan" train --model mlp --steps 5000 --data "$data" --out "$tmp/sig2" --log-every 5 >"$tmp/sig2.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do [ -s "$tmp/sig2/metrics.csv" ] && [ "$(wc -l <"$tmp/sig2/metrics.csv")" -ge 2 ] && break; sleep 0.2; done
  kill -INT "$pid"; sleep 0.05; kill -INT "$pid" 2>/dev/null; sleep 0.05; kill -TERM "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  [ "$rc" = 0 ] && grep -q "stopped by signal" "$tmp/sig2.log" || break
  rm -rf "$tmp/sig2"
done
[ "$rc" = 0 ] && grep -q "stopped by signal" "$tmp/sig2.log" \
  && ok "three signals in a row: still one clean stop, exit 0 (3 rounds)" \
  || { fail "repeated signals: exit $rc in round $round"; tail -3 "$tmp/sig2.log"; }

# ---- Bad input ----------------------------------------------------------------------------------
expect "bad generator spec" 2 "token 3 'linaer:784'" -- "$clgan" train --generator linear:128,relu,linaer:784 --steps 1 --out "$tmp/x"
expect "sn on a relu" 2 "token 2 'relu:sn': sn \\(spectral normalisation\\) applies only" -- \
  "$clgan" train --discriminator linear:128,relu:sn,linear:1 --steps 1 --out "$tmp/x"
expect "unknown model" 2 "unknown --model 'nope'" -- "$clgan" train --model nope --steps 1
expect "negative steps" 2 "--steps -5: out of range \\(allowed: >= 0\\)" -- "$clgan" train --steps -5
# Each bad value is named with its option and the allowed range; NaN is never "off" (issue 9,
# findings 4 and 7: NaN passed validation, five options shared one message).
expect "batch 0" 2 "--batch 0: out of range \\(allowed: 1\\.\\.65536\\)" -- "$clgan" train --batch 0 --steps 1
expect "latent 0" 2 "--latent 0: out of range \\(allowed: 1\\.\\.65536\\)" -- "$clgan" train --latent 0 --steps 1
expect "d-steps 101" 2 "--d-steps 101: out of range \\(allowed: 1\\.\\.100\\)" -- "$clgan" train --d-steps 101 --steps 1
expect "label smoothing 0.6" 2 "--label-smoothing 0.6: out of range \\(allowed: \\[0, 0.5\\)\\)" -- \
  "$clgan" train --label-smoothing 0.6 --steps 1
for bad in "beta1 nan" "beta2 nan" "momentum nan" "clip-weights nan" "clip-grad-norm nan" \
           "gp-lambda inf" "label-smoothing nan" "beta1 1" "momentum -0.5" "lr-d 10"; do
  set -- $bad
  expect "--$1 $2 refused" 2 "error: --$1 $2: out of range" -- "$clgan" train --model mlp --"$1" "$2" --steps 1
done
expect "log-every 0" 2 "--log-every 0: out of range" -- "$clgan" train --log-every 0 --steps 1
expect "negative seed" 2 "--seed -1: must be >= 0" -- "$clgan" train --seed -1 --steps 1
expect "batch above the data set" 2 "batch 65536 is larger than the data set \\(60000 training images\\)" -- \
  "$clgan" train --model mlp --batch 65536 --steps 1 --data "$data" --out "$tmp/big"
expect "batch above the data set: the CLI names the flag" 2 "clgan train: error: use --batch 60000 or less" -- \
  "$clgan" train --model mlp --batch 65536 --steps 1 --data "$data" --out "$tmp/big"
expect "bad number" 2 "not a valid" -- "$clgan" train --lr abc
expect "missing data" 2 "$tmp/nodata" -- "$clgan" train --model mlp --steps 1 --data "$tmp/nodata" --out "$tmp/x"
mkdir -p "$tmp/trunc"
cp "$data"/train-labels-idx1-ubyte* "$tmp/trunc/"
if [ -e "$data/train-images-idx3-ubyte.gz" ]; then gzip -dc "$data/train-images-idx3-ubyte.gz"; else cat "$data/train-images-idx3-ubyte"; fi | head -c 100000 >"$tmp/trunc/train-images-idx3-ubyte"
expect "truncated IDX" 2 "train-images-idx3-ubyte.*truncated" -- "$clgan" train --model mlp --steps 1 --data "$tmp/trunc" --out "$tmp/x"
printf 'garbage that is not gzip' >"$tmp/trunc/train-images-idx3-ubyte.gz"
rm "$tmp/trunc/train-images-idx3-ubyte"
expect "corrupt IDX" 2 "train-images-idx3-ubyte.gz" -- "$clgan" train --model mlp --steps 1 --data "$tmp/trunc" --out "$tmp/x"
cp "$ck" "$tmp/keep.safetensors"
head -c 5000 "$ck" >"$tmp/cut.safetensors"
expect "truncated checkpoint" 2 "cut.safetensors" -- "$clgan" train --resume "$tmp/cut.safetensors" --steps 300
expect "truncated checkpoint (sample)" 2 "cut.safetensors" -- "$clgan" sample --checkpoint "$tmp/cut.safetensors" --out "$tmp/y.png"
cmp -s "$ck" "$tmp/keep.safetensors" && ok "the run's checkpoint is untouched" || fail "checkpoint changed"
# A checkpoint whose metadata parses but makes no sense, without clgan.crc32 or clgan.version (such
# files are accepted, their values checked): refused naming the key (issue 9, finding 2: grid
# 46341 overflowed grid * grid). The control with grid 8 passes the metadata and stops at the
# first missing tensor.
meta_only() { # meta_only FILE GRID: a safetensors file of metadata alone
  local json='{"__metadata__":{"format":"clgan-checkpoint-1","model":"mlp","generator.spec":"linear:128,relu,linear:784,tanh","discriminator.spec":"linear:128,lrelu:0.2,linear:1","image":"28x28","latent":"100","batch":"64","epochs":"0","steps":"200","sample_every":"100","checkpoint_every":"1000","grid":"'$2'","init":"torch","loss":"bce","clip_weights":"0","gp_lambda":"10","real_label":"1","d_steps":"1","clip_grad_norm":"0","seed":"3","optimizer.generator":"adam lr=0.0002 beta1=0.5 beta2=0.999 eps=1e-08 alpha=0.99 momentum=0","optimizer.discriminator":"adam lr=0.0002 beta1=0.5 beta2=0.999 eps=1e-08 alpha=0.99 momentum=0"}}'
  local n=${#json} i
  for i in 0 1 2 3 4 5 6 7; do printf "\\x$(printf %02x $(((n >> (8 * i)) & 255)))"; done >"$1"
  printf '%s' "$json" >>"$1"
}
meta_only "$tmp/grid.safetensors" 46341
expect "checkpoint grid 46341 (sample)" 2 "metadata 'grid' = 46341 is out of range \\(allowed: 1\\.\\.64\\)" -- \
  "$clgan" sample --checkpoint "$tmp/grid.safetensors" --out "$tmp/y.png"
expect "checkpoint grid 46341 (resume)" 2 "metadata 'grid' = 46341" -- \
  "$clgan" train --resume "$tmp/grid.safetensors" --steps 300 --data "$data"
meta_only "$tmp/grid8.safetensors" 8
expect "checkpoint of metadata alone, grid 8: passes the metadata" 2 "generator\\.0\\.weight" -- \
  "$clgan" sample --checkpoint "$tmp/grid8.safetensors" --out "$tmp/y.png"
expect "a folder as checkpoint" 2 "$tmp: is a directory" -- "$clgan" sample --checkpoint "$tmp" --out "$tmp/y.png"
expect "a folder to resume" 2 "$tmp: is a directory" -- "$clgan" train --resume "$tmp" --steps 300
{ printf '\x93NUMPY\x01\x00\x76\x00'; printf "%-117s\n" "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 100), }"; } >"$tmp/z0.npy"
expect "latent of 0 rows" 2 "0 rows" -- "$clgan" sample --checkpoint "$ck" --latent "$tmp/z0.npy" --out "$tmp/z0.png" --raw "$tmp/z0raw.npy"
[ ! -e "$tmp/z0raw.npy" ] && [ ! -e "$tmp/z0.png" ] && ok "latent of 0 rows: nothing written" || fail "latent of 0 rows: files written"
mkdir -p "$tmp/trainonly"
cp "$data"/train-* "$tmp/trainonly/"
expect "nearest without the t10k split" 2 "needs the t10k test images" -- \
  "$clgan" sample --checkpoint "$ck" --count 16 --out "$tmp/n16b.png" --nearest "$tmp/nnb.png" --data "$tmp/trainonly"
[ ! -e "$tmp/nnb.png" ] && ok "nearest without t10k: no grid written" || fail "nearest without t10k wrote its grid"
expect "resume cannot change the model" 2 "cannot change when resuming" -- "$clgan" train --resume "$ck" --lr 0.1 --steps 300
expect "resume past the bound" 2 "already reaches" -- "$clgan" train --resume "$ck" --steps 100
expect "sample needs a checkpoint" 2 "required" -- "$clgan" sample --out "$tmp/y.png"
expect "sample output type" 2 "must end in .png" -- "$clgan" sample --checkpoint "$ck" --out "$tmp/y.jpg"
expect "sample missing checkpoint" 2 "nothing-here.safetensors" -- "$clgan" sample --checkpoint "$tmp/nothing-here.safetensors" --out "$tmp/y.png"
expect "a model too big for the device" 1 "does not fit in the memory" -- "$clgan" train --model mlp \
  --generator linear:16000000,linear:16000000,linear:784,tanh --steps 1 --data "$data" --out "$tmp/x"
expect "train help" 0 "--checkpoint-every N" -- "$clgan" train --help
# A figure that cannot be written is a warning and the run goes on; its data are in metrics.csv.
mkdir -p "$tmp/noplot/losses.png/x"
expect "losses.png cannot be written: a warning" 0 "warning: losses.png not updated; training goes on" -- \
  "$clgan" train --model mlp --steps 4 --log-every 2 --data "$data" --out "$tmp/noplot"
[ -s "$tmp/noplot/checkpoint.safetensors" ] && ok "the run without its plot saved its checkpoint" || fail "no checkpoint without the plot"
# No evaluation, no evaluation line in the summary.
expect "a run without --eval-every" 0 "4 steps in" -- "$clgan" train --model mlp --steps 4 --data "$data" --out "$tmp/noeval"
"$clgan" train --model mlp --steps 4 --data "$data" --out "$tmp/noeval2" 2>&1 | grep -q "best FID" && fail "a run without --eval-every reports an evaluation" || ok "no eval line without --eval-every"

# ---- Losses and models ---------------------------------------------------------------------------
expect "unknown loss" 2 "--loss 'wasserstein'" -- "$clgan" train --loss wasserstein --steps 1
expect "wgan-gp refuses a critic with batch norm" 2 "layer 2 .*not one" -- \
  "$clgan" train --model dcgan --loss wgan-gp --steps 1 --data "$data" --out "$tmp/x"
expect "hinge loss trains" 0 "20 steps in" -- "$clgan" train --model mlp --loss hinge --steps 20 --log-every 5 --data "$data" --out "$tmp/hinge"
expect "wgan-gp on an sn critic trains" 0 "2 steps in" -- "$clgan" train --model mlp --loss wgan-gp \
  --discriminator linear:64:sn,lrelu:0.2,linear:1:sn --steps 2 --data "$data" --out "$tmp/gpsn"
expect "wgan-gp on an MLP critic trains" 0 "20 steps in" -- "$clgan" train --model mlp --loss wgan-gp \
  --discriminator linear:256,lrelu:0.2,linear:1 --d-steps 2 --steps 20 --log-every 5 --data "$data" --out "$tmp/gp"
# What the critic runs show (README "Losses": d_real and d_fake are raw critic outputs). In each
# of the 4 rows: every column a finite number; the critic scores real above fake; g_loss is
# -E[D(G(z))], so near -d_fake (another batch, after the D step); and d_loss is bounded by the
# columns: hinge's E[relu(1 - D(x))] + E[relu(1 + D(G(z)))] >= max(0, 2 - d_real + d_fake),
# WGAN-GP's d_fake - d_real + penalty >= d_fake - d_real. Swapped or mislabelled columns fail.
check_critic_run() {
  local name=$1 kind=$2 csv=$3/metrics.csv
  awk -F, -v kind="$kind" '
    NR == 1 { next }
    { rows++; for (i = 3; i <= 11; i++) if ($i != $i + 0 || $i ~ /nan|inf/) bad = bad " row " NR " col " i
      lo = kind == "hinge" ? 2 - $5 + $6 : $6 - $5; if (kind == "hinge" && lo < 0) lo = 0
      if ($3 < lo - 1e-4) bad = bad " row " NR ": d_loss " $3 " below " lo
      if ($5 <= $6) bad = bad " row " NR ": D(x) " $5 " <= D(G(z)) " $6
      d = $4 + $6; if (d < 0) d = -d; a = $6 < 0 ? -$6 : $6
      if (d > 0.5 * a + 0.05) bad = bad " row " NR ": g_loss " $4 " is not near -d_fake " $6 }
    END { if (rows != 4) bad = bad " " rows " rows, want 4"; if (bad != "") { print "   " bad; exit 1 } }' "$csv" \
    && ok "$name: metrics finite, D(x) above D(G(z)), g_loss near -d_fake, d_loss within its bound" \
    || fail "$name: metrics do not show what the loss should"
  "$clgan" sample --checkpoint "$3/checkpoint.safetensors" --count 16 --out "$tmp/$kind.idx" >/dev/null 2>&1
  od -An -v -tu1 -w784 -j16 "$tmp/$kind.idx" | awk '
    { n = 0; s = 0; ss = 0; for (i = 1; i <= NF; i++) { s += $i; ss += $i * $i; n++ }
      m = s / n; if (sqrt(ss / n - m * m) > 10) varied++; rows[NR] = $0 }
    END { for (i = 2; i <= NR; i++) if (rows[i] != rows[1]) distinct++
          exit !(NR == 16 && varied == 16 && distinct == 15) }' \
    && ok "$name: 16 samples vary within and between images" || fail "$name: samples are degenerate"
}
check_critic_run hinge hinge "$tmp/hinge"
check_critic_run wgan-gp wgan-gp "$tmp/gp"

# ---- DiffAugment ----------------------------------------------------------------------------------
expect "unknown --diffaug" 2 "--diffaug 'bogus': use none, translation, cutout or translation,cutout" -- "$clgan" train --diffaug bogus --steps 1
expect "--diffaug in the wrong order" 2 "--diffaug 'cutout,translation'" -- "$clgan" train --diffaug cutout,translation --steps 1
expect "--diffaug on a generator of 4-channel images" 2 "generator makes 4x14x14 images" -- "$clgan" train --model mlp \
  --generator linear:784,reshape:4x14x14 --diffaug cutout --steps 1 --data "$data" --out "$tmp/x"
# Resume equals uninterrupted with augmentation too (its draws are keyed by the step), and the
# checkpoint names the policy, which a resume may not change.
"$clgan" train --model mlp --diffaug translation,cutout --steps 20 --data "$data" --out "$tmp/dafull" --log-every 5 --seed 5 >/dev/null 2>&1
"$clgan" train --model mlp --diffaug translation,cutout --steps 10 --data "$data" --out "$tmp/dapart" --log-every 5 --seed 5 >/dev/null 2>&1
expect "diffaug resume" 0 "10 steps in" -- "$clgan" train --resume "$tmp/dapart/checkpoint.safetensors" --steps 20 --log-every 5
cut -d, -f1-9 "$tmp/dafull/metrics.csv" >"$tmp/da.csv"
cut -d, -f1-9 "$tmp/dapart/metrics.csv" >"$tmp/db.csv"
[ "$(wc -l <"$tmp/da.csv")" = 5 ] && cmp -s "$tmp/da.csv" "$tmp/db.csv" && ok "diffaug: resumed metrics equal the uninterrupted run's" \
  || { fail "diffaug: resumed metrics differ"; diff "$tmp/da.csv" "$tmp/db.csv" | head -5; }
# The plain run of the same seed (resume above) at step 10: another D(x), D(G(z)).
[ "$(awk -F, '$1 == 10 { print $5, $6 }' "$tmp/full/metrics.csv")" != "$(awk -F, '$1 == 10 { print $5, $6 }' "$tmp/da.csv")" ] \
  && ok "diffaug changes the run" || fail "diffaug: step 10 equals the plain run's"
head -c 4096 "$tmp/dafull/checkpoint.safetensors" | grep -aq '"diffaug":"translation,cutout"' \
  && ok "the checkpoint records the policy" || fail "the checkpoint lacks diffaug"
expect "resume cannot change --diffaug" 2 "--diffaug cannot change when resuming" -- \
  "$clgan" train --resume "$tmp/dapart/checkpoint.safetensors" --diffaug none --steps 30
expect "train help names --diffaug" 0 "--diffaug POLICY" -- "$clgan" train --help
# --data-limit: the first 256 images, 4 batches of 64 an epoch; a resume must name it again.
expect "--data-limit 256" 0 "data .*: 256 images 28x28" -- "$clgan" train --model mlp --data-limit 256 --batch 64 \
  --diffaug translation,cutout --steps 10 --log-every 2 --data "$data" --out "$tmp/lim"
[ "$(cut -d, -f2 "$tmp/lim/metrics.csv" | tail -n +2 | tr '\n' ' ')" = "0 0 1 1 2 " ] \
  && ok "--data-limit 256: an epoch is 4 steps of 64" || fail "--data-limit: epochs $(cut -d, -f2 "$tmp/lim/metrics.csv" | tr '\n' ' ')"
expect "resume without --data-limit" 2 "trained on 256 images, this data set has 60000" -- \
  "$clgan" train --resume "$tmp/lim/checkpoint.safetensors" --steps 12 --data "$data"
expect "resume with --data-limit" 0 "2 steps in" -- \
  "$clgan" train --resume "$tmp/lim/checkpoint.safetensors" --data-limit 256 --steps 12 --data "$data"
expect "negative --data-limit" 2 "--data-limit -3: out of range" -- "$clgan" train --data-limit -3 --steps 1

# The decode cache of a gzip'd IDX split (README "Environment", start-up): the first run inflates
# and writes it, the second maps it and trains the same weights; a damaged cache is decoded
# again with a warning; --no-data-cache neither reads nor writes one.
cache=$tmp/xdg
run_cached() { XDG_CACHE_HOME=$cache "$clgan" train --model mlp --steps 2 --data "$data" --out "$tmp/$1" \
  --sample-every 0 --log-every 1 "${@:2}"; }
expect "an IDX training set is cached" 0 "decode cache $cache/clgan/data/.*\(written\)" -- run_cached c1
expect "the next run maps it" 0 "decode cache .*\(read: nothing decoded\)" -- run_cached c2
cmp -s "$tmp/c1/checkpoint.safetensors" "$tmp/c2/checkpoint.safetensors" &&
  ok "cached and inflated data train the same weights" || fail "the cached data trains other weights"
for f in "$cache"/clgan/data/*.clgandata; do
  printf 'x' | dd of="$f" bs=1 seek=100000 conv=notrunc 2>/dev/null # a byte of the images
done
expect "a damaged cache is decoded again" 0 "has a CRC-32 that does not match.*decoding" -- run_cached c3
cmp -s "$tmp/c1/checkpoint.safetensors" "$tmp/c3/checkpoint.safetensors" &&
  ok "after the rebuild, the same weights" || fail "the rebuilt cache trains other weights"
out=$(run_cached c4 --no-data-cache 2>&1)
grep -q "decode cache" <<<"$out" && fail "--no-data-cache used the cache" || ok "--no-data-cache: no cache"

finish
