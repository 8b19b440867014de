/* The last step of a GEMM split along k (src/device/gemm.c): the S partial products w[s] (each
 * m x n, row-major, contiguous) are summed in order s = 0, 1, ..., S-1, so the result is the
 * same on every run, and c = alpha * sum (+ beta * c; beta 0 does not read c, as BLAS). */
__kernel void gemm_splitk_reduce(__global float *c, int c_off, int ldc, __global const float *w,
                                 int m, int n, int splits, float alpha, float beta) {
  int j = get_global_id(0), i = get_global_id(1);
  if (i >= m || j >= n) return;
  int mn = m * n, at = i * n + j;
  float s = 0.0f;
  for (int p = 0; p < splits; p++) s += w[p * mn + at];
  __global float *out = c + c_off + i * ldc + j;
  *out = beta != 0.0f ? alpha * s + beta * *out : alpha * s;
}
