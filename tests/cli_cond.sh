#!/usr/bin/env bash
# Conditional GANs from the command line (issue 12): clgan train --conditional on an MLP
# preset (one-hot concatenation) and on dcgan (projection discriminator), resumed exactly;
# clgan sample's class grid, --class, a labelled synthetic set (--labels, balanced or
# --class-weights) that clgan reads back as training data; bad input exits 2 with a message:
# a data set without labels, a class out of range, --class on an unconditional checkpoint;
# clgan eval --cas (CAS, real, augmented, conditional accuracy, per-class FID) on a slice.
# With Debian's PyTorch present, the checkpoints load strictly into the PyTorch modules of
# tests/fixtures/make_cond_fixture.py.
# usage: cli_cond.sh CLGAN_BINARY TESTS_DIR
set -u
clgan=$1
tests=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$tests/lib_cli.sh"
data=$(data_dir) || exit 1
require_device "$clgan"
require_data "$data"

run=$tmp/mlp
expect "train mlp-bn --conditional" 0 "conditional on 10 classes: G concat, D concat" -- \
  "$clgan" train --model mlp-bn --conditional --steps 8 --data "$data" --out "$run" \
    --log-every 4 --sample-every 0 --checkpoint-every 4
ck=$run/checkpoint.safetensors
head -c 20000 "$ck" | grep -aq '"classes":"10"' && ok "checkpoint metadata classes" || fail "no classes metadata"
head -c 20000 "$ck" | grep -aq '"conditioning":"generator=concat discriminator=concat"' &&
  ok "checkpoint metadata conditioning" || fail "no conditioning metadata"

# Resumed from step 4, the run ends where the uninterrupted one did.
"$clgan" train --model mlp-bn --conditional --steps 4 --data "$data" --out "$tmp/half" \
  --log-every 4 --sample-every 0 >/dev/null 2>&1
expect "resume a conditional run" 0 "resumed" -- \
  "$clgan" train --resume "$tmp/half/checkpoint.safetensors" --steps 8 --data "$data" \
    --log-every 4 --sample-every 0
"$clgan" sample --checkpoint "$ck" --count 32 --out "$tmp/u.idx" >/dev/null 2>&1
"$clgan" sample --checkpoint "$tmp/half/checkpoint.safetensors" --count 32 --out "$tmp/r.idx" >/dev/null 2>&1
cmp -s "$tmp/u.idx" "$tmp/r.idx" && ok "the resumed run samples the uninterrupted one's images" ||
  fail "the resumed run differs from the uninterrupted one"
# The losses and accuracies; the throughput columns (img/s, seconds) differ by nature.
cmp -s <(cut -d, -f1-9 "$run/metrics.csv") <(cut -d, -f1-9 "$tmp/half/metrics.csv") &&
  ok "the resumed run's metrics equal the uninterrupted one's" ||
  fail "metrics.csv differs after resuming"

expect "class grid by default" 0 "80 images" -- "$clgan" sample --checkpoint "$ck" --out "$tmp/grid.png"
expect "--class 3" 0 "16 images" -- "$clgan" sample --checkpoint "$ck" --out "$tmp/c3.png" --class 3 --count 16
expect "--class 10 of 10" 2 "knows classes 0..9" -- "$clgan" sample --checkpoint "$ck" --out "$tmp/c.png" --class 10
expect "--class -1" 2 "count from 0" -- "$clgan" sample --checkpoint "$ck" --out "$tmp/c.png" --class -1
expect "labelled set" 0 "1000 images" -- \
  "$clgan" sample --checkpoint "$ck" --out "$tmp/synth/train-images-idx3-ubyte.gz" \
    --labels "$tmp/synth/train-labels-idx1-ubyte.gz" --count 1000
python3 - "$tmp/synth/train-labels-idx1-ubyte.gz" <<'PY' && ok "balanced labels (100 of each class)" || fail "labels not balanced"
import gzip, sys
d = gzip.open(sys.argv[1]).read()
assert d[:4] == b"\x00\x00\x08\x01" and int.from_bytes(d[4:8], "big") == 1000
counts = [d[8:].count(bytes([k])) for k in range(10)]
sys.exit(0 if counts == [100] * 10 else 1)
PY
expect "--class-weights" 0 "100 images" -- \
  "$clgan" sample --checkpoint "$ck" --out "$tmp/w.idx" --labels "$tmp/w-labels.idx" --count 100 \
    --class-weights 0,0,0,0,0,0,0,0,1,3
python3 - "$tmp/w-labels.idx" <<'PY' && ok "weighted labels (25 of class 8, 75 of 9)" || fail "weighted labels wrong"
import sys
d = open(sys.argv[1], "rb").read()
sys.exit(0 if d[8:].count(b"\x08") == 25 and d[8:].count(b"\x09") == 75 else 1)
PY
expect "bad --class-weights" 2 "give 10 numbers" -- \
  "$clgan" sample --checkpoint "$ck" --out "$tmp/w.idx" --labels "$tmp/w-labels.idx" --class-weights 1,2
expect "--labels with a PNG" 2 "goes with an IDX" -- \
  "$clgan" sample --checkpoint "$ck" --out "$tmp/w.png" --labels "$tmp/w-labels.idx"
# The synthetic set is a training set clgan reads, labels included.
expect "train on the synthetic set" 0 "conditional on 10 classes" -- \
  "$clgan" train --model mlp --conditional --steps 2 --batch 50 --data "$tmp/synth" --out "$tmp/onsynth" \
    --log-every 1 --sample-every 0

mkdir -p "$tmp/nolabels"
cp "$tmp/synth/train-images-idx3-ubyte.gz" "$tmp/nolabels/"
expect "--conditional on a folder without labels" 2 "needs the training labels" -- \
  "$clgan" train --model mlp --conditional --steps 2 --batch 50 --data "$tmp/nolabels" --out "$tmp/nl"
"$clgan" train --model mlp --steps 2 --data "$data" --out "$tmp/plain" --log-every 1 --sample-every 0 >/dev/null 2>&1
expect "--class on an unconditional checkpoint" 2 "unconditional generator" -- \
  "$clgan" sample --checkpoint "$tmp/plain/checkpoint.safetensors" --out "$tmp/p.png" --class 1
expect "--labels on an unconditional checkpoint" 2 "unconditional generator" -- \
  "$clgan" sample --checkpoint "$tmp/plain/checkpoint.safetensors" --out "$tmp/p.idx" --labels "$tmp/p-l.idx"
expect "--conditional resuming an unconditional run" 2 "unconditional run" -- \
  "$clgan" train --resume "$tmp/plain/checkpoint.safetensors" --conditional --steps 4 --data "$data"

# ---- clgan eval --cas on a slice (1,000 training and 500 test images), quick classifiers ----
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
raw() { if [ -e "$data/$1.gz" ]; then gzip -dc "$data/$1.gz"; else cat "$data/$1"; fi; }
slice() {
  mkdir -p "$1"
  { printf '\x00\x00\x08\x03'; be32 "$3"; be32 28; be32 28; raw "$2-images-idx3-ubyte" | tail -c +17 | head -c $(($3 * 784)); } >"$1/$2-images-idx3-ubyte"
  { printf '\x00\x00\x08\x01'; be32 "$3"; raw "$2-labels-idx1-ubyte" | tail -c +9 | head -c "$3"; } >"$1/$2-labels-idx1-ubyte"
}
small=$tmp/small
slice "$small" train 1000
slice "$small" t10k 500
export XDG_CACHE_HOME=$tmp/cache
"$clgan" classifier train --data "$small" --out "$tmp/clf.safetensors" --epochs 1 >/dev/null 2>&1
expect "eval --cas" 0 "CAS \\(trained on the samples only\\) +[0-9.]+ %" -- \
  "$clgan" eval --cas --checkpoint "$ck" --data "$small" --count 200 --cas-epochs 1 \
    --classifier "$tmp/clf.safetensors" --json "$tmp/cas.json"
python3 - "$tmp/cas.json" <<'PY' && ok "CAS JSON: accuracies in [0, 1], 10 classes with FIDs" || fail "CAS JSON"
import json, sys
r = json.load(open(sys.argv[1]))
ok = all(0 <= r[k] <= 1 for k in ("cas", "real", "augmented", "conditional_accuracy"))
ok = ok and r["count"] == 200 and len(r["per_class"]) == 10 and all(c["fid"] > 0 for c in r["per_class"])
sys.exit(0 if ok else 1)
PY
expect "eval --cas on an unconditional checkpoint" 2 "unconditional generator" -- \
  "$clgan" eval --cas --checkpoint "$tmp/plain/checkpoint.safetensors" --data "$small" --count 200
expect "eval --cas with --samples" 2 "--cas goes with --checkpoint" -- \
  "$clgan" eval --cas --samples "$tmp/w.idx" --data "$small"
expect "eval --cas --count over the data" 2 "does not fit" -- \
  "$clgan" eval --cas --checkpoint "$ck" --data "$small" --count 5000 --classifier "$tmp/clf.safetensors"

dc=$tmp/dcgan
expect "train dcgan --conditional" 0 "D projection" -- \
  "$clgan" train --model dcgan --conditional --steps 2 --batch 16 --data "$data" --out "$dc" \
    --log-every 1 --sample-every 0
head -c 40000 "$dc/checkpoint.safetensors" | grep -aq '"discriminator.embed.weight"' &&
  ok "checkpoint holds discriminator.embed.weight" || fail "no embedding tensor"
expect "dcgan class grid" 0 "80 images" -- "$clgan" sample --checkpoint "$dc/checkpoint.safetensors" --out "$tmp/dgrid.png"

# Every preset trains conditionally (the issue's "--conditional trains every preset"): a step
# each (the wgans' five critic steps), on 200 images, the colour-family presets at their sizes;
# the checkpoint says it is conditional on the data's 10 classes. The list is the binary's own.
presets=$("$clgan" --list presets)
[ "$(wc -w <<<"$presets")" -ge 9 ] && ok "$(wc -w <<<"$presets") presets listed" || fail "presets: $presets"
for m in $presets; do
  size=()
  case $m in dcgan32) size=(--image-size 32) ;; dcgan64) size=(--image-size 64) ;; esac
  if "$clgan" train --model "$m" --conditional --steps 1 --batch 8 --data "$data" --data-limit 200 \
      "${size[@]}" --out "$tmp/every-$m" --log-every 1 --sample-every 0 >"$tmp/every.log" 2>&1 &&
    head -c 40000 "$tmp/every-$m/checkpoint.safetensors" | grep -aq '"classes":"10"'; then
    ok "--conditional trains $m"
  else
    fail "--conditional on $m: $(tail -n 3 "$tmp/every.log")"
  fi
done

# PyTorch's side: a strict load into CondG / ConcatD / ProjectionD.
if /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then
  for c in "$ck" "$dc/checkpoint.safetensors"; do
    expect "strict PyTorch load of $(basename "$(dirname "$c")")" 0 "strict load .* OK" -- \
      /usr/bin/python3 "$tests/fixtures/make_cond_fixture.py" --check "$c"
  done
else
  echo "skip: no PyTorch for the strict load check"
fi
finish
