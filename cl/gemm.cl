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

/* Element (r, c) of an operand as stored: row-major with leading dimension ld, its columns in
 * blocks of blk (0: one block) that lie bstride floats apart: a window-side tensor (N, O, P)
 * read as the (O, N*P) matrix the convolutions multiply, without a permuted copy. */
inline int gemm_at(int off, int ld, int blk, int bstride, int r, int c) {
  if (blk == 0) return off + r * ld + c;
  int b = c / blk;
  return off + b * bstride + r * ld + (c - b * blk);
}

/* The offset of column c of a block-laid operand, from the start of its row 0. */
inline int gemm_col(int blk, int bstride, int c) {
  if (blk == 0) return c;
  int b = c / blk;
  return b * bstride + (c - b * blk);
}

/* r[0..15] (16 rows of 16) becomes its transpose: four stages, the one of size s swapping the
 * off-diagonal s x s blocks of every 2s x 2s block (rows i and i + s exchange halves through
 * shuffle2 with constant masks: lo keeps row i's first s of each 2s lanes and takes row i + s's,
 * hi the second s of each). On AVX-512 each shuffle2 is one two-source permute. */
#define GEMM_T16_STAGE(sz, lo, hi)                                                              \
  for (int i = 0; i < 16; i++)                                                                  \
    if (!(i & (sz))) {                                                                          \
      float16 a_ = r[i], b_ = r[i + (sz)];                                                      \
      r[i] = shuffle2(a_, b_, lo);                                                              \
      r[i + (sz)] = shuffle2(a_, b_, hi);                                                       \
    }

inline void gemm_transpose16(float16 *r) {
  GEMM_T16_STAGE(8, (uint16)(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
                 (uint16)(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31));
  GEMM_T16_STAGE(4, (uint16)(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27),
                 (uint16)(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31));
  GEMM_T16_STAGE(2, (uint16)(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29),
                 (uint16)(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31));
  GEMM_T16_STAGE(1, (uint16)(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30),
                 (uint16)(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31));
}

/* One whole panel, written in order: `width` lines of an operand over all of k, the line index
 * j0 .. j0 + width - 1 (lines past `lines` zero), element p of each line at out[p * width + q].
 * The lines are the operand's stored rows (along_rows: element (line, p) at line * ld +
 * gemm_col(p)) or its stored columns (element (p, line) at p * ld + gemm_col(line)). Column c of
 * a block-laid operand starts gemm_col(c) floats into row 0; along rows the stepping keeps the
 * block and the place in it, so an element costs an add or two, not a division. */
inline void gemm_pack_panel(__global const float *x, int off, int ld, int blk, int bstride,
                            int along_rows, int lines, int k, int j0, const int width,
                            __global float *out) {
  int used = min(width, lines - j0);
  if (along_rows) {
    /* Lines past `used` repeat the last one, and their lanes are stored as 0. */
    int16 live = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) < (int16)(used);
    int bl = blk ? blk : k, blkno = 0, w = 0;
    for (int p = 0; p < k;) {
      __global const float *col = x + off + blkno * bstride + w + j0 * ld;
      if (p + 16 <= k && w + 16 <= bl) {
        /* 16 k inside one block: a 16-wide load from each line, a register transpose, a
         * store per k (2.4-4x the element loop below on a weight matrix; the same floats). */
        float16 r[16];
#pragma unroll
        for (int q = 0; q < 16; q++) r[q] = vload16(0, col + (size_t)min(q, used - 1) * ld);
        gemm_transpose16(r);
#pragma unroll
        for (int t = 0; t < 16; t++) {
          float16 v = select((float16)(0.0f), r[t], live);
          __global float *o = out + t * width;
          if (width == 16) {
            vstore16(v, 0, o);
          } else if (width == 12) {
            vstore8(v.lo, 0, o);
            vstore4(v.s89ab, 0, o + 8);
          } else {
            for (int q = 0; q < width; q++) o[q] = ((float *)&v)[q];
          }
        }
        p += 16, out += 16 * width, w += 16;
      } else {
        for (int q = 0; q < width; q++) out[q] = q < used ? col[q * ld] : 0.0f;
        p++, out += width, w++;
      }
      if (w == bl) w = 0, blkno++;
    }
  } else if (used == width && (blk == 0 || j0 / blk == (j0 + width - 1) / blk)) {
    /* The lines side by side in one block: each k's `width` floats are adjacent, one copy. */
    int c0 = gemm_col(blk, bstride, j0);
    for (int p = 0; p < k; p++, out += width) {
      __global const float *row = x + off + p * ld + c0;
      if (width == 16) {
        vstore16(vload16(0, row), 0, out);
      } else if (width == 12) {
        vstore8(vload8(0, row), 0, out);
        vstore4(vload4(0, row + 8), 0, out + 8);
      } else {
        for (int q = 0; q < width; q++) out[q] = row[q];
      }
    }
  } else {
    int cb[GEMM_NR]; /* GEMM_MR <= GEMM_NR */
    for (int q = 0; q < width; q++) cb[q] = gemm_col(blk, bstride, j0 + min(q, used - 1));
    for (int p = 0; p < k; p++, out += width) {
      __global const float *row = x + off + p * ld;
      for (int q = 0; q < width; q++) out[q] = q < used ? row[cb[q]] : 0.0f;
    }
  }
}

/* Panel t of op(A): MR of its rows, which are A's rows, or its columns when transposed. */
__kernel void gemm_pack_a(__global const float *a, int a_off, int lda, int blk, int bstride,
                          int trans, int m, int k, int tiles, __global float *ap) {
  int t = get_global_id(0);
  if (t >= tiles) return;
  gemm_pack_panel(a, a_off, lda, blk, bstride, !trans, m, k, t * GEMM_MR, GEMM_MR,
                  ap + (size_t)t * k * GEMM_MR);
}

/* Panel t of op(B): 16 of its columns, which are B's columns, or its rows when transposed. */
__kernel void gemm_pack_b(__global const float *b, int b_off, int ldb, int blk, int bstride,
                          int trans, int n, int k, int tiles, __global float *bp) {
  int t = get_global_id(0);
  if (t >= tiles) return;
  gemm_pack_panel(b, b_off, ldb, blk, bstride, trans, n, k, t * GEMM_NR, GEMM_NR,
                  bp + (size_t)t * k * GEMM_NR);
}

/* The 4 x 4 window of an image plane with its top left at (y0, x0), zero outside the plane, as
 * a float16 in tap order (i, j): four runs of 4 adjacent pixels, a float4 load each where the
 * run lies inside its row. */
inline float16 gemm_window4x4(__global const float *img, int y0, int x0, int gh, int gw) {
  float4 r[4];
#pragma unroll
  for (int i = 0; i < 4; i++) {
    int y = y0 + i;
    __global const float *row = img + y * gw + x0;
    if (y < 0 || y >= gh) r[i] = (float4)(0.0f);
    else if (x0 >= 0 && x0 + 4 <= gw) r[i] = vload4(0, row);
    else r[i] = (float4)(x0 >= 0 && x0 < gw ? row[0] : 0.0f,
                         x0 + 1 >= 0 && x0 + 1 < gw ? row[1] : 0.0f,
                         x0 + 2 >= 0 && x0 + 2 < gw ? row[2] : 0.0f,
                         x0 + 3 >= 0 && x0 + 3 < gw ? row[3] : 0.0f);
  }
  return (float16)(r[0], r[1], r[2], r[3]);
}

/* One work-item packs one whole panel of op(B) = col(image) (trans 0) or col(image)^T (trans
 * 1), the image (N, C, H, W) at b_off: col() has row (c, i, j) of C*KH*KW and column
 * (n, oh, ow) of N*HO*WO, the value of pixel (oh*gs - gp + i, ow*gs - gp + j) of channel c of
 * image n, 0 outside it (cl/conv.cl's conv_im2col, read in place). The panel's 16 columns are
 * fixed (16 positions, or 16 taps); k steps through the taps (or positions) one by one, so the
 * index arithmetic is a few additions per element and the panel is written in order. */
__kernel void gemm_pack_b_im2col(__global const float *b, int b_off, int trans, int n, int k,
                                 int tiles, int gc, int gh, int gw, int kh, int kw, int gs,
                                 int gp, int ho, int wo, __global float *bp) {
  int t = get_global_id(0);
  if (t >= tiles) return;
  __global float *out = bp + (size_t)t * k * GEMM_NR;
  int plane = gh * gw;
  if (trans && kh == 4 && kw == 4) {
    /* col()^T of a 4 x 4 window (DCGAN's): the panel's 16 taps are channel t's whole window,
     * one gemm_window4x4 per k (a position), 2.6x the per-lane gather below. */
    int s0 = 0, s1 = 0, s2 = 0; /* the position (image, oh, ow) */
    for (int p = 0; p < k; p++, out += GEMM_NR) {
      vstore16(gemm_window4x4(b + b_off + ((size_t)s0 * gc + t) * plane, s1 * gs - gp,
                              s2 * gs - gp, gh, gw), 0, out);
      if (++s2 == wo) {
        s2 = 0;
        if (++s1 == ho) s1 = 0, s0++;
      }
    }
    return;
  }
  /* The 16 fixed columns: for positions, where each window starts in its image; for taps, the
   * channel plane and offsets of each tap. */
  int fy[GEMM_NR], fx[GEMM_NR], fo[GEMM_NR];
  int j0 = t * GEMM_NR;
  for (int q = 0; q < GEMM_NR; q++) {
    int j = min(j0 + q, n - 1);
    if (!trans) {
      int img = j / (ho * wo), pos = j - img * (ho * wo), oh = pos / wo, ow = pos - oh * wo;
      fy[q] = oh * gs - gp, fx[q] = ow * gs - gp, fo[q] = b_off + img * gc * plane;
    } else {
      int ch = j / (kh * kw), tap = j - ch * (kh * kw), i = tap / kw;
      fy[q] = i, fx[q] = tap - i * kw, fo[q] = b_off + ch * plane;
    }
  }
  int cols = min(GEMM_NR, n - j0);
  if (!trans && kh == 4 && kw == 4) {
    /* col() with a 4 x 4 window: k runs through the channels' 16 taps, so 16 k of the panel are
     * the windows of its 16 positions in one channel, transposed: 16 gemm_window4x4, a register
     * transpose and 16 stores (lanes past n zero). */
    for (int ch = 0; ch < gc; ch++, out += 16 * GEMM_NR) {
      float16 r[16];
#pragma unroll
      for (int q = 0; q < 16; q++)
        r[q] = q < cols ? gemm_window4x4(b + fo[q] + ch * plane, fy[q], fx[q], gh, gw)
                        : (float16)(0.0f);
      gemm_transpose16(r);
#pragma unroll
      for (int q = 0; q < 16; q++) vstore16(r[q], q, out);
    }
    return;
  }
  /* The 16 lanes as vectors, so that a step is vector arithmetic, 16 loads and one 16-wide
   * store (a lane outside the image or past n loads its column's first element and keeps 0). */
  int16 vy = vload16(0, fy), vx = vload16(0, fx), vo = vload16(0, fo);
  int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  int16 live = lane < (int16)(cols);
  /* The stepped index: a tap (ch, i, jj) or a position (img, oh, ow). */
  int s0 = 0, s1 = 0, s2 = 0;
  for (int p = 0; p < k; p++, out += GEMM_NR) {
    int16 y, x, off;
    if (!trans) y = vy + s1, x = vx + s2, off = vo + s0 * plane;
    else y = vy + (s1 * gs - gp), x = vx + (s2 * gs - gp), off = vo + s0 * gc * plane;
    int16 in = live & (y >= 0) & (y < (int16)(gh)) & (x >= 0) & (x < (int16)(gw));
    int16 at = select(vo, off + y * gw + x, in);
    float16 v = (float16)(b[at.s0], b[at.s1], b[at.s2], b[at.s3], b[at.s4], b[at.s5], b[at.s6],
                          b[at.s7], b[at.s8], b[at.s9], b[at.sa], b[at.sb], b[at.sc], b[at.sd],
                          b[at.se], b[at.sf]);
    vstore16(select((float16)(0.0f), v, in), 0, out);
    if (!trans) { /* the next tap */
      if (++s2 == kw) {
        s2 = 0;
        if (++s1 == kh) s1 = 0, s0++;
      }
    } else if (++s2 == wo) { /* the next position */
      s2 = 0;
      if (++s1 == ho) s1 = 0, s0++;
    }
  }
}


/* Stores an MR x 16 tile of sums at (i0, j0): C = alpha acc + beta C, plus the bias. */
inline void gemm_store(float16 *acc, int i0, int j0, int cols, __global float *c, int c_off,
                       int ldc, int blk, int bstride, int m, float alpha, float beta,
                       __global const float *bias, int has_bias) {
  if (blk == 0 && cols == GEMM_NR) {
    /* A whole tile of a plain C: one vector store a row (the element loop below cost as much
     * as the products when k is a batch of 64). */
    float16 bc = has_bias == 2 ? vload16(0, bias + j0) : (float16)(0.0f);
#pragma unroll
    for (int r = 0; r < GEMM_MR; r++) {
      int i = i0 + r;
      if (i >= m) break;
      __global float *out = c + c_off + (size_t)i * ldc + j0;
      float16 v = beta != 0.0f ? alpha * acc[r] + beta * vload16(0, out) : alpha * acc[r];
      if (has_bias == 1) v += (float16)(bias[i]);
      else if (has_bias == 2) v += bc;
      vstore16(v, 0, out);
    }
    return;
  }
  int cb[GEMM_NR];
  for (int q = 0; q < cols; q++) cb[q] = gemm_col(blk, bstride, j0 + q);
#pragma unroll
  for (int r = 0; r < GEMM_MR; r++) {
    int i = i0 + r;
    if (i >= m) break;
    float row[GEMM_NR];
    vstore16(acc[r], 0, row);
    float add = has_bias == 1 ? bias[i] : 0.0f;
    __global float *out = c + c_off + (size_t)i * ldc;
    for (int q = 0; q < cols; q++) {
      float v = beta != 0.0f ? alpha * row[q] + beta * out[cb[q]] : alpha * row[q];
      out[cb[q]] = has_bias == 1 ? v + add : has_bias == 2 ? v + bias[j0 + q] : v;
    }
  }
}

#if GEMM_MR == 12
#define GEMM_NB 2
#else
#define GEMM_NB 1
#endif

/* C = alpha A B + beta C, plus bias[i] on row i (has_bias 1) or bias[j] on column j
 * (has_bias 2), C laid out as gemm_at says.
 * A comes from its packed panels (a_direct 0: a is the panel buffer) or, when it is a plain
 * transposed matrix MR divides the rows of, straight from a (a_direct 1); B
 * likewise from its panels or, plain, untransposed and a whole number of 16-column panels
 * wide, straight from b: packing pays for the large products it makes cache-friendly, not for
 * the small ones, where its launch and pass cost as much as the product.
 * Work-group w computes one tile; the tiles go in groups of `group` tile rows, and within a
 * group column by column, so that consecutive work-groups share a B panel and cycle over the
 * group's A panels, which the host sizes to stay in the L2 cache (PoCL runs work-groups in
 * order of their id): B is read from memory once per group, not once per tile row.
 * With AVX-512 (GEMM_MR 12) a work-item takes GEMM_NB = 2 adjacent panels, MR x 32 of C in 24
 * float16 accumulators of the 32 registers: each broadcast of A feeds two FMAs and a
 * work-group does twice the work for its fixed cost (mlp-bn's products 10-30 % faster,
 * dcgan's 10 %); a last, lone panel takes the one-panel loop. GEMM_MR 6 (16 registers of
 * AVX2) keeps one panel. Each element's sum is the same chain of fmas either way. */
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void gemm_packed(__global const float *a, int a_direct, int a_off, int lda, int trans_a,
                 __global const float *b, int b_direct, int b_off, int ldb, int k,
                 __global float *c, int c_off, int ldc, int blk, int bstride, int m, int n,
                 float alpha, float beta, __global const float *bias, int has_bias, int mtiles,
                 int ntiles, int group) {
  int pairs = (ntiles + GEMM_NB - 1) / GEMM_NB;
  int w = get_global_id(0);
  if (w >= mtiles * pairs) return;
  int g0 = w / (group * pairs), in = w - g0 * group * pairs;
  int rows = min(group, mtiles - g0 * group);
  int tp = in / rows, ti = g0 * group + (in - (in / rows) * rows);
  int tj = GEMM_NB * tp, i0 = ti * GEMM_MR, j0 = tj * GEMM_NR;
  /* Element (i0 + r, p) of op(A) is pa[p * kstep + r]: a panel (kstep MR), or with a_direct
   * a transposed A read in place (kstep lda; the host asks for it only when MR divides m). One
   * pointer and constant offsets: twelve row pointers spilled out of the registers. */
  (void)trans_a;
  __global const float *pa = a + (a_direct ? (size_t)a_off + i0 : (size_t)ti * GEMM_MR * k);
  int kstep = a_direct ? lda : GEMM_MR;
  __global const float *pb = b + (b_direct ? (size_t)b_off + j0 : (size_t)tj * GEMM_NR * k);
  int bstep = b_direct ? ldb : GEMM_NR;
  float16 acc[GEMM_MR];
#pragma unroll
  for (int r = 0; r < GEMM_MR; r++) acc[r] = (float16)(0.0f);
  if (GEMM_NB == 2 && tj + 1 < ntiles) {
    __global const float *pb1 = b_direct ? pb + GEMM_NR : pb + (size_t)GEMM_NR * k;
    float16 acc1[GEMM_MR];
#pragma unroll
    for (int r = 0; r < GEMM_MR; r++) acc1[r] = (float16)(0.0f);
    for (int p = 0; p < k; p++, pa += kstep, pb += bstep, pb1 += bstep) {
      float16 bv = vload16(0, pb), bv1 = vload16(0, pb1);
#pragma unroll
      for (int r = 0; r < GEMM_MR; r++) {
        float16 av = (float16)(pa[r]);
        acc[r] = fma(av, bv, acc[r]);
        acc1[r] = fma(av, bv1, acc1[r]);
      }
    }
    gemm_store(acc1, i0, j0 + GEMM_NR, min(GEMM_NR, n - j0 - GEMM_NR), c, c_off, ldc, blk,
               bstride, m, alpha, beta, bias, has_bias);
  } else {
    for (int p = 0; p < k; p++, pa += kstep, pb += bstep) {
      float16 bv = vload16(0, pb);
#pragma unroll
      for (int r = 0; r < GEMM_MR; r++) acc[r] = fma((float16)(pa[r]), bv, acc[r]);
    }
  }
  gemm_store(acc, i0, j0, min(GEMM_NR, n - j0), c, c_off, ldc, blk, bstride, m, alpha, beta,
             bias, has_bias);
}
