#!/usr/bin/env bash
# Installing stays true (issue 15): `cmake --install` into a scratch prefix lays out the command,
# libclgan shared (SONAME libclgan.so.MAJOR) and static, the public headers (each compiles on
# its own and includes no OpenCL header), the CMake package, clgan.pc, the man page and the bash
# completion; then examples/ is configured, built and run against that prefix both ways: with
# find_package (shared and static) and with a plain cc line from pkg-config (shared and static).
# usage: pkg_install.sh BUILD_DIR SOURCE_DIR VERSION
set -u
build=$1
src=$2
version=$3
major=${version%%.*}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$src/tests/lib_cli.sh"
prefix=$tmp/prefix

out=$(cmake --install "$build" --prefix "$prefix" 2>&1) && ok "cmake --install" ||
  { fail "cmake --install"; echo "$out" | tail -5; finish; }
for f in bin/clgan lib/libclgan.a "lib/libclgan.so.$version" "lib/libclgan.so.$major" lib/libclgan.so \
         lib/cmake/clgan/clganConfig.cmake lib/cmake/clgan/clganConfigVersion.cmake \
         lib/cmake/clgan/clganTargets.cmake lib/pkgconfig/clgan.pc share/man/man1/clgan.1 \
         share/bash-completion/completions/clgan; do
  [ -e "$prefix/$f" ] && ok "installed $f" || fail "not installed: $f"
done
soname=$(readelf -d "$prefix/lib/libclgan.so.$version" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libclgan.so.$major" ] && ok "SONAME $soname" || fail "SONAME is '$soname', want libclgan.so.$major"

# ---- The headers: every one in the source tree is installed and stands on its own -------------
for h in "$src"/include/clgan/*.h; do
  name=$(basename "$h")
  if [ ! -e "$prefix/include/clgan/$name" ]; then
    fail "header $name not installed"
    continue
  fi
  printf '#include <clgan/%s>\nint main(void) { return 0; }\n' "$name" >"$tmp/h.c"
  out=$(cc -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$prefix/include" -c "$tmp/h.c" -o "$tmp/h.o" 2>&1) &&
    ok "clgan/$name compiles on its own" || { fail "clgan/$name does not compile on its own"; echo "$out" | head -5; }
done
grep -lE '#include *[<"](CL/|clblast|src/|device/|gan/|nn/|ops/|util/|io/|data/)' "$prefix"/include/clgan/*.h >"$tmp/leaks" &&
  fail "installed headers include OpenCL or internal headers: $(cat "$tmp/leaks")" || ok "no OpenCL or internal header in the public ones"

# Every function an installed header declares has a comment: on its lines, or above it in its
# block (lines up to a blank one), as a group of declarations shares one.
undocumented=$(for h in "$prefix"/include/clgan/*.h; do awk -v file="$(basename "$h")" '
  { line[++n] = $0 }
  depth == 0 && /^[A-Za-z_][A-Za-z0-9_ *]*[ *]clgan_[A-Za-z0-9_]+ *\(/ && !/^typedef/ { start[n] = 1 }
  { depth += gsub(/[{]/, "&") - gsub(/[}]/, "&") }
  END {
    for (i = 1; i <= n; i++) {
      if (!start[i]) continue
      doc = 0
      for (j = i; j <= n; j++) { if (index(line[j], "/*")) doc = 1; if (index(line[j], ";")) break }
      for (k = i - 1; k >= 1 && !doc && line[k] !~ /^[ \t]*$/; k--)
        if (line[k] ~ /^[ \t]*(\/\*|\*)/ || line[k] ~ /\*\/[ \t]*$/) doc = 1
      if (!doc) { name = line[i]; sub(/ *\(.*/, "", name); sub(/.*[ *]/, "", name); print file ":" i ": " name }
    }
  }' "$h"; done)
count=$(cat "$prefix"/include/clgan/*.h | grep -cE '^[A-Za-z_][A-Za-z0-9_ *]*[ *]clgan_[A-Za-z0-9_]+ *\(')
[ -z "$undocumented" ] && [ "$count" -gt 200 ] && ok "all $count functions of the public headers are documented" ||
  { fail "functions without a comment in the public headers ($count declared):"; echo "$undocumented" | head -20 | sed 's/^/    /'; }

require_device "$prefix/bin/clgan"
data=$(data_dir) || exit 1
require_data "$data"

# run NAME BINARY: trains 3 steps and checks the grid it wrote.
run() {
  local name=$1 bin=$2
  rm -f "$tmp/grid.png"
  out=$("$bin" 3 "$tmp/grid.png" "$data" 2>&1)
  if [ $? = 0 ] && grep -q "libclgan $version" <<<"$out" && grep -q "3 steps" <<<"$out" && [ -s "$tmp/grid.png" ]; then
    ok "$name: trained 3 steps, wrote a grid"
  else
    fail "$name: the consumer failed"; echo "$out" | tail -5 | sed 's/^/    /'
  fi
}

# ---- find_package(clgan CONFIG): shared, then static -----------------------------------------
for kind in shared static; do
  b=$tmp/cmake-$kind
  static=OFF
  [ $kind = static ] && static=ON
  out=$( (cmake -S "$src/examples" -B "$b" -DCMAKE_PREFIX_PATH="$prefix" -DCLGAN_EXAMPLE_STATIC=$static &&
          cmake --build "$b") 2>&1) && ok "find_package ($kind): configured and built" ||
    { fail "find_package ($kind): configure or build failed"; echo "$out" | tail -8 | sed 's/^/    /'; continue; }
  if [ $kind = static ]; then
    readelf -d "$b/consumer" | grep -q 'libclgan\.so' && fail "static consumer needs libclgan.so" || ok "static consumer: no libclgan.so"
  else
    readelf -d "$b/consumer" | grep -q "libclgan\.so\.$major" && ok "shared consumer needs libclgan.so.$major" || fail "shared consumer: no libclgan.so.$major"
  fi
  run "find_package ($kind)" "$b/consumer"
done

# ---- pkg-config and a plain cc line ------------------------------------------------------------
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[ "$(pkg-config --modversion clgan 2>&1)" = "$version" ] && ok "pkg-config --modversion clgan: $version" || fail "pkg-config --modversion clgan: $(pkg-config --modversion clgan 2>&1)"
# shellcheck disable=SC2046
out=$(cc -std=c11 "$src/examples/consumer.c" -o "$tmp/pc-shared" $(pkg-config --cflags --libs clgan) 2>&1) &&
  ok "pkg-config (shared): built" || { fail "pkg-config (shared): cc failed"; echo "$out" | tail -5; }
[ -x "$tmp/pc-shared" ] && LD_LIBRARY_PATH=$prefix/lib run "pkg-config (shared)" "$tmp/pc-shared"
# Static: libclgan.a by name, then what `pkg-config --static` says it needs.
libs=$(pkg-config --static --libs clgan | sed 's/ -lclgan\b//; s/^-lclgan\b//')
# shellcheck disable=SC2046,SC2086
out=$(cc -std=c11 "$src/examples/consumer.c" -o "$tmp/pc-static" $(pkg-config --cflags clgan) "$prefix/lib/libclgan.a" $libs 2>&1) &&
  ok "pkg-config --static: built" || { fail "pkg-config --static: cc failed"; echo "$out" | tail -5; }
[ -x "$tmp/pc-static" ] && run "pkg-config (static)" "$tmp/pc-static"
finish
