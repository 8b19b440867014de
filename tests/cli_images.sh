# Your own images (issue 13), from the command line: a generated folder of colour PNGs of an odd
# size in two class subfolders, with a cut file and a junk file, trains a few steps of dcgan32
# (--image-size 32, the summary counts what was skipped; a second run reads the decode cache),
# samples an RGB grid and a folder of PNGs, resumes exactly from its checkpoint (with --flip
# too), and trains conditionally on the subfolders; a .npy array trains mlp; an empty folder,
# unusable labels and bad options exit 2 naming the value.
set -u
clgan=$1
tmp=$(mktemp -d)
export XDG_CACHE_HOME=$tmp/cache # the decode cache of the folders below
trap 'rm -rf "$tmp"' EXIT
source "$2/lib_cli.sh"
require_device "$clgan"

# PNGs from Python's standard library alone (zlib): 40x36 RGB, a disc on a background per class.
python3 - "$tmp" <<'PY' || { echo "FAIL: cannot write the fixture images"; exit 1; }
import os, random, struct, sys, zlib
root = sys.argv[1]
def png(path, w, h, px):
    raw = b''.join(b'\x00' + bytes(px[y * w * 3:(y + 1) * w * 3]) for y in range(h))
    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
random.seed(1)
for cls, base in (('red', (220, 40, 40)), ('blue', (40, 60, 220))):
    os.makedirs(f'{root}/imgs/{cls}')
    for i in range(16):
        w, h = 40, 36
        cx, cy, r = random.randint(10, 30), random.randint(10, 26), random.randint(5, 12)
        px = []
        for y in range(h):
            for x in range(w):
                px += [c if (x - cx) ** 2 + (y - cy) ** 2 < r * r else 255 - c // 2 for c in base]
        png(f'{root}/imgs/{cls}/{i:02d}.png', w, h, px)
os.makedirs(f'{root}/mixed')
png(f'{root}/mixed/a.png', 40, 36, [90] * (40 * 36 * 3))
png(f'{root}/mixed/b.png', 20, 20, [90] * (20 * 20 * 3))
with open(f'{root}/imgs/blue/00.png', 'rb') as f:
    whole = f.read()
with open(f'{root}/imgs/blue/zz_cut.png', 'wb') as f:
    f.write(whole[:60])
with open(f'{root}/imgs/red/zz_junk.jpg', 'wb') as f:
    f.write(b'not a jpeg')
# A .npy of 40 uint8 images (N, H, W, C) = (40, 12, 12, 3) and its labels.
hdr = "{'descr': '|u1', 'fortran_order': False, 'shape': (40, 12, 12, 3), }"
hdr += ' ' * ((64 - (10 + len(hdr) + 1) % 64) % 64) + '\n'
with open(f'{root}/arr.npy', 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(hdr)) + hdr.encode()
            + bytes((i * 7 + j) % 256 for i in range(40) for j in range(12 * 12 * 3)))
PY

imgs=$tmp/imgs
run=$tmp/run
expect "dcgan32 on a folder: 3 steps, the summary counts the skipped" 0 \
  "image folder\): 32 images 32x32, RGB.*34 image files, 2 skipped" -- \
  "$clgan" train --model dcgan32 --image-size 32 --steps 3 --batch 8 --data "$imgs" --out "$run" \
  --log-every 1 --sample-every 2
out=$("$clgan" train --model dcgan32 --image-size 32 --steps 1 --batch 8 --data "$imgs" \
      --out "$tmp/r0" --no-data-cache 2>&1)
grep -q "zz_cut.png" <<<"$out" && grep -q "zz_junk.jpg" <<<"$out" &&
  grep -q "classes 0 blue, 1 red" <<<"$out" &&
  ok "each skipped file named; the class subfolders listed" ||
  { fail "skipped files or classes not reported"; echo "$out" | head -8 | sed 's/^/    /'; }

expect "a second run reads the decode cache" 0 "decode cache $tmp/cache/clgan/data/.* \(read: nothing decoded\)" -- \
  "$clgan" train --model dcgan32 --image-size 32 --steps 1 --batch 8 --data "$imgs" --out "$tmp/r1"

# The run's grid and clgan sample's are RGB PNGs (IHDR colour type 2).
rgb() { python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); sys.exit(0 if d[25] == 2 else 1)' "$1"; }
rgb "$run/samples/step_000003.png" && ok "the training grid is RGB" || fail "training grid not RGB"
expect "sample a colour grid" 0 "16 images \(RGB 32x32\)" -- \
  "$clgan" sample --checkpoint "$run/checkpoint.safetensors" --count 16 --out "$tmp/grid.png"
rgb "$tmp/grid.png" && ok "clgan sample's grid is RGB" || fail "sample grid not RGB"
expect "sample a folder of PNGs" 0 "3 images" -- \
  "$clgan" sample --checkpoint "$run/checkpoint.safetensors" --count 3 --out "$tmp/many/"
[ -f "$tmp/many/000002.png" ] && rgb "$tmp/many/000000.png" && ok "one RGB PNG per image" ||
  fail "no folder of PNGs"
# --nearest in colour: each sample beside its nearest training image over all three channels, in
# an RGB grid, the data read as clgan train reads it. On a .npy of 32x32 RGB images (no resizing,
# so every grid tile can be checked exactly): each neighbour tile is the image nearest to the
# sample's raw floats over all 3,072 values, found again here. A folder and a .npy have no test
# split: training images are measured against the others; CIFAR-10 has test_batch.bin.
python3 - "$tmp" <<'PY' || { echo "FAIL: cannot write the nearest fixtures"; exit 1; }
import os, random, struct, sys
root = sys.argv[1]
random.seed(2)
def image():  # (H, W, C) bytes: a colour gradient with a disc of another colour
    a, b = [random.randint(0, 255) for _ in range(3)], [random.randint(0, 255) for _ in range(3)]
    cx, cy, r = random.randint(4, 28), random.randint(4, 28), random.randint(3, 10)
    return bytes(b[c] if (x - cx) ** 2 + (y - cy) ** 2 < r * r else (a[c] + 4 * x) % 256
                 for y in range(32) for x in range(32) for c in range(3))
hdr = "{'descr': '|u1', 'fortran_order': False, 'shape': (40, 32, 32, 3), }"
hdr += ' ' * ((64 - (10 + len(hdr) + 1) % 64) % 64) + '\n'
with open(f'{root}/rgb32.npy', 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(hdr)) + hdr.encode())
    for _ in range(40):
        f.write(image())
def record(label):  # CIFAR-10: a label byte, then the R, G and B planes
    px = image()
    return bytes([label]) + bytes(px[p * 3 + c] for c in range(3) for p in range(1024))
for d, files in (('cifar', {'data_batch_1.bin': 30, 'test_batch.bin': 10}),
                 ('cifar-notest', {'data_batch_1.bin': 30})):
    os.makedirs(f'{root}/{d}')
    for name, n in files.items():
        with open(f'{root}/{d}/{name}', 'wb') as f:
            f.write(b''.join(record(i % 10) for i in range(n)))
PY
ck=$run/checkpoint.safetensors
# lines NAME PATTERN... < output: every extended regex matches some line of the output.
lines() {
  local name=$1 out pat
  shift
  out=$(cat)
  for pat in "$@"; do
    grep -qE -- "$pat" <<<"$out" || { fail "$name: output lacks /$pat/"; echo "$out" | tail -8 | sed 's/^/    /'; return; }
  done
  ok "$name"
}
"$clgan" sample --checkpoint "$ck" --count 4 --out "$tmp/n4.png" --raw "$tmp/n4.npy" --scale 1 \
  --nearest "$tmp/nn.png" --data "$tmp/rgb32.npy" >"$tmp/nn.txt" 2>&1 && ok "nearest in colour on a .npy: exit 0" ||
  fail "nearest in colour on a .npy: exit $?"
lines "nearest in colour on a .npy: all channels, judged by the training images" \
  "40 of .*rgb32.npy, .npy array; Euclidean over 3x32x32 values" \
  "^  4 training images, each against the others: mean distance" <"$tmp/nn.txt"
python3 - "$tmp" <<'PY' && ok "each neighbour tile is the RGB image nearest over all channels" || fail "the nearest grid is wrong"
import struct, sys, zlib
root = sys.argv[1]
def npy(path):
    d = open(path, 'rb').read()
    n = struct.unpack('<H', d[8:10])[0]
    return eval(d[10:10 + n].decode())['shape'], d[10 + n:]
def png(path):  # an 8-bit PNG without interlace: (width, height, colour type, rows of bytes)
    d = open(path, 'rb').read()
    w, h, depth, ctype, _, _, lace = struct.unpack('>IIBBBBB', d[16:29])
    assert depth == 8 and lace == 0
    at, idat = 8, b''
    while at < len(d):
        n, t = struct.unpack('>I4s', d[at:at + 8])
        idat += d[at + 8:at + 8 + n] if t == b'IDAT' else b''
        at += 12 + n
    raw, bpp = zlib.decompress(idat), {0: 1, 2: 3}[ctype]
    rows, prev, stride = [], bytearray(w * bpp), w * bpp
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pred = [0, a, b, (a + b) // 2,
                    a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c][f]
            line[i] = (line[i] + pred) % 256
        rows.append(bytes(line))
        prev = line
    return w, h, ctype, rows
(n, hh, ww, cc), data = npy(f'{root}/rgb32.npy')
(q, dim), raw = npy(f'{root}/n4.npy')
samples = struct.unpack(f'<{q * dim}f', raw)
w, h, ctype, rows = png(f'{root}/nn.png')
assert ctype == 2, f'colour type {ctype}, not RGB'
assert (w, h) == (4 * 34 + 2, 2 * 34 + 2), (w, h)
unit = [b / 127.5 - 1 for b in range(256)]
for s in range(q):
    x = samples[s * dim:(s + 1) * dim]  # (C, H, W) planes
    best, at = None, -1
    for i in range(n):
        img = data[i * dim:(i + 1) * dim]  # (H, W, C)
        d = sum((x[c * 1024 + p] - unit[img[p * 3 + c]]) ** 2 for p in range(1024) for c in range(3))
        if best is None or d < best:
            best, at = d, i
    tile = 2 * s + 1
    x0, y0 = (tile % 4) * 34 + 2, (tile // 4) * 34 + 2
    got = b''.join(rows[y0 + y][x0 * 3:(x0 + 32) * 3] for y in range(32))
    want = data[at * dim:(at + 1) * dim]
    assert got == want, f'sample {s}: its tile is not image {at}, the nearest over all channels'
    assert any(got[p * 3] != got[p * 3 + 1] for p in range(1024)), f'sample {s}: a gray tile'
PY
expect "nearest in colour on the image folder, as trained (--image-size 32)" 0 "their neighbours' classes:.*\(.* of 2 classes\)" -- \
  "$clgan" sample --checkpoint "$ck" --count 4 --out "$tmp/n4.png" --nearest "$tmp/nnf.png" \
  --data "$imgs" --image-size 32
rgb "$tmp/nnf.png" && ok "the folder's nearest grid is RGB" || fail "the folder's nearest grid is not RGB"
expect "nearest in colour on CIFAR-10, judged by its test batch" 0 "^  8 test images: mean distance" -- \
  "$clgan" sample --checkpoint "$ck" --count 8 --out "$tmp/n8.png" --nearest "$tmp/nnc.png" --data "$tmp/cifar"
rgb "$tmp/nnc.png" && ok "the CIFAR-10 nearest grid is RGB" || fail "the CIFAR-10 nearest grid is not RGB"
expect "nearest: CIFAR-10 without test_batch.bin exits 2" 2 "needs the test batch \(test_batch.bin\) in $tmp/cifar-notest" -- \
  "$clgan" sample --checkpoint "$ck" --count 4 --out "$tmp/n4.png" --nearest "$tmp/nnx.png" --data "$tmp/cifar-notest"
expect "nearest: the folder at another size exits 2 naming both shapes" 2 "makes 3x32x32 images, and $imgs holds 3x36x40: give --data, --image-size and --channels" -- \
  "$clgan" sample --checkpoint "$ck" --count 4 --out "$tmp/n4.png" --nearest "$tmp/nnx.png" --data "$imgs"
expect "nearest: gray data for a colour generator exits 2" 2 "makes 3x32x32 images, and .* holds 1x32x32" -- \
  "$clgan" sample --checkpoint "$ck" --count 4 --out "$tmp/n4.png" --nearest "$tmp/nnx.png" \
  --data "$tmp/rgb32.npy" --channels 1
mkdir "$tmp/one"
cp "$imgs/red/00.png" "$tmp/one/"
expect "nearest: one training image and no test split exits 2" 2 "needs at least 2 images in $tmp/one \(1 found\)" -- \
  "$clgan" sample --checkpoint "$ck" --count 4 --out "$tmp/n4.png" --nearest "$tmp/nnx.png" \
  --data "$tmp/one" --image-size 32
[ ! -e "$tmp/nnx.png" ] && ok "a refused --nearest writes no grid" || fail "a refused --nearest wrote its grid"
expect "--image-size without --nearest exits 2" 2 "--image-size goes with --nearest" -- \
  "$clgan" sample --checkpoint "$ck" --count 4 --out "$tmp/n4.png" --image-size 32
expect "--channels 2 with --nearest exits 2" 2 "--channels 2: use 1" -- \
  "$clgan" sample --checkpoint "$ck" --count 4 --out "$tmp/n4.png" --nearest "$tmp/nnx.png" --channels 2
expect "clgan eval refuses a colour generator" 2 "makes colour images" -- \
  "$clgan" eval --checkpoint "$run/checkpoint.safetensors" --count 100
expect "colour samples refuse IDX output" 2 "colour images.*IDX" -- \
  "$clgan" sample --checkpoint "$run/checkpoint.safetensors" --count 3 --out "$tmp/s.idx"

# Resume: 3 + 2 steps equal 5 straight, metrics row for row (the data and options given again).
"$clgan" train --model dcgan32 --image-size 32 --steps 5 --batch 8 --data "$imgs" \
  --out "$tmp/straight" --log-every 1 --quiet >/dev/null 2>&1
expect "resume a colour run" 0 "steps in" -- \
  "$clgan" train --resume "$run/checkpoint.safetensors" --steps 5 --data "$imgs" --image-size 32 \
  --log-every 1 --quiet
if cmp -s <(cut -d, -f1-6 "$run/metrics.csv") <(cut -d, -f1-6 "$tmp/straight/metrics.csv"); then
  ok "resumed colour run equals the straight one"
else
  fail "resumed colour run differs"; diff <(cut -d, -f1-6 "$run/metrics.csv") <(cut -d, -f1-6 "$tmp/straight/metrics.csv") | head -6
fi
expect "resume with other data options" 2 "trained on 3x32x32 images.*--image-size" -- \
  "$clgan" train --resume "$run/checkpoint.safetensors" --steps 6 --data "$imgs" --image-size 28 \
  --quiet

# --flip: a run stopped at step 3 and resumed equals one straight to 6, across the epoch's end
# (4 steps of 8 of the 32 images; the flips are redrawn from the seed), and flips change the
# batches.
"$clgan" train --model dcgan32 --image-size 32 --steps 6 --batch 8 --data "$imgs" --flip \
  --out "$tmp/f1" --log-every 1 --quiet >/dev/null 2>&1
"$clgan" train --model dcgan32 --image-size 32 --steps 3 --batch 8 --data "$imgs" --flip \
  --out "$tmp/f3" --log-every 1 --quiet >/dev/null 2>&1
"$clgan" train --resume "$tmp/f3/checkpoint.safetensors" --steps 6 --data "$imgs" --image-size 32 \
  --log-every 1 --quiet >/dev/null 2>&1
"$clgan" train --model dcgan32 --image-size 32 --steps 6 --batch 8 --data "$imgs" \
  --out "$tmp/f0" --log-every 1 --quiet >/dev/null 2>&1
m() { cut -d, -f1-6 "$tmp/$1/metrics.csv"; }
[ -s "$tmp/f1/metrics.csv" ] && cmp -s <(m f1) <(m f3) && ok "--flip resumes exactly" ||
  fail "--flip resume differs"
! cmp -s <(m f1) <(m f0) && ok "--flip changes the batches" || fail "--flip changed nothing"
expect "--flip cannot change on resume" 2 "--flip cannot change" -- \
  "$clgan" train --resume "$tmp/f0/checkpoint.safetensors" --steps 8 --data "$imgs" --image-size 32 --flip

expect "conditional on the class subfolders" 0 "conditional on 2 classes" -- \
  "$clgan" train --model dcgan --image-size 16 --steps 2 --batch 8 --data "$imgs" \
  --out "$tmp/cond" --conditional --log-every 1
expect "mlp on a .npy, its size and channels followed" 0 "linear:432,tanh" -- \
  "$clgan" train --model mlp --steps 2 --batch 8 --data "$tmp/arr.npy" --out "$tmp/npy" --log-every 1

mkdir "$tmp/empty"
expect "an empty folder exits 2 naming it" 2 "$tmp/empty holds no PNG or JPEG" -- \
  "$clgan" train --model dcgan32 --steps 1 --data "$tmp/empty" --out "$tmp/x"
mkdir "$tmp/flat"
cp "$imgs"/red/0*.png "$tmp/flat/"
expect "conditional without class subfolders exits 2" 2 "needs the training labels.*subfolder" -- \
  "$clgan" train --model dcgan --image-size 16 --steps 1 --batch 4 --data "$tmp/flat" \
  --out "$tmp/x" --conditional
expect "a clean folder: none skipped" 0 "image files, none skipped" -- \
  "$clgan" train --model dcgan --image-size 16 --steps 1 --batch 4 --data "$tmp/flat" --out "$tmp/flat-run"
expect "dcgan64 trains on 64x64 colour" 0 "convT:64:4:2:1,bn2d,relu,convT:3:4:2:1,tanh" -- \
  "$clgan" train --model dcgan64 --image-size 64 --steps 1 --batch 4 --data "$imgs" --out "$tmp/d64"
expect "dcgan64's samples are 64x64 RGB" 0 "4 images \(RGB 64x64\)" -- \
  "$clgan" sample --checkpoint "$tmp/d64/checkpoint.safetensors" --count 4 --out "$tmp/d64.png"
expect "dcgan64 on 32x32 images exits 2" 2 "dcgan64 takes 64x64.*--image-size 64" -- \
  "$clgan" train --model dcgan64 --image-size 32 --steps 1 --batch 4 --data "$imgs" --out "$tmp/x"
expect "mixed sizes without --image-size exit 2 naming the file" 2 "mixed/b.png is 20x20.*give --image-size" -- \
  "$clgan" train --model mlp --steps 1 --batch 2 --data "$tmp/mixed" --out "$tmp/x"
expect "--channels 2 exits 2" 2 "--channels 2" -- \
  "$clgan" train --model mlp --steps 1 --data "$imgs" --channels 2 --out "$tmp/x"
expect "--image-size 5000 exits 2" 2 "--image-size 5000" -- \
  "$clgan" train --model mlp --steps 1 --data "$imgs" --image-size 5000 --out "$tmp/x"
finish
