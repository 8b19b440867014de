#!/usr/bin/env bash
# The clgan command's device handling: listing, and bad --device values with their exit codes.
# usage: cli_device.sh CLGAN_BINARY TESTS_DIR
set -u
clgan=$1
source "$2/lib_cli.sh"
require_device "$clgan"

expect "devices lists a device" 0 '^ *\* [0-9]+ +[0-9]+:[0-9]+' -- "$clgan" devices
expect "devices shows memory and work-group size" 0 'global memory.*max work-group' -- "$clgan" devices
expect "devices --device 0" 0 'selected by .0.' -- "$clgan" devices --device 0
expect "unknown name" 2 "matches no OpenCL device.*(Devices on this machine)" -- "$clgan" gemm-check --device no-such-device-xyz
expect "unknown name lists devices" 2 "[0-9]+ \([0-9]+:[0-9]+\)" -- "$clgan" gemm-check --device no-such-device-xyz
expect "index out of range" 2 "matches no OpenCL device" -- "$clgan" gemm-check --device 99
expect "P:D out of range" 2 "matches no OpenCL device" -- "$clgan" gemm-check --device 7:3
expect "malformed P:D" 2 "not a valid selector" -- "$clgan" gemm-check --device 0:x
expect "CLGAN_DEVICE is the default" 2 "'nothing-here'" -- env CLGAN_DEVICE=nothing-here "$clgan" gemm-check
# The library speaks of selectors; the CLI names the flag or variable it came from (issue 9).
expect "the library names no flag" 2 "clgan: error: device selector 'no-such-device-xyz' matches" -- "$clgan" gemm-check --device no-such-device-xyz
expect "the CLI names --device" 2 "selector 'no-such-device-xyz' came from --device" -- "$clgan" gemm-check --device no-such-device-xyz
expect "the CLI names CLGAN_DEVICE" 2 "selector 'nothing-here' came from .CLGAN_DEVICE" -- env CLGAN_DEVICE=nothing-here "$clgan" gemm-check
expect "--device beats CLGAN_DEVICE" 0 "all results match" -- env CLGAN_DEVICE=nothing-here "$clgan" gemm-check --device 0 --reps 1
expect "devices with a bad selector" 2 "matches none" -- "$clgan" devices --device no-such-device-xyz
expect "missing option value" 2 "needs a value" -- "$clgan" gemm-check --device
expect "unknown option" 2 "unknown option" -- "$clgan" gemm-check --frobnicate
expect "unknown command" 2 "unknown command" -- "$clgan" frobnicate
expect "help" 0 "--device SEL" -- "$clgan" gemm-check --help
tmp=$(mktemp -d)
expect "no OpenCL platform at all" 2 "no OpenCL platform" -- env OCL_ICD_VENDORS="$tmp" OCL_ICD_FILENAMES= "$clgan" gemm-check
expect "devices with no platform" 2 "no OpenCL platform" -- env OCL_ICD_VENDORS="$tmp" OCL_ICD_FILENAMES= "$clgan" devices
rmdir "$tmp"
finish
