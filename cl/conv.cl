/* Convolution helpers around CLBlast's GEMM (src/ops/conv.c): im2col, col2im and the two
 * layout permutations, all over the whole batch at once.
 *
 * Geometry, always that of a Conv2d: an image (N, C, H, W) is read through KH x KW windows at
 * stride s with zero padding p, giving Ho x Wo window positions (P = Ho*Wo per sample).
 * The batched column matrix is (K, N*P), K = C*KH*KW, row k = (c*KH + i)*KW + j and column
 * q = n*P + oh*Wo + ow; so one GEMM with the (O, K) weight covers the whole batch and gives an
 * (O, N*P) result in "CNHW" layout, which a permutation turns into NCHW. col_off / t_off are
 * offsets in floats into the shared workspace buffer. */

/* col[k, n*P + p] = x[n, c, oh*s - p + i, ow*s - p + j], or 0 in the padding. */
__kernel void conv_im2col(__global float *col, int col_off, __global const float *x, int n_img,
                          int c, int h, int w, int kh, int kw, int stride, int pad, int ho,
                          int wo) {
  int id = get_global_id(0);
  int p_all = n_img * ho * wo;
  if (id >= c * kh * kw * p_all) return;
  int k = id / p_all, q = id - k * p_all;
  int n = q / (ho * wo), p = q - n * (ho * wo);
  int oh = p / wo, ow = p - oh * wo;
  int j = k % kw, i = (k / kw) % kh, ch = k / (kw * kh);
  int y = oh * stride - pad + i, xx = ow * stride - pad + j;
  float v = 0.0f;
  if (y >= 0 && y < h && xx >= 0 && xx < w) v = x[((n * c + ch) * h + y) * w + xx];
  col[col_off + id] = v;
}

/* The adjoint of conv_im2col: x[n, c, y, x] = sum of every column entry that im2col would have
 * copied from there (+ bias[c] when has_bias). Gathered per output element in a fixed order
 * (kernel row, then column): deterministic without atomics. */
__kernel void conv_col2im(__global float *x, __global const float *col, int col_off,
                          __global const float *bias, int has_bias, int n_img, int c, int h,
                          int w, int kh, int kw, int stride, int pad, int ho, int wo) {
  int id = get_global_id(0);
  if (id >= n_img * c * h * w) return;
  int xx = id % w, y = (id / w) % h, ch = (id / (w * h)) % c, n = id / (w * h * c);
  int p_all = n_img * ho * wo;
  __global const float *cb = col + col_off + n * ho * wo;
  float s = has_bias ? bias[ch] : 0.0f;
  for (int i = 0; i < kh; i++) {
    int ty = y + pad - i; /* = oh * stride */
    if (ty < 0) break;
    if (ty % stride) continue;
    int oh = ty / stride;
    if (oh >= ho) continue;
    for (int j = 0; j < kw; j++) {
      int tx = xx + pad - j;
      if (tx < 0) break;
      if (tx % stride) continue;
      int ow = tx / stride;
      if (ow >= wo) continue;
      s += cb[((ch * kh + i) * kw + j) * p_all + oh * wo + ow];
    }
  }
  x[id] = s;
}

/* t[c, n*P + p] = x[n, c, p]: NCHW to the CNHW layout a batched GEMM operand needs. */
__kernel void conv_to_cnhw(__global float *t, int t_off, __global const float *x, int n_img,
                           int c, int p) {
  int id = get_global_id(0);
  if (id >= n_img * c * p) return;
  int pp = id % p, ch = (id / p) % c, n = id / (p * c);
  t[t_off + (ch * n_img + n) * p + pp] = x[id];
}

/* y[n, c, p] = t[c, n*P + p] (+ bias[c]): a batched GEMM result back to NCHW. */
__kernel void conv_from_cnhw(__global float *y, __global const float *t, int t_off,
                             __global const float *bias, int has_bias, int n_img, int c, int p) {
  int id = get_global_id(0);
  if (id >= n_img * c * p) return;
  int pp = id % p, ch = (id / p) % c, n = id / (p * c);
  float v = t[t_off + (ch * n_img + n) * p + pp];
  y[id] = has_bias ? v + bias[ch] : v;
}

/* db[c] (+)= sum over n and p of dy[n, c, p]. One work-group per channel: work-item l sums
 * the flattened (n, p) indices l, l + L, ... in order, then a fixed pairwise tree (L a power
 * of two): the same sum, bitwise, on every run. */
__kernel void conv_bias_backward(__global float *db, __global const float *dy, int n_img, int c,
                                 int p, int accumulate, __local float *scratch) {
  int ch = get_group_id(0), l = get_local_id(0), size = get_local_size(0);
  float s = 0.0f;
  for (int q = l; q < n_img * p; q += size) {
    int n = q / p;
    s += dy[(n * c + ch) * p + (q - n * p)];
  }
  scratch[l] = s;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int step = size / 2; step > 0; step /= 2) {
    if (l < step) scratch[l] += scratch[l + step];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (l == 0) db[ch] = accumulate ? db[ch] + scratch[0] : scratch[0];
}
