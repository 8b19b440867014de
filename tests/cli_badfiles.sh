# Files that are not what they claim to be, from the command line (issue 9, the bad-input probe):
# a checkpoint, a --latent file or the tuning cache that is a link to /dev/zero or a folder is
# refused at once naming the path (it used to run out of memory, or hang printing warnings);
# temporary files left by a killed run are removed by the next; a write that fails exits 1
# (a runtime failure), not 2 (bad input).
set -u
clgan=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$2/lib_cli.sh"
data=$(data_dir) || exit 1
require_device "$clgan"
require_data "$data"

ln -s /dev/zero "$tmp/zero.safetensors"
ln -s /dev/zero "$tmp/zero.npy"
mkdir "$tmp/folder.safetensors"
expect "checkpoint linked to /dev/zero" 2 "zero.safetensors is a character device, not a regular file" -- \
  timeout 60 "$clgan" sample --checkpoint "$tmp/zero.safetensors" --out "$tmp/o.png"
expect "checkpoint that is a folder" 2 "folder.safetensors:? is a (folder|directory)" -- \
  timeout 60 "$clgan" sample --checkpoint "$tmp/folder.safetensors" --out "$tmp/o.png"

run=$tmp/run
expect "train 2 steps" 0 "2 steps in" -- \
  "$clgan" train --model mlp --steps 2 --data "$data" --out "$run" --log-every 1 --seed 3
ck=$run/checkpoint.safetensors
expect "--latent linked to /dev/zero" 2 "zero.npy is a character device" -- \
  timeout 60 "$clgan" sample --checkpoint "$ck" --latent "$tmp/zero.npy" --out "$tmp/o.png"

expect "tuning cache linked to /dev/zero" 0 "tuning cache /dev/zero is a character device" -- \
  env CLGAN_TUNING_FILE=/dev/zero timeout 60 "$clgan" sample --checkpoint "$ck" --count 4 --out "$tmp/t.png"
expect "tuning cache that is a folder" 0 "tuning cache $tmp is a folder" -- \
  env CLGAN_TUNING_FILE="$tmp" timeout 60 "$clgan" sample --checkpoint "$ck" --count 4 --out "$tmp/t.png"

# What kill -9 leaves: temporaries named for a process that is gone. The next run removes them.
dead=$(sh -c 'echo $$')
for f in checkpoint.safetensors losses.png metrics.csv; do echo partial >"$run/$f.tmp.$dead"; done
echo partial >"$run/losses.png.tmp.$$" # a live process's: kept
expect "resume after a kill" 0 "steps in" -- \
  "$clgan" train --resume "$ck" --steps 4 --log-every 1
left=$(ls "$run" | grep "\.tmp\.$dead$")
[ -z "$left" ] && ok "a dead run's temporaries are removed" || fail "temporaries of pid $dead left: $left"
[ -e "$run/losses.png.tmp.$$" ] && ok "a live process's temporary is kept" || fail "a live process's temporary was removed"

echo x >"$tmp/plain"
expect "an output that cannot be written exits 1" 1 "could not write" -- \
  "$clgan" sample --checkpoint "$ck" --count 4 --out "$tmp/plain/sub/s.png"
finish
