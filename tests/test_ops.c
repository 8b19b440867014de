/* The device ops as one table of cases, in the shape of ggml's test-backend-ops: each row names
 * an op, its shape and parameters, and a family (op_kind) that says how to fill its tensors, how
 * to call the device, how to call the C reference, the tolerances, and (where the op has a
 * backward) the reference loss whose central differences the device gradient must match.
 * One generic runner uploads the inputs, runs device and reference on the same values, compares
 * every output with CHECK_CLOSE and runs the finite differences. A new op is one op_kind (a few
 * small functions) and one row per shape; a new shape is one row.
 *
 * Checks that are not "device equals reference" stay in the op's own test_ops_<family>.c:
 * extremes and saturation, NaN propagation, closed forms, optional outputs, refusals,
 * determinism. test_ops_gp.c (a whole critic's double backward) is a network, not an op.
 *
 * `test_ops tanh` runs only the rows whose description contains "tanh"; a failed row is named
 * on stderr. CLGAN_KERNEL_DIR pointing at a copy of cl/ with one kernel changed makes the rows
 * of that op fail without a rebuild. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "ops_testutil.h"

enum { MAXT = 16, MAXG = 3 };

/* One tensor of a case: n floats, uniform in [lo, hi) (zeros when lo == hi == 0). Outputs are
 * filled too (the device sees the same initial values as the reference: accumulate, in place)
 * and compared after the run within atol + rtol * |want| (atol < 0: the kind's atol()). */
typedef struct {
  const char *name;
  size_t n;
  float lo, hi;
  int out;
  double atol, rtol;
  size_t bytes; /* inputs only: the device buffer holds this many bytes of h (uint8 pixels) */
} op_tensor;

typedef struct op_case op_case;

typedef struct {
  const char *name;
  /* Declares the tensors (returns how many). */
  int (*tensors)(const op_case *c, op_tensor *t);
  /* Optional: adjusts the filled host inputs (kinks, ties, copies) before the upload. */
  void (*fill)(const op_case *c, const op_tensor *t, float **h);
  clgan_status (*device)(clgan_device *dev, const op_case *c, clgan_buffer *b);
  /* Computes the outputs in h (which hold the same initial values the device saw). */
  void (*reference)(const op_case *c, float **h);
  /* Optional: an absolute tolerance that depends on the inputs (a sum's scale), for the outputs
   * declared with atol < 0. */
  double (*atol)(const op_case *c, const op_tensor *t, float *const *h);
  /* Optional: rearranges the downloaded outputs and the reference's alike before the compare. */
  void (*prepare)(float **want, float **got);
  /* Optional finite differences: loss is a scalar of the reference forward (it must not change
   * h); for each of the n_grads pairs, its central differences in every element of the input
   * tensor wrt, with the step actually taken after rounding to float, must match the device's
   * output tensor grad. */
  double (*loss)(const op_case *c, float *const *h);
  struct {
    int wrt, grad;
  } grads[MAXG];
  int n_grads;
  /* How many of a row's d the kind reads (0: up to the last non-zero), for the description. */
  int rank;
  /* Optional: names a row's flag in its description ("tanh", "accumulate"). */
  const char *(*flag_name)(int flag);
} op_kind;

static const char *accumulate_name(int flag) { return flag ? "accumulate" : "overwrite"; }
static const char *act_flag_name(int flag) { return clgan_act_name((clgan_act)flag); }

struct op_case {
  const op_kind *kind;
  int d[9];    /* shape: meaning per kind */
  float p[4];  /* parameters: meaning per kind */
  int flag;    /* accumulate, activation, variant: meaning per kind */
  int fd;      /* 1: run the kind's finite differences on this row */
  double fd_h, fd_atol, fd_rtol;
};

static op_tensor T(const char *name, size_t n, float lo, float hi) {
  return (op_tensor){name, n, lo, hi, 0, 0, 0, 0};
}
static op_tensor OUT(const char *name, size_t n, float lo, float hi, double atol, double rtol) {
  return (op_tensor){name, n, lo, hi, 1, atol, rtol, 0};
}
/* An input of bytes bytes (filled by the kind's fill through an uint8_t pointer). */
static op_tensor BYTES(const char *name, size_t bytes) {
  return (op_tensor){name, (bytes + 3) / 4, 0, 0, 0, 0, 0, bytes};
}

/* ---- Bias (cl/bias.cl) ------------------------------------------------------------------ */
/* d = {rows, cols}; flag = accumulate for the backward. */

static int bias_fwd_tensors(const op_case *c, op_tensor *t) {
  size_t nm = (size_t)c->d[0] * c->d[1];
  t[0] = OUT("y", nm, -1, 1, 1e-7, 1e-6);
  t[1] = T("b", (size_t)c->d[1], -1, 1);
  return 2;
}
static clgan_status bias_fwd_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_bias_forward(dev, &b[0], &b[1], c->d[0], c->d[1]);
}
static void bias_fwd_ref(const op_case *c, float **h) {
  clgan_ref_bias_forward(h[0], h[1], c->d[0], c->d[1]);
}
static const op_kind bias_forward = {
    .name = "bias_forward",
    .tensors = bias_fwd_tensors,
    .device = bias_fwd_device,
    .reference = bias_fwd_ref};

static int bias_bwd_tensors(const op_case *c, op_tensor *t) {
  size_t nm = (size_t)c->d[0] * c->d[1];
  t[0] = OUT("db", (size_t)c->d[1], -1, 1, 1e-5, 1e-5);
  t[1] = T("dy", nm, -1, 1);
  t[2] = T("b", (size_t)c->d[1], -1, 1); /* for the loss only */
  t[3] = T("x", nm, -1, 1);              /* for the loss only */
  return 4;
}
static clgan_status bias_bwd_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_bias_backward(dev, &b[0], &b[1], c->d[0], c->d[1], c->flag);
}
static void bias_bwd_ref(const op_case *c, float **h) {
  clgan_ref_bias_backward(h[0], h[1], c->d[0], c->d[1], c->flag);
}
/* L = sum(y .* dy), y = x + b. */
static double bias_loss(const op_case *c, float *const *h) {
  size_t nm = (size_t)c->d[0] * c->d[1];
  float *y = copy_floats(h[3], nm);
  clgan_ref_bias_forward(y, h[2], c->d[0], c->d[1]);
  double l = 0.0;
  for (size_t i = 0; i < nm; i++) l += (double)y[i] * h[1][i];
  free(y);
  return l;
}
static const op_kind bias_backward = {
    .name = "bias_backward",
    .tensors = bias_bwd_tensors,
    .device = bias_bwd_device,
    .reference = bias_bwd_ref,
    .loss = bias_loss,
    .grads = {{2, 0}},
    .n_grads = 1,
    .flag_name = accumulate_name};

/* ---- Activations (cl/activation.cl) ------------------------------------------------------- */
/* d = {n}; flag = clgan_act; p = its parameter. Inputs stay away from the kinks of ReLU and
 * leaky ReLU at 0, where the derivative is not defined. */

static int act_tensors(const op_case *c, op_tensor *t) {
  size_t n = (size_t)c->d[0];
  t[0] = T("x", n, -4, 4);
  t[1] = T("dy", n, -1, 1);
  t[2] = OUT("y", n, 0, 0, 1e-6, 1e-5);
  t[3] = OUT("dx", n, 0, 0, 1e-6, 1e-5);
  return 4;
}
static void act_fill(const op_case *c, const op_tensor *t, float **h) {
  (void)c;
  for (size_t i = 0; i < t[0].n; i++) /* keep |x| >= 0.05: no finite difference across a kink */
    if (fabsf(h[0][i]) < 0.05f) h[0][i] = copysignf(0.05f + fabsf(h[0][i]), h[0][i]);
}
static clgan_status act_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_status st = clgan_act_forward(dev, (clgan_act)c->flag, c->p[0], &b[2], &b[0], c->d[0]);
  if (st != CLGAN_OK) return st;
  return clgan_act_backward(dev, (clgan_act)c->flag, c->p[0], &b[3], &b[1], &b[0], &b[2], c->d[0]);
}
static void act_ref(const op_case *c, float **h) {
  clgan_ref_act_forward((clgan_act)c->flag, c->p[0], h[2], h[0], c->d[0]);
  clgan_ref_act_backward((clgan_act)c->flag, c->p[0], h[3], h[1], h[0], h[2], c->d[0]);
}
/* L = sum(act(x) .* dy). */
static double act_loss(const op_case *c, float *const *h) {
  double l = 0.0;
  for (int i = 0; i < c->d[0]; i++) {
    float y;
    clgan_ref_act_forward((clgan_act)c->flag, c->p[0], &y, &h[0][i], 1);
    l += (double)y * h[1][i];
  }
  return l;
}
static const op_kind act = {
    .name = "act",
    .tensors = act_tensors,
    .fill = act_fill,
    .device = act_device,
    .reference = act_ref,
    .loss = act_loss,
    .grads = {{0, 3}},
    .n_grads = 1,
    .flag_name = act_flag_name};

/* In place: y = act(y) over a copy of x, then dy = dy * act'(.) overwriting dy. */
static int act_inplace_tensors(const op_case *c, op_tensor *t) {
  size_t n = (size_t)c->d[0];
  t[0] = T("x", n, -4, 4);
  t[1] = T("dy", n, -1, 1);
  t[2] = OUT("y (in place over x)", n, 0, 0, 1e-6, 1e-5);
  t[3] = OUT("dx (in place over dy)", n, 0, 0, 1e-6, 1e-5);
  return 4;
}
static void act_inplace_fill(const op_case *c, const op_tensor *t, float **h) {
  act_fill(c, t, h);
  memcpy(h[2], h[0], t[0].n * sizeof(float));
  memcpy(h[3], h[1], t[1].n * sizeof(float));
}
static clgan_status act_inplace_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_status st = clgan_act_forward(dev, (clgan_act)c->flag, c->p[0], &b[2], &b[2], c->d[0]);
  if (st != CLGAN_OK) return st;
  return clgan_act_backward(dev, (clgan_act)c->flag, c->p[0], &b[3], &b[3], &b[0], &b[2], c->d[0]);
}
static void act_inplace_ref(const op_case *c, float **h) {
  clgan_ref_act_forward((clgan_act)c->flag, c->p[0], h[2], h[0], c->d[0]);
  clgan_ref_act_backward((clgan_act)c->flag, c->p[0], h[3], h[1], h[0], h[2], c->d[0]);
}
static const op_kind act_inplace = {
    .name = "act in place",
    .tensors = act_inplace_tensors,
    .fill = act_inplace_fill,
    .device = act_inplace_device,
    .reference = act_inplace_ref,
    .flag_name = act_flag_name};

/* ---- Batch normalisation (cl/batchnorm.cl) ----------------------------------------------- */
/* d = {N, C, S}, p = {eps, momentum}, flag = accumulate for dgamma and dbeta. One chain as a
 * layer runs it: the training forward (y, saved statistics, running statistics), the eval
 * forward with the updated running statistics, and the backward from the saved statistics.
 * The running statistics against PyTorch's convention, and the refusals, stay in
 * test_ops_batchnorm.c. */
enum { BN_X, BN_GAMMA, BN_BETA, BN_RM, BN_RV, BN_Y, BN_MEAN, BN_INVSTD, BN_YEVAL, BN_DY, BN_DX,
       BN_DGAMMA, BN_DBETA, BN_TENSORS };

static clgan_bn_shape bn_shape(const op_case *c) {
  return (clgan_bn_shape){c->d[0], c->d[1], c->d[2], c->p[0], c->p[1]};
}
static int bn_tensors(const op_case *c, op_tensor *t) {
  size_t total = (size_t)c->d[0] * c->d[1] * c->d[2], ch = (size_t)c->d[1];
  t[BN_X] = T("x", total, -2, 2);
  t[BN_GAMMA] = T("gamma", ch, 0.5f, 1.5f);
  t[BN_BETA] = T("beta", ch, -1, 1);
  t[BN_RM] = OUT("running_mean", ch, -0.5f, 0.5f, 1e-5, 1e-5);
  t[BN_RV] = OUT("running_var", ch, 0.5f, 2.0f, 1e-5, 1e-5);
  t[BN_Y] = OUT("y (train)", total, 0, 0, 2e-5, 2e-5);
  t[BN_MEAN] = OUT("mean", ch, 0, 0, 1e-5, 1e-5);
  t[BN_INVSTD] = OUT("invstd", ch, 0, 0, 1e-5, 1e-5);
  t[BN_YEVAL] = OUT("y (eval)", total, 0, 0, 2e-5, 2e-5);
  t[BN_DY] = T("dy", total, -1, 1);
  t[BN_DX] = OUT("dx", total, 0, 0, 1e-5, 1e-4);
  t[BN_DGAMMA] = OUT("dgamma", ch, -1, 1, 1e-4, 1e-4);
  t[BN_DBETA] = OUT("dbeta", ch, -1, 1, 1e-4, 1e-4);
  return BN_TENSORS;
}
/* Channels with their own offset and scale, as real activations have. */
static void bn_fill(const op_case *c, const op_tensor *t, float **h) {
  for (size_t i = 0; i < t[BN_X].n; i++) {
    size_t ch = (i / (size_t)c->d[2]) % (size_t)c->d[1];
    h[BN_X][i] = h[BN_X][i] * (1.0f + (float)ch * 0.5f) + (float)ch - 2.0f;
  }
}
static clgan_status bn_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_bn_shape sh = bn_shape(c);
  clgan_status st = clgan_bn_forward_train(dev, &sh, &b[BN_Y], &b[BN_MEAN], &b[BN_INVSTD],
                                           &b[BN_RM], &b[BN_RV], &b[BN_X], &b[BN_GAMMA],
                                           &b[BN_BETA]);
  if (st == CLGAN_OK)
    st = clgan_bn_forward_eval(dev, &sh, &b[BN_YEVAL], &b[BN_RM], &b[BN_RV], &b[BN_X],
                               &b[BN_GAMMA], &b[BN_BETA]);
  if (st == CLGAN_OK)
    st = clgan_bn_backward(dev, &sh, &b[BN_DX], &b[BN_DGAMMA], &b[BN_DBETA], &b[BN_DY],
                           &b[BN_X], &b[BN_MEAN], &b[BN_INVSTD], &b[BN_GAMMA], c->flag);
  return st;
}
static void bn_ref(const op_case *c, float **h) {
  clgan_bn_shape sh = bn_shape(c);
  clgan_ref_bn_forward_train(&sh, h[BN_Y], h[BN_MEAN], h[BN_INVSTD], h[BN_RM], h[BN_RV],
                             h[BN_X], h[BN_GAMMA], h[BN_BETA]);
  clgan_ref_bn_forward_eval(&sh, h[BN_YEVAL], h[BN_RM], h[BN_RV], h[BN_X], h[BN_GAMMA],
                            h[BN_BETA]);
  clgan_ref_bn_backward(&sh, h[BN_DX], h[BN_DGAMMA], h[BN_DBETA], h[BN_DY], h[BN_X],
                        h[BN_MEAN], h[BN_INVSTD], h[BN_GAMMA], c->flag);
}
/* L = sum(dy .* y) through the reference training forward. */
static double bn_loss(const op_case *c, float *const *h) {
  clgan_bn_shape sh = bn_shape(c);
  size_t total = (size_t)c->d[0] * c->d[1] * c->d[2], ch = (size_t)c->d[1];
  float *y = malloc(total * 4), *mean = malloc(ch * 4), *invstd = malloc(ch * 4);
  float *rm = calloc(ch, 4), *rv = calloc(ch, 4);
  if (!y || !mean || !invstd || !rm || !rv) abort();
  clgan_ref_bn_forward_train(&sh, y, mean, invstd, rm, rv, h[BN_X], h[BN_GAMMA], h[BN_BETA]);
  double l = 0.0;
  for (size_t i = 0; i < total; i++) l += (double)h[BN_DY][i] * y[i];
  free(y), free(mean), free(invstd), free(rm), free(rv);
  return l;
}
static const op_kind batchnorm = {
    .name = "batchnorm",
    .tensors = bn_tensors,
    .fill = bn_fill,
    .device = bn_device,
    .reference = bn_ref,
    .loss = bn_loss,
    .grads = {{BN_X, BN_DX}, {BN_GAMMA, BN_DGAMMA}, {BN_BETA, BN_DBETA}},
    .n_grads = 3,
    .flag_name = accumulate_name};

/* ---- Convolution (cl/conv.cl) ------------------------------------------------------------ */
/* d = clgan_conv_shape {n, c_in, h_in, w_in, c_out, kh, kw, stride, pad}; p = {tolerance};
 * flag: CONV_BIAS (forward with bias) | CONV_ACC (backward accumulates onto random gradients).
 * The forward, then all three gradients. Bitwise repeatability, each gradient alone, the
 * output sizes and the refusals stay in test_ops_conv.c. */
enum { CONV_BIAS = 1, CONV_ACC = 2 };
enum { CV_X, CV_W, CV_B, CV_DY, CV_COL, CV_Y, CV_DX, CV_DW, CV_DB, CV_TENSORS };

typedef struct {
  clgan_status (*fwd)(clgan_device *, const clgan_conv_shape *, clgan_buffer *,
                      const clgan_buffer *, const clgan_buffer *, const clgan_buffer *,
                      clgan_buffer *);
  clgan_status (*bwd)(clgan_device *, const clgan_conv_shape *, clgan_buffer *, clgan_buffer *,
                      clgan_buffer *, const clgan_buffer *, const clgan_buffer *,
                      const clgan_buffer *, clgan_buffer *, int);
  void (*ref_fwd)(const clgan_conv_shape *, float *, const float *, const float *,
                  const float *);
  void (*ref_bwd)(const clgan_conv_shape *, float *, float *, float *, const float *,
                  const float *, const float *, int);
  void (*out_hw)(const clgan_conv_shape *, int *, int *);
  size_t (*workspace)(const clgan_conv_shape *);
} conv_ops;

static const conv_ops conv2d_ops = {clgan_conv2d_forward, clgan_conv2d_backward,
                                    clgan_ref_conv2d_forward, clgan_ref_conv2d_backward,
                                    clgan_conv2d_out_hw, clgan_conv2d_workspace};
static const conv_ops convT2d_ops = {clgan_convT2d_forward, clgan_convT2d_backward,
                                     clgan_ref_convT2d_forward, clgan_ref_convT2d_backward,
                                     clgan_convT2d_out_hw, clgan_convT2d_workspace};

static const op_kind conv2d, convT2d;
static const conv_ops *conv_of(const op_case *c) {
  return c->kind == &convT2d ? &convT2d_ops : &conv2d_ops;
}
static clgan_conv_shape conv_shape(const op_case *c) {
  return (clgan_conv_shape){c->d[0], c->d[1], c->d[2], c->d[3], c->d[4],
                            c->d[5], c->d[6], c->d[7], c->d[8]};
}
static int conv_tensors(const op_case *c, op_tensor *t) {
  clgan_conv_shape sh = conv_shape(c);
  int ho, wo;
  conv_of(c)->out_hw(&sh, &ho, &wo);
  size_t nx = (size_t)sh.n * sh.c_in * sh.h_in * sh.w_in, ny = (size_t)sh.n * sh.c_out * ho * wo;
  size_t nw = (size_t)sh.c_out * sh.c_in * sh.kh * sh.kw, nb = (size_t)sh.c_out;
  float wscale = 1.0f / sqrtf((float)(sh.c_in * sh.kh * sh.kw));
  double tol = c->p[0];
  t[CV_X] = T("x", nx, -1, 1);
  t[CV_W] = T("w", nw, -wscale, wscale);
  t[CV_B] = T("b", nb, -0.5f, 0.5f);
  t[CV_DY] = T("dy", ny, -1, 1);
  t[CV_COL] = T("col (workspace)", conv_of(c)->workspace(&sh), 0, 0);
  t[CV_Y] = OUT("y", ny, 0, 0, tol, tol);
  t[CV_DX] = OUT("dx", nx, 0, 0, tol, tol);
  t[CV_DW] = OUT("dw", nw, -1, 1, tol, tol);
  t[CV_DB] = OUT("db", nb, -1, 1, tol, tol);
  return CV_TENSORS;
}
static clgan_status conv_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_conv_shape sh = conv_shape(c);
  const conv_ops *o = conv_of(c);
  clgan_status st = o->fwd(dev, &sh, &b[CV_Y], &b[CV_X], &b[CV_W],
                           c->flag & CONV_BIAS ? &b[CV_B] : NULL, &b[CV_COL]);
  if (st != CLGAN_OK) return st;
  return o->bwd(dev, &sh, &b[CV_DX], &b[CV_DW], &b[CV_DB], &b[CV_DY], &b[CV_X], &b[CV_W],
                &b[CV_COL], (c->flag & CONV_ACC) != 0);
}
static void conv_ref(const op_case *c, float **h) {
  clgan_conv_shape sh = conv_shape(c);
  const conv_ops *o = conv_of(c);
  o->ref_fwd(&sh, h[CV_Y], h[CV_X], h[CV_W], c->flag & CONV_BIAS ? h[CV_B] : NULL);
  o->ref_bwd(&sh, h[CV_DX], h[CV_DW], h[CV_DB], h[CV_DY], h[CV_X], h[CV_W],
             (c->flag & CONV_ACC) != 0);
}
/* L = sum(dy .* y) through the reference forward with bias (db does not depend on whether the
 * row's forward used it). */
static double conv_loss(const op_case *c, float *const *h) {
  clgan_conv_shape sh = conv_shape(c);
  int ho, wo;
  conv_of(c)->out_hw(&sh, &ho, &wo);
  size_t ny = (size_t)sh.n * sh.c_out * ho * wo;
  float *y = malloc((ny ? ny : 1) * sizeof *y);
  if (!y) abort();
  conv_of(c)->ref_fwd(&sh, y, h[CV_X], h[CV_W], h[CV_B]);
  double l = 0.0;
  for (size_t i = 0; i < ny; i++) l += (double)h[CV_DY][i] * y[i];
  free(y);
  return l;
}
static const char *conv_flag_name(int flag) {
  static const char *names[] = {"no bias, overwrite", "bias, overwrite", "no bias, accumulate",
                                "bias, accumulate"};
  return names[flag & 3];
}
static const op_kind conv2d = {
    .name = "conv2d",
    .tensors = conv_tensors,
    .device = conv_device,
    .reference = conv_ref,
    .loss = conv_loss,
    .grads = {{CV_X, CV_DX}, {CV_W, CV_DW}, {CV_B, CV_DB}},
    .n_grads = 3,
    .rank = 9,
    .flag_name = conv_flag_name};
static const op_kind convT2d = {
    .name = "convT2d",
    .tensors = conv_tensors,
    .device = conv_device,
    .reference = conv_ref,
    .loss = conv_loss,
    .grads = {{CV_X, CV_DX}, {CV_W, CV_DW}, {CV_B, CV_DB}},
    .n_grads = 3,
    .rank = 9,
    .flag_name = conv_flag_name};

/* ---- Data (cl/data.cl) ------------------------------------------------------------------- */
/* d = {images, dim, first, batch}: a batch gathered through a permutation, bitwise equal to the
 * reference. The closed form p / 127.5 - 1, the endpoints and a bad index stay in
 * test_ops_data.c. */
static int gather_tensors(const op_case *c, op_tensor *t) {
  t[0] = BYTES("images", (size_t)c->d[0] * c->d[1]);
  t[1] = T("index", (size_t)c->d[0], 0, 0); /* int32 after gather_fill */
  t[2] = OUT("out", (size_t)c->d[3] * c->d[1], 0, 0, 0, 0);
  return 3;
}
static void gather_fill(const op_case *c, const op_tensor *t, float **h) {
  uint8_t *images = (uint8_t *)h[0];
  int32_t *index = (int32_t *)(void *)h[1];
  int nimages = c->d[0];
  for (size_t i = 0; i < t[0].bytes; i++) {
    ops_rng = ops_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    images[i] = (uint8_t)(ops_rng >> 56);
  }
  images[0] = 0, images[t[0].bytes - 1] = 255;
  for (int i = 0; i < nimages; i++) index[i] = i;
  for (int i = nimages - 1; i > 0; i--) { /* Fisher-Yates */
    ops_rng = ops_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    int j = (int)((ops_rng >> 33) % (unsigned long long)(i + 1));
    int32_t tmp = index[i];
    index[i] = index[j], index[j] = tmp;
  }
}
static clgan_status gather_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_gather_images(dev, &b[2], &b[0], &b[1], c->d[2], c->d[3], c->d[1]);
}
static void gather_ref(const op_case *c, float **h) {
  clgan_ref_gather_images(h[2], (const uint8_t *)h[0], (const int32_t *)(void *)h[1], c->d[2],
                          c->d[3], c->d[1]);
}
static const op_kind gather_images = {
    .name = "gather_images",
    .tensors = gather_tensors,
    .fill = gather_fill,
    .device = gather_device,
    .reference = gather_ref,
    .rank = 4};

/* ---- Conditioning (cl/cond.cl) ------------------------------------------------------------ */
/* Labels live in float slots as int32 bits (cond_fill draws them, in 0..classes-1). */

static int32_t *ints(float *h) { return (int32_t *)(void *)h; }
static void draw_labels(float *h, int n, int classes) {
  for (int i = 0; i < n; i++) {
    ops_rng = ops_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    ints(h)[i] = (int32_t)((ops_rng >> 33) % (unsigned long long)classes);
  }
}

/* The tensors named "labels" get classes in 0..d[2]-1 (d = {batch, n or features, classes}). */
static void labels_fill(const op_case *c, const op_tensor *t, float **h) {
  for (int i = 0; i < MAXT && t[i].name; i++)
    if (!strcmp(t[i].name, "labels")) draw_labels(h[i], c->d[0], c->d[2]);
}

/* d = {batch, n, classes}; flag 1: one-hot, 0: zero class columns. Bitwise equal. */
static int concat_tensors(const op_case *c, op_tensor *t) {
  t[0] = OUT("out", (size_t)c->d[0] * (c->d[1] + c->d[2]), -1, 1, 0, 0);
  t[1] = T("x", (size_t)c->d[0] * c->d[1], -1, 1);
  t[2] = T("labels", (size_t)c->d[0], 0, 0);
  return 3;
}
static clgan_status concat_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_cond_concat(dev, &b[0], &b[1], c->flag ? &b[2] : NULL, c->d[0], c->d[1], c->d[2]);
}
static void concat_ref(const op_case *c, float **h) {
  clgan_ref_cond_concat(h[0], h[1], c->flag ? ints(h[2]) : NULL, c->d[0], c->d[1], c->d[2]);
}
static const char *onehot_name(int flag) { return flag ? "one-hot" : "zeros"; }
static const op_kind cond_concat = {
    .name = "cond_concat",
    .tensors = concat_tensors,
    .fill = labels_fill,
    .device = concat_device,
    .reference = concat_ref,
    .rank = 3,
    .flag_name = onehot_name};

/* The concatenation's backward: dx = the image part of dy. d = {batch, n, classes}. */
static int slice_tensors(const op_case *c, op_tensor *t) {
  t[0] = OUT("dx", (size_t)c->d[0] * c->d[1], -1, 1, 0, 0);
  t[1] = T("dy", (size_t)c->d[0] * (c->d[1] + c->d[2]), -1, 1);
  t[2] = T("x", (size_t)c->d[0] * c->d[1], -1, 1);  /* for the loss only */
  t[3] = T("labels", (size_t)c->d[0], 0, 0);        /* for the loss only */
  return 4;
}
static clgan_status slice_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_cond_slice(dev, &b[0], &b[1], c->d[0], c->d[1], c->d[1] + c->d[2]);
}
static void slice_ref(const op_case *c, float **h) {
  clgan_ref_cond_slice(h[0], h[1], c->d[0], c->d[1], c->d[1] + c->d[2]);
}
/* L = sum(concat(x, one_hot(labels)) .* dy). */
static double slice_loss(const op_case *c, float *const *h) {
  size_t n = (size_t)c->d[0] * (c->d[1] + c->d[2]);
  float *y = malloc(n * sizeof *y);
  clgan_ref_cond_concat(y, h[2], ints(h[3]), c->d[0], c->d[1], c->d[2]);
  double l = 0.0;
  for (size_t i = 0; i < n; i++) l += (double)y[i] * h[1][i];
  free(y);
  return l;
}
static const op_kind cond_slice = {
    .name = "cond_slice",
    .tensors = slice_tensors,
    .fill = labels_fill,
    .device = slice_device,
    .reference = slice_ref,
    .loss = slice_loss,
    .grads = {{2, 0}},
    .n_grads = 1,
    .rank = 3};

/* The projection discriminator's term. d = {batch, features, classes}. */
static clgan_proj_shape proj_shape_of(const op_case *c) {
  return (clgan_proj_shape){.batch = c->d[0], .features = c->d[1], .classes = c->d[2]};
}
static double proj_atol(const op_case *c, const op_tensor *t, float *const *h) {
  (void)t, (void)h;
  return 2e-7 * c->d[1] + 1e-6; /* a float sum of F products of magnitude <= 1 */
}
static int proj_fwd_tensors(const op_case *c, op_tensor *t) {
  t[0] = OUT("y", (size_t)c->d[0], -1, 1, -1, 1e-5);
  t[1] = T("h", (size_t)c->d[0] * c->d[1], -1, 1);
  t[2] = T("embed", (size_t)c->d[2] * c->d[1], -1, 1);
  t[3] = T("labels", (size_t)c->d[0], 0, 0);
  return 4;
}
static clgan_status proj_fwd_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_proj_shape sh = proj_shape_of(c);
  return clgan_proj_forward(dev, &sh, &b[0], &b[1], &b[2], &b[3]);
}
static void proj_fwd_ref(const op_case *c, float **h) {
  clgan_proj_shape sh = proj_shape_of(c);
  clgan_ref_proj_forward(&sh, h[0], h[1], h[2], ints(h[3]));
}
static const op_kind proj_forward = {
    .name = "proj_forward",
    .tensors = proj_fwd_tensors,
    .fill = labels_fill,
    .device = proj_fwd_device,
    .reference = proj_fwd_ref,
    .atol = proj_atol,
    .rank = 3};

/* flag 0: dh from zero and dembed overwritten, with finite differences of
 * L = sum_b dy[b] <embed[labels[b]], h[b]> in h and embed; flag 1: both accumulated. */
static int proj_bwd_tensors(const op_case *c, op_tensor *t) {
  size_t nh = (size_t)c->d[0] * c->d[1], ne = (size_t)c->d[2] * c->d[1];
  t[0] = OUT("dh", nh, c->flag ? -1 : 0, c->flag ? 1 : 0, 1e-6, 1e-5);
  t[1] = OUT("dembed", ne, -1, 1, -1, 1e-5);
  t[2] = T("dy", (size_t)c->d[0], -1, 1);
  t[3] = T("h", nh, -1, 1);
  t[4] = T("embed", ne, -1, 1);
  t[5] = T("labels", (size_t)c->d[0], 0, 0);
  return 6;
}
static clgan_status proj_bwd_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_proj_shape sh = proj_shape_of(c);
  return clgan_proj_backward(dev, &sh, &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], c->flag);
}
static void proj_bwd_ref(const op_case *c, float **h) {
  clgan_proj_shape sh = proj_shape_of(c);
  clgan_ref_proj_backward(&sh, h[0], h[1], h[2], h[3], h[4], ints(h[5]), c->flag);
}
static double proj_loss(const op_case *c, float *const *h) {
  clgan_proj_shape sh = proj_shape_of(c);
  float *y = calloc((size_t)c->d[0], sizeof *y);
  clgan_ref_proj_forward(&sh, y, h[3], h[4], ints(h[5]));
  double l = 0.0;
  for (int b = 0; b < c->d[0]; b++) l += (double)y[b] * h[2][b];
  free(y);
  return l;
}
static const op_kind proj_backward = {
    .name = "proj_backward",
    .tensors = proj_bwd_tensors,
    .fill = labels_fill,
    .device = proj_bwd_device,
    .reference = proj_bwd_ref,
    .atol = proj_atol,
    .loss = proj_loss,
    .grads = {{3, 0}, {4, 1}},
    .n_grads = 2,
    .rank = 3,
    .flag_name = accumulate_name};

/* d = {nlabels, first, batch}: the batch's labels through a permutation, bitwise. */
static int glabels_tensors(const op_case *c, op_tensor *t) {
  t[0] = BYTES("labels", (size_t)c->d[0]);
  t[1] = T("index", (size_t)c->d[0], 0, 0);
  t[2] = OUT("out", (size_t)c->d[2], 0, 0, 0, 0);
  return 3;
}
static void glabels_fill(const op_case *c, const op_tensor *t, float **h) {
  uint8_t *labels = (uint8_t *)h[0];
  for (size_t i = 0; i < t[0].bytes; i++) {
    ops_rng = ops_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    labels[i] = (uint8_t)((ops_rng >> 33) % 10);
  }
  for (int i = 0; i < c->d[0]; i++) ints(h[1])[i] = c->d[0] - 1 - i;
}
static clgan_status glabels_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_gather_labels(dev, &b[2], &b[0], &b[1], c->d[1], c->d[2]);
}
static void glabels_ref(const op_case *c, float **h) {
  clgan_ref_gather_labels(ints(h[2]), (const uint8_t *)h[0], ints(h[1]), c->d[1], c->d[2]);
}
static const op_kind gather_labels = {
    .name = "gather_labels",
    .tensors = glabels_tensors,
    .fill = glabels_fill,
    .device = glabels_device,
    .reference = glabels_ref,
    .rank = 3};

/* d = {batch, classes}; flag 1: random class weights (some 0), else uniform. Bitwise. */
static int lfu_tensors(const op_case *c, op_tensor *t) {
  t[0] = OUT("out", (size_t)c->d[0], 0, 0, 0, 0);
  t[1] = T("u", (size_t)c->d[0], 0, 1);
  t[2] = T("cdf", (size_t)c->d[1], 0, 0);
  return 3;
}
static void lfu_fill(const op_case *c, const op_tensor *t, float **h) {
  (void)t;
  double w[64];
  for (int k = 0; k < c->d[1]; k++) {
    ops_rng = ops_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    w[k] = c->flag ? (double)((ops_rng >> 33) % 4) : 1.0;
  }
  w[0] += 0.5;
  clgan_class_cdf(h[2], w, c->d[1]);
}
static clgan_status lfu_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_labels_from_uniform(dev, &b[0], &b[1], &b[2], c->d[0], c->d[1]);
}
static void lfu_ref(const op_case *c, float **h) {
  clgan_ref_labels_from_uniform(ints(h[0]), h[1], h[2], c->d[0], c->d[1]);
}
static const char *weights_name(int flag) { return flag ? "weighted" : "uniform"; }
static const op_kind labels_from_uniform = {
    .name = "labels_from_uniform",
    .tensors = lfu_tensors,
    .fill = lfu_fill,
    .device = lfu_device,
    .reference = lfu_ref,
    .rank = 2,
    .flag_name = weights_name};

/* ---- Elementwise (cl/elementwise.cl) ------------------------------------------------------ */
/* d = {n} (axpby, clamp) or {rows, cols} (transpose). */

static int axpby_tensors(const op_case *c, op_tensor *t) {
  t[0] = OUT("y", (size_t)c->d[0], -2, 2, 1e-6, 1e-6);
  t[1] = T("x", (size_t)c->d[0], -2, 2);
  return 2;
}
static clgan_status axpby_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_axpby(dev, &b[0], 0.7f, &b[1], -1.3f, c->d[0]);
}
static void axpby_ref(const op_case *c, float **h) {
  for (int i = 0; i < c->d[0]; i++) h[0][i] = (float)(0.7 * h[1][i] - 1.3 * h[0][i]);
}
static const op_kind axpby = {
    .name = "axpby 0.7 x - 1.3 y",
    .tensors = axpby_tensors,
    .device = axpby_device,
    .reference = axpby_ref};

static int clamp_tensors(const op_case *c, op_tensor *t) {
  t[0] = OUT("x", (size_t)c->d[0], -2, 2, 0, 0);
  return 1;
}
static clgan_status clamp_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_clamp(dev, &b[0], c->d[0], c->p[0]);
}
static void clamp_ref(const op_case *c, float **h) {
  float *x = h[0];
  float m = c->p[0];
  for (int i = 0; i < c->d[0]; i++) x[i] = x[i] > m ? m : x[i] < -m ? -m : x[i];
}
static const op_kind clamp = {
    .name = "clamp",
    .tensors = clamp_tensors,
    .device = clamp_device,
    .reference = clamp_ref};

static int transpose_tensors(const op_case *c, op_tensor *t) {
  size_t n = (size_t)c->d[0] * c->d[1];
  t[0] = T("in", n, 0, 0);
  t[1] = OUT("out", n, 0, 0, 0, 0);
  return 2;
}
static void transpose_fill(const op_case *c, const op_tensor *t, float **h) {
  (void)c;
  for (size_t i = 0; i < t[0].n; i++) h[0][i] = (float)i; /* every element tells its place */
}
static clgan_status transpose_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_transpose(dev, &b[1], &b[0], c->d[0], c->d[1]);
}
static void transpose_ref(const op_case *c, float **h) {
  clgan_ref_transpose(h[1], h[0], c->d[0], c->d[1]);
}
static const op_kind transpose = {
    .name = "transpose",
    .tensors = transpose_tensors,
    .fill = transpose_fill,
    .device = transpose_device,
    .reference = transpose_ref};

/* ---- Spectral normalisation (cl/sn.cl) --------------------------------------------------- */
/* d = {a, r, k}: the weight as (A, R, K), a matrix of R rows and A*K columns. sn_forward: flag
 * = train (a power iteration first); u and v are in/out. sn_backward: flag = accumulate; its
 * inputs u, v, w_sn and sigma are made from w by the training-mode reference (fill), and its dw
 * meets the finite differences of L(w) = sum(g .* w / sigma(w)), sigma(w) = u^T w v with u and v
 * held constant, as the layer's backward holds them. */
static clgan_sn_shape sn_shape(const op_case *c) {
  return (clgan_sn_shape){c->d[0], c->d[1], c->d[2], 1e-12f};
}
static const char *train_name(int flag) { return flag ? "train" : "eval"; }

static int sn_fwd_tensors(const op_case *c, op_tensor *t) {
  size_t r = (size_t)c->d[1], cols = (size_t)c->d[0] * c->d[2], n = r * cols;
  t[0] = T("w", n, -1, 1);
  t[1] = OUT("u", r, -1, 1, 1e-6, 1e-5);
  t[2] = OUT("v", cols, -1, 1, 1e-6, 1e-5);
  t[3] = OUT("t", r, 0, 0, 5e-6, 1e-5);
  t[4] = OUT("sigma", 2, 0, 0, 5e-6, 1e-5);
  t[5] = OUT("w_sn", n, 0, 0, 1e-6, 1e-5);
  return 6;
}
/* u and v unit vectors, as the layer keeps them. */
static void sn_fwd_fill(const op_case *c, const op_tensor *t, float **h) {
  (void)c;
  for (int k = 1; k <= 2; k++) {
    double s = 0;
    for (size_t i = 0; i < t[k].n; i++) s += (double)h[k][i] * h[k][i];
    for (size_t i = 0; i < t[k].n; i++) h[k][i] = (float)(h[k][i] / sqrt(s));
  }
}
static clgan_status sn_fwd_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_sn_shape sh = sn_shape(c);
  return clgan_sn_forward(dev, &sh, &b[5], &b[1], &b[2], &b[3], &b[4], &b[0], c->flag);
}
static void sn_fwd_ref(const op_case *c, float **h) {
  clgan_sn_shape sh = sn_shape(c);
  clgan_ref_sn_forward(&sh, h[5], h[1], h[2], h[3], h[4], h[0], c->flag);
}
static const op_kind sn_forward = {
    .name = "sn_forward",
    .tensors = sn_fwd_tensors,
    .fill = sn_fwd_fill,
    .device = sn_fwd_device,
    .reference = sn_fwd_ref,
    .rank = 3,
    .flag_name = train_name};

static int sn_bwd_tensors(const op_case *c, op_tensor *t) {
  size_t r = (size_t)c->d[1], cols = (size_t)c->d[0] * c->d[2], n = r * cols;
  t[0] = OUT("dw", n, -1, 1, 1e-6, 1e-5);
  t[1] = T("g", n, -1, 1);
  t[2] = T("w", n, -1, 1);
  t[3] = T("u", r, -1, 1);
  t[4] = T("v", cols, -1, 1);
  t[5] = T("w_sn", n, 0, 0);
  t[6] = OUT("sigma", 2, 0, 0, 1e-6, 1e-5);
  t[7] = T("t", r, 0, 0);
  return 8;
}
/* u, v, sigma and w_sn as a training forward leaves them (u and v unit vectors, sigma near the
 * largest singular value), not random ones whose sigma could cancel to near zero. */
static void sn_bwd_fill(const op_case *c, const op_tensor *t, float **h) {
  clgan_sn_shape sh = sn_shape(c);
  (void)t;
  clgan_ref_sn_forward(&sh, h[5], h[3], h[4], h[7], h[6], h[2], 1);
}
static clgan_status sn_bwd_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_sn_shape sh = sn_shape(c);
  return clgan_sn_backward(dev, &sh, &b[0], &b[6], &b[1], &b[5], &b[3], &b[4], c->flag);
}
static void sn_bwd_ref(const op_case *c, float **h) {
  clgan_sn_shape sh = sn_shape(c);
  clgan_ref_sn_backward(&sh, h[0], h[6], h[1], h[5], h[3], h[4], c->flag);
}
static double sn_loss(const op_case *c, float *const *h) {
  int a = c->d[0], r = c->d[1], k = c->d[2];
  double sigma = 0, l = 0;
  for (int ai = 0; ai < a; ai++)
    for (int ri = 0; ri < r; ri++)
      for (int ki = 0; ki < k; ki++) {
        size_t i = ((size_t)ai * r + ri) * k + ki;
        sigma += (double)h[3][ri] * h[2][i] * h[4][ai * k + ki];
        l += (double)h[1][i] * h[2][i];
      }
  return l / sigma;
}
static const op_kind sn_backward = {
    .name = "sn_backward",
    .tensors = sn_bwd_tensors,
    .fill = sn_bwd_fill,
    .device = sn_bwd_device,
    .reference = sn_bwd_ref,
    .loss = sn_loss,
    .grads = {{2, 0}},
    .n_grads = 1,
    .rank = 3,
    .flag_name = accumulate_name};

/* ---- Critic losses and WGAN-GP (cl/gan_loss.cl) ------------------------------------------ */
/* critic: d = {n}, p = {sign, target, scale}, flag = clgan_critic_kind. The closed forms, the
 * hinge's kink and the optional outputs stay in test_ops_gan_loss.c. */

static clgan_critic_loss_cfg critic_cfg(const op_case *c) {
  return (clgan_critic_loss_cfg){(clgan_critic_kind)c->flag, c->p[0], c->p[1], c->p[2]};
}
static int critic_tensors(const op_case *c, op_tensor *t) {
  size_t n = (size_t)c->d[0];
  t[0] = T("d", n, -3, 3);
  t[1] = OUT("dd", n, 0, 0, 1e-7 * fabs(c->p[2]), 1e-6);
  t[2] = OUT("loss", n, 0, 0, 1e-6, 1e-6);
  return 3;
}
/* Keeps the hinge's kink (1 + sign d = 0) out of reach of the difference step. */
static void critic_fill(const op_case *c, const op_tensor *t, float **h) {
  if (c->flag != CLGAN_CRITIC_HINGE) return;
  for (size_t i = 0; i < t[0].n; i++)
    if (fabs(1.0 + c->p[0] * h[0][i]) < 0.05) h[0][i] += 0.1f;
}
static clgan_status critic_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_critic_loss_cfg cfg = critic_cfg(c);
  return clgan_critic_loss(dev, &cfg, &b[1], &b[2], &b[0], c->d[0]);
}
static void critic_ref(const op_case *c, float **h) {
  clgan_critic_loss_cfg cfg = critic_cfg(c);
  clgan_ref_critic_loss(&cfg, h[1], h[2], h[0], c->d[0]);
}
/* L = scale * sum_i loss_i, so that dL/dd = dd. */
static double critic_loss(const op_case *c, float *const *h) {
  clgan_critic_loss_cfg cfg = critic_cfg(c);
  size_t n = (size_t)c->d[0];
  float *l = malloc((n ? n : 1) * sizeof *l);
  if (!l) abort();
  clgan_ref_critic_loss(&cfg, NULL, l, h[0], c->d[0]);
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) sum += l[i];
  free(l);
  return cfg.scale * sum;
}
static const char *critic_flag_name(int flag) {
  static const char *names[] = {"wasserstein", "hinge", "lsq"};
  return flag >= 0 && flag < 3 ? names[flag] : "?";
}
static const op_kind critic = {
    .name = "critic_loss",
    .tensors = critic_tensors,
    .fill = critic_fill,
    .device = critic_device,
    .reference = critic_ref,
    .loss = critic_loss,
    .grads = {{0, 1}},
    .n_grads = 1,
    .flag_name = critic_flag_name};

/* gp_interpolate: d = {batch, dim}. Staying between real and fake, and eps of 0 and 1, stay in
 * test_ops_gan_loss.c. */
static int interp_tensors(const op_case *c, op_tensor *t) {
  size_t n = (size_t)c->d[0] * c->d[1];
  t[0] = T("real", n, -1, 1);
  t[1] = T("fake", n, -1, 1);
  t[2] = T("eps", (size_t)c->d[0], 0, 1);
  t[3] = OUT("x_hat", n, 0, 0, 1e-7, 1e-6);
  return 4;
}
static clgan_status interp_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_gp_interpolate(dev, &b[3], &b[0], &b[1], &b[2], c->d[0], c->d[1]);
}
static void interp_ref(const op_case *c, float **h) {
  clgan_ref_gp_interpolate(h[3], h[0], h[1], h[2], c->d[0], c->d[1]);
}
static const op_kind gp_interpolate = {
    .name = "gp_interpolate",
    .tensors = interp_tensors,
    .device = interp_device,
    .reference = interp_ref};

/* gp_penalty: d = {batch, dim}, p = {lambda, scale}. Rows of different norms around 1, the
 * last all zero (its gradient 0; a difference step there moves the norm by the same amount
 * both ways, so the differences are 0 too). The closed forms, the zero row's exact values,
 * in place and the optional outputs stay in test_ops_gan_loss.c. */
static int gp_tensors(const op_case *c, op_tensor *t) {
  size_t n = (size_t)c->d[0] * c->d[1], ub = (size_t)c->d[0];
  double lambda = c->p[0], scale = c->p[1];
  t[0] = T("g", n, -1, 1);
  t[1] = OUT("dg", n, 0, 0, 1e-6 * scale * lambda, 1e-5);
  t[2] = OUT("loss", ub, 0, 0, 1e-6 * lambda, 1e-5);
  t[3] = OUT("norm", ub, 0, 0, 1e-6, 1e-5);
  return 4;
}
static void gp_fill(const op_case *c, const op_tensor *t, float **h) {
  size_t ub = (size_t)c->d[0], dim = (size_t)c->d[1];
  (void)t;
  for (size_t b = 0; b < ub; b++)
    for (size_t j = 0; j < dim; j++)
      h[0][b * dim + j] *= b + 1 == ub ? 0.0f : (float)(0.3 + 0.5 * b) / sqrtf((float)dim / 3.0f);
}
static clgan_gp_cfg gp_cfg(const op_case *c) { return (clgan_gp_cfg){c->p[0], c->p[1]}; }
static clgan_status gp_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_gp_cfg cfg = gp_cfg(c);
  return clgan_gp_penalty(dev, &cfg, &b[1], &b[2], &b[3], &b[0], c->d[0], c->d[1]);
}
static void gp_ref(const op_case *c, float **h) {
  clgan_gp_cfg cfg = gp_cfg(c);
  clgan_ref_gp_penalty(&cfg, h[1], h[2], h[3], h[0], c->d[0], c->d[1]);
}
/* L = scale * sum_b loss_b, so that dL/dg = dg. */
static double gp_loss(const op_case *c, float *const *h) {
  clgan_gp_cfg cfg = gp_cfg(c);
  size_t ub = (size_t)c->d[0];
  float *l = malloc(ub * sizeof *l);
  if (!l) abort();
  clgan_ref_gp_penalty(&cfg, NULL, l, NULL, h[0], c->d[0], c->d[1]);
  double sum = 0.0;
  for (size_t b = 0; b < ub; b++) sum += l[b];
  free(l);
  return cfg.scale * sum;
}
static const op_kind gp_penalty = {
    .name = "gp_penalty",
    .tensors = gp_tensors,
    .fill = gp_fill,
    .device = gp_device,
    .reference = gp_ref,
    .loss = gp_loss,
    .grads = {{0, 1}},
    .n_grads = 1};

/* ---- Reductions (cl/reduce.cl) ------------------------------------------------------------ */
/* d = {n}; flag = accumulate; into slot REDUCE_SLOT of an 8-float buffer whose other slots
 * must keep their values (compared exactly: the sums' tolerance only loosens slot 3). Counts
 * are exact; sums are within 1e-6 of the sum of |x| (or x^2). Determinism stays in
 * test_ops_reduce.c. */
enum { REDUCE_SLOTS = 8, REDUCE_SLOT = 3 };

static int reduce_tensors(const op_case *c, op_tensor *t) {
  t[0] = T("x", (size_t)c->d[0], -0.7f, 1.3f);
  int sum = c->kind->atol != NULL; /* counts are exact */
  t[1] = OUT("out[slot]", 1, 0, 0, sum ? -1 : 0, sum ? 1e-6 : 0);
  t[2] = OUT("out, other slots", REDUCE_SLOTS, 0, 0, 0, 0);
  return 3;
}
static void reduce_fill(const op_case *c, const op_tensor *t, float **h) {
  (void)c;
  for (size_t i = 0; i < t[0].n; i += 17) h[0][i] = 0.5f; /* ties with the threshold */
  for (int i = 0; i < REDUCE_SLOTS; i++) h[2][i] = (float)(i + 1) * 0.25f;
}
/* The slot under test is compared as tensor 1 (with the sum's tolerance), the rest as tensor 2
 * with its slot copied from the reference's, so that only untouched bytes are compared there. */
static void reduce_split(float **want, float **got) {
  want[1][0] = want[2][REDUCE_SLOT], got[1][0] = got[2][REDUCE_SLOT];
  want[2][REDUCE_SLOT] = got[2][REDUCE_SLOT] = 0.0f;
}
static clgan_status reduce_sum_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_reduce_sum(dev, &b[2], REDUCE_SLOT, &b[0], c->d[0], c->flag);
}
static clgan_status reduce_sumsq_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_reduce_sumsq(dev, &b[2], REDUCE_SLOT, &b[0], c->d[0], c->flag);
}
static clgan_status reduce_count_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  return clgan_reduce_count_above(dev, &b[2], REDUCE_SLOT, &b[0], c->d[0], 0.5f, 0, c->flag);
}
static clgan_status reduce_count_neg_device(clgan_device *dev, const op_case *c,
                                            clgan_buffer *b) {
  return clgan_reduce_count_above(dev, &b[2], REDUCE_SLOT, &b[0], c->d[0], 0.5f, 1, c->flag);
}
static void reduce_sum_ref(const op_case *c, float **h) {
  clgan_ref_reduce_sum(h[2], REDUCE_SLOT, h[0], c->d[0], c->flag);
}
static void reduce_sumsq_ref(const op_case *c, float **h) {
  clgan_ref_reduce_sumsq(h[2], REDUCE_SLOT, h[0], c->d[0], c->flag);
}
static void reduce_count_ref(const op_case *c, float **h) {
  clgan_ref_reduce_count_above(h[2], REDUCE_SLOT, h[0], c->d[0], 0.5f, 0, c->flag);
}
static void reduce_count_neg_ref(const op_case *c, float **h) {
  clgan_ref_reduce_count_above(h[2], REDUCE_SLOT, h[0], c->d[0], 0.5f, 1, c->flag);
}
static double reduce_sum_atol(const op_case *c, const op_tensor *t, float *const *h) {
  (void)c;
  double s = 0.0;
  for (size_t i = 0; i < t[0].n; i++) s += fabs(h[0][i]);
  return 1e-6 * s + 1e-7;
}
static double reduce_sumsq_atol(const op_case *c, const op_tensor *t, float *const *h) {
  (void)c;
  double s = 0.0;
  for (size_t i = 0; i < t[0].n; i++) s += (double)h[0][i] * h[0][i];
  return 1e-6 * s + 1e-7;
}
static const op_kind reduce_sum = {
    .name = "reduce_sum",
    .tensors = reduce_tensors,
    .fill = reduce_fill,
    .device = reduce_sum_device,
    .reference = reduce_sum_ref,
    .atol = reduce_sum_atol,
    .prepare = reduce_split,
    .flag_name = accumulate_name};
static const op_kind reduce_sumsq = {
    .name = "reduce_sumsq",
    .tensors = reduce_tensors,
    .fill = reduce_fill,
    .device = reduce_sumsq_device,
    .reference = reduce_sumsq_ref,
    .atol = reduce_sumsq_atol,
    .prepare = reduce_split,
    .flag_name = accumulate_name};
static const op_kind reduce_count = {
    .name = "reduce_count_above 0.5",
    .tensors = reduce_tensors,
    .fill = reduce_fill,
    .device = reduce_count_device,
    .reference = reduce_count_ref,
    .prepare = reduce_split,
    .flag_name = accumulate_name};
static const op_kind reduce_count_neg = {
    .name = "reduce_count_above 0.5 negate",
    .tensors = reduce_tensors,
    .fill = reduce_fill,
    .device = reduce_count_neg_device,
    .reference = reduce_count_neg_ref,
    .prepare = reduce_split,
    .flag_name = accumulate_name};

/* ---- Losses (cl/loss.cl) ----------------------------------------------------------------- */
/* bce: d = {n}, p = {target, scale, sign} (clgan_bce_cfg). The optional outputs (NULL dz, loss
 * or prob) and the tails at |z| = 100 stay in test_ops_loss.c. */

static clgan_bce_cfg bce_cfg(const op_case *c) {
  return (clgan_bce_cfg){c->p[0], c->p[1], c->p[2]};
}

static int bce_tensors(const op_case *c, op_tensor *t) {
  size_t n = (size_t)c->d[0];
  t[0] = T("z", n, -8, 8);
  t[1] = OUT("dz", n, 0, 0, 1e-7 * fabs(c->p[1]), 1e-5);
  t[2] = OUT("loss", n, 0, 0, 1e-6, 1e-5);
  t[3] = OUT("prob", n, 0, 0, 1e-7, 1e-5);
  return 4;
}
static clgan_status bce_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_bce_cfg cfg = bce_cfg(c);
  return clgan_bce_logits(dev, &cfg, &b[1], &b[2], &b[3], &b[0], c->d[0]);
}
static void bce_ref(const op_case *c, float **h) {
  clgan_bce_cfg cfg = bce_cfg(c);
  clgan_ref_bce_logits(&cfg, h[1], h[2], h[3], h[0], c->d[0]);
}
/* L = scale * sum_i loss_i (the loss carries the sign), so that dL/dz = dz. */
static double bce_loss(const op_case *c, float *const *h) {
  clgan_bce_cfg cfg = bce_cfg(c);
  size_t n = (size_t)c->d[0];
  float *l = malloc((n ? n : 1) * sizeof *l);
  if (!l) abort();
  clgan_ref_bce_logits(&cfg, NULL, l, NULL, h[0], c->d[0]);
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) sum += l[i];
  free(l);
  return cfg.scale * sum;
}
static const op_kind bce = {
    .name = "bce_logits",
    .tensors = bce_tensors,
    .device = bce_device,
    .reference = bce_ref,
    .loss = bce_loss,
    .grads = {{0, 1}},
    .n_grads = 1};

/* softmax_xent: d = {n, classes}; p = {scale}. Labels (int32, in a float-sized tensor) sit
 * after XENT_OFF out-of-range ones, which must not be read (a kernel reading from the wrong
 * offset would produce NaN rows). Logits of +-1e4, ties, bad labels and the optional outputs
 * stay in test_ops_loss.c. */
enum { XENT_OFF = 5 };

static int xent_tensors(const op_case *c, op_tensor *t) {
  size_t n = (size_t)c->d[0], all = n * (size_t)c->d[1];
  t[0] = T("z", all, -8, 8);
  t[1] = T("labels", n + XENT_OFF, 0, (float)c->d[1]); /* int32 after xent_fill */
  t[2] = OUT("dz", all, 0, 0, 1e-7 * c->p[0], 1e-5);
  t[3] = OUT("loss", n, 0, 0, 1e-6, 1e-5);
  t[4] = OUT("correct", n, 0, 0, 0, 0);
  return 5;
}
static void xent_fill(const op_case *c, const op_tensor *t, float **h) {
  int32_t *l = (int32_t *)(void *)h[1];
  for (size_t i = 0; i < XENT_OFF; i++) l[i] = -7 - (int32_t)i;
  for (size_t i = XENT_OFF; i < t[1].n; i++) {
    int32_t v = (int32_t)h[1][i];
    l[i] = v < c->d[1] ? v : 0;
  }
}
static clgan_status xent_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_xent_cfg cfg = {c->p[0]};
  return clgan_softmax_xent(dev, &cfg, &b[2], &b[3], &b[4], &b[0], &b[1], XENT_OFF, c->d[0],
                            c->d[1]);
}
static void xent_ref(const op_case *c, float **h) {
  clgan_xent_cfg cfg = {c->p[0]};
  clgan_ref_softmax_xent(&cfg, h[2], h[3], h[4], h[0], (const int32_t *)(void *)h[1], XENT_OFF,
                         c->d[0], c->d[1]);
}
/* L = scale * sum_i loss_i, so that dL/dz = dz. */
static double xent_loss(const op_case *c, float *const *h) {
  clgan_xent_cfg cfg = {c->p[0]};
  size_t n = (size_t)c->d[0];
  float *l = malloc((n ? n : 1) * sizeof *l);
  if (!l) abort();
  clgan_ref_softmax_xent(&cfg, NULL, l, NULL, h[0], (const int32_t *)(void *)h[1], XENT_OFF,
                         c->d[0], c->d[1]);
  double sum = 0.0;
  for (size_t i = 0; i < n; i++) sum += l[i];
  free(l);
  return cfg.scale * sum;
}
static const op_kind xent = {
    .name = "softmax_xent",
    .tensors = xent_tensors,
    .fill = xent_fill,
    .device = xent_device,
    .reference = xent_ref,
    .loss = xent_loss,
    .grads = {{0, 2}},
    .n_grads = 1};

/* ---- Optimizers (cl/optim.cl) ------------------------------------------------------------ */
/* d = {n, steps}; flag = index into opt_cfgs. Steps 1..steps from zero state, each with its
 * own gradient (a spread of scales); the weights and every state buffer the kind uses are
 * compared after the last. The closed forms and SGD's first momentum step over an old buffer
 * stay in test_ops_optim.c. */
enum { OPT_MAX_STEPS = 5, OPT_W = 0, OPT_S1, OPT_S2, OPT_G };

static const clgan_opt_cfg opt_cfgs[] = {
    {CLGAN_OPT_ADAM, 2e-4f, 0.5f, 0.999f, 0, 0, 1e-8f},
    {CLGAN_OPT_ADAM, 1e-3f, 0.9f, 0.999f, 0, 0, 1e-6f},
    {CLGAN_OPT_RMSPROP, 5e-5f, 0, 0, 0.99f, 0, 1e-8f},
    {CLGAN_OPT_SGD, 0.01f, 0, 0, 0, 0.9f, 0},
    {CLGAN_OPT_SGD, 0.01f, 0, 0, 0, 0.0f, 0},
};

static int opt_tensors(const op_case *c, op_tensor *t) {
  const clgan_opt_cfg *cfg = &opt_cfgs[c->flag];
  size_t n = (size_t)c->d[0];
  t[OPT_W] = OUT("w", n, -1, 1, 1e-7, 1e-5);
  /* The device may fuse b1*m + g into an fma: error up to an ulp of the terms (|g| <= 1),
   * which dominates where they cancel. */
  int momentum = cfg->kind != CLGAN_OPT_SGD || cfg->momentum != 0.0;
  t[OPT_S1] = momentum ? OUT("state1", n, 0, 0, 3e-7, 1e-5) : T("state1", n, 0, 0);
  t[OPT_S2] = cfg->kind == CLGAN_OPT_ADAM ? OUT("state2", n, 0, 0, 1e-12, 1e-5)
                                          : T("state2", n, 0, 0);
  for (int k = 0; k < c->d[1]; k++) t[OPT_G + k] = T("g", n, -1e-2f, 1e-2f);
  return OPT_G + c->d[1];
}
static void opt_fill(const op_case *c, const op_tensor *t, float **h) {
  for (int k = 0; k < c->d[1]; k++) /* a spread of gradient scales */
    for (size_t i = 0; i < t[OPT_G + k].n; i += 5) h[OPT_G + k][i] *= 100.0f;
}
static clgan_status opt_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_status st = CLGAN_OK;
  for (int k = 0; k < c->d[1] && st == CLGAN_OK; k++)
    st = clgan_opt_step(dev, &opt_cfgs[c->flag], k + 1, &b[OPT_W], &b[OPT_G + k], &b[OPT_S1],
                        &b[OPT_S2], c->d[0]);
  return st;
}
static void opt_ref(const op_case *c, float **h) {
  for (int k = 0; k < c->d[1]; k++)
    clgan_ref_opt_step(&opt_cfgs[c->flag], k + 1, h[OPT_W], h[OPT_G + k], h[OPT_S1], h[OPT_S2],
                       c->d[0]);
}
static const char *opt_flag_name(int flag) {
  static const char *names[] = {"adam b1=0.5", "adam b1=0.9", "rmsprop", "sgd momentum", "sgd"};
  return names[flag];
}
static const op_kind opt_step = {
    .name = "opt_step",
    .tensors = opt_tensors,
    .fill = opt_fill,
    .device = opt_device,
    .reference = opt_ref,
    .rank = 2,
    .flag_name = opt_flag_name};

/* ---- Random numbers (cl/random.cl) -------------------------------------------------------- */
/* d = {n, key}: key indexes rand_keys (seed, step, stream); flag 0: uniform in [p0, p1)
 * (bitwise), 1: normal (p0, p1) (to 1e-6 of the stddev, 1e-5 relative). Known answers, the
 * counter mapping, statistics and the shuffle stay in test_ops_random.c. */
static const struct {
  uint64_t seed, step;
  uint32_t stream;
} rand_keys[] = {
    {42, 0, 0}, {0xfedcba9876543210ULL, 0x1234567890ULL, 3}, {7, 0xffffffffULL, 0xffffffffu}};

static int rand_tensors(const op_case *c, op_tensor *t) {
  t[0] = c->flag ? OUT("normal", (size_t)c->d[0], 0, 0, 1e-6 * c->p[1], 1e-5)
                 : OUT("uniform", (size_t)c->d[0], 0, 0, 0, 0);
  return 1;
}
static clgan_status rand_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  uint64_t seed = rand_keys[c->d[1]].seed, step = rand_keys[c->d[1]].step;
  uint32_t stream = rand_keys[c->d[1]].stream;
  if (c->flag) return clgan_rand_normal(dev, &b[0], c->d[0], c->p[0], c->p[1], seed, step, stream);
  return clgan_rand_uniform(dev, &b[0], c->d[0], c->p[0], c->p[1], seed, step, stream);
}
static void rand_ref(const op_case *c, float **h) {
  uint64_t seed = rand_keys[c->d[1]].seed, step = rand_keys[c->d[1]].step;
  uint32_t stream = rand_keys[c->d[1]].stream;
  if (c->flag) clgan_ref_rand_normal(h[0], c->d[0], c->p[0], c->p[1], seed, step, stream);
  else clgan_ref_rand_uniform(h[0], c->d[0], c->p[0], c->p[1], seed, step, stream);
}
static const char *rand_flag_name(int flag) { return flag ? "normal" : "uniform"; }
static const op_kind rand_op = {
    .name = "rand",
    .tensors = rand_tensors,
    .device = rand_device,
    .reference = rand_ref,
    .rank = 2,
    .flag_name = rand_flag_name};

/* ---- DiffAugment (cl/augment.cl) ---------------------------------------------------------- */
/* d = {n, c, h, w, key}: key indexes rand_keys; flag = policy. Forward y = A x and backward
 * dx = A^T dy, bitwise (both only move and zero values). The finite differences of
 * L = <A x, dy> in x are A^T dy: the adjoint <A x, dy> = <x, A^T dy>, element by element. The
 * official semantics checked from first principles (shift ranges, cut sizes), the adjoint on
 * the device's own outputs and the refusals stay in test_ops_augment.c. */
static clgan_aug_cfg aug_cfg(const op_case *c) {
  return (clgan_aug_cfg){.policy = (unsigned)c->flag, .n = c->d[0], .c = c->d[1], .h = c->d[2],
                         .w = c->d[3], .seed = rand_keys[c->d[4]].seed,
                         .step = rand_keys[c->d[4]].step, .stream = rand_keys[c->d[4]].stream};
}
static int aug_tensors(const op_case *c, op_tensor *t) {
  size_t n = (size_t)c->d[0] * c->d[1] * c->d[2] * c->d[3];
  t[0] = T("x", n, -1, 1);
  t[1] = T("dy", n, -1, 1);
  t[2] = OUT("y", n, 0, 0, 0, 0);
  t[3] = OUT("dx", n, 0, 0, 0, 0);
  return 4;
}
static clgan_status aug_device(clgan_device *dev, const op_case *c, clgan_buffer *b) {
  clgan_aug_cfg cfg = aug_cfg(c);
  clgan_status st = clgan_augment_forward(dev, &cfg, &b[2], &b[0]);
  return st != CLGAN_OK ? st : clgan_augment_backward(dev, &cfg, &b[3], &b[1]);
}
static void aug_ref(const op_case *c, float **h) {
  clgan_aug_cfg cfg = aug_cfg(c);
  clgan_ref_augment_forward(&cfg, h[2], h[0]);
  clgan_ref_augment_backward(&cfg, h[3], h[1]);
}
/* L = <A x, dy>. */
static double aug_loss(const op_case *c, float *const *h) {
  clgan_aug_cfg cfg = aug_cfg(c);
  size_t n = (size_t)c->d[0] * c->d[1] * c->d[2] * c->d[3];
  float *y = copy_floats(h[0], n);
  clgan_ref_augment_forward(&cfg, y, h[0]);
  double l = 0.0;
  for (size_t i = 0; i < n; i++) l += (double)y[i] * h[1][i];
  free(y);
  return l;
}
static const char *aug_flag_name(int flag) { return clgan_aug_policy_name((unsigned)flag); }
static const op_kind augment = {
    .name = "augment",
    .tensors = aug_tensors,
    .device = aug_device,
    .reference = aug_ref,
    .loss = aug_loss,
    .grads = {{0, 3}},
    .n_grads = 1,
    .rank = 5,
    .flag_name = aug_flag_name};

/* ---- The table ---------------------------------------------------------------------------- */

/* Rows with designated initialisers: kind, shape d, parameters p, flag; fd = 1 with the step
 * fd_h and the tolerances fd_atol, fd_rtol for the finite differences. */
#define BIAS(r, c)                                                                         \
  {.kind = &bias_forward, .d = {r, c}}, {.kind = &bias_backward, .d = {r, c}, .flag = 1},  \
      {.kind = &bias_backward, .d = {r, c}, .fd = (r) * (c) <= 64, .fd_h = 1e-2,           \
       .fd_atol = 1e-3, .fd_rtol = 1e-3}
#define ACT1(a, param, n)                                                                  \
  {.kind = &act, .d = {n}, .p = {param}, .flag = CLGAN_ACT_##a, .fd = 1, .fd_h = 1e-3,     \
   .fd_atol = 1e-4, .fd_rtol = 1e-3},                                                      \
      {.kind = &act_inplace, .d = {n}, .p = {param}, .flag = CLGAN_ACT_##a}
#define ACT(n)                                                                             \
  ACT1(IDENTITY, 0.0f, n), ACT1(RELU, 0.0f, n), ACT1(LRELU, 0.2f, n), ACT1(TANH, 0.0f, n),  \
      ACT1(SIGMOID, 0.0f, n)
#define ELEMENTWISE(n) {.kind = &axpby, .d = {n}}, {.kind = &clamp, .d = {n}, .p = {0.01f}}
#define TRANSPOSE(r, c) {.kind = &transpose, .d = {r, c}}
#define BCE1(t, scale, sign, n)                                                            \
  {.kind = &bce, .d = {n}, .p = {t, scale, sign}, .fd = 1, .fd_h = 1e-2,                   \
   .fd_atol = 1e-4 * (scale), .fd_rtol = 1e-3}
#define BCE(n)                                                                             \
  BCE1(1.0f, 1.0f / (n), 1.0f, n),  /* D on real */                                        \
      BCE1(0.0f, 1.0f / (n), 1.0f, n),  /* D on fake */                                    \
      BCE1(0.0f, 1.0f / (n), -1.0f, n), /* minimax G */                                    \
      BCE1(0.9f, 1.0f / (n), 1.0f, n),  /* one-sided label smoothing */                    \
      BCE1(0.9f, 1.0f, -1.0f, n)
#define XENT1(n, classes)                                                                  \
  {.kind = &xent, .d = {n, classes}, .p = {1.0f / (n)}, .fd = 1, .fd_h = 1e-2,             \
   .fd_atol = 1e-4 * (1.0f / (n)), .fd_rtol = 1e-3}
#define XENT(n) XENT1(n, 1), XENT1(n, 2), XENT1(n, 10), XENT1(n, 17)
#define BN(n, c, s, eps, momentum, fd_on)                                                  \
  {.kind = &batchnorm, .d = {n, c, s}, .p = {eps, momentum}, .flag = 1},                   \
      {.kind = &batchnorm, .d = {n, c, s}, .p = {eps, momentum}, .fd = fd_on, .fd_h = 1e-2, \
       .fd_atol = 5e-4, .fd_rtol = 2e-3}
/* Forward with bias and backward accumulating; forward without bias and backward overwriting,
 * whose gradients meet the finite differences when fd_on. */
#define CONV(k, n, c_in, h, w, c_out, kh, kw, stride, pad, tol, fd_on)                     \
  {.kind = &k, .d = {n, c_in, h, w, c_out, kh, kw, stride, pad}, .p = {tol},               \
   .flag = CONV_BIAS | CONV_ACC},                                                          \
      {.kind = &k, .d = {n, c_in, h, w, c_out, kh, kw, stride, pad}, .p = {tol}, .fd = fd_on, \
       .fd_h = 1e-2, .fd_atol = 5e-4, .fd_rtol = 2e-3}
#define CONV_SMALL(...) CONV(conv2d, __VA_ARGS__, 2e-5, 1), CONV(convT2d, __VA_ARGS__, 2e-5, 1)
#define CRITIC1(ck, sign, target, scale, n)                                                \
  {.kind = &critic, .d = {n}, .p = {sign, target, scale}, .flag = CLGAN_CRITIC_##ck,      \
   .fd = 1, .fd_h = 1e-2, .fd_atol = 1e-4 * (scale), .fd_rtol = 1e-3}
#define CRITIC(n)                                                                          \
  CRITIC1(WASSERSTEIN, -1, 0, 1.0f / (n), n), CRITIC1(WASSERSTEIN, 1, 0, 1.0f / (n), n),    \
      CRITIC1(HINGE, -1, 0, 1.0f / (n), n), CRITIC1(HINGE, 1, 0, 1.0f / (n), n),            \
      CRITIC1(LSQ, 1, 1, 1.0f / (n), n), CRITIC1(LSQ, 1, 0, 1, n)
#define GP(batch, dim, lambda, scale, fd_on)                                               \
  {.kind = &gp_penalty, .d = {batch, dim}, .p = {lambda, scale}, .fd = fd_on, .fd_h = 1e-3, \
   .fd_atol = 1e-4 * (scale) * (lambda), .fd_rtol = 1e-3}
#define OPT1(cfg, n)                                                                       \
  {.kind = &opt_step, .d = {n, 1}, .flag = cfg}, {.kind = &opt_step, .d = {n, 2}, .flag = cfg}, \
      {.kind = &opt_step, .d = {n, 3}, .flag = cfg},                                       \
      {.kind = &opt_step, .d = {n, 4}, .flag = cfg},                                       \
      {.kind = &opt_step, .d = {n, OPT_MAX_STEPS}, .flag = cfg}
#define OPT(n) OPT1(0, n), OPT1(1, n), OPT1(2, n), OPT1(3, n), OPT1(4, n)
#define RAND1(n, key)                                                                      \
  {.kind = &rand_op, .d = {n, key}, .p = {0.0f, 1.0f}},                                    \
      {.kind = &rand_op, .d = {n, key}, .p = {-2.0f, 3.0f}},                               \
      {.kind = &rand_op, .d = {n, key}, .p = {-0.1f, 0.1f}},                               \
      {.kind = &rand_op, .d = {n, key}, .p = {0.0f, 1.0f}, .flag = 1},                     \
      {.kind = &rand_op, .d = {n, key}, .p = {0.5f, 0.02f}, .flag = 1}
#define RAND(n) RAND1(n, 0), RAND1(n, 1), RAND1(n, 2)
#define AUG1(n, c, h, w, key, policy, fd_on)                                             \
  {.kind = &augment, .d = {n, c, h, w, key}, .flag = policy, .fd = fd_on, .fd_h = 1e-2,   \
   .fd_atol = 1e-5, .fd_rtol = 1e-4}
#define AUG(n, c, h, w, key, fd_on)                                                        \
  AUG1(n, c, h, w, key, 1, fd_on), AUG1(n, c, h, w, key, 2, fd_on),                        \
      AUG1(n, c, h, w, key, 3, fd_on)
/* Forward in both modes; backward overwriting (with finite differences when fd_on) and
 * accumulating. */
#define SN(a, r, k, fd_on)                                                                 \
  {.kind = &sn_forward, .d = {a, r, k}, .flag = 1}, {.kind = &sn_forward, .d = {a, r, k}},  \
      {.kind = &sn_backward, .d = {a, r, k}, .fd = fd_on, .fd_h = 1e-3, .fd_atol = 1e-4,   \
       .fd_rtol = 1e-3},                                                                   \
      {.kind = &sn_backward, .d = {a, r, k}, .flag = 1}
#define REDUCE1(k, n) {.kind = &k, .d = {n}}, {.kind = &k, .d = {n}, .flag = 1}
#define REDUCE(n)                                                                          \
  REDUCE1(reduce_sum, n), REDUCE1(reduce_sumsq, n), REDUCE1(reduce_count, n),              \
      REDUCE1(reduce_count_neg, n)

static const op_case cases[] = {
    BIAS(3, 5), BIAS(1, 1), BIAS(1, 7), BIAS(7, 1), BIAS(13, 29), BIAS(128, 784), BIAS(3, 4099),
    ACT(1), ACT(7), ACT(1000), ACT(4099),
    ELEMENTWISE(1), ELEMENTWISE(7), ELEMENTWISE(1000), ELEMENTWISE(4099),
    TRANSPOSE(1, 1), TRANSPOSE(3, 5), TRANSPOSE(17, 33), TRANSPOSE(256, 784), TRANSPOSE(1, 128),
    REDUCE(0), REDUCE(1), REDUCE(7), REDUCE(255), REDUCE(256), REDUCE(257), REDUCE(1000),
    REDUCE(4099), REDUCE(100003),
    BCE(1), BCE(7), BCE(1000), BCE(4099),
    XENT(1), XENT(37), XENT(129),
    BN(3, 5, 1, 1e-5f, 0.1f, 1), BN(3, 5, 4, 1e-5f, 0.1f, 1), BN(2, 1, 1, 1e-5f, 0.2f, 1),
    BN(7, 3, 13, 1e-3f, 1.0f, 0), BN(128, 257, 1, 1e-5f, 0.1f, 0), BN(64, 32, 49, 1e-5f, 0.1f, 0),
    /* Small odd shapes (batch 3, channels 3 and 5, kernels 3 and 4, stride 1, 2 and 3,
     * H != W) with finite differences. */
    CONV_SMALL(3, 3, 7, 5, 5, 3, 3, 2, 1), CONV_SMALL(3, 5, 7, 5, 3, 4, 4, 2, 1),
    CONV_SMALL(3, 3, 5, 7, 5, 3, 3, 1, 0), CONV_SMALL(3, 5, 7, 5, 3, 3, 2, 1, 1),
    CONV_SMALL(3, 3, 7, 7, 5, 4, 4, 3, 2), CONV_SMALL(1, 1, 1, 1, 1, 1, 1, 1, 0),
    /* The DCGAN layers at batch 2 (generator 7 -> 14 -> 28, discriminator 28 -> 14 -> 7). */
    CONV(convT2d, 2, 256, 7, 7, 128, 4, 4, 2, 1, 1e-4, 0),
    CONV(convT2d, 2, 128, 14, 14, 1, 4, 4, 2, 1, 1e-4, 0),
    CONV(conv2d, 2, 1, 28, 28, 32, 4, 4, 2, 1, 1e-4, 0),
    CONV(conv2d, 2, 32, 14, 14, 64, 4, 4, 2, 1, 1e-4, 0),
    CRITIC(1), CRITIC(7), CRITIC(1000), CRITIC(4099),
    /* Spectral normalisation: a Linear(7, 5), a Conv2d(3, 4, 3x3), a ConvTranspose2d(3, 4, 4x4)
     * (dim 1: A = c_in), a critic's last Linear(3136, 1), a column and a row, and DCGAN's second
     * conv. (A 1x1 weight has dw = 0 up to rounding: w / sigma is its sign.) */
    SN(1, 5, 7, 1), SN(1, 4, 27, 1), SN(3, 4, 16, 1), SN(1, 1, 3136, 0), SN(1, 2, 1, 1),
    SN(1, 1, 3, 1),
    SN(1, 64, 512, 0),
    {.kind = &gp_interpolate, .d = {1, 1}}, {.kind = &gp_interpolate, .d = {5, 7}},
    {.kind = &gp_interpolate, .d = {64, 784}},
    GP(5, 7, 10.0f, 1.0f / 5, 1), GP(4, 784, 10.0f, 1.0f / 4, 1), GP(3, 1, 1.0f, 1.0f, 1),
    GP(64, 3136, 10.0f, 1.0f / 64, 0),
    OPT(1), OPT(7), OPT(1000), OPT(4099),
    RAND(1), RAND(2), RAND(3), RAND(5), RAND(7), RAND(1000), RAND(4097), RAND(4099),
    {.kind = &gather_images, .d = {37, 784, 0, 16}}, {.kind = &gather_images, .d = {37, 784, 5, 7}},
    {.kind = &gather_images, .d = {37, 784, 36, 1}}, {.kind = &gather_images, .d = {11, 5, 3, 8}},
    {.kind = &gather_images, .d = {1, 1, 0, 1}},
    /* Conditioning: MLP inputs (784 + 10), a latent (100 + 10), odd sizes; the projection on
     * DCGAN's D features (3136) and small shapes with finite differences. */
    {.kind = &cond_concat, .d = {5, 7, 3}, .flag = 1}, {.kind = &cond_concat, .d = {5, 7, 3}},
    {.kind = &cond_concat, .d = {64, 784, 10}, .flag = 1},
    {.kind = &cond_concat, .d = {3, 100, 10}, .flag = 1},
    {.kind = &cond_concat, .d = {1, 1, 1}, .flag = 1},
    {.kind = &cond_slice, .d = {4, 6, 3}, .fd = 1, .fd_h = 1e-2, .fd_atol = 1e-4, .fd_rtol = 1e-3},
    {.kind = &cond_slice, .d = {64, 784, 10}},
    {.kind = &proj_forward, .d = {5, 7, 3}}, {.kind = &proj_forward, .d = {64, 3136, 10}},
    {.kind = &proj_forward, .d = {1, 1, 1}},
    {.kind = &proj_backward, .d = {5, 7, 3}, .fd = 1, .fd_h = 1e-2, .fd_atol = 1e-4,
     .fd_rtol = 1e-3},
    {.kind = &proj_backward, .d = {6, 4, 2}, .fd = 1, .fd_h = 1e-2, .fd_atol = 1e-4,
     .fd_rtol = 1e-3},
    {.kind = &proj_backward, .d = {5, 7, 3}, .flag = 1},
    {.kind = &proj_backward, .d = {64, 3136, 10}, .flag = 1},
    {.kind = &gather_labels, .d = {37, 0, 16}}, {.kind = &gather_labels, .d = {37, 30, 7}},
    {.kind = &gather_labels, .d = {1, 0, 1}},
    {.kind = &labels_from_uniform, .d = {64, 10}}, {.kind = &labels_from_uniform, .d = {1000, 7}, .flag = 1},
    {.kind = &labels_from_uniform, .d = {5, 1}},
    /* policies 1 translation, 2 cutout, 3 both; odd and even sizes, H != W, 1 to 4 channels */
    AUG(3, 2, 7, 5, 0, 1), AUG(5, 3, 4, 9, 1, 1), AUG(2, 1, 1, 1, 2, 1), AUG(4, 1, 3, 2, 0, 1),
    AUG(64, 1, 28, 28, 1, 0), AUG(7, 4, 13, 16, 2, 0), AUG(1, 3, 32, 31, 0, 0),
    AUG1(3, 2, 7, 5, 0, 0, 1),
};

/* ---- The runner --------------------------------------------------------------------------- */

static void describe(char *s, size_t size, const op_case *c) {
  int nd = c->kind->rank, len;
  if (!nd) {
    nd = 9;
    while (nd > 1 && c->d[nd - 1] == 0) nd--;
  }
  len = snprintf(s, size, "%s [", c->kind->name);
  for (int i = 0; i < nd && len > 0 && (size_t)len < size; i++)
    len += snprintf(s + len, size - (size_t)len, "%s%d", i ? "," : "", c->d[i]);
  if (len > 0 && (size_t)len < size)
    len += snprintf(s + len, size - (size_t)len, "]%s%s", c->kind->flag_name ? " " : "",
                    c->kind->flag_name ? c->kind->flag_name(c->flag) : "");
  int np = 4;
  while (np > 0 && c->p[np - 1] == 0.0f) np--;
  for (int i = 0; i < np && len > 0 && (size_t)len < size; i++)
    len += snprintf(s + len, size - (size_t)len, "%s%g", i ? "," : " p=", (double)c->p[i]);
}

static void run_case(clgan_device *dev, const op_case *c) {
  const op_kind *k = c->kind;
  op_tensor t[MAXT] = {{0}};
  float *h[MAXT], *want[MAXT], *got[MAXT];
  clgan_buffer b[MAXT];
  char name[160], what[256];
  describe(name, sizeof name, c);
  int nt = k->tensors(c, t);
  if (nt > MAXT) abort(); /* a kind with more tensors than the runner holds */

  for (int i = 0; i < nt; i++) h[i] = rand_floats(t[i].n, t[i].lo, t[i].hi);
  if (k->fill) k->fill(c, t, h);
  for (int i = 0; i < nt; i++) {
    b[i] = t[i].bytes ? upload_bytes(dev, h[i], t[i].bytes) : upload(dev, h[i], t[i].n);
    want[i] = copy_floats(h[i], t[i].n);
    got[i] = copy_floats(h[i], t[i].n);
  }
  clgan_status st = k->device(dev, c, b);
  CHECK(st == CLGAN_OK, "%s: device returned %s", name, clgan_status_name(st));
  k->reference(c, want);
  for (int i = 0; i < nt; i++)
    if (t[i].out) download(dev, &b[i], got[i], t[i].n);
  if (k->prepare) k->prepare(want, got);
  for (int i = 0; i < nt; i++) {
    if (!t[i].out) continue;
    double atol = t[i].atol >= 0 ? t[i].atol : k->atol(c, t, h);
    snprintf(what, sizeof what, "%s: %s", name, t[i].name);
    CHECK_CLOSE(what, got[i], want[i], t[i].n, atol, t[i].rtol);
  }

  CHECK(!c->fd || (k->loss && k->n_grads > 0), "%s: finite differences asked of a kind without "
        "a loss", name);
  for (int g = 0; c->fd && k->loss && g < k->n_grads; g++) {
    int wrt = k->grads[g].wrt, grad = k->grads[g].grad;
    size_t n = t[wrt].n;
    float *x = h[wrt], *fd = malloc((n ? n : 1) * sizeof *fd);
    if (!fd) abort();
    for (size_t i = 0; i < n; i++) {
      float x0 = x[i], xp = (float)(x0 + c->fd_h), xm = (float)(x0 - c->fd_h);
      x[i] = xp;
      double lp = k->loss(c, h);
      x[i] = xm;
      double lm = k->loss(c, h);
      x[i] = x0;
      fd[i] = (float)((lp - lm) / ((double)xp - xm));
    }
    snprintf(what, sizeof what, "%s: %s vs finite differences in %s", name, t[grad].name,
             t[wrt].name);
    CHECK_CLOSE(what, got[grad], fd, n, c->fd_atol, c->fd_rtol);
    free(fd);
  }
  for (int i = 0; i < nt; i++) {
    clgan_buffer_free(&b[i]);
    free(h[i]), free(want[i]), free(got[i]);
  }
}

int main(int argc, char **argv) {
  clgan_device *dev = test_open_device();
  /* An argument runs only the rows whose description contains it (as test-backend-ops -o). */
  const char *only = argc > 1 ? argv[1] : NULL;
  size_t ran = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char name[160];
    describe(name, sizeof name, &cases[i]);
    if (only && !strstr(name, only)) continue;
    int before = test_failures;
    run_case(dev, &cases[i]);
    ran++;
    if (test_failures != before) fprintf(stderr, "FAILED row %zu: %s\n", i, name);
  }
  printf("%zu of %zu rows run\n", ran, sizeof cases / sizeof cases[0]);
  clgan_device_close(dev);
  return test_finish();
}
