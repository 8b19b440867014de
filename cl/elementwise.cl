/* Elementwise utilities over flat float buffers (src/ops/elementwise.c). */

/* CLGAN_VEC elements a work-item (CLGAN_EACH, the ops preamble). */
#define FILL(T, LD, ST) ST(x, (T)(value));
__kernel void fill(__global float *x, int n, float value) { CLGAN_EACH(n, FILL); }

/* b == 0 overwrites y without reading it, as BLAS does, so NaN in a fresh buffer cannot leak. */
#define AXPBY(T, LD, ST) ST(y, b == 0.0f ? a * LD(x) : a * LD(x) + b * LD(y));
__kernel void axpby(__global float *y, float a, __global const float *x, float b, int n) {
  CLGAN_EACH(n, AXPBY);
}

#define CLAMP(T, LD, ST) ST(x, fmin(fmax(LD(x), -c), c));
__kernel void clamp_values(__global float *x, int n, float c) { CLGAN_EACH(n, CLAMP); }

/* The scale comes from a device-side sum of squares, so clipping never waits on the host. */
#define CLIP(T, LD, ST) if (coef < 1.0f) ST(x, LD(x) * coef);
__kernel void clip_by_norm(__global float *x, int n, __global const float *sumsq, int slot,
                           float max_norm) {
  float coef = max_norm / (sqrt(sumsq[slot]) + 1e-6f);
  CLGAN_EACH(n, CLIP);
}

/* out (cols, rows) = in (rows, cols)^T, through a 16x16 tile in local memory so that both the
 * reads and the writes walk rows. */
#define TRANSPOSE_TILE 16
__kernel void transpose_tiled(__global float *out, __global const float *in, int rows, int cols) {
  __local float tile[TRANSPOSE_TILE][TRANSPOSE_TILE + 1];
  int c = get_global_id(0), r = get_global_id(1);
  int lc = get_local_id(0), lr = get_local_id(1);
  if (r < rows && c < cols) tile[lr][lc] = in[r * cols + c];
  barrier(CLK_LOCAL_MEM_FENCE);
  int oc = get_group_id(1) * TRANSPOSE_TILE + lc; /* column of out = row of in */
  int orow = get_group_id(0) * TRANSPOSE_TILE + lr;
  if (orow < cols && oc < rows) out[orow * rows + oc] = tile[lc][lr];
}
