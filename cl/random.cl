/* Counter-based random numbers: Philox-4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random
 * numbers: as easy as 1, 2, 3", SC'11; constants from Random123's philox.h). Element i of a
 * stream is a pure function of (seed, step, stream, i), bit-identical to the C reference in
 * src/ops/random.c. The generator itself, clgan_philox4x32_10, is in the ops preamble
 * (src/ops/preamble.c), shared with cl/augment.cl. Contraction is off (every program's
 * preamble, src/device/program.c), so lo + (hi - lo) * u rounds the same way as in C. */

/* 23 random bits, centred in their cell: every value exact in float and inside (0, 1). */
static float to_unit(uint bits) {
  return (float)(bits >> 9) * 0x1.0p-23f + 0x1.0p-24f;
}

static uint4 block(int b, uint seed_lo, uint seed_hi, uint step_lo, uint step_hi, uint stream) {
  return clgan_philox4x32_10((uint4)((uint)b, step_lo, step_hi, stream),
                             (uint2)(seed_lo, seed_hi));
}

/* One work-item per block of four elements. */
__kernel void rand_uniform(__global float *out, int n, float lo, float hi, uint seed_lo,
                           uint seed_hi, uint step_lo, uint step_hi, uint stream) {
  int b = get_global_id(0);
  if (b > (n - 1) / 4) return; /* n >= 1; written so that nothing overflows near INT_MAX */
  uint4 w = block(b, seed_lo, seed_hi, step_lo, step_hi, stream);
  uint words[4] = {w.x, w.y, w.z, w.w};
  float span = hi - lo;
  for (int k = 0; k < 4 && k < n - 4 * b; k++) {
    float t = span * to_unit(words[k]);
    out[4 * b + k] = lo + t;
  }
}

/* Box-Muller on the pairs (w.x, w.y) and (w.z, w.w). */
__kernel void rand_normal(__global float *out, int n, float mean, float stddev, uint seed_lo,
                          uint seed_hi, uint step_lo, uint step_hi, uint stream) {
  int b = get_global_id(0);
  if (b > (n - 1) / 4) return;
  uint4 w = block(b, seed_lo, seed_hi, step_lo, step_hi, stream);
  uint words[4] = {w.x, w.y, w.z, w.w};
  for (int p = 0; p < 2; p++) {
    float r = sqrt(-2.0f * log(to_unit(words[2 * p])));
    float theta = 6.28318530717958647692f * to_unit(words[2 * p + 1]);
    float z[2] = {r * cos(theta), r * sin(theta)};
    for (int k = 0; k < 2 && 2 * p + k < n - 4 * b; k++) {
      float t = stddev * z[k];
      out[4 * b + 2 * p + k] = mean + t;
    }
  }
}
