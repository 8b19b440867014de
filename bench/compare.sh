#!/usr/bin/env bash
# One run, both peers: clgan's training throughput and the PyTorch program's on the same machine
# and data, and their ratio, for each model named (default: mlp mlp-bn dcgan).
#   bench/compare.sh [--steps N] [--rounds R] [MODEL...]
# Needs a release build (cmake --preset release && cmake --build --preset release) and Debian's
# python3-torch. The two sides run in turns, R rounds (default 3, $CLGAN_BENCH_ROUNDS), and each
# side's figure is its best round: the machines are shared, and load only ever slows a run.
# PyTorch runs at each thread count of CLGAN_BENCH_PEER_THREADS (default "1 2":
# one was faster than two on the 2-core machine for mlp, two for dcgan) and clgan is compared
# with the fastest.
#
# Then the distance to the limit: a step's GEMM work (the FLOPs of the products one training step
# runs, from clgan_train_gemm_shapes: the same model and step on both sides) times each side's
# steps/s, against the machine's measured GEMM peak, the best of clgan's (clgan_bench_gemm --peak:
# large products with the tuning in use) and PyTorch's (torch.mm of 1024^3 at each thread count).
#
# Environment: CLGAN_DATA (the Fashion-MNIST folder, for both peers), CLGAN_BENCH_PYTHON (a Python
# with torch; default /usr/bin/python3), CLGAN_BENCH_PEER_DEVICE (cpu, the default, or cuda: then
# the peer runs on the GPU at one thread count and no OpenBLAS is needed; clgan's device is
# $CLGAN_DEVICE), CLGAN_BENCH_PEER_THREADS (default "1 2").
set -euo pipefail
cd "$(dirname "$0")/.."
steps=300
rounds=${CLGAN_BENCH_ROUNDS:-3}
while [ $# -gt 0 ]; do
  case $1 in
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) break ;;
  esac
done
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(mlp mlp-bn dcgan)
bin=${CLGAN_BENCH_BIN:-build/release/bench/clgan_bench_train}
gemm_bin=${CLGAN_BENCH_GEMM_BIN:-$(dirname "$bin")/clgan_bench_gemm}
py=${CLGAN_BENCH_PYTHON:-/usr/bin/python3}
peer_device=${CLGAN_BENCH_PEER_DEVICE:-cpu}
read -r -a thread_counts <<<"${CLGAN_BENCH_PEER_THREADS:-1 2}"
[ "$peer_device" = cpu ] || thread_counts=(1)
data_args=()
[ -z "${CLGAN_DATA:-}" ] || data_args=(--data "$CLGAN_DATA")
for b in "$bin" "$gemm_bin"; do
  [ -x "$b" ] || { echo "build first: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
done
# Debian's PyTorch runs its GEMMs through libblas.so.3; with only the reference BLAS installed it
# is no fair peer. Use OpenBLAS (the OpenMP build, OMP_NUM_THREADS threads), unpacked into .deps/
# without touching the system when it is not installed.
oblas=/usr/lib/x86_64-linux-gnu/openblas-openmp
if [ "$peer_device" = cpu ] && [ ! -e "$oblas/libblas.so.3" ]; then
  oblas=$PWD/.deps/openblas/usr/lib/x86_64-linux-gnu/openblas-openmp
  if [ ! -e "$oblas/libblas.so.3" ]; then
    mkdir -p .deps && (cd .deps && apt-get download libopenblas0-openmp >/dev/null &&
      dpkg -x libopenblas0-openmp_*.deb openblas)
  fi
fi
# peer THREADS ARGS...: the PyTorch program with THREADS threads and OpenBLAS.
peer() {
  local t=$1
  shift
  LD_LIBRARY_PATH="$oblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" OMP_NUM_THREADS=$t "$py" "$@"
}
# field NAME LINE: the number after NAME= in a result line.
field() { sed -nE "s/(^|.* )$1=([0-9.]+).*/\2/p" <<<"$2"; }
# faster A B: whether result line A has more img/s than B.
faster() { awk -v a="$(field img_per_s "$1")" -v b="$(field img_per_s "$2")" 'BEGIN { exit !(a > b) }'; }

# The machine's GEMM peak: clgan's, then PyTorch's at each thread count.
ours_peak=$("$gemm_bin" --peak --seconds 1 | grep '^peak ')
echo "clgan $ours_peak"
peak=$(field gemm_gflops "$ours_peak")
peak_by="clgan $(sed -E 's/.*shape=([0-9x]+).*/\1/' <<<"$ours_peak")"
for t in "${thread_counts[@]}"; do
  line=$(peer "$t" - "$t" "$peer_device" <<'EOF'
import sys, time, torch
t, dev = int(sys.argv[1]), sys.argv[2]
torch.set_num_threads(t)
n = 1024
a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
best = float("inf")
for _ in range(5):
    if dev == "cuda": torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(5): c = a @ b
    if dev == "cuda": torch.cuda.synchronize()
    best = min(best, (time.perf_counter() - t0) / 5)
print(f"peak gemm_gflops={2 * n**3 / best * 1e-9:.1f} shape={n}x{n}x{n} threads={t}")
EOF
  )
  echo "PyTorch $line"
  g=$(field gemm_gflops "$line")
  if awk -v a="$g" -v b="$peak" 'BEGIN { exit !(a > b) }'; then
    peak=$g
    peak_by="PyTorch $t thread(s) 1024^3"
  fi
done
echo "machine GEMM peak: $peak GFLOP/s ($peak_by)"
echo

for model in "${models[@]}"; do
  case $model in
    dcgan) script=(bench/peer_dcgan.py) ;;
    *) script=(bench/peer_mlp.py --model "$model") ;;
  esac
  s=$steps
  [ "$model" = dcgan ] && s=$((steps / 10 > 20 ? steps / 10 : 20))
  # Rounds, alternating the sides: each round runs clgan, then the peer at each thread count;
  # each side's figure is its best round (a shared machine only ever slows a run down), and
  # each round's own ratio shows the spread.
  ours="" best="" best_t="" round_ratios=""
  for ((r = 1; r <= rounds; r++)); do
    prof=()
    [ "$r" -gt 1 ] && prof=(--no-profile)
    # (not tee /dev/stderr: with stderr on a file, tee reopens it at offset 0 over earlier lines)
    out=$("$bin" --model "$model" --steps "$s" "${prof[@]}" "${data_args[@]}" |
      grep -v '^clgan .*: device time')
    printf '%s\n' "$out" >&2
    line=$(grep '^clgan .* batch=' <<<"$out")
    echo "round $r $line"
    if [ -z "$ours" ] || faster "$line" "$ours"; then ours=$line; fi
    round_best=""
    for t in "${thread_counts[@]}"; do
      theirs=$(peer "$t" "${script[@]}" --steps "$s" --threads "$t" --device "$peer_device" \
        "${data_args[@]}" 2>/dev/null | grep '^peer ')
      echo "round $r $theirs"
      if [ -z "$round_best" ] || faster "$theirs" "$round_best"; then round_best=$theirs; fi
      if [ -z "$best" ] || faster "$theirs" "$best"; then best=$theirs best_t=$t; fi
    done
    round_ratios+=" $(awk -v a="$(field img_per_s "$line")" -v b="$(field img_per_s "$round_best")" \
      'BEGIN { printf "%.2f", a / b }')"
  done
  echo "$ours"
  echo "$best"
  awk -v a="$(field img_per_s "$ours")" -v b="$(field img_per_s "$best")" -v m="$model" \
    -v p="$peer_device" -v t="$best_t" -v all="${thread_counts[*]}" -v n="$rounds" \
    -v rr="$round_ratios" 'BEGIN {
      printf "ratio %s: clgan / PyTorch (%s) img/s = %.2f (best of %d rounds each; each " \
        "round'"'"'s own:%s)\n", m,
        p == "cpu" ? "the faster of " all " threads: " t ", OpenBLAS" : p, a / b, n, rr }'
  # (steps/s from ms_per_step: steps_per_s has one decimal, coarse for dcgan's ~4 steps/s)
  awk -v w="$(field gemm_gflop_per_step "$ours")" -v a="$(awk -v x="$(field ms_per_step "$ours")" 'BEGIN { print 1000 / x }')" \
    -v b="$(awk -v x="$(field ms_per_step "$best")" 'BEGIN { print 1000 / x }')" -v peak="$peak" -v m="$model" 'BEGIN {
      printf "gemm %s: %.4f GFLOP a step; clgan %.1f GFLOP/s (%.0f%% of the peak), PyTorch %.1f " \
        "GFLOP/s (%.0f%%); machine GEMM peak %.1f GFLOP/s\n\n", m, w, w * a, 100 * w * a / peak,
        w * b, 100 * w * b / peak, peak }'
done
