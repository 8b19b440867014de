#!/usr/bin/env bash
# Installs what clgan needs from Debian's archive, and only what is missing, so a second run
# is instant. Runs as root, or through sudo.
set -euo pipefail
packages=(gcc make cmake pkg-config ocl-icd-opencl-dev opencl-headers libclblast-dev
          libpng-dev libjpeg-dev zlib1g-dev liblapacke-dev pocl-opencl-icd clinfo dataset-fashion-mnist
          clang libclang-rt-dev
          dpkg-dev binutils groff-base man-db  # the packaging tests: cpack -G DEB, readelf, man
          libopenmpi-dev openmpi-bin)          # MPI: data-parallel training and its tests (issue 14)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "clgan setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
