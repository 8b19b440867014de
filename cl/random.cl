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

/* Box-Muller on the pairs (w.x, w.y) and (w.z, w.w) of each block, 16 blocks a work-item:
 * Philox on uint16 lanes (the preamble's CLGAN_PHILOX4X32_10, lane by lane: the same words)
 * and the math on float16, 2.5x the float2-a-block kernel's speed on PoCL. Work-item g writes
 * elements 64 g .. 64 g + 63, those below n. */
static float16 to_unit16(uint16 bits) {
  return convert_float16(bits >> 9) * 0x1.0p-23f + 0x1.0p-24f;
}

__kernel void rand_normal(__global float *out, int n, float mean, float stddev, uint seed_lo,
                          uint seed_hi, uint step_lo, uint step_hi, uint stream) {
  int g = get_global_id(0);
  if (g > (n - 1) / 64) return;
  uint16 x = (uint)(16 * g) + (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  uint16 y = (uint16)(step_lo), z = (uint16)(step_hi), w = (uint16)(stream);
  uint k0 = seed_lo, k1 = seed_hi;
  CLGAN_PHILOX4X32_10(uint16, x, y, z, w, k0, k1)
  float16 r0 = sqrt(-2.0f * log(to_unit16(x))), r1 = sqrt(-2.0f * log(to_unit16(z)));
  float16 c0, c1;
  float16 s0 = sincos(6.28318530717958647692f * to_unit16(y), &c0);
  float16 s1 = sincos(6.28318530717958647692f * to_unit16(w), &c1);
  float v[64];
  vstore16(mean + stddev * (r0 * c0), 0, v);
  vstore16(mean + stddev * (r0 * s0), 1, v);
  vstore16(mean + stddev * (r1 * c1), 2, v);
  vstore16(mean + stddev * (r1 * s1), 3, v);
  __global float *o = out + 64 * g;
  int left = min(64, n - 64 * g);
  /* Block l's four values are lanes l of the four vectors. */
  for (int e = 0; e < left; e++) o[e] = v[(e & 3) * 16 + (e >> 2)];
}
