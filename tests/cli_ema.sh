#!/usr/bin/env bash
# The EMA generator and truncation from the command line: clgan train --ema writes
# generator_ema into the checkpoint; clgan sample and eval use it unless --no-ema; --truncation
# redraws latent components; bad values exit 2 naming the option.
# usage: cli_ema.sh CLGAN_BINARY TESTS_DIR
set -u
clgan=$1
data=${CLGAN_DATA:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$2/lib_cli.sh"
require_device "$clgan"
require_data "$data"

run=$tmp/ema
expect "train with --ema" 0 "60 steps in" -- \
  "$clgan" train --model mlp --steps 60 --ema 0.99 --data "$data" --out "$run" --log-every 20 --sample-every 0 --seed 5
ck=$run/checkpoint.safetensors
# The safetensors header (JSON) names the EMA tensors and the decay.
head -c 20000 "$ck" | grep -aq '"generator_ema.0.weight"' && ok "checkpoint holds generator_ema.0.weight" || fail "no generator_ema tensors"
head -c 20000 "$ck" | grep -aq '"ema":"0.99' && ok "checkpoint metadata ema" || fail "no ema metadata"
expect "sample uses the EMA generator" 0 "\\(EMA generator\\)" -- "$clgan" sample --checkpoint "$ck" --count 16 --out "$tmp/e.idx"
"$clgan" sample --checkpoint "$ck" --count 16 --out "$tmp/r.idx" --no-ema >"$tmp/r.txt" 2>&1
grep -q "EMA" "$tmp/r.txt" && fail "--no-ema still says EMA" || ok "--no-ema samples the trained generator"
cmp -s "$tmp/e.idx" "$tmp/r.idx" && fail "EMA and trained generator draw the same images" || ok "EMA and trained samples differ"
expect "truncation 1" 0 "16 images" -- "$clgan" sample --checkpoint "$ck" --count 16 --out "$tmp/t.idx" --truncation 1
cmp -s "$tmp/e.idx" "$tmp/t.idx" && fail "--truncation changed nothing" || ok "--truncation changes the samples"
"$clgan" sample --checkpoint "$ck" --count 16 --out "$tmp/t2.idx" --truncation 1 >/dev/null 2>&1
cmp -s "$tmp/t.idx" "$tmp/t2.idx" && ok "truncated sampling is deterministic" || fail "truncated sampling differs between runs"

# A checkpoint without EMA: sample says nothing of EMA.
expect "train without --ema" 0 "5 steps in" -- "$clgan" train --model mlp --steps 5 --data "$data" --out "$tmp/plain" --sample-every 0
"$clgan" sample --checkpoint "$tmp/plain/checkpoint.safetensors" --count 4 --out "$tmp/p.png" >"$tmp/p.txt" 2>&1
grep -q "EMA" "$tmp/p.txt" && fail "a checkpoint without EMA samples as EMA" || ok "no EMA, no EMA generator"

# The preset that ships the recipe: hinge, EMA, a critic without batch norm.
expect "dcgan-hinge-ema trains" 0 "3 steps in" -- \
  "$clgan" train --model dcgan-hinge-ema --steps 3 --data "$data" --out "$tmp/preset" --sample-every 0 --log-every 1
head -c 20000 "$tmp/preset/checkpoint.safetensors" | grep -aq '"loss":"hinge"' && ok "the preset's loss is hinge" || fail "the preset's loss"
head -c 20000 "$tmp/preset/checkpoint.safetensors" | grep -aq '"generator_ema.0.weight"' && ok "the preset keeps an EMA generator" || fail "the preset has no EMA generator"

# The winning preset: dcgan, conditional, EMA. It is the run of the options it stands for: the
# same steps from `dcgan --conditional --ema 0.999` sample the same images. On data without
# labels it says why it cannot run.
expect "dcgan-cond-ema trains" 0 "conditional on 10 classes: G concat, D projection" -- \
  "$clgan" train --model dcgan-cond-ema --steps 3 --batch 16 --data "$data" --out "$tmp/cond" --sample-every 0 --log-every 1
"$clgan" train --model dcgan --conditional --ema 0.999 --steps 3 --batch 16 --data "$data" --out "$tmp/cond2" \
  --sample-every 0 --log-every 1 >/dev/null 2>&1
head -c 40000 "$tmp/cond/checkpoint.safetensors" | grep -aq '"generator_ema.0.weight"' && ok "dcgan-cond-ema keeps an EMA generator" || fail "dcgan-cond-ema has no EMA generator"
# Three steps are inside the EMA's warm-up, where every decay above 0.7 averages alike: the
# decay itself is read from the metadata.
head -c 40000 "$tmp/cond/checkpoint.safetensors" | grep -aq '"ema":"0.99900' && ok "dcgan-cond-ema's decay is 0.999" || fail "dcgan-cond-ema's decay"
"$clgan" sample --checkpoint "$tmp/cond/checkpoint.safetensors" --count 20 --out "$tmp/c1.idx" >/dev/null 2>&1
"$clgan" sample --checkpoint "$tmp/cond2/checkpoint.safetensors" --count 20 --out "$tmp/c2.idx" >/dev/null 2>&1
[ -s "$tmp/c1.idx" ] && cmp -s "$tmp/c1.idx" "$tmp/c2.idx" && ok "dcgan-cond-ema = dcgan --conditional --ema 0.999" ||
  fail "dcgan-cond-ema samples differ from dcgan --conditional --ema 0.999"
mkdir -p "$tmp/nolabels"
ln -s "$data/train-images-idx3-ubyte.gz" "$tmp/nolabels/train-images-idx3-ubyte.gz"
expect "dcgan-cond-ema without labels" 2 "needs the training labels" -- \
  "$clgan" train --model dcgan-cond-ema --steps 1 --data "$tmp/nolabels" --out "$tmp/nl" --sample-every 0

# ---- Bad input ---------------------------------------------------------------------------------
expect "--ema 1.5" 2 "--ema 1.5: out of range \\(allowed: \\[0, 1\\)" -- "$clgan" train --ema 1.5 --steps 1
expect "--ema 1" 2 "--ema 1: out of range" -- "$clgan" train --ema 1 --steps 1
expect "--ema nan" 2 "--ema nan: out of range" -- "$clgan" train --ema nan --steps 1
expect "--ema on resume" 2 "--ema cannot change when resuming" -- "$clgan" train --resume "$ck" --ema 0.9 --steps 100
expect "--truncation 0" 2 "--truncation 0: must be a finite number > 0" -- "$clgan" sample --checkpoint "$ck" --out "$tmp/x.png" --truncation 0
expect "--truncation -1" 2 "--truncation -1: must be" -- "$clgan" sample --checkpoint "$ck" --out "$tmp/x.png" --truncation -1
expect "--truncation nan (eval)" 2 "--truncation nan: must be" -- "$clgan" eval --checkpoint "$ck" --truncation nan
expect "--truncation with --latent" 2 "applies to drawn latent vectors" -- \
  "$clgan" sample --checkpoint "$ck" --out "$tmp/x.png" --truncation 1 --latent "$tmp/none.npy"
expect "eval --no-ema without a checkpoint" 2 "go with --checkpoint" -- "$clgan" eval --samples "$tmp/e.idx" --no-ema
finish
