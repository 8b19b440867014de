#!/usr/bin/env bash
# The names the CLI lists in its help and error messages are the enums' tables, read here from
# the headers themselves: every row of CLGAN_LOSS_TABLE, CLGAN_OPT_TABLE, CLGAN_INIT_TABLE,
# CLGAN_DEVICE_TYPE_TABLE and every name of clgan_preset_names appears, in the table's order,
# in the options' help and in the message for an unknown value (issue 9). A list written by hand
# that misses a new row fails here. Needs no device and no data.
# usage: cli_help.sh CLGAN_BINARY TESTS_DIR
set -u
clgan=$1
root=$2/..
source "$2/lib_cli.sh"

# table_names HEADER TABLE: the names of the rows X(ENUM, "name"...) of #define TABLE(X).
table_names() {
  awk -v def="#define $2(X)" '
    index($0, def) == 1 { on = 1; next }
    on {
      if (match($0, /X\([A-Z0-9_]+, "[^"]*"/)) {
        s = substr($0, RSTART, RLENGTH); sub(/^[^"]*"/, "", s); sub(/"$/, "", s); print s
      }
      if ($0 !~ /\\[ \t]*$/) on = 0
    }' "$1"
}
# The names of clgan_preset_names (src/gan/presets.c), before its NULL.
preset_names() {
  sed -n '/clgan_preset_names\[\] *=/,/NULL/p' "$root/src/gan/presets.c" | grep -o '"[^"]*"' | tr -d '"'
}
# join NAME...: "a, b or c", the CLI's way of listing names.
join() {
  local out="" i=0 n=$#
  for name in "$@"; do
    i=$((i + 1))
    if [ "$i" = 1 ]; then out=$name; elif [ "$i" = "$n" ]; then out="$out or $name"; else out="$out, $name"; fi
  done
  printf '%s' "$out"
}
# has WHAT TEXT LIST: TEXT contains LIST verbatim.
has() {
  case "$2" in
    *"$3"*) ok "$1" ;;
    *) fail "$1: lacks '$3'"; printf '%s\n' "$2" | head -4 | sed 's/^/    /' ;;
  esac
}
# The tables as read, each checked to hold a few names (a header whose table moved would
# otherwise make every check below pass on an empty list).
read_ok() { # KIND NAME...
  local kind=$1; shift
  [ "$#" -ge 3 ] && ok "$kind: $# names read from the source" || fail "$kind: only $# names read from the source"
}
read_ok losses $(table_names "$root/include/clgan/gan.h" CLGAN_LOSS_TABLE)
read_ok optimizers $(table_names "$root/include/clgan/ops.h" CLGAN_OPT_TABLE)
read_ok initialisers $(table_names "$root/include/clgan/nn.h" CLGAN_INIT_TABLE)
read_ok "device types" $(table_names "$root/include/clgan/device.h" CLGAN_DEVICE_TYPE_TABLE)
read_ok presets $(preset_names)
losses=$(join $(table_names "$root/include/clgan/gan.h" CLGAN_LOSS_TABLE))
opts=$(join $(table_names "$root/include/clgan/ops.h" CLGAN_OPT_TABLE))
inits=$(join $(table_names "$root/include/clgan/nn.h" CLGAN_INIT_TABLE))
types=$(join $(table_names "$root/include/clgan/device.h" CLGAN_DEVICE_TYPE_TABLE))
presets=$(join $(preset_names))

help=$("$clgan" train --help 2>&1)
has "train --help: --loss" "$(grep -- '--loss NAME' <<<"$help")" "$losses"
has "train --help: --optimizer" "$(grep -- '--optimizer NAME' <<<"$help")" "$opts"
has "train --help: --init" "$(grep -- '--init NAME' <<<"$help")" "$inits"
has "train --help: --device" "$(grep -- '--device SEL' <<<"$help")" "$types"
has "train --help: --model" "$(grep -- '--model NAME' <<<"$help")" "$presets"
has "tune --help: --model" "$("$clgan" tune --help 2>&1 | grep -- '--model NAME')" "$presets"
has "devices --help" "$("$clgan" devices --help 2>&1 | tr '\n' ' ')" "$types"

# An unknown value is refused (exit 2) naming every allowed one; each is refused before a
# device or data is needed.
refused() { # WHAT LIST command...
  local what=$1 list=$2 out rc
  shift 2
  out=$("$@" 2>&1)
  rc=$?
  [ "$rc" = 2 ] && ok "$what: exit 2" || fail "$what: exit $rc, want 2"
  has "$what: the message" "$out" "$list"
}
refused "train --loss nope" "$losses" "$clgan" train --loss nope
refused "train --optimizer nope" "$opts" "$clgan" train --optimizer nope
refused "train --optimizer-d nope" "$opts" "$clgan" train --optimizer-d nope
refused "train --init nope" "$inits" "$clgan" train --init nope
refused "train --model nope" "$presets" "$clgan" train --model nope
refused "tune --model nope" "$presets" "$clgan" tune --model nope
finish
