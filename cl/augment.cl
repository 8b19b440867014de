/* DiffAugment's translation and cutout (src/ops/augment.c, whose C reference computes the same
 * thing; include/clgan/ops.h states the semantics and the draws). One work-item per output
 * element; each recomputes its sample's Philox block (ten rounds, cheap next to a GEMM), so
 * forward and backward need no buffer of draws and the host never waits for one. */

typedef struct {
  int tx, ty, r0, r1, c0, c1;
} aug_params;

/* (w * k) >> 32: a draw in [0, k) from one 32-bit word. */
static int draw(uint w, int k) { return (int)mul_hi(w, (uint)k); }

static aug_params sample_params(uint policy, int b, int h, int w, uint seed_lo, uint seed_hi,
                                uint step_lo, uint step_hi, uint stream) {
  uint4 r = clgan_philox4x32_10((uint4)((uint)b, step_lo, step_hi, stream),
                                (uint2)(seed_lo, seed_hi));
  aug_params p = {0, 0, 0, 0, 0, 0};
  if (policy & (1u << CLGAN_AUG_TRANSLATION)) {
    int sh = (h + 4) / 8, sw = (w + 4) / 8; /* int(size * 0.125 + 0.5) */
    p.tx = draw(r.x, 2 * sh + 1) - sh;
    p.ty = draw(r.y, 2 * sw + 1) - sw;
  }
  if (policy & (1u << CLGAN_AUG_CUTOUT)) {
    int ch = (h + 1) / 2, cw = (w + 1) / 2; /* int(size * 0.5 + 0.5) */
    p.r0 = draw(r.z, h + 1 - ch % 2) - ch / 2;
    p.c0 = draw(r.w, w + 1 - cw % 2) - cw / 2;
    p.r1 = min(p.r0 + ch, h);
    p.c1 = min(p.c0 + cw, w);
    p.r0 = max(p.r0, 0);
    p.c0 = max(p.c0, 0);
  }
  return p;
}

/* 0 inside the cut, 1 elsewhere: the official mask, by which x is multiplied. */
static float keep(aug_params p, int i, int j) {
  return i >= p.r0 && i < p.r1 && j >= p.c0 && j < p.c1 ? 0.0f : 1.0f;
}

/* y[b,c,i,j] = x[b,c,i+tx,j+ty] (0 outside the image) * mask[b,i,j]. */
__kernel void augment_forward(__global float *y, __global const float *x, int total, int c,
                              int h, int w, uint policy, uint seed_lo, uint seed_hi,
                              uint step_lo, uint step_hi, uint stream) {
  int e = get_global_id(0);
  if (e >= total) return;
  int j = e % w, i = (e / w) % h, b = e / (w * h * c);
  aug_params p = sample_params(policy, b, h, w, seed_lo, seed_hi, step_lo, step_hi, stream);
  int si = i + p.tx, sj = j + p.ty;
  float v = si >= 0 && si < h && sj >= 0 && sj < w ? x[e + p.tx * w + p.ty] : 0.0f;
  y[e] = v * keep(p, i, j);
}

/* The transpose: dx[b,c,i,j] = dy[b,c,i-tx,j-ty] * mask[b,i-tx,j-ty] where (i-tx, j-ty) is in
 * the image (the output that read x[i,j]), else 0. A gather, so no two work-items write one
 * element and no atomics are needed. */
__kernel void augment_backward(__global float *dx, __global const float *dy, int total, int c,
                               int h, int w, uint policy, uint seed_lo, uint seed_hi,
                               uint step_lo, uint step_hi, uint stream) {
  int e = get_global_id(0);
  if (e >= total) return;
  int j = e % w, i = (e / w) % h, b = e / (w * h * c);
  aug_params p = sample_params(policy, b, h, w, seed_lo, seed_hi, step_lo, step_hi, stream);
  int oi = i - p.tx, oj = j - p.ty;
  float v = oi >= 0 && oi < h && oj >= 0 && oj < w ? dy[e - p.tx * w - p.ty] * keep(p, oi, oj)
                                                   : 0.0f;
  dx[e] = v;
}
