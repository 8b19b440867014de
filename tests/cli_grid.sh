#!/usr/bin/env bash
# Viewable grids (issue 15): clgan train's sample grids and clgan sample's PNGs are scaled up
# (nearest neighbour) to at least 256 pixels wide unless --scale N says otherwise, with a 2-pixel
# border between tiles; --scale outside 1..64 exits 2 naming the value. The pixels themselves are
# checked against a C reference in test_png.
# usage: cli_grid.sh CLGAN_BINARY TESTS_DIR
set -u
clgan=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$2/lib_cli.sh"
data=$(data_dir) || exit 1

# A PNG's width and height from its IHDR chunk (big-endian at bytes 16..23).
png_size() {
  od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%dx%d", (($1*256+$2)*256+$3)*256+$4, (($5*256+$6)*256+$7)*256+$8 }'
}

# ---- Refusals: before any device or file is touched --------------------------------------------
for bad in 0 -1 65; do
  expect "sample --scale $bad" 2 "--scale $bad: must be an integer in 1\.\.64" -- \
    "$clgan" sample --checkpoint "$tmp/none.safetensors" --out "$tmp/x.png" --scale "$bad"
  expect "train --scale $bad" 2 "--scale $bad: must be an integer in 1\.\.64" -- \
    "$clgan" train --steps 1 --out "$tmp/never" --scale "$bad"
done
expect "sample --scale x" 2 "--scale: 'x' is not a valid integer" -- \
  "$clgan" sample --checkpoint "$tmp/none.safetensors" --out "$tmp/x.png" --scale x
[ ! -e "$tmp/never" ] && ok "a refused train made no run folder" || fail "a refused train made $tmp/never"

require_device "$clgan"
require_data "$data"

# ---- Training grids: mlp's 8 x 8 grid of 28 x 28 images -----------------------------------------
# Scale 1 would be 8 * (28 + 2) + 2 = 242 pixels; the default is 2: 8 * (56 + 2) + 2 = 466.
expect "train 2 steps" 0 "2 steps in" -- \
  "$clgan" train --model mlp --steps 2 --batch 16 --data "$data" --data-limit 64 --out "$tmp/run" --quiet
size=$(png_size "$tmp/run/samples/step_000000.png")
[ "$size" = 466x466 ] && ok "training grid at the default scale: 466x466" || fail "training grid is $size, want 466x466"
expect "train --scale 1" 0 "2 steps in" -- \
  "$clgan" train --model mlp --steps 2 --batch 16 --data "$data" --data-limit 64 --out "$tmp/run1" --quiet --scale 1
size=$(png_size "$tmp/run1/samples/step_000002.png")
[ "$size" = 242x242 ] && ok "training grid at --scale 1: 242x242" || fail "training grid at --scale 1 is $size, want 242x242"

# ---- clgan sample ------------------------------------------------------------------------------
ck=$tmp/run/checkpoint.safetensors
# 4 images, 2 columns: 2 * (28 s + 2) + 2 >= 256 first at s = 5: 286 pixels.
expect "sample 4, default scale" 0 "4 images" -- "$clgan" sample --checkpoint "$ck" --count 4 --out "$tmp/s.png"
size=$(png_size "$tmp/s.png")
[ "$size" = 286x286 ] && ok "sample grid at the default scale: 286x286" || fail "sample grid is $size, want 286x286"
expect "sample --scale 3 --cols 4" 0 "4 images" -- "$clgan" sample --checkpoint "$ck" --count 4 --cols 4 --scale 3 --out "$tmp/s3.png"
size=$(png_size "$tmp/s3.png")
[ "$size" = 346x88 ] && ok "sample grid at --scale 3, 4 columns: 346x88" || fail "sample grid at --scale 3 is $size, want 346x88"
finish
