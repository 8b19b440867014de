# Source this on a machine that has an NVIDIA driver but none of clgan's packages (no package
# archive in reach), to run a clgan build there:
#   source bench/nvidia_env.sh DIR
# DIR/debs holds the runtime .debs, fetched where an archive is in reach with
#   apt-get download libclblast1 ocl-icd-libopencl1 libpng16-16
# They are unpacked under DIR/root (never over /). The driver's OpenCL library is found on the
# machine and registered in DIR/vendors/nvidia.icd; LD_LIBRARY_PATH and OCL_ICD_VENDORS point there.
# bench/RESULTS.md's NVIDIA figures were taken this way.
clgan_env_dir=$(cd "${1:?usage: source bench/nvidia_env.sh DIR}" && pwd)
mkdir -p "$clgan_env_dir/root" "$clgan_env_dir/vendors"
for deb in "$clgan_env_dir"/debs/*.deb; do dpkg -x "$deb" "$clgan_env_dir/root"; done
clgan_env_ocl=$(ldconfig -p | awk '/libnvidia-opencl\.so\.1/ { print $NF; exit }')
[ -n "$clgan_env_ocl" ] || clgan_env_ocl=$(find / -xdev -name 'libnvidia-opencl.so.1' 2>/dev/null | head -1)
[ -n "$clgan_env_ocl" ] || clgan_env_ocl=$(find /usr/local/nvidia /usr/lib* -name 'libnvidia-opencl.so*' 2>/dev/null | head -1)
if [ -z "$clgan_env_ocl" ]; then
  echo "nvidia_env.sh: no libnvidia-opencl.so on this machine: the driver has no OpenCL" >&2
else
  echo "$clgan_env_ocl" >"$clgan_env_dir/vendors/nvidia.icd"
  echo "nvidia_env.sh: OpenCL driver $clgan_env_ocl"
fi
export OCL_ICD_VENDORS=$clgan_env_dir/vendors
export LD_LIBRARY_PATH=$clgan_env_dir/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
unset clgan_env_dir clgan_env_ocl
