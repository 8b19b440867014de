/* Convolution helpers around CLBlast's GEMM (src/ops/conv.c): im2col, col2im and the two
 * layout permutations, all over the whole batch at once.
 *
 * Geometry, always that of a Conv2d: an image (N, C, H, W) is read through KH x KW windows at
 * stride s with zero padding p, giving Ho x Wo window positions (P = Ho*Wo per sample).
 * The batched column matrix is (K, N*P), K = C*KH*KW, row k = (c*KH + i)*KW + j and column
 * q = n*P + oh*Wo + ow; so one GEMM with the (O, K) weight covers the whole batch and gives an
 * (O, N*P) result in "CNHW" layout, which a permutation turns into NCHW. col_off / t_off are
 * offsets in floats into the shared workspace buffer. */

/* col(k, q) = x[n, c, oh*s - pad + i, ow*s - pad + j], or 0 in the padding, for
 * k = (c*KH + i)*KW + j and q = n*P + oh*Wo + ow; stored at k*sk + q*sq: (sk, sq) = (N*P, 1)
 * gives the (K, N*P) matrix, (1, K) its transpose (N*P, K). A 2-D range (q, c): each work-item
 * copies the KH*KW taps of one window position and channel, so the index arithmetic is done
 * once per window rather than per element. */
__kernel void conv_im2col(__global float *col, int col_off, int sk, int sq,
                          __global const float *x, int n_img, int c, int h, int w, int kh, int kw,
                          int stride, int pad, int ho, int wo) {
  int q = get_global_id(0), ch = get_global_id(1);
  if (q >= n_img * ho * wo || ch >= c) return;
  int n = q / (ho * wo), p = q - n * (ho * wo);
  int oh = p / wo, ow = p - oh * wo;
  int y0 = oh * stride - pad, x0 = ow * stride - pad;
  __global const float *img = x + (n * c + ch) * h * w;
  __global float *out = col + col_off + ch * kh * kw * sk + q * sq;
  for (int i = 0; i < kh; i++) {
    int y = y0 + i;
    int row_in = y >= 0 && y < h;
    for (int j = 0; j < kw; j++) {
      int xx = x0 + j;
      out[(i * kw + j) * sk] = row_in && xx >= 0 && xx < w ? img[y * w + xx] : 0.0f;
    }
  }
}

/* The adjoint of conv_im2col, reading the (K, N*P) layout: x[n, c, y, x] = the sum of every
 * column entry im2col would have copied from there (+ bias[c] when has_bias). One work-item
 * owns one image plane (n, c): it sets the plane to the bias, then adds the taps' rows in
 * order (i, j), each a contiguous run of col's HO*WO positions for image n, into the pixels
 * they land on. No two work-items touch one pixel and the order is fixed: deterministic
 * without atomics. (Gathering per pixel instead read col in scattered steps of N*P: 1.6x
 * slower on G's 256 -> 128 convT on PoCL, 2.5-3x on D's conv backward.) 1-D range n*C + c. */
__kernel void conv_col2im(__global float *x, __global const float *col, int col_off,
                          __global const float *bias, int has_bias, int n_img, int c, int h,
                          int w, int kh, int kw, int stride, int pad, int ho, int wo) {
  int nc = get_global_id(0);
  if (nc >= n_img * c) return;
  int n = nc / c, ch = nc - n * c, p_all = n_img * ho * wo;
  __global float *plane = x + (size_t)nc * h * w;
  float b0 = has_bias ? bias[ch] : 0.0f;
  for (int pix = 0; pix < h * w; pix++) plane[pix] = b0;
  __global const float *cb = col + col_off + ch * kh * kw * p_all + n * ho * wo;
  for (int i = 0; i < kh; i++) {
    /* The window rows oh with 0 <= oh*s - pad + i < h. */
    int top = h - 1 + pad - i; /* negative: the tap lies below every pixel */
    int oh0 = max(0, (pad - i + stride - 1) / stride), oh1 = top < 0 ? 0 : min(ho, top / stride + 1);
    for (int j = 0; j < kw; j++) {
      int right = w - 1 + pad - j;
      int ow0 = max(0, (pad - j + stride - 1) / stride), ow1 = right < 0 ? 0 : min(wo, right / stride + 1);
      __global const float *row = cb + (i * kw + j) * p_all;
      for (int oh = oh0; oh < oh1; oh++) {
        __global float *dst = plane + (oh * stride - pad + i) * w - pad + j;
        __global const float *src = row + oh * wo;
        for (int ow = ow0; ow < ow1; ow++) dst[ow * stride] += src[ow];
      }
    }
  }
}

/* t[c, n*P + p] = x[n, c, p]: NCHW to the CNHW layout a batched GEMM operand needs.
 * 2-D range (p, n*C + c). */
__kernel void conv_to_cnhw(__global float *t, int t_off, __global const float *x, int n_img,
                           int c, int p) {
  int pp = get_global_id(0), nc = get_global_id(1);
  if (pp >= p || nc >= n_img * c) return;
  int n = nc / c, ch = nc - n * c;
  t[t_off + (ch * n_img + n) * p + pp] = x[nc * p + pp];
}

/* y[n, c, p] = t[c, n*P + p] (+ bias[c]): a batched GEMM result back to NCHW. */
__kernel void conv_from_cnhw(__global float *y, __global const float *t, int t_off,
                             __global const float *bias, int has_bias, int n_img, int c, int p) {
  int pp = get_global_id(0), nc = get_global_id(1);
  if (pp >= p || nc >= n_img * c) return;
  int n = nc / c, ch = nc - n * c;
  float v = t[t_off + (ch * n_img + n) * p + pp];
  y[nc * p + pp] = has_bias ? v + bias[ch] : v;
}

/* db[c] (+)= sum over n and p of dy[n, c, p]. One work-group per channel: work-item l sums
 * the flattened (n, p) indices l, l + L, ... in order, then clgan_tree_sum's fixed pairwise
 * tree (L a power of two): the same sum, bitwise, on every run. */
__kernel void conv_bias_backward(__global float *db, __global const float *dy, int n_img, int c,
                                 int p, int accumulate, __local float *scratch) {
  int ch = get_group_id(0), l = get_local_id(0), size = get_local_size(0);
  float s = 0.0f;
  /* q = n * p + pos, stepped by size without a division per element. */
  int n = l / p, pos = l - (l / p) * p;
  for (int q = l; q < n_img * p; q += size) {
    s += dy[(n * c + ch) * p + pos];
    for (pos += size; pos >= p; pos -= p) n++;
  }
  s = clgan_tree_sum(scratch, s);
  if (l == 0) db[ch] = accumulate ? db[ch] + s : s;
}
