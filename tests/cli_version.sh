#!/usr/bin/env bash
# clgan --version (issue 15): the project's version (CMakeLists.txt's project()), the build
# options (MPI, JPEG: yes where CLGAN_WITH_MPI / CLGAN_WITH_JPEG are defined to 1; LAPACK always),
# and what the device layer was built against: the OpenCL target and headers, CLBlast's version
# from the clblast_c.h the build used. Also the quiet lists the bash completion asks for
# (clgan --list, clgan devices --list-selectors). Needs no data.
# usage: cli_version.sh CLGAN_BINARY TESTS_DIR
set -u
clgan=$1
root=$2/..
source "$2/lib_cli.sh"

version=$(sed -n 's/^project(clgan VERSION \([0-9.]*\) .*/\1/p' "$root/CMakeLists.txt")
[ -n "$version" ] && ok "CMakeLists.txt: version $version" || fail "no version in CMakeLists.txt"
out=$("$clgan" --version)
echo "$out" | sed 's/^/    /'
grep -qx "clgan $version (library $version)" <<<"$out" && ok "first line: clgan $version (library $version)" || fail "first line: $(head -1 <<<"$out")"
grep -qE "^build options: MPI: (yes|no), JPEG: (yes|no), LAPACK: yes$" <<<"$out" && ok "build options line" || fail "no build options line"
clblast_h=$(echo '#include <clblast_c.h>' | cc -E -H -x c - 2>&1 >/dev/null | sed -n 's/^\. //p' | head -1)
if [ -n "$clblast_h" ]; then
  cb=$(for p in MAJOR MINOR PATCH; do sed -n "s/^#define CLBLAST_VERSION_$p \([0-9]*\).*/\1/p" "$clblast_h"; done | paste -sd.)
  grep -q "CLBlast $cb\$" <<<"$out" && ok "CLBlast $cb, as $clblast_h says" || fail "CLBlast version is not $cb ($clblast_h)"
else
  fail "clblast_c.h not found by cc"
fi
grep -qE "OpenCL headers [0-9]+\.[0-9]+ \(CL_TARGET_OPENCL_VERSION=120, OpenCL 1\.2\)" <<<"$out" && ok "OpenCL headers and target" || fail "no OpenCL headers / target"
expect "clgan version" 0 "^clgan $version" -- "$clgan" version

expect "--list presets" 0 "^dcgan-hinge-ema$" -- "$clgan" --list presets
expect "--list losses" 0 "^bce-minimax$" -- "$clgan" --list losses
expect "--list bogus" 2 "--list 'bogus': not one of commands" -- "$clgan" --list bogus
expect "--list without a word" 2 "--list '': not one of" -- "$clgan" --list
require_device "$clgan"
out=$("$clgan" devices --list-selectors 2>&1)
grep -qx 0 <<<"$out" && grep -qx 0:0 <<<"$out" && ! grep -q platform <<<"$out" &&
  ok "devices --list-selectors: $(tr '\n' ' ' <<<"$out")" || fail "devices --list-selectors: $out"
finish
