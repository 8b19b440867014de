/* GEMM through CLBlast (row-major CLBlastSgemm), or on CPU devices through clgan's packed
 * kernels (cl/gemm.cl); CLBlast's status codes are mapped into clgan's table in errors.c. Tuned parameters reach CLBlast through clgan_tuning_apply (tuning.c).
 * The indirect GEMM path pads its operands into a scratch buffer; left to itself CLBlast
 * creates and frees one in every call, which on PoCL cost as much as the small products
 * themselves, so the device keeps one, grown to the largest size asked for. */
#include <clblast_c.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "device/internal.h"

void clgan_gemm_record(clgan_device *dev, clgan_tune_shape *shapes, int max, int *count,
                       int *dropped) {
  dev->gemm_log = max > 0 ? shapes : NULL;
  dev->gemm_log_max = max > 0 ? max : 0;
  dev->gemm_log_count = count;
  dev->gemm_log_dropped = dropped;
}

static void log_shape(clgan_device *dev, const clgan_gemm_args *g) {
  clgan_tune_shape s = {g->m, g->n, g->k, g->trans_a != 0, g->trans_b != 0, 1};
  int n = *dev->gemm_log_count;
  for (int i = 0; i < n; i++) {
    clgan_tune_shape *t = &dev->gemm_log[i];
    if (t->m == s.m && t->n == s.n && t->k == s.k && t->trans_a == s.trans_a &&
        t->trans_b == s.trans_b) {
      t->count++;
      return;
    }
  }
  if (n < dev->gemm_log_max) {
    dev->gemm_log[n] = s;
    *dev->gemm_log_count = n + 1;
  } else if (dev->gemm_log_dropped) {
    ++*dev->gemm_log_dropped;
  }
}

/* CLBlast returns the event of its last kernel only; a marker enqueued before the call lets the
 * profile count the whole GEMM (its padding, transposition and copy kernels too). */
static cl_event profile_mark(clgan_device *dev) {
  cl_event mark = NULL;
  if (dev->profile && clEnqueueMarkerWithWaitList(dev->queue, 0, NULL, &mark) != CL_SUCCESS)
    mark = NULL;
  return mark;
}

/* Records the span from mark to ev as one "gemm", or drops the marker when there is no event. */
static void profile_gemm(clgan_device *dev, cl_event mark, cl_event ev) {
  if (ev) clgan_profile_record_span(dev, mark, ev, "gemm");
  else if (mark) clReleaseEvent(mark);
}

/* How many pieces to cut k into: only for a small C (at most SPLITK_MAX_MN elements, too few
 * work-groups for CLBlast to fill a device) and a long k, into a power of two S <= 32 that
 * divides k and leaves at least SPLITK_MIN_KC per piece; 1 = no split. */
#define SPLITK_MAX_MN 16384
#define SPLITK_MIN_K 2048
#define SPLITK_MIN_KC 256

static size_t splitk_factor(const clgan_device *dev, const clgan_gemm_args *g) {
  if (!dev->splitk || g->k < SPLITK_MIN_K || g->m * g->n > SPLITK_MAX_MN) return 1;
  /* The reduction kernel indexes C and the partials with ints. */
  if (g->c_off + g->m * g->ldc > (size_t)INT_MAX) return 1;
  size_t s = 1;
  while (s < 32 && g->k % (2 * s) == 0 && g->k / (2 * s) >= SPLITK_MIN_KC) s *= 2;
  return s >= 4 ? s : 1;
}

/* C = alpha op(A) op(B) + beta C as S batched products over k / S each, then the ordered sum. */
static clgan_status gemm_splitk(clgan_device *dev, const clgan_gemm_args *g, size_t splits,
                                CLBlastTranspose ta, CLBlastTranspose tb) {
  size_t kc = g->k / splits, mn = g->m * g->n, bytes = splits * mn * sizeof(float);
  clgan_status st;
  if (dev->splitk_ws.bytes < bytes) {
    clgan_buffer_free(&dev->splitk_ws); /* enqueued commands keep the old one alive */
    if ((st = clgan_buffer_alloc(dev, &dev->splitk_ws, bytes))) return st;
  }
  clgan_kernel *reduce = NULL;
  if ((st = clgan_kernel_get(dev, "gemm.cl", "gemm_splitk_reduce", &reduce))) return st;
  /* Piece p reads op(A)'s columns and op(B)'s rows p*kc .. (p+1)*kc - 1. */
  size_t a_stride = g->trans_a ? kc * g->lda : kc, b_stride = g->trans_b ? kc : kc * g->ldb;
  cl_event ev = NULL, mark = profile_mark(dev);
  CLBlastStatusCode c = CLBlastSgemmStridedBatched(
      CLBlastLayoutRowMajor, ta, tb, g->m, g->n, kc, 1.0f, (cl_mem)g->a->mem, g->a_off, g->lda,
      a_stride, (cl_mem)g->b->mem, g->b_off, g->ldb, b_stride, 0.0f, (cl_mem)dev->splitk_ws.mem,
      0, g->n, mn, splits, &dev->queue, dev->profile ? &ev : NULL);
  if (c != CLBlastSuccess) {
    if (mark) clReleaseEvent(mark);
    char call[200];
    snprintf(call, sizeof call,
             "CLBlastSgemmStridedBatched(m=%zu, n=%zu, k=%zu in %zu pieces, ta=%d, tb=%d, lda=%zu, "
             "ldb=%zu)", g->m, g->n, g->k, splits, g->trans_a, g->trans_b, g->lda, g->ldb);
    return clgan_clblast_fail((int)c, call, __FILE__, __LINE__);
  }
  profile_gemm(dev, mark, ev);
  clgan_range r = {.dims = 2, .global = {g->n, g->m, 1}};
  return CLGAN_LAUNCH(dev, reduce, r, CLGAN_BUF(g->c), CLGAN_INT(g->c_off), CLGAN_INT(g->ldc),
                      CLGAN_BUF(&dev->splitk_ws), CLGAN_INT(g->m), CLGAN_INT(g->n),
                      CLGAN_INT(splits), CLGAN_FLOAT(g->alpha), CLGAN_FLOAT(g->beta));
}

clgan_gemm_kind clgan_gemm_choose(const clgan_device_info *info, const clgan_device_cfg *cfg) {
  clgan_gemm_kind want = cfg ? cfg->gemm : CLGAN_GEMM_AUTO;
  if (want != CLGAN_GEMM_AUTO) return want;
  return info->type == CLGAN_DEVICE_CPU ? CLGAN_GEMM_PACKED : CLGAN_GEMM_CLBLAST;
}

const char *clgan_gemm_kind_name(clgan_gemm_kind kind) {
  static const char *const names[] = {"auto", "clblast", "packed", "invalid"};
  return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "invalid";
}

clgan_gemm_kind clgan_device_gemm(const clgan_device *dev) { return dev->gemm; }

int clgan_vec_width(const clgan_device_info *info, const clgan_device_cfg *cfg) {
  if (cfg && (cfg->vec_width == 1 || cfg->vec_width == 16)) return cfg->vec_width;
  return info->type == CLGAN_DEVICE_CPU ? 16 : 1;
}

int clgan_device_vec_width(const clgan_device *dev) { return dev->vec_width; }

size_t clgan_gemm_packed_bytes(const clgan_device *dev) {
  return dev->pack_a.bytes + dev->pack_b.bytes;
}

int clgan_gemm_packed_rows(const clgan_device_info *info, const clgan_device_cfg *cfg) {
  if (cfg && (cfg->gemm_mr == 6 || cfg->gemm_mr == 12)) return cfg->gemm_mr;
  return strstr(info->name, "avx512") ? 12 : 6;
}

/* rows x 32 with 12-row tiles, which go two panels a work-item (GEMM_NB in cl/gemm.cl). */
static void describe(clgan_gemm_kind kind, int rows, char *out, size_t size) {
  if (kind == CLGAN_GEMM_PACKED)
    snprintf(out, size, "clgan's packed kernels (CPU micro-kernel, %d x %d tiles)", rows,
             rows == 12 ? 32 : 16);
  else
    snprintf(out, size, "CLBlast");
}

void clgan_gemm_describe(const clgan_device_info *info, const clgan_device_cfg *cfg, char *out,
                         size_t size) {
  describe(clgan_gemm_choose(info, cfg), clgan_gemm_packed_rows(info, cfg), out, size);
}

void clgan_device_gemm_describe(const clgan_device *dev, char *out, size_t size) {
  describe(dev->gemm, dev->gemm_mr, out, size);
}

/* The largest float index + 1 that op(X) of rows x cols reads, stored from offset off with
 * leading dimension ld in blocks bl; 0 when ld is too small for a row (or a block's row). */
static size_t operand_end(int trans, size_t rows, size_t cols, size_t off, size_t ld,
                          clgan_gemm_blocks bl) {
  size_t r = trans ? cols : rows, c = trans ? rows : cols; /* as stored */
  if (r == 0 || c == 0) return off;
  if (bl.blk <= 0) return ld >= c ? off + (r - 1) * ld + c : 0;
  size_t blk = (size_t)bl.blk, last = (c - 1) / blk, width = c < blk ? c : blk;
  if (ld < width) return 0;
  return off + last * bl.bstride + (r - 1) * ld + width;
}

static const clgan_gemm_layout plain_layout = {{0, 0}, {0, 0}, {0, 0}, NULL, NULL, 0};

/* Whether the operands fit their buffers (an im2col B: its image; C with room for bias). */
static int packed_fits(const clgan_gemm_args *g, const clgan_gemm_layout *l) {
  size_t fa = g->a->bytes / sizeof(float), fb = g->b->bytes / sizeof(float),
         fc = g->c->bytes / sizeof(float);
  size_t ea = operand_end(g->trans_a, g->m, g->k, g->a_off, g->lda, l->a);
  size_t ec = operand_end(0, g->m, g->n, g->c_off, g->ldc, l->c);
  size_t eb;
  if (l->b_im2col) {
    const clgan_gemm_im2col *v = l->b_im2col;
    size_t rows = (size_t)v->c * v->kh * v->kw, cols = (size_t)v->n * v->ho * v->wo;
    int ok = v->n > 0 && v->c > 0 && v->h > 0 && v->w > 0 && v->kh > 0 && v->kw > 0 &&
             v->stride > 0 && v->pad >= 0 && v->ho > 0 && v->wo > 0 &&
             (g->trans_b ? g->k == cols && g->n == rows : g->k == rows && g->n == cols);
    eb = ok ? g->b_off + (size_t)v->n * v->c * v->h * v->w : 0;
  } else {
    eb = operand_end(g->trans_b, g->k, g->n, g->b_off, g->ldb, l->b);
  }
  if (l->bias && l->bias->bytes < (l->bias_columns ? g->n : g->m) * sizeof(float)) return 0;
  return ea && eb && ec && ea <= fa && eb <= fb && ec <= fc;
}

/* The packed path: op(A) into panels of MR rows, op(B) into panels of 16 columns (zero past the
 * edges), then one work-item per MR x 16 tile of C, or per two side by side with 12-row tiles
 * (cl/gemm.cl). The panels live in buffers the
 * device keeps, grown to the largest size asked for; the in-order queue orders their reuse. */
static clgan_status gemm_packed(clgan_device *dev, const clgan_gemm_args *g,
                                const clgan_gemm_layout *l) {
  size_t mr = (size_t)dev->gemm_mr, nr = 16;
  size_t mt = (g->m + mr - 1) / mr, nt = (g->n + nr - 1) / nr;
  /* Plain operands are read in place (see gemm_packed in cl/gemm.cl): A when transposed and
   * whole tiles high, B when untransposed and whole panels wide. $CLGAN_GEMM_PACK_ALL packs both
   * anyway. */
  int a_direct = l->a.blk == 0 && g->trans_a && g->m % mr == 0 && !dev->gemm_pack_all;
  int b_direct = l->b.blk == 0 && !l->b_im2col && !g->trans_b && g->n % nr == 0 &&
                 !dev->gemm_pack_all;
  size_t a_bytes = a_direct ? 0 : mt * mr * g->k * sizeof(float);
  size_t b_bytes = b_direct ? 0 : nt * nr * g->k * sizeof(float);
  clgan_status st;
  if (dev->pack_a.bytes < a_bytes) {
    clgan_buffer_free(&dev->pack_a); /* enqueued commands keep the old one alive */
    if ((st = clgan_buffer_alloc(dev, &dev->pack_a, a_bytes))) return st;
  }
  if (dev->pack_b.bytes < b_bytes) {
    clgan_buffer_free(&dev->pack_b);
    if ((st = clgan_buffer_alloc(dev, &dev->pack_b, b_bytes))) return st;
  }
  /* 16-row tiles measured slower than 12 on dcgan and mlp-bn (bench/RESULTS.md). */
  static const char *const prefixes[] = {"#define GEMM_MR 6\n", "#define GEMM_MR 12\n"};
  const char *prefix = prefixes[dev->gemm_mr == 12];
  clgan_kernel *pack_a = NULL, *pack_b = NULL, *micro = NULL;
  const char *pack_b_name = l->b_im2col ? "gemm_pack_b_im2col" : "gemm_pack_b";
  if ((st = clgan_kernel_get_prefixed(dev, prefix, "gemm.cl", "gemm_pack_a", &pack_a)) ||
      (st = clgan_kernel_get_prefixed(dev, prefix, "gemm.cl", pack_b_name, &pack_b)) ||
      (st = clgan_kernel_get_prefixed(dev, prefix, "gemm.cl", "gemm_packed", &micro)))
    return st;
  /* A work-item per panel, alone in its work-group (PoCL spreads work-groups over the cores). */
  clgan_range ra = {.dims = 1, .global = {mt, 1, 1}, .local = {1, 1, 1}};
  clgan_range rb = {.dims = 1, .global = {nt, 1, 1}, .local = {1, 1, 1}};
  /* A work-item per tile, or per pair of tiles side by side with 12-row tiles (GEMM_NB in
   * cl/gemm.cl). */
  size_t nb = mr == 12 ? 2 : 1;
  clgan_range rm = {.dims = 1, .global = {(nt + nb - 1) / nb * mt, 1, 1}, .local = {1, 1, 1}};
  /* Tile rows per group: their A panels (MR x k floats each) within about 512 KiB. */
  size_t group = (512u << 10) / (mr * (g->k ? g->k : 1) * sizeof(float));
  if (group < 1) group = 1;
  if (group > mt) group = mt;
  clgan_gemm_im2col v = l->b_im2col ? *l->b_im2col : (clgan_gemm_im2col){0};
  /* The profile counts the three launches as one "gemm", as it counts CLBlast's kernels. */
  cl_event mark = profile_mark(dev), ev[3] = {NULL, NULL, NULL};
  clgan_arg aa[] = {CLGAN_BUF(g->a),        CLGAN_INT(g->a_off),      CLGAN_INT(g->lda),
                    CLGAN_INT(l->a.blk),    CLGAN_INT(l->a.bstride),  CLGAN_INT(g->trans_a),
                    CLGAN_INT(g->m),        CLGAN_INT(g->k),          CLGAN_INT(mt),
                    CLGAN_BUF(&dev->pack_a)};
  clgan_arg ba[] = {CLGAN_BUF(g->b),       CLGAN_INT(g->b_off),     CLGAN_INT(g->ldb),
                    CLGAN_INT(l->b.blk),   CLGAN_INT(l->b.bstride), CLGAN_INT(g->trans_b),
                    CLGAN_INT(g->n),       CLGAN_INT(g->k),         CLGAN_INT(nt),
                    CLGAN_BUF(&dev->pack_b)};
  clgan_arg bi[] = {CLGAN_BUF(g->b),      CLGAN_INT(g->b_off),  CLGAN_INT(g->trans_b),
                    CLGAN_INT(g->n),      CLGAN_INT(g->k),      CLGAN_INT(nt),
                    CLGAN_INT(v.c),       CLGAN_INT(v.h),       CLGAN_INT(v.w),
                    CLGAN_INT(v.kh),      CLGAN_INT(v.kw),      CLGAN_INT(v.stride),
                    CLGAN_INT(v.pad),     CLGAN_INT(v.ho),      CLGAN_INT(v.wo),
                    CLGAN_BUF(&dev->pack_b)};
  clgan_arg ma[] = {CLGAN_BUF(a_direct ? g->a : &dev->pack_a), CLGAN_INT(a_direct),
                    CLGAN_INT(g->a_off),     CLGAN_INT(g->lda),       CLGAN_INT(g->trans_a),
                    CLGAN_BUF(b_direct ? g->b : &dev->pack_b), CLGAN_INT(b_direct),
                    CLGAN_INT(g->b_off),     CLGAN_INT(g->ldb),       CLGAN_INT(g->k),
                    CLGAN_BUF(g->c),         CLGAN_INT(g->c_off),     CLGAN_INT(g->ldc),
                    CLGAN_INT(l->c.blk),     CLGAN_INT(l->c.bstride), CLGAN_INT(g->m),
                    CLGAN_INT(g->n),         CLGAN_FLOAT(g->alpha),   CLGAN_FLOAT(g->beta),
                    CLGAN_BUF(l->bias ? l->bias : g->c), CLGAN_INT(l->bias ? 1 + (l->bias_columns != 0) : 0),
                    CLGAN_INT(mt),           CLGAN_INT(nt),           CLGAN_INT(group)};
  if (!a_direct) st = clgan_launch_event(dev, pack_a, ra, 10, aa, &ev[0]);
  if (!st && !b_direct)
    st = l->b_im2col ? clgan_launch_event(dev, pack_b, rb, 16, bi, &ev[1])
                     : clgan_launch_event(dev, pack_b, rb, 10, ba, &ev[1]);
  if (!st) st = clgan_launch_event(dev, micro, rm, 24, ma, &ev[2]);
  for (int i = 0; i < 2; i++)
    if (ev[i]) clReleaseEvent(ev[i]);
  if (st) {
    if (mark) clReleaseEvent(mark);
    if (ev[2]) clReleaseEvent(ev[2]);
    return st;
  }
  profile_gemm(dev, mark, ev[2]);
  return CLGAN_OK;
}

static clgan_status refuse(const clgan_gemm_args *g, const char *why) {
  clgan_error("%s: GEMM of %zu x %zu x %zu (ta %d, tb %d; lda %zu, ldb %zu, ldc %zu; offsets "
              "%zu, %zu, %zu; buffers of %zu, %zu and %zu bytes): %s",
              clgan_status_message(CLGAN_INVALID_ARGUMENT), g->m, g->n, g->k, g->trans_a,
              g->trans_b, g->lda, g->ldb, g->ldc, g->a_off, g->b_off, g->c_off, g->a->bytes,
              g->b->bytes, g->c->bytes, why);
  return CLGAN_INVALID_ARGUMENT;
}

/* The packed kernels index with ints: a buffer past INT_MAX floats goes to CLBlast. */
static int packed_ints(const clgan_gemm_args *g) {
  return g->a->bytes / sizeof(float) <= INT_MAX && g->b->bytes / sizeof(float) <= INT_MAX &&
         g->c->bytes / sizeof(float) <= INT_MAX;
}

clgan_status clgan_gemm_ex(clgan_device *dev, const clgan_gemm_args *g,
                           const clgan_gemm_layout *layout) {
  if (!layout) return clgan_gemm(dev, g);
  if (g->m == 0 || g->n == 0) return CLGAN_OK;
  if (dev->gemm != CLGAN_GEMM_PACKED || !packed_ints(g))
    return refuse(g, "operand layouts need clgan's packed GEMM (CLGAN_GEMM=packed)");
  if (!packed_fits(g, layout)) return refuse(g, "the operands do not fit their buffers");
  if (dev->gemm_log) log_shape(dev, g);
  if (g->k == 0) {
    /* No products: C = beta C (+ bias) through a k of 1 over zero panels would read garbage;
     * the caller's convolutions never ask for it. */
    return refuse(g, "k = 0 with a layout");
  }
  return gemm_packed(dev, g, layout);
}

clgan_status clgan_gemm(clgan_device *dev, const clgan_gemm_args *g) {
  if (g->m == 0 || g->n == 0) return CLGAN_OK;
  if (dev->gemm_log) log_shape(dev, g);
  cl_event ev = NULL;
  CLBlastTranspose ta = g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
  CLBlastTranspose tb = g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
  size_t splits = splitk_factor(dev, g);
  if (splits > 1) {
    /* CLBlast checks A and B of the batched call; C is written by clgan's kernel. */
    if (g->ldc < g->n || (g->c_off + (g->m - 1) * g->ldc + g->n) * sizeof(float) > g->c->bytes) {
      clgan_error("%s: GEMM C of %zu x %zu (ldc %zu, offset %zu) does not fit its buffer of %zu "
                  "bytes", clgan_status_message(CLGAN_INVALID_ARGUMENT), g->m, g->n, g->ldc,
                  g->c_off, g->c->bytes);
      return CLGAN_INVALID_ARGUMENT;
    }
    return gemm_splitk(dev, g, splits, ta, tb);
  }
  if (dev->gemm == CLGAN_GEMM_PACKED && g->k > 0 && packed_ints(g)) {
    if (!packed_fits(g, &plain_layout)) return refuse(g, "the operands do not fit their buffers");
    return gemm_packed(dev, g, &plain_layout);
  }
  size_t temp = 0;
  CLBlastStatusCode c = CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, ta, tb, g->m, g->n, g->k,
                                                   g->a_off, g->lda, g->b_off, g->ldb, g->c_off,
                                                   g->ldc, &dev->queue, &temp);
  if (c == CLBlastSuccess && temp > dev->gemm_temp_bytes) {
    /* Commands already enqueued keep the old buffer alive until they finish. */
    if (dev->gemm_temp) clReleaseMemObject(dev->gemm_temp);
    cl_int err = CL_SUCCESS;
    dev->gemm_temp = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, temp, NULL, &err);
    dev->gemm_temp_bytes = err == CL_SUCCESS ? temp : 0;
    if (err != CL_SUCCESS) {
      dev->gemm_temp = NULL;
      return clgan_cl_fail(err, "clCreateBuffer (GEMM scratch)", __FILE__, __LINE__);
    }
  }
  cl_event mark = c == CLBlastSuccess ? profile_mark(dev) : NULL;
  if (c == CLBlastSuccess && dev->gemm_temp)
    c = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, ta, tb, g->m, g->n, g->k, g->alpha,
                                   (cl_mem)g->a->mem, g->a_off, g->lda, (cl_mem)g->b->mem, g->b_off,
                                   g->ldb, g->beta, (cl_mem)g->c->mem, g->c_off, g->ldc,
                                   &dev->queue, dev->profile ? &ev : NULL, dev->gemm_temp);
  else if (c == CLBlastSuccess)
    c = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, g->m, g->n, g->k, g->alpha, (cl_mem)g->a->mem,
                     g->a_off, g->lda, (cl_mem)g->b->mem, g->b_off, g->ldb, g->beta,
                     (cl_mem)g->c->mem, g->c_off, g->ldc, &dev->queue, dev->profile ? &ev : NULL);
  if (c != CLBlastSuccess) {
    if (mark) clReleaseEvent(mark);
    char call[160];
    snprintf(call, sizeof call, "CLBlastSgemm(m=%zu, n=%zu, k=%zu, ta=%d, tb=%d, lda=%zu, ldb=%zu, ldc=%zu)",
             g->m, g->n, g->k, g->trans_a, g->trans_b, g->lda, g->ldb, g->ldc);
    return clgan_clblast_fail((int)c, call, __FILE__, __LINE__);
  }
  profile_gemm(dev, mark, ev);
  return CLGAN_OK;
}

void clgan_gemm_tolerance(size_t k, double *atol, double *rtol) {
  *atol = 1e-4 + 2e-6 * (double)k;
  *rtol = 1e-4;
}

double clgan_gemm_error_ratio(size_t k, const float *c, const float *ref, size_t count,
                              size_t *worst) {
  double atol, rtol, max = 0.0;
  size_t at = 0;
  clgan_gemm_tolerance(k, &atol, &rtol);
  for (size_t i = 0; i < count; i++) {
    double e = fabs((double)c[i] - (double)ref[i]) / (atol + rtol * fabs((double)ref[i]));
    if (!(e <= max)) { /* NaN included */
      max = e == e ? e : INFINITY;
      at = i;
    }
  }
  if (worst) *worst = at;
  return max;
}

void clgan_gemm_reference(const clgan_gemm_args *g, const float *a, const float *b, float *c) {
  for (size_t i = 0; i < g->m; i++) {
    for (size_t j = 0; j < g->n; j++) {
      double acc = 0.0;
      for (size_t p = 0; p < g->k; p++) {
        double x = g->trans_a ? a[g->a_off + p * g->lda + i] : a[g->a_off + i * g->lda + p];
        double y = g->trans_b ? b[g->b_off + j * g->ldb + p] : b[g->b_off + p * g->ldb + j];
        acc += x * y;
      }
      float *out = &c[g->c_off + i * g->ldc + j];
      *out = (float)(g->alpha * acc + (g->beta != 0.0f ? (double)g->beta * *out : 0.0));
    }
  }
}

/* ---- Build information ---------------------------------------------------------------------- */

#define CLGAN_STR_(x) #x
#define CLGAN_STR(x) CLGAN_STR_(x)

void clgan_build_info_get(clgan_build_info *info) {
  if (!info) return;
  info->cl_target = CL_TARGET_OPENCL_VERSION;
  /* FindOpenCL's OpenCL_VERSION_STRING: the newest CL_VERSION_x_y the headers define. */
#ifdef CLGAN_OPENCL_HEADERS_VERSION
  info->cl_headers = CLGAN_OPENCL_HEADERS_VERSION;
#else
  info->cl_headers = "unknown";
#endif
  info->clblast = CLGAN_STR(CLBLAST_VERSION_MAJOR) "." CLGAN_STR(CLBLAST_VERSION_MINOR) "." CLGAN_STR(
      CLBLAST_VERSION_PATCH);
}
