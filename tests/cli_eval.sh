#!/usr/bin/env bash
# clgan classifier train, clgan eval and clgan train --eval-every end to end, on a small slice of
# Fashion-MNIST (3,000 training and 1,000 test images) so that CI trains its classifier in
# seconds: the figures are printed and written (JSON, .npy), a trained generator scores better
# than an untrained one, the floor beats both, evaluation during training agrees with clgan eval
# of the same checkpoint, the classifier cache works, and bad input gets exit 2 and a message.
# usage: cli_eval.sh CLGAN_BINARY TESTS_DIR
set -u
clgan=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$2/lib_cli.sh"
data=$(data_dir) || exit 1
require_device "$clgan"
require_data "$data"
export XDG_CACHE_HOME=$tmp/cache

# raw FILE: the IDX bytes of data/FILE, plain or gzipped.
raw() { if [ -e "$data/$1.gz" ]; then gzip -dc "$data/$1.gz"; else cat "$data/$1"; fi; }
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
# slice DIR SPLIT N: the first N images and labels of a split, as IDX files in DIR.
slice() {
  mkdir -p "$1"
  { printf '\x00\x00\x08\x03'; be32 "$3"; be32 28; be32 28; raw "$2-images-idx3-ubyte" | tail -c +17 | head -c $(($3 * 784)); } >"$1/$2-images-idx3-ubyte"
  { printf '\x00\x00\x08\x01'; be32 "$3"; raw "$2-labels-idx1-ubyte" | tail -c +9 | head -c "$3"; } >"$1/$2-labels-idx1-ubyte"
}
small=$tmp/small
slice "$small" train 3000
slice "$small" t10k 1000
[ "$(stat -c %s "$small/train-images-idx3-ubyte")" = $((16 + 3000 * 784)) ] && ok "slice of the data" || fail "slice has the wrong size"

# ---- The classifier ---------------------------------------------------------------------------
clf=$tmp/clf.safetensors
expect "classifier train" 0 "accuracy" -- "$clgan" classifier train --data "$small" --out "$clf" --epochs 3
[ -s "$clf" ] && ok "classifier saved" || fail "no classifier file"

# ---- Two generators: untrained (1 step) and trained (400 steps) -------------------------------
expect "train mlp 1 step" 0 "1 steps in" -- "$clgan" train --model mlp --steps 1 --data "$small" --out "$tmp/g0" --seed 5 --quiet
expect "train mlp 400 steps, eval every 200" 0 "best FID" -- \
  "$clgan" train --model mlp --steps 400 --data "$small" --out "$tmp/g1" --seed 5 \
  --eval-every 200 --eval-count 500 --keep-best --classifier "$clf" --quiet
for f in eval.csv eval.png checkpoint-best.safetensors; do
  [ -s "$tmp/g1/$f" ] && ok "run folder has $f" || fail "run folder lacks $f"
done
rows=$(($(wc -l <"$tmp/g1/eval.csv") - 1))
[ "$rows" = 2 ] && ok "eval.csv has 2 rows (steps 200 and 400)" || fail "eval.csv has $rows rows, want 2"
head -1 "$tmp/g1/eval.csv" | grep -q '^step,fid,kid,kid_std,precision,recall,density,coverage' && ok "eval.csv header" || fail "eval.csv header: $(head -1 "$tmp/g1/eval.csv")"

# clgan eval: every figure, on a checkpoint, with JSON and features.
out=$("$clgan" eval --checkpoint "$tmp/g1/checkpoint.safetensors" --data "$small" --count 500 \
      --classifier "$clf" --json "$tmp/e1.json" --features "$tmp/feat" 2>&1)
rc=$?
[ "$rc" = 0 ] && ok "eval a checkpoint" || { fail "eval a checkpoint: exit $rc"; echo "$out" | tail -8; }
for m in FID KID precision recall density coverage classes entropy floor; do
  grep -q "$m" <<<"$out" && ok "eval prints $m" || fail "eval output lacks $m"
done
fid1=$(awk '$1 == "FID" { print $2; exit }' <<<"$out")
floor_fid=$(awk '/floor/ { f = 1 } f && $1 == "FID" { print $2; exit }' <<<"$out")
# The last row of eval.csv judged the same generator (step 400) with the same latent vectors
# (seed 1) against the same reference: clgan eval must agree with it.
csv_fid=$(tail -1 "$tmp/g1/eval.csv" | cut -d, -f2)
awk -v a="$fid1" -v b="$csv_fid" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 1e-3 * a) }' \
  && ok "eval during training agrees with clgan eval ($csv_fid vs $fid1)" || fail "eval.csv FID $csv_fid vs clgan eval $fid1"
for f in real samples test; do
  [ "$(stat -c %s "$tmp/feat/$f.npy" 2>/dev/null)" -gt 128 ] 2>/dev/null && ok "features $f.npy" || fail "no features $f.npy"
done
grep -q '"fid"' "$tmp/e1.json" && grep -q '"floor"' "$tmp/e1.json" && grep -q '"histogram"' "$tmp/e1.json" \
  && ok "JSON has fid, floor and the histogram" || fail "JSON incomplete"
# Debian's Python (a pyenv or venv python3 on PATH may lack NumPy): the JSON parses, and where
# SciPy is at hand (CI machines need not have it) the figures recomputed from the features agree.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
if [ -n "$py" ]; then
  "$py" -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/e1.json" && ok "JSON parses" || fail "JSON does not parse"
  if "$py" -c 'import scipy, numpy' 2>/dev/null; then
    "$py" "$2/tools/check_eval_features.py" "$tmp/feat" "$tmp/e1.json" && ok "figures recomputed with SciPy agree" || fail "SciPy disagrees with clgan eval"
  fi
fi

# Ordering: the untrained generator is worse than the trained one, the floor better than both.
fid0=$("$clgan" eval --checkpoint "$tmp/g0/checkpoint.safetensors" --data "$small" --count 500 --classifier "$clf" --no-floor --quiet 2>&1 | awk '$1 == "FID" { print $2; exit }')
awk -v f0="$fid0" -v f1="$fid1" -v fl="$floor_fid" 'BEGIN { exit !(f0 > f1 && f1 > fl && fl >= 0) }' \
  && ok "FID orders untrained $fid0 > trained $fid1 > floor $floor_fid" || fail "FID order: untrained $fid0, trained $fid1, floor $floor_fid"

# --samples: an IDX file of images, as clgan sample writes them.
"$clgan" sample --checkpoint "$tmp/g1/checkpoint.safetensors" --count 200 --out "$tmp/s.idx.gz" >/dev/null 2>&1
expect "eval --samples" 0 "200 samples" -- "$clgan" eval --samples "$tmp/s.idx.gz" --data "$small" --count 300 --classifier "$clf" --no-floor

# ---- The classifier cache ---------------------------------------------------------------------
expect "eval without a classifier trains one first" 0 "training one first" -- \
  "$clgan" eval --checkpoint "$tmp/g1/checkpoint.safetensors" --data "$small" --count 300 --no-floor
n=$(find "$XDG_CACHE_HOME/clgan/classifiers" -name '*.safetensors' | wc -l)
[ "$n" = 1 ] && ok "the classifier is cached" || fail "$n cached classifiers, want 1"
out=$("$clgan" eval --checkpoint "$tmp/g1/checkpoint.safetensors" --data "$small" --count 300 --no-floor 2>&1)
grep -q "training one first" <<<"$out" && fail "the cached classifier was not used" || ok "the second eval uses the cache"

# ---- Bad input --------------------------------------------------------------------------------
expect "neither checkpoint nor samples" 2 "one of --checkpoint and --samples" -- "$clgan" eval --data "$small"
expect "both checkpoint and samples" 2 "one of --checkpoint and --samples" -- "$clgan" eval --data "$small" --checkpoint "$tmp/g1/checkpoint.safetensors" --samples "$tmp/s.idx.gz"
expect "count below k + 1" 2 "at least 6" -- "$clgan" eval --checkpoint "$tmp/g1/checkpoint.safetensors" --data "$small" --count 5 --classifier "$clf"
"$clgan" sample --checkpoint "$tmp/g1/checkpoint.safetensors" --count 5 --out "$tmp/five.idx" >/dev/null 2>&1
expect "a file of 5 samples" 2 "5 images.*at least 6" -- "$clgan" eval --samples "$tmp/five.idx" --data "$small" --classifier "$clf"
{ printf '\x00\x00\x08\x03'; be32 10; be32 20; be32 20; head -c 4000 /dev/zero; } >"$tmp/small20.idx"
expect "samples of another size" 2 "20x20.*28x28" -- "$clgan" eval --samples "$tmp/small20.idx" --data "$small" --classifier "$clf"
head -c 3000 "$tmp/five.idx" >"$tmp/trunc.idx"
expect "truncated samples file" 2 "trunc.idx" -- "$clgan" eval --samples "$tmp/trunc.idx" --data "$small" --classifier "$clf"
other=$tmp/other
slice "$other" train 2500
slice "$other" t10k 500
expect "classifier trained on other data" 2 "trained on other data.*3000x28x28.*2500x28x28" -- \
  "$clgan" eval --checkpoint "$tmp/g1/checkpoint.safetensors" --data "$other" --count 300 --classifier "$clf"
notest=$tmp/notest
slice "$notest" train 1000
expect "no test split" 2 "no test split" -- "$clgan" eval --checkpoint "$tmp/g1/checkpoint.safetensors" --data "$notest" --count 300
nolabels=$tmp/nolabels
slice "$nolabels" train 500
slice "$nolabels" t10k 100
rm "$nolabels/train-labels-idx1-ubyte"
expect "classifier train without labels" 2 "no labels for its train split" -- \
  "$clgan" classifier train --data "$nolabels" --out "$tmp/x.safetensors"
expect "classifier train without a t10k split" 2 "no t10k test split" -- \
  "$clgan" classifier train --data "$notest" --out "$tmp/x.safetensors"
expect "classifier train on a missing folder" 2 "no 'train' images in .*/missing" -- \
  "$clgan" classifier train --data "$tmp/missing" --out "$tmp/x.safetensors"
expect "classifier train --batch 1" 2 "--batch at least 2" -- \
  "$clgan" classifier train --data "$small" --out "$tmp/x.safetensors" --batch 1
expect "classifier train with an unknown option" 2 "unknown option '--frobnicate'" -- \
  "$clgan" classifier train --data "$small" --out "$tmp/x.safetensors" --frobnicate 3
[ ! -e "$tmp/x.safetensors" ] && ok "refused classifier trainings wrote nothing" || fail "a refused classifier training wrote $tmp/x.safetensors"
expect "a GAN checkpoint as classifier" 2 "checkpoint.safetensors" -- \
  "$clgan" eval --checkpoint "$tmp/g1/checkpoint.safetensors" --data "$small" --count 300 --classifier "$tmp/g1/checkpoint.safetensors"
expect "--keep-best without --eval-every" 2 "go with --eval-every" -- "$clgan" train --model mlp --steps 1 --data "$small" --out "$tmp/x" --keep-best
expect "--eval-count below k + 1" 2 "eval-count" -- "$clgan" train --model mlp --steps 1 --data "$small" --out "$tmp/x" --eval-every 1 --eval-count 3
finish
