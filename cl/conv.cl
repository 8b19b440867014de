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
 * slower on G's 256 -> 128 convT on PoCL, 2.5-3x on D's conv backward.) 1-D range C*n. */
__kernel void conv_col2im(__global float *x, __global const float *col, int col_off,
                          __global const float *bias, int has_bias, int n_img, int c, int h,
                          int w, int kh, int kw, int stride, int pad, int ho, int wo) {
  int id = get_global_id(0);
  if (id >= n_img * c) return;
  /* Planes in channel-major order: consecutive work-items read consecutive runs of the same
   * rows of col (image-major, each read runs of HO*WO floats N*HO*WO apart: 2x slower). */
  int ch = id / n_img, n = id - ch * n_img, p_all = n_img * ho * wo;
  __global float *plane = x + ((size_t)n * c + ch) * h * w;
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

/* conv_col2im for DCGAN's windows (4 x 4, stride 2, padding 1, h = 2 ho, w = 2 wo, wo <= 16),
 * a pixel row at a time: pixel 2u of a row takes taps j = 1 (window column u) and j = 3 (u - 1),
 * pixel 2u + 1 taps j = 0 (u + 1) and j = 2 (u), and the row y takes the two taps i of the
 * parity of y + 1 whose window row oh = (y + 1 - i) / 2 exists. So a row is two float16 over
 * u, even and odd pixels, each the bias plus col's taps in the order (i, j) conv_col2im adds
 * them (select keeps a lane no window reaches as it was): the same sums, bitwise, from whole
 * vector loads of col's rows (up to 15 floats past a row's end; the workspace has 16 to
 * spare) instead of stride-2 adds a float at a time. */
__kernel void conv_col2im_k4s2(__global float *x, __global const float *col, int col_off,
                               __global const float *bias, int has_bias, int n_img, int c,
                               int ho, int wo) {
  int id = get_global_id(0);
  if (id >= n_img * c) return;
  /* Planes in channel-major order: consecutive work-items read consecutive runs of the same
   * 16 rows of col (image-major, each read runs of 49 floats 12 KiB apart: 2x slower). */
  int ch = id / n_img, n = id - ch * n_img, p_all = n_img * ho * wo, w = 2 * wo;
  __global float *plane = x + ((size_t)n * c + ch) * 4 * ho * wo;
  float b0 = has_bias ? bias[ch] : 0.0f;
  __global const float *cb = col + col_off + (size_t)ch * 16 * p_all + n * ho * wo;
  int16 u = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  int16 m1 = u < wo, m3 = u >= 1 && u < wo, m0 = u < wo - 1, m2 = u < wo;
  const uint16 next = (uint16)(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15);
  const uint16 prev = (uint16)(0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
  const uint16 lo = (uint16)(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const uint16 hi = (uint16)(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  for (int y = 0; y < 2 * ho; y++) {
    float16 e = (float16)(b0), o = (float16)(b0);
    for (int i = (y + 1) & 1; i < 4; i += 2) {
      int oh = (y + 1 - i) / 2;
      if (oh < 0 || oh >= ho) continue;
      __global const float *r = cb + (i * 4) * p_all + oh * wo;
      float16 t0 = shuffle(vload16(0, r), next), t1 = vload16(0, r + p_all),
              t2 = vload16(0, r + 2 * p_all), t3 = shuffle(vload16(0, r + 3 * p_all), prev);
      e = select(e, e + t1, m1);
      e = select(e, e + t3, m3);
      o = select(o, o + t0, m0);
      o = select(o, o + t2, m2);
    }
    float row[32];
    vstore16(shuffle2(e, o, lo), 0, row);
    vstore16(shuffle2(e, o, hi), 0, row + 16);
    __global float *dst = plane + y * w;
    for (int q = 0; q < w; q++) dst[q] = row[q];
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
