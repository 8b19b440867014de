#!/usr/bin/env bash
# The clgan command's device handling: listing, and bad --device values with their exit codes.
# usage: cli_device.sh CLGAN_BINARY TESTS_DIR
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

if ! "$clgan" devices >/dev/null 2>&1; then
  case "${CI:-}" in true|1|yes) echo "FAIL: no OpenCL device, and CI requires one"; exit 1 ;; esac
  echo "SKIP: no OpenCL device"; exit 77
fi

check "devices lists a device" 0 '^ *\* [0-9]+ +[0-9]+:[0-9]+' -- "$clgan" devices
check "devices shows memory and work-group size" 0 'global memory.*max work-group' -- "$clgan" devices
check "devices --device 0" 0 'selected by .0.' -- "$clgan" devices --device 0
check "unknown name" 2 "matches no OpenCL device.*(Devices on this machine)" -- "$clgan" gemm-check --device no-such-device-xyz
check "unknown name lists devices" 2 "[0-9]+ \([0-9]+:[0-9]+\)" -- "$clgan" gemm-check --device no-such-device-xyz
check "index out of range" 2 "matches no OpenCL device" -- "$clgan" gemm-check --device 99
check "P:D out of range" 2 "matches no OpenCL device" -- "$clgan" gemm-check --device 7:3
check "malformed P:D" 2 "not a valid selector" -- "$clgan" gemm-check --device 0:x
check "CLGAN_DEVICE is the default" 2 "'nothing-here'" -- env CLGAN_DEVICE=nothing-here "$clgan" gemm-check
check "--device beats CLGAN_DEVICE" 0 "all results match" -- env CLGAN_DEVICE=nothing-here "$clgan" gemm-check --device 0 --reps 1
check "devices with a bad selector" 2 "matches none" -- "$clgan" devices --device no-such-device-xyz
check "missing option value" 2 "needs a value" -- "$clgan" gemm-check --device
check "unknown option" 2 "unknown option" -- "$clgan" gemm-check --frobnicate
check "unknown command" 2 "unknown command" -- "$clgan" frobnicate
check "help" 0 "--device SEL" -- "$clgan" gemm-check --help
tmp=$(mktemp -d)
check "no OpenCL platform at all" 2 "no OpenCL platform" -- env OCL_ICD_VENDORS="$tmp" OCL_ICD_FILENAMES= "$clgan" gemm-check
check "devices with no platform" 2 "no OpenCL platform" -- env OCL_ICD_VENDORS="$tmp" OCL_ICD_FILENAMES= "$clgan" devices
rmdir "$tmp"
[ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
