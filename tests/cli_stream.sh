# Streaming data larger than the device (issue 13): with CLGAN_DATA_DEVICE_BUDGET below the data's
# size the batches are gathered on a host thread and uploaded while the device computes; the run
# must equal the uploaded one bit for bit (checkpoints compared byte for byte): across epoch
# boundaries (20 images, batch 8: an epoch of 2 steps), with --flip, with a batch of the whole
# set, conditional on the array's labels, and resumed exactly from a streamed checkpoint (the
# later runs stream from the decode cache's mapping). A budget that is not a number exits 2.
set -u
clgan=$1
tmp=$(mktemp -d)
export XDG_CACHE_HOME=$tmp/cache # the .npy's decode cache
trap 'rm -rf "$tmp"' EXIT
source "$2/lib_cli.sh"
require_device "$clgan"

# A .npy of 20 random uint8 RGB 16x16 images (N, H, W, C): noise makes any misplaced or
# unflipped byte change the weights.
python3 - "$tmp/arr.npy" <<'PY' || { echo "FAIL: cannot write the fixture array"; exit 1; }
import random, struct, sys
hdr = "{'descr': '|u1', 'fortran_order': False, 'shape': (20, 16, 16, 3), }"
hdr += ' ' * ((64 - (10 + len(hdr) + 1) % 64) % 64) + '\n'
random.seed(3)
with open(sys.argv[1], 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(hdr)) + hdr.encode()
            + bytes(random.randrange(256) for _ in range(20 * 16 * 16 * 3)))
hdr = "{'descr': '|u1', 'fortran_order': False, 'shape': (20,), }"
hdr += ' ' * ((64 - (10 + len(hdr) + 1) % 64) % 64) + '\n'
with open(sys.argv[1][:-4] + '_labels.npy', 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(hdr)) + hdr.encode()
            + bytes(i % 3 for i in range(20)))
PY

data=$tmp/arr.npy
train() { # OUT BUDGET args...: a dcgan run on the array; BUDGET "" uploads
  local out=$1 budget=$2
  shift 2
  CLGAN_DATA_DEVICE_BUDGET=$budget "$clgan" train --model dcgan --data "$data" --batch 8 \
    --out "$tmp/$out" --log-every 1 "$@"
}
same() { cmp -s "$tmp/$1/checkpoint.safetensors" "$tmp/$2/checkpoint.safetensors"; }

expect "a budget below the data streams it" 0 "streamed: .* over the device budget" -- \
  train s5 1000 --steps 5
train u5 "" --steps 5 >/dev/null 2>&1
grep -q streamed <(train u1 "" --steps 1 2>&1) && fail "data within the budget was streamed" ||
  ok "data within the budget is uploaded"
[ -s "$tmp/u5/checkpoint.safetensors" ] && same s5 u5 &&
  ok "streamed equals uploaded over 5 steps (2 epoch boundaries)" ||
  fail "streamed run differs from the uploaded one"

train sf5 1000 --steps 5 --flip >/dev/null 2>&1
train uf5 "" --steps 5 --flip >/dev/null 2>&1
[ -s "$tmp/sf5/checkpoint.safetensors" ] && same sf5 uf5 && ok "streamed equals uploaded with --flip" ||
  fail "streamed --flip differs from the uploaded one"
! same sf5 s5 && ok "streamed --flip changes the batches" || fail "streamed --flip changed nothing"

# Micro-batches (--accumulate 2 of 4: the stream serves rows the trainer asks for, in order).
train sa5 1000 --steps 5 --batch 4 --accumulate 2 --flip >/dev/null 2>&1
train ua5 "" --steps 5 --batch 4 --accumulate 2 --flip >/dev/null 2>&1
[ -s "$tmp/sa5/checkpoint.safetensors" ] && same sa5 ua5 &&
  ok "streamed equals uploaded with --accumulate 2" || fail "streamed --accumulate differs"

train sb3 1000 --steps 3 --batch 20 >/dev/null 2>&1
train ub3 "" --steps 3 --batch 20 >/dev/null 2>&1
[ -s "$tmp/sb3/checkpoint.safetensors" ] && same sb3 ub3 &&
  ok "a batch of the whole set, streamed, equals uploaded" || fail "whole-set batch differs"

# Conditional: the labels stay uploaded and are gathered by the same permutation.
train sc5 1000 --steps 5 --conditional >/dev/null 2>&1
train uc5 "" --steps 5 --conditional >/dev/null 2>&1
[ -s "$tmp/sc5/checkpoint.safetensors" ] && same sc5 uc5 &&
  ok "conditional: streamed equals uploaded" || fail "conditional streamed run differs"

# Resume a streamed run at step 3 (mid-epoch) and go to 7: the straight uploaded run's weights.
train sr "$tmp" --steps 3 --flip >/dev/null 2>&1 # a budget that is a path is not a number
[ -s "$tmp/sr/checkpoint.safetensors" ] && fail "a budget of '$tmp' was accepted"
train sr 1000 --steps 3 --flip >/dev/null 2>&1
CLGAN_DATA_DEVICE_BUDGET=1000 "$clgan" train --resume "$tmp/sr/checkpoint.safetensors" --steps 7 \
  --data "$data" --quiet >/dev/null 2>&1
train uf7 "" --steps 7 --flip >/dev/null 2>&1
[ -s "$tmp/uf7/checkpoint.safetensors" ] && same sr uf7 &&
  ok "a streamed run resumed at step 3 equals the uploaded one to step 7" ||
  fail "streamed resume differs"

expect "a budget that is not a byte count exits 2" 2 "CLGAN_DATA_DEVICE_BUDGET='12MB' is not a byte count" -- \
  train bad 12MB --steps 1
finish
