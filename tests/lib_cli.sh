# Shared by the tests/cli_*.sh scripts (sourced, not run: its name keeps it out of the CTest glob): counting checks, running a command and
# checking its exit code and output, and the device requirement.
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }

# expect NAME EXPECTED_RC PATTERN -- command...: the exit code and an extended regex (any case).
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" != "$want" ]; then
    fail "$name: exit $rc, want $want"; echo "$out" | tail -8 | sed 's/^/    /'
  elif ! grep -qiE -- "$pattern" <<<"$out"; then
    fail "$name: output lacks /$pattern/"; echo "$out" | tail -8 | sed 's/^/    /'
  else
    ok "$name"
  fi
}

# No OpenCL device: skip (exit 77), or fail where CI requires one.
require_device() {
  if ! "$1" devices >/dev/null 2>&1; then
    case "${CI:-}" in true|1|yes) echo "FAIL: no OpenCL device, and CI requires one"; exit 1 ;; esac
    echo "SKIP: no OpenCL device"; exit 77
  fi
}

# The data folder as clgan_data_dir finds it: $CLGAN_DATA, else CLGAN_DATA_DIR_DEFAULT, read from
# include/clgan/data.h, its one home. Use: data=$(data_dir) || exit 1
data_dir() {
  local header def
  header="$(dirname "${BASH_SOURCE[0]}")/../include/clgan/data.h"
  def=$(sed -n 's/^#define CLGAN_DATA_DIR_DEFAULT "\(.*\)"$/\1/p' "$header")
  [ -n "$def" ] || { echo "FAIL: no CLGAN_DATA_DIR_DEFAULT in $header" >&2; return 1; }
  printf '%s' "${CLGAN_DATA:-$def}"
}

# No Fashion-MNIST in the folder: skip (exit 77), or fail where CI requires it.
require_data() {
  if [ ! -e "$1/train-images-idx3-ubyte.gz" ] && [ ! -e "$1/train-images-idx3-ubyte" ]; then
    case "${CI:-}" in true|1|yes) echo "FAIL: no Fashion-MNIST in $1 (scripts/setup.sh installs it)"; exit 1 ;; esac
    echo "SKIP: no Fashion-MNIST in $1"; exit 77
  fi
}

finish() {
  [ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
  echo "all checks passed"
  exit 0
}
