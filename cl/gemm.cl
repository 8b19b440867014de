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

/* ---- The packed GEMM for CPU devices (src/device/gemm.c) --------------------------------------
 * Row-major C = alpha op(A) op(B) + beta C in three launches. op(A) (m x k) is packed into
 * panels of GEMM_MR rows, each stored k-major (the MR values of one k side by side, rows past m
 * zero); op(B) (k x n) into panels of 16 columns, k-major likewise. Then one work-item, alone in
 * its work-group, computes one MR x 16 tile of C over all of k: a float16 of B and MR broadcasts
 * of A per k, MR accumulators held in registers. On PoCL that is the shape of a BLAS
 * micro-kernel (a work-group is a plain loop nest there, and float16 a native vector), which
 * CLBlast's kernels, written for GPUs' work-item parallelism, are not: 2-3x their speed on the
 * same products (bench/RESULTS.md). The sum over k runs in order, so results are the same on
 * every run. GEMM_MR comes from a prefix (12 for AVX-512 devices, 6 otherwise: MR float16
 * accumulators must fit the register file). */
#ifndef GEMM_MR
#define GEMM_MR 6
#endif
#define GEMM_NR 16

__kernel void gemm_pack_a(__global const float *a, int a_off, int lda, int trans, int m, int k,
                          int tiles, __global float *ap) {
  int p = get_global_id(0), t = get_global_id(1);
  if (p >= k || t >= tiles) return;
  __global float *out = ap + ((size_t)t * k + p) * GEMM_MR;
#pragma unroll
  for (int r = 0; r < GEMM_MR; r++) {
    int i = t * GEMM_MR + r;
    out[r] = i < m ? (trans ? a[a_off + p * lda + i] : a[a_off + i * lda + p]) : 0.0f;
  }
}

__kernel void gemm_pack_b(__global const float *b, int b_off, int ldb, int trans, int n, int k,
                          int tiles, __global float *bp) {
  int p = get_global_id(0), t = get_global_id(1);
  if (p >= k || t >= tiles) return;
  __global float *out = bp + ((size_t)t * k + p) * GEMM_NR;
#pragma unroll
  for (int q = 0; q < GEMM_NR; q++) {
    int j = t * GEMM_NR + q;
    out[q] = j < n ? (trans ? b[b_off + j * ldb + p] : b[b_off + p * ldb + j]) : 0.0f;
  }
}

__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void gemm_packed(__global const float *ap, __global const float *bp, int k, __global float *c,
                 int c_off, int ldc, int m, int n, float alpha, float beta) {
  int tj = get_global_id(0), ti = get_global_id(1);
  const __global float *pa = ap + (size_t)ti * GEMM_MR * k;
  const __global float *pb = bp + (size_t)tj * GEMM_NR * k;
  float16 acc[GEMM_MR];
#pragma unroll
  for (int r = 0; r < GEMM_MR; r++) acc[r] = (float16)(0.0f);
  for (int p = 0; p < k; p++) {
    float16 bv = vload16(p, pb);
#pragma unroll
    for (int r = 0; r < GEMM_MR; r++) acc[r] = fma((float16)(pa[p * GEMM_MR + r]), bv, acc[r]);
  }
  int i0 = ti * GEMM_MR, j0 = tj * GEMM_NR, cols = min(GEMM_NR, n - j0);
#pragma unroll
  for (int r = 0; r < GEMM_MR; r++) {
    if (i0 + r >= m) break;
    float row[GEMM_NR];
    vstore16(acc[r], 0, row);
    __global float *out = c + c_off + (size_t)(i0 + r) * ldc + j0;
    if (beta != 0.0f)
      for (int q = 0; q < cols; q++) out[q] = alpha * row[q] + beta * out[q];
    else
      for (int q = 0; q < cols; q++) out[q] = alpha * row[q];
  }
}
