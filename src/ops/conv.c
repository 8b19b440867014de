/* 2-D convolution (torch.nn.Conv2d) and transposed convolution (torch.nn.ConvTranspose2d),
 * NCHW, stride and symmetric zero padding, no dilation or groups, through clgan_gemm and the
 * im2col/col2im/permutation kernels of cl/conv.cl, with their C references. With clgan's packed
 * GEMM (CPU devices) only col2im remains of those kernels: see "The packed GEMM's way" below.
 *
 * Both ops share one geometry, a Conv2d's: an image side (N, C, H, W) and a window side
 * (N, O, Ho, Wo), with the weight as an (O, K) matrix, K = C*KH*KW. For Conv2d the image is
 * the input and the weight (C_out, C_in, KH, KW) is that matrix as stored; for
 * ConvTranspose2d the image is the output, the window side the input, and the weight
 * (C_in, C_out, KH, KW) is again that matrix as stored. So:
 *   conv forward       Yt = W col(x)            (O, N*P) = (O, K)(K, N*P), then to NCHW
 *   conv backward      dW (+)= dYt col(x)^T;    col(dx) = W^T dYt, col2im -> dx
 *   convT forward      col(y) = W^T Xt,         col2im -> y       (conv backward-data)
 *   convT backward     dXt = W col(dy)          (conv forward);   dW (+)= Xt col(dy)^T
 * where col() is the batched im2col (K, N*P) and Xt, Yt are (channels, N*P) "CNHW" copies.
 * For the dW products col() is built transposed, (N*P, K), so that no GEMM has B transposed.
 *
 * Measured on PoCL (2 cores, batch 64, DCGAN shapes; figures in the h-conv report):
 * - batched rather than per sample: one GEMM per product over the whole batch, so k or n is
 *   N*P (thousands) instead of P (tens); 1.3x (small layers) to 4.3x (convT 256->128) faster
 *   than 64 per-sample GEMMs, at the cost of one permutation pass over the window side;
 * - B-transposed GEMMs run 1.2 to 3x slower than NN/TN on these shapes;
 * - these im2col/col2im kernels (one launch per batch) are 2.3 to 5x faster than CLBlast's
 *   Xim2col/Xcol2im, which take one image per call, so src/device/ wraps neither.
 * The workspace holds col(), K*N*P floats, then the CNHW copy, O*N*P floats.
 *
 * The WGAN-GP double backward of a conv layer reuses these ops unchanged; the derivation is in
 * docs/wgan-gp.md. */

#include "clgan/ops.h"
#include "ops/internal.h"

typedef struct {
  int n, c, h, w; /* image side: Conv2d input, ConvTranspose2d output */
  int o, ho, wo;  /* window side: Conv2d output, ConvTranspose2d input */
  int kh, kw, stride, pad;
  int k, p; /* K = c*kh*kw rows of col(), P = ho*wo window positions per sample */
} geom;

void clgan_conv2d_out_hw(const clgan_conv_shape *sh, int *h_out, int *w_out) {
  *h_out = (sh->h_in + 2 * sh->pad - sh->kh) / sh->stride + 1;
  *w_out = (sh->w_in + 2 * sh->pad - sh->kw) / sh->stride + 1;
}

void clgan_convT2d_out_hw(const clgan_conv_shape *sh, int *h_out, int *w_out) {
  *h_out = (sh->h_in - 1) * sh->stride - 2 * sh->pad + sh->kh;
  *w_out = (sh->w_in - 1) * sh->stride - 2 * sh->pad + sh->kw;
}

static geom make_geom(const clgan_conv_shape *sh, int transposed) {
  geom g = {.n = sh->n, .kh = sh->kh, .kw = sh->kw, .stride = sh->stride, .pad = sh->pad};
  if (transposed) {
    g.c = sh->c_out, g.o = sh->c_in, g.ho = sh->h_in, g.wo = sh->w_in;
    clgan_convT2d_out_hw(sh, &g.h, &g.w);
  } else {
    g.c = sh->c_in, g.o = sh->c_out, g.h = sh->h_in, g.w = sh->w_in;
    clgan_conv2d_out_hw(sh, &g.ho, &g.wo);
  }
  g.k = g.c * g.kh * g.kw;
  g.p = g.ho * g.wo;
  return g;
}

/* Validates a shape (every size kernels index with int) and yields its geometry. */
static clgan_status check_geom(const clgan_conv_shape *sh, int transposed, const char *op,
                               geom *g) {
  if (!sh || sh->n < 0 || sh->c_in < 1 || sh->c_out < 1 || sh->h_in < 1 || sh->w_in < 1 ||
      sh->kh < 1 || sh->kw < 1 || sh->stride < 1 || sh->pad < 0 || sh->kh > 1 << 14 ||
      sh->kw > 1 << 14 || sh->stride > 1 << 14 || sh->pad > 1 << 14) {
    if (!sh)
      clgan_error("%s: %s: shape is missing", clgan_status_message(CLGAN_INVALID_ARGUMENT), op);
    else
      clgan_error("%s: %s: bad shape n=%d c_in=%d h_in=%d w_in=%d c_out=%d kh=%d kw=%d "
                  "stride=%d pad=%d", clgan_status_message(CLGAN_INVALID_ARGUMENT), op, sh->n,
                  sh->c_in, sh->h_in, sh->w_in, sh->c_out, sh->kh, sh->kw, sh->stride, sh->pad);
    return CLGAN_INVALID_ARGUMENT;
  }
  clgan_status st;
  if ((st = ops_check_count((long long)sh->h_in * sh->stride, op, "h_in * stride")) ||
      (st = ops_check_count((long long)sh->w_in * sh->stride, op, "w_in * stride")))
    return st;
  *g = make_geom(sh, transposed);
  if (g->h < 1 || g->w < 1 || g->ho < 1 || g->wo < 1) {
    clgan_error("%s: %s: the output of %s would be %dx%d (h_in=%d w_in=%d kh=%d kw=%d stride=%d "
                "pad=%d)", clgan_status_message(CLGAN_INVALID_ARGUMENT), op,
                transposed ? "ConvTranspose2d" : "Conv2d", transposed ? g->h : g->ho,
                transposed ? g->w : g->wo, sh->h_in, sh->w_in, sh->kh, sh->kw, sh->stride,
                sh->pad);
    return CLGAN_INVALID_ARGUMENT;
  }
  long long np = (long long)g->n * g->ho * g->wo;
  if ((st = ops_check_count((long long)g->c * g->kh * g->kw, op, "C*KH*KW")) ||
      (st = ops_check_count((long long)g->n * g->c * g->h * g->w, op, "image size")) ||
      (st = ops_check_count((long long)g->o * g->c * g->kh * g->kw, op, "weight size")) ||
      (st = ops_check_count(np * g->o, op, "output size")) ||
      (st = ops_check_count(np * (g->k + (long long)g->o), op, "workspace size")))
    return st;
  return CLGAN_OK;
}

/* col(), the CNHW copy, and 16 floats that conv_col2im_k4s2's vector loads may read past. */
static size_t workspace_floats(const geom *g) {
  return (size_t)g->n * g->p * ((size_t)g->k + g->o) + 16;
}

size_t clgan_conv2d_workspace(const clgan_conv_shape *sh) {
  geom g = make_geom(sh, 0);
  return workspace_floats(&g);
}

size_t clgan_convT2d_workspace(const clgan_conv_shape *sh) {
  geom g = make_geom(sh, 1);
  return workspace_floats(&g);
}

/* ---- Kernel launches on a geometry ------------------------------------------------------ */

static size_t image_bytes(const geom *g) {
  return (size_t)g->n * g->c * g->h * g->w * sizeof(float);
}
static size_t window_bytes(const geom *g) { return (size_t)g->n * g->o * g->p * sizeof(float); }
static size_t weight_bytes(const geom *g) { return (size_t)g->o * g->k * sizeof(float); }
static int col_floats(const geom *g) { return g->k * g->n * g->p; } /* offset of the CNHW copy */

/* A 2-D range whose first dimension runs along memory: groups of 64 x 1, so a dimension of
 * size 1 (one channel) does not leave most of each group idle. */
static clgan_range range_2d(size_t x, size_t y) {
  return (clgan_range){.dims = 2, .global = {x, y, 1}, .local = {64, 1, 1}};
}

/* col() of an image into the workspace at offset 0: (K, N*P) or, transposed, (N*P, K). */
static clgan_status im2col(clgan_device *dev, const geom *g, clgan_buffer *ws,
                           const clgan_buffer *img, int transposed) {
  clgan_kernel *k = NULL;
  clgan_status st = ops_kernel_get(dev, "conv.cl", "conv_im2col", &k);
  if (st) return st;
  int np = g->n * g->p;
  return CLGAN_LAUNCH(dev, k, range_2d((size_t)np, (size_t)g->c), CLGAN_BUF(ws), CLGAN_INT(0),
                      CLGAN_INT(transposed ? 1 : np), CLGAN_INT(transposed ? g->k : 1),
                      CLGAN_BUF(img), CLGAN_INT(g->n), CLGAN_INT(g->c), CLGAN_INT(g->h),
                      CLGAN_INT(g->w), CLGAN_INT(g->kh), CLGAN_INT(g->kw), CLGAN_INT(g->stride),
                      CLGAN_INT(g->pad), CLGAN_INT(g->ho), CLGAN_INT(g->wo));
}

/* An image from the (K, N*P) col() at offset 0 of the workspace, plus bias if given. */
static clgan_status col2im(clgan_device *dev, const geom *g, clgan_buffer *img,
                           const clgan_buffer *ws, const clgan_buffer *bias) {
  clgan_kernel *k = NULL;
  clgan_range planes = {.dims = 1, .global = {(size_t)g->n * g->c, 1, 1}, .local = {1, 1, 1}};
  if (g->kh == 4 && g->kw == 4 && g->stride == 2 && g->pad == 1 && g->h == 2 * g->ho &&
      g->w == 2 * g->wo && g->wo <= 16) {
    /* DCGAN's windows, a pixel row at a time (cl/conv.cl): 1.2-1.9x the general kernel's
     * speed, the same sums. */
    clgan_status st = ops_kernel_get(dev, "conv.cl", "conv_col2im_k4s2", &k);
    if (st) return st;
    return CLGAN_LAUNCH(dev, k, planes, CLGAN_BUF(img), CLGAN_BUF(ws), CLGAN_INT(0),
                        CLGAN_BUF(bias ? bias : ws), CLGAN_INT(bias != NULL), CLGAN_INT(g->n),
                        CLGAN_INT(g->c), CLGAN_INT(g->ho), CLGAN_INT(g->wo));
  }
  clgan_status st = ops_kernel_get(dev, "conv.cl", "conv_col2im", &k);
  if (st) return st;
  return CLGAN_LAUNCH(dev, k, planes, CLGAN_BUF(img),
                      CLGAN_BUF(ws), CLGAN_INT(0), CLGAN_BUF(bias ? bias : ws),
                      CLGAN_INT(bias != NULL), CLGAN_INT(g->n), CLGAN_INT(g->c), CLGAN_INT(g->h),
                      CLGAN_INT(g->w), CLGAN_INT(g->kh), CLGAN_INT(g->kw), CLGAN_INT(g->stride),
                      CLGAN_INT(g->pad), CLGAN_INT(g->ho), CLGAN_INT(g->wo));
}

/* Window-side tensor (N, O, P) to its CNHW copy in the workspace, and back. */
static clgan_status to_cnhw(clgan_device *dev, const geom *g, clgan_buffer *ws,
                            const clgan_buffer *x) {
  clgan_kernel *k = NULL;
  clgan_status st = ops_kernel_get(dev, "conv.cl", "conv_to_cnhw", &k);
  if (st) return st;
  return CLGAN_LAUNCH(dev, k, range_2d((size_t)g->p, (size_t)g->n * g->o), CLGAN_BUF(ws),
                      CLGAN_INT(col_floats(g)), CLGAN_BUF(x), CLGAN_INT(g->n), CLGAN_INT(g->o),
                      CLGAN_INT(g->p));
}

static clgan_status from_cnhw(clgan_device *dev, const geom *g, clgan_buffer *y,
                              const clgan_buffer *ws, const clgan_buffer *bias) {
  clgan_kernel *k = NULL;
  clgan_status st = ops_kernel_get(dev, "conv.cl", "conv_from_cnhw", &k);
  if (st) return st;
  return CLGAN_LAUNCH(dev, k, range_2d((size_t)g->p, (size_t)g->n * g->o), CLGAN_BUF(y),
                      CLGAN_BUF(ws), CLGAN_INT(col_floats(g)), CLGAN_BUF(bias ? bias : ws),
                      CLGAN_INT(bias != NULL), CLGAN_INT(g->n), CLGAN_INT(g->o), CLGAN_INT(g->p));
}

/* db[c] (+)= sum over the batch and positions of dy (n, c, p). */
static clgan_status bias_backward(clgan_device *dev, clgan_buffer *db, const clgan_buffer *dy,
                                  int n, int c, int p, int accumulate) {
  clgan_kernel *k = NULL;
  clgan_status st = ops_kernel_get(dev, "conv.cl", "conv_bias_backward", &k);
  if (st) return st;
  size_t local = ops_reduce_local(dev);
  if (local > 64) local = 64; /* a batch of positions is short; more items only wait */
  clgan_range r = {.dims = 1, .global = {(size_t)c * local, 1, 1}, .local = {local, 1, 1}};
  return CLGAN_LAUNCH(dev, k, r, CLGAN_BUF(db), CLGAN_BUF(dy), CLGAN_INT(n), CLGAN_INT(c),
                      CLGAN_INT(p), CLGAN_INT(accumulate != 0),
                      CLGAN_LOCAL(local * sizeof(float)));
}

/* The three products, all row-major over the workspace: col() at offset 0 is (K, N*P), the
 * CNHW copy at col_floats() is (O, N*P), the weight is (O, K). */
static clgan_status gemm_window_from_col(clgan_device *dev, const geom *g, clgan_buffer *ws,
                                         const clgan_buffer *w) {
  size_t np = (size_t)g->n * g->p;
  clgan_gemm_args a = {.m = (size_t)g->o, .n = np, .k = (size_t)g->k, .alpha = 1.0f,
                       .beta = 0.0f, .a = w, .lda = (size_t)g->k, .b = ws, .ldb = np,
                       .c = ws, .c_off = (size_t)col_floats(g), .ldc = np};
  return clgan_gemm(dev, &a);
}

static clgan_status gemm_col_from_window(clgan_device *dev, const geom *g, clgan_buffer *ws,
                                         const clgan_buffer *w) {
  size_t np = (size_t)g->n * g->p;
  clgan_gemm_args a = {.trans_a = 1, .m = (size_t)g->k, .n = np, .k = (size_t)g->o,
                       .alpha = 1.0f, .beta = 0.0f, .a = w, .lda = (size_t)g->k, .b = ws,
                       .b_off = (size_t)col_floats(g), .ldb = np, .c = ws, .ldc = np};
  return clgan_gemm(dev, &a);
}

/* dW (O, K) (+)= window (O, N*P) x col()^T, with col() built transposed, (N*P, K), so that
 * the product is NN: CLBlast on PoCL runs these shapes 1.2 to 3x slower with B transposed
 * (bench/conv_bench.c --gemm; the figures are in the h-conv report). */
static clgan_status gemm_weight_grad(clgan_device *dev, const geom *g, clgan_buffer *dw,
                                     const clgan_buffer *ws, int accumulate) {
  size_t np = (size_t)g->n * g->p;
  clgan_gemm_args a = {.m = (size_t)g->o, .n = (size_t)g->k, .k = np, .alpha = 1.0f,
                       .beta = accumulate ? 1.0f : 0.0f, .a = ws,
                       .a_off = (size_t)col_floats(g), .lda = np, .b = ws, .ldb = (size_t)g->k,
                       .c = dw, .ldc = (size_t)g->k};
  return clgan_gemm(dev, &a);
}

/* ---- The packed GEMM's way: the tensors read in place ------------------------------------
 * clgan's packed GEMM (CPU devices) reads col() straight from the image and a window-side
 * tensor (N, O, P) as the (O, N*P) matrix it is in blocks of P columns (clgan_gemm_ex), and
 * writes the window side and its bias the same way: no im2col, no CNHW copies, no bias pass.
 * Only col2im, a sum over overlapping windows, remains. Same products, same order of the sum
 * over k: the results are those of the copies. */
static int packed(clgan_device *dev) { return clgan_device_gemm(dev) == CLGAN_GEMM_PACKED; }

static clgan_gemm_blocks window_blocks(const geom *g) {
  return (clgan_gemm_blocks){.blk = g->p, .bstride = (size_t)g->o * g->p};
}

static clgan_gemm_im2col image_cols(const geom *g) {
  return (clgan_gemm_im2col){g->n, g->c, g->h, g->w, g->kh, g->kw, g->stride, g->pad, g->ho, g->wo};
}

/* window (O, N*P) = W (O, K) col(img) (+ bias), written into the (N, O, P) tensor y. */
static clgan_status packed_window_from_image(clgan_device *dev, const geom *g, clgan_buffer *y,
                                             const clgan_buffer *w, const clgan_buffer *img,
                                             const clgan_buffer *bias) {
  clgan_gemm_im2col v = image_cols(g);
  clgan_gemm_layout l = {.c = window_blocks(g), .b_im2col = &v, .bias = bias};
  clgan_gemm_args a = {.m = (size_t)g->o, .n = (size_t)g->n * g->p, .k = (size_t)g->k,
                       .alpha = 1.0f, .a = w, .lda = (size_t)g->k, .b = img, .c = y,
                       .ldc = (size_t)g->p};
  return clgan_gemm_ex(dev, &a, &l);
}

/* col (K, N*P) in the workspace = W^T window, the window read from the (N, O, P) tensor x. */
static clgan_status packed_col_from_window(clgan_device *dev, const geom *g, clgan_buffer *ws,
                                           const clgan_buffer *w, const clgan_buffer *x) {
  size_t np = (size_t)g->n * g->p;
  clgan_gemm_layout l = {.b = window_blocks(g)};
  clgan_gemm_args a = {.trans_a = 1, .m = (size_t)g->k, .n = np, .k = (size_t)g->o,
                       .alpha = 1.0f, .a = w, .lda = (size_t)g->k, .b = x, .ldb = (size_t)g->p,
                       .c = ws, .ldc = np};
  return clgan_gemm_ex(dev, &a, &l);
}

/* dW (O, K) (+)= window (O, N*P) col(img)^T, the window read from the (N, O, P) tensor x. */
static clgan_status packed_weight_grad(clgan_device *dev, const geom *g, clgan_buffer *dw,
                                       const clgan_buffer *x, const clgan_buffer *img,
                                       int accumulate) {
  clgan_gemm_im2col v = image_cols(g);
  clgan_gemm_layout l = {.a = window_blocks(g), .b_im2col = &v};
  clgan_gemm_args a = {.trans_b = 1, .m = (size_t)g->o, .n = (size_t)g->k,
                       .k = (size_t)g->n * g->p, .alpha = 1.0f, .beta = accumulate ? 1.0f : 0.0f,
                       .a = x, .lda = (size_t)g->p, .b = img, .c = dw, .ldc = (size_t)g->k};
  return clgan_gemm_ex(dev, &a, &l);
}

/* An empty batch has no terms: weight and bias gradients are 0, or keep their values. */
static clgan_status empty_batch_grads(clgan_device *dev, const geom *g, clgan_buffer *dw,
                                      clgan_buffer *db, int bias_len, int accumulate) {
  clgan_status st = CLGAN_OK;
  if (accumulate) return st;
  if (dw && (st = clgan_fill(dev, dw, g->o * g->k, 0.0f))) return st;
  if (db) st = clgan_fill(dev, db, bias_len, 0.0f);
  return st;
}

/* ---- Conv2d ----------------------------------------------------------------------------- */

clgan_status clgan_conv2d_forward(clgan_device *dev, const clgan_conv_shape *sh, clgan_buffer *y,
                                  const clgan_buffer *x, const clgan_buffer *w,
                                  const clgan_buffer *b, clgan_buffer *col) {
  static const char op[] = "clgan_conv2d_forward";
  clgan_status st;
  geom g;
  if ((st = check_geom(sh, 0, op, &g))) return st;
  if (g.n == 0) return CLGAN_OK;
  if ((st = ops_check_buf(y, window_bytes(&g), op, "y")) ||
      (st = ops_check_buf(x, image_bytes(&g), op, "x")) ||
      (st = ops_check_buf(w, weight_bytes(&g), op, "w")) ||
      (b && (st = ops_check_buf(b, (size_t)g.o * sizeof(float), op, "b"))) ||
      (st = ops_check_buf(col, workspace_floats(&g) * sizeof(float), op, "col")))
    return st;
  if (packed(dev)) return packed_window_from_image(dev, &g, y, w, x, b);
  if ((st = im2col(dev, &g, col, x, 0)) || (st = gemm_window_from_col(dev, &g, col, w)))
    return st;
  return from_cnhw(dev, &g, y, col, b);
}

clgan_status clgan_conv2d_backward(clgan_device *dev, const clgan_conv_shape *sh,
                                   clgan_buffer *dx, clgan_buffer *dw, clgan_buffer *db,
                                   const clgan_buffer *dy, const clgan_buffer *x,
                                   const clgan_buffer *w, clgan_buffer *col, int accumulate) {
  static const char op[] = "clgan_conv2d_backward";
  clgan_status st;
  geom g;
  if ((st = check_geom(sh, 0, op, &g))) return st;
  if ((dw && (st = ops_check_buf(dw, weight_bytes(&g), op, "dw"))) ||
      (db && (st = ops_check_buf(db, (size_t)g.o * sizeof(float), op, "db"))))
    return st;
  if (g.n == 0) return empty_batch_grads(dev, &g, dw, db, g.o, accumulate);
  if ((st = ops_check_buf(dy, window_bytes(&g), op, "dy")) ||
      (dx && (st = ops_check_buf(dx, image_bytes(&g), op, "dx"))) ||
      (dx && (st = ops_check_buf(w, weight_bytes(&g), op, "w"))) ||
      (dw && (st = ops_check_buf(x, image_bytes(&g), op, "x"))) ||
      ((dx || dw) && (st = ops_check_buf(col, workspace_floats(&g) * sizeof(float), op, "col"))))
    return st;
  if (db && (st = bias_backward(dev, db, dy, g.n, g.o, g.p, accumulate))) return st;
  if (!dx && !dw) return CLGAN_OK;
  if (packed(dev)) {
    if (dw && (st = packed_weight_grad(dev, &g, dw, dy, x, accumulate))) return st;
    if (dx && ((st = packed_col_from_window(dev, &g, col, w, dy)) ||
               (st = col2im(dev, &g, dx, col, NULL))))
      return st;
    return CLGAN_OK;
  }
  if ((st = to_cnhw(dev, &g, col, dy))) return st;
  if (dw && ((st = im2col(dev, &g, col, x, 1)) ||
             (st = gemm_weight_grad(dev, &g, dw, col, accumulate))))
    return st;
  if (dx &&
      ((st = gemm_col_from_window(dev, &g, col, w)) || (st = col2im(dev, &g, dx, col, NULL))))
    return st;
  return CLGAN_OK;
}

/* ---- ConvTranspose2d -------------------------------------------------------------------- */

clgan_status clgan_convT2d_forward(clgan_device *dev, const clgan_conv_shape *sh,
                                   clgan_buffer *y, const clgan_buffer *x, const clgan_buffer *w,
                                   const clgan_buffer *b, clgan_buffer *col) {
  static const char op[] = "clgan_convT2d_forward";
  clgan_status st;
  geom g;
  if ((st = check_geom(sh, 1, op, &g))) return st;
  if (g.n == 0) return CLGAN_OK;
  if ((st = ops_check_buf(y, image_bytes(&g), op, "y")) ||
      (st = ops_check_buf(x, window_bytes(&g), op, "x")) ||
      (st = ops_check_buf(w, weight_bytes(&g), op, "w")) ||
      (b && (st = ops_check_buf(b, (size_t)g.c * sizeof(float), op, "b"))) ||
      (st = ops_check_buf(col, workspace_floats(&g) * sizeof(float), op, "col")))
    return st;
  if (packed(dev)) {
    if ((st = packed_col_from_window(dev, &g, col, w, x))) return st;
  } else if ((st = to_cnhw(dev, &g, col, x)) || (st = gemm_col_from_window(dev, &g, col, w))) {
    return st;
  }
  return col2im(dev, &g, y, col, b);
}

clgan_status clgan_convT2d_backward(clgan_device *dev, const clgan_conv_shape *sh,
                                    clgan_buffer *dx, clgan_buffer *dw, clgan_buffer *db,
                                    const clgan_buffer *dy, const clgan_buffer *x,
                                    const clgan_buffer *w, clgan_buffer *col, int accumulate) {
  static const char op[] = "clgan_convT2d_backward";
  clgan_status st;
  geom g;
  if ((st = check_geom(sh, 1, op, &g))) return st;
  if ((dw && (st = ops_check_buf(dw, weight_bytes(&g), op, "dw"))) ||
      (db && (st = ops_check_buf(db, (size_t)g.c * sizeof(float), op, "db"))))
    return st;
  if (g.n == 0) return empty_batch_grads(dev, &g, dw, db, g.c, accumulate);
  if ((st = ops_check_buf(dy, image_bytes(&g), op, "dy")) ||
      (dx && (st = ops_check_buf(dx, window_bytes(&g), op, "dx"))) ||
      (dx && (st = ops_check_buf(w, weight_bytes(&g), op, "w"))) ||
      (dw && (st = ops_check_buf(x, window_bytes(&g), op, "x"))) ||
      ((dx || dw) && (st = ops_check_buf(col, workspace_floats(&g) * sizeof(float), op, "col"))))
    return st;
  if (db && (st = bias_backward(dev, db, dy, g.n, g.c, g.h * g.w, accumulate))) return st;
  if (!dx && !dw) return CLGAN_OK;
  if (packed(dev)) {
    if (dx && (st = packed_window_from_image(dev, &g, dx, w, dy, NULL))) return st;
    if (dw && (st = packed_weight_grad(dev, &g, dw, x, dy, accumulate))) return st;
    return CLGAN_OK;
  }
  /* col(dy) in both layouts, one after the other: (K, N*P) for dx, (N*P, K) for dw. */
  if (dx && ((st = im2col(dev, &g, col, dy, 0)) || (st = gemm_window_from_col(dev, &g, col, w)) ||
             (st = from_cnhw(dev, &g, dx, col, NULL))))
    return st;
  if (dw && ((st = im2col(dev, &g, col, dy, 1)) || (st = to_cnhw(dev, &g, col, x)) ||
             (st = gemm_weight_grad(dev, &g, dw, col, accumulate))))
    return st;
  return CLGAN_OK;
}

/* ---- C references: direct loops over the definitions, double accumulation --------------- */

/* Conv2d: y[n,o,oh,ow] = b[o] + sum_{c,i,j} w[o,c,i,j] x[n, c, oh*s - p + i, ow*s - p + j]. */
void clgan_ref_conv2d_forward(const clgan_conv_shape *sh, float *y, const float *x,
                              const float *w, const float *b) {
  int ho, wo, C = sh->c_in, H = sh->h_in, W = sh->w_in, KH = sh->kh, KW = sh->kw;
  clgan_conv2d_out_hw(sh, &ho, &wo);
  for (int n = 0; n < sh->n; n++)
    for (int o = 0; o < sh->c_out; o++)
      for (int oh = 0; oh < ho; oh++)
        for (int ow = 0; ow < wo; ow++) {
          double s = b ? b[o] : 0.0;
          for (int c = 0; c < C; c++)
            for (int i = 0; i < KH; i++)
              for (int j = 0; j < KW; j++) {
                int r = oh * sh->stride - sh->pad + i, q = ow * sh->stride - sh->pad + j;
                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                s += (double)w[((size_t)(o * C + c) * KH + i) * KW + j] *
                     x[((size_t)(n * C + c) * H + r) * W + q];
              }
          y[((size_t)(n * sh->c_out + o) * ho + oh) * wo + ow] = (float)s;
        }
}

/* The transposes of the sum above, each gathered in double: dx from every (o, i, j) whose window
 * covers the pixel, dw over the batch and positions, db over the batch and positions. */
void clgan_ref_conv2d_backward(const clgan_conv_shape *sh, float *dx, float *dw, float *db,
                               const float *dy, const float *x, const float *w, int accumulate) {
  int ho, wo, C = sh->c_in, H = sh->h_in, W = sh->w_in, KH = sh->kh, KW = sh->kw, O = sh->c_out;
  int s = sh->stride, p = sh->pad;
  clgan_conv2d_out_hw(sh, &ho, &wo);
  for (int n = 0; dx && n < sh->n; n++)
    for (int c = 0; c < C; c++)
      for (int r = 0; r < H; r++)
        for (int q = 0; q < W; q++) {
          double acc = 0.0;
          for (int o = 0; o < O; o++)
            for (int i = (r + p) % s; i < KH; i += s) /* the taps with r + p - i = oh*s */
              for (int j = (q + p) % s; j < KW; j += s) {
                int oh = (r + p - i) / s, ow = (q + p - j) / s;
                if (r + p - i < 0 || q + p - j < 0 || oh >= ho || ow >= wo) continue;
                acc += (double)w[((size_t)(o * C + c) * KH + i) * KW + j] *
                       dy[((size_t)(n * O + o) * ho + oh) * wo + ow];
              }
          dx[((size_t)(n * C + c) * H + r) * W + q] = (float)acc;
        }
  for (int o = 0; dw && o < O; o++)
    for (int c = 0; c < C; c++)
      for (int i = 0; i < KH; i++)
        for (int j = 0; j < KW; j++) {
          double acc = 0.0;
          for (int n = 0; n < sh->n; n++)
            for (int oh = 0; oh < ho; oh++)
              for (int ow = 0; ow < wo; ow++) {
                int r = oh * s - p + i, q = ow * s - p + j;
                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                acc += (double)dy[((size_t)(n * O + o) * ho + oh) * wo + ow] *
                       x[((size_t)(n * C + c) * H + r) * W + q];
              }
          float *out = &dw[((size_t)(o * C + c) * KH + i) * KW + j];
          *out = (float)(accumulate ? *out + acc : acc);
        }
  for (int o = 0; db && o < O; o++) {
    double acc = 0.0;
    for (int n = 0; n < sh->n; n++)
      for (int e = 0; e < ho * wo; e++) acc += dy[(size_t)(n * O + o) * ho * wo + e];
    db[o] = (float)(accumulate ? db[o] + acc : acc);
  }
}

/* ConvTranspose2d from its own definition, not through the conv reference: input element
 * x[n,ci,r,q] adds x * w[ci,co,i,j] to y[n, co, r*s - p + i, q*s - p + j]; gathered here per
 * output element over the (ci, i, j) that reach it. */
void clgan_ref_convT2d_forward(const clgan_conv_shape *sh, float *y, const float *x,
                               const float *w, const float *b) {
  int ho, wo, CI = sh->c_in, CO = sh->c_out, H = sh->h_in, W = sh->w_in, KH = sh->kh, KW = sh->kw;
  int s = sh->stride, p = sh->pad;
  clgan_convT2d_out_hw(sh, &ho, &wo);
  for (int n = 0; n < sh->n; n++)
    for (int co = 0; co < CO; co++)
      for (int oh = 0; oh < ho; oh++)
        for (int ow = 0; ow < wo; ow++) {
          double acc = b ? b[co] : 0.0;
          for (int ci = 0; ci < CI; ci++)
            for (int i = (oh + p) % s; i < KH; i += s) /* the taps with oh + p - i = r*s */
              for (int j = (ow + p) % s; j < KW; j += s) {
                int r = (oh + p - i) / s, q = (ow + p - j) / s;
                if (oh + p - i < 0 || ow + p - j < 0 || r >= H || q >= W) continue;
                acc += (double)x[((size_t)(n * CI + ci) * H + r) * W + q] *
                       w[((size_t)(ci * CO + co) * KH + i) * KW + j];
              }
          y[((size_t)(n * CO + co) * ho + oh) * wo + ow] = (float)acc;
        }
}

void clgan_ref_convT2d_backward(const clgan_conv_shape *sh, float *dx, float *dw, float *db,
                                const float *dy, const float *x, const float *w, int accumulate) {
  int ho, wo, CI = sh->c_in, CO = sh->c_out, H = sh->h_in, W = sh->w_in, KH = sh->kh, KW = sh->kw;
  int s = sh->stride, p = sh->pad;
  clgan_convT2d_out_hw(sh, &ho, &wo);
  for (int n = 0; dx && n < sh->n; n++)
    for (int ci = 0; ci < CI; ci++)
      for (int r = 0; r < H; r++)
        for (int q = 0; q < W; q++) {
          double acc = 0.0;
          for (int co = 0; co < CO; co++)
            for (int i = 0; i < KH; i++)
              for (int j = 0; j < KW; j++) {
                int oh = r * s - p + i, ow = q * s - p + j;
                if (oh < 0 || oh >= ho || ow < 0 || ow >= wo) continue;
                acc += (double)w[((size_t)(ci * CO + co) * KH + i) * KW + j] *
                       dy[((size_t)(n * CO + co) * ho + oh) * wo + ow];
              }
          dx[((size_t)(n * CI + ci) * H + r) * W + q] = (float)acc;
        }
  for (int ci = 0; dw && ci < CI; ci++)
    for (int co = 0; co < CO; co++)
      for (int i = 0; i < KH; i++)
        for (int j = 0; j < KW; j++) {
          double acc = 0.0;
          for (int n = 0; n < sh->n; n++)
            for (int r = 0; r < H; r++)
              for (int q = 0; q < W; q++) {
                int oh = r * s - p + i, ow = q * s - p + j;
                if (oh < 0 || oh >= ho || ow < 0 || ow >= wo) continue;
                acc += (double)x[((size_t)(n * CI + ci) * H + r) * W + q] *
                       dy[((size_t)(n * CO + co) * ho + oh) * wo + ow];
              }
          float *out = &dw[((size_t)(ci * CO + co) * KH + i) * KW + j];
          *out = (float)(accumulate ? *out + acc : acc);
        }
  for (int co = 0; db && co < CO; co++) {
    double acc = 0.0;
    for (int n = 0; n < sh->n; n++)
      for (int e = 0; e < ho * wo; e++) acc += dy[(size_t)(n * CO + co) * ho * wo + e];
    db[co] = (float)(accumulate ? db[co] + acc : acc);
  }
}
