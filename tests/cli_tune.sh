#!/usr/bin/env bash
# clgan tune's command line: help, bad values (exit 2) and a bad device (exit 2), all without
# running a search (test_tuning runs a short one through the library).
# usage: cli_tune.sh CLGAN_BINARY TESTS_DIR
set -u
clgan=$1
source "$2/lib_cli.sh"

expect "tune is listed" 0 "tune +tune CLBlast" -- "$clgan" --help
expect "help" 0 "--budget SECONDS" -- "$clgan" tune --help
expect "negative budget" 2 "--budget must be positive" -- "$clgan" tune --budget -5
expect "zero reps" 2 "--reps at least 1" -- "$clgan" tune --reps 0
expect "budget not a number" 2 "not a valid number" -- "$clgan" tune --budget soon
expect "unknown option" 2 "unknown option" -- "$clgan" tune --frobnicate
expect "unknown model" 2 "unknown --model 'nope': use mlp" -- "$clgan" tune --model nope
expect "help names --model" 0 "--model NAME" -- "$clgan" tune --help
require_device "$clgan"
tmp=$(mktemp -d)
expect "unknown device" 2 "matches no OpenCL device" -- "$clgan" tune --device no-such-device-xyz --out "$tmp/t.txt"
[ ! -e "$tmp/t.txt" ] && ok "no cache written for an unknown device" || fail "unknown device: a cache was written"
rm -rf "$tmp"
finish
