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
  /* Straight-line Box-Muller on both pairs, the stores guarded only at the end of out: PoCL
   * vectorises this across work-items (a loop with the guard inside ran the math scalar). */
  float2 r = sqrt(-2.0f * log((float2)(to_unit(w.x), to_unit(w.z))));
  float2 t = 6.28318530717958647692f * (float2)(to_unit(w.y), to_unit(w.w)), c;
  float2 s = sincos(t, &c);
  float4 z = (float4)(r.x * c.x, r.x * s.x, r.y * c.y, r.y * s.y);
  float4 v = mean + stddev * z;
  int left = n - 4 * b;
  if (left >= 4) {
    vstore4(v, b, out);
  } else {
    out[4 * b] = v.x;
    if (left > 1) out[4 * b + 1] = v.y;
    if (left > 2) out[4 * b + 2] = v.z;
  }
}
