#!/usr/bin/env bash
# clgan tune's command line: help, bad values (exit 2) and a bad device (exit 2), all without
# running a search (test_tuning runs a short one through the library).
# usage: cli_tune.sh CLGAN_BINARY TESTS_DIR
set -u
clgan=$1
fails=0
check() { # check NAME EXPECTED_RC PATTERN -- command...
  local name=$1 want=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit $rc, want $want"; echo "$out" | sed 's/^/    /'; fails=$((fails + 1))
  elif ! grep -qiE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: output lacks /$pattern/"; echo "$out" | sed 's/^/    /'; fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}

check "tune is listed" 0 "tune +tune CLBlast" -- "$clgan" --help
check "help" 0 "--budget SECONDS" -- "$clgan" tune --help
check "negative budget" 2 "--budget must be positive" -- "$clgan" tune --budget -5
check "zero reps" 2 "--reps at least 1" -- "$clgan" tune --reps 0
check "budget not a number" 2 "not a valid number" -- "$clgan" tune --budget soon
check "unknown option" 2 "unknown option" -- "$clgan" tune --frobnicate
if "$clgan" devices >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  check "unknown device" 2 "matches no OpenCL device" -- "$clgan" tune --device no-such-device-xyz --out "$tmp/t.txt"
  [ ! -e "$tmp/t.txt" ] || { echo "FAIL unknown device: a cache was written"; fails=$((fails + 1)); }
  rm -rf "$tmp"
fi
[ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
