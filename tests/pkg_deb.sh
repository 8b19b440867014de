#!/usr/bin/env bash
# The .deb (issue 15): `cpack -G DEB` builds it into the build tree; its Depends name the OpenCL
# ICD loader, CLBlast, libpng, zlib and LAPACKE (dpkg-shlibdeps reads them off the binaries);
# apt would install it here (simulated); unpacked with dpkg-deb -x, its clgan runs --version and
# `devices` and finds the PoCL device.
# usage: pkg_deb.sh BUILD_DIR SOURCE_DIR VERSION
set -u
build=$1
src=$2
version=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$src/tests/lib_cli.sh"
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v $tool >/dev/null || { echo "FAIL: $tool missing (scripts/setup.sh installs dpkg-dev)"; exit 1; }
done

deb=$build/package/clgan_${version}_$(dpkg --print-architecture).deb
rm -f "$deb"
out=$(cd "$build" && cpack -G DEB 2>&1) && [ -s "$deb" ] && ok "cpack -G DEB wrote $(basename "$deb")" ||
  { fail "cpack -G DEB"; echo "$out" | tail -8 | sed 's/^/    /'; finish; }

[ "$(dpkg-deb -f "$deb" Package)" = clgan ] && ok "Package: clgan" || fail "Package: $(dpkg-deb -f "$deb" Package)"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] && ok "Version: $version" || fail "Version: $(dpkg-deb -f "$deb" Version)"
depends=$(dpkg-deb -f "$deb" Depends)
echo "    Depends: $depends"
for pkg in 'ocl-icd-libopencl1|libopencl1' libclblast1 'libpng16-16' zlib1g liblapacke libc6; do
  grep -qE "(^|[ ,|])($pkg)( |,|$)" <<<"$depends" && ok "Depends names $pkg" || fail "Depends lacks $pkg"
done

# apt resolves its Depends on this machine (a simulation: nothing is installed).
if command -v apt-get >/dev/null; then
  out=$(apt-get install -s "$deb" 2>&1)
  grep -q "^Inst clgan ($version" <<<"$out" && ok "apt-get install -s: installable here" ||
    { fail "apt-get install -s: not installable"; echo "$out" | tail -5 | sed 's/^/    /'; }
fi
dpkg-deb -x "$deb" "$tmp/root" && ok "dpkg-deb -x" || fail "dpkg-deb -x"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/clgan "./usr/lib/.*libclgan\.so\.$version" "./usr/lib/.*libclgan\.a" \
         ./usr/include/clgan/gan.h "./usr/lib/.*cmake/clgan/clganConfig\.cmake" "./usr/lib/.*pkgconfig/clgan\.pc" \
         ./usr/share/man/man1/clgan.1 ./usr/share/bash-completion/completions/clgan; do
  grep -qE " $f\$" <<<"$contents" && ok "the .deb holds $f" || fail "the .deb lacks $f"
done

clgan=$tmp/root/usr/bin/clgan
libdir=$(dirname "$(find "$tmp/root/usr/lib" -name "libclgan.so.$version" | head -1)")
export LD_LIBRARY_PATH=$libdir
expect "unpacked clgan --version" 0 "^clgan $version .*" -- "$clgan" --version
require_device "$clgan"
expect "unpacked clgan devices" 0 "platform 0: .*" -- "$clgan" devices
expect "unpacked clgan finds the PoCL device" 0 "\* = selected by .pocl." -- "$clgan" devices --device pocl
finish
