/* The dense layer (PyTorch nn.Linear): three matrix products (clgan_matmul) and the bias ops.
 * The forward product y = x W^T is computed as x (W^T) from a transposed copy made first: a
 * GEMM with a transposed B ran 3x slower than NN and TN on PoCL (the MLP step's forward GEMMs
 * took two thirds of its time), and the copy costs a fraction of one GEMM. It is redone in every
 * forward, so it can never be stale, whoever changed W.
 * Also the initialisation it shares with the convolutions (clgan_layer_init_affine). */
#include <math.h>

#include "nn/layers.h"

/* W (out, in), b (out); x (batch, in), y (batch, out). */
static int linear_shape(clgan_layer *l, char *err, size_t err_size) {
  (void)err;
  (void)err_size;
  l->out_c = l->spec.out;
  l->out_h = l->out_w = 1;
  l->w_n = (size_t)l->spec.out * (size_t)l->in;
  l->b_n = (size_t)l->spec.out;
  l->w_ndim = 2;
  l->w_shape[0] = l->spec.out;
  l->w_shape[1] = l->in;
  return 1;
}

/* W^T for the CLBlast path's forward; the packed GEMM reads W as it is (linear_forward). */
static clgan_status linear_alloc(clgan_net *net, clgan_layer *l) {
  if (clgan_device_gemm(net->dev) == CLGAN_GEMM_PACKED) return CLGAN_OK;
  return clgan_buffer_alloc(net->dev, &l->wt, l->w_n * sizeof(float));
}

void clgan_layer_init_affine(const clgan_layer *l, const clgan_layer_init_cfg *cfg,
                             double field, float *w, float *b) {
  /* PyTorch's fan_in is weight.size(1) * receptive field: in for Linear and Conv2d, but c_out
   * for ConvTranspose2d, whose weight is (c_in, c_out, k, k). */
  double fan_in = (double)l->w_shape[1] * field, fan_out = (double)l->w_shape[0] * field;
  if (cfg->init == CLGAN_INIT_TORCH) {
    float bound = (float)(1.0 / sqrt(fan_in));
    clgan_ref_rand_uniform(w, (int)l->w_n, -bound, bound, cfg->seed, cfg->step_w, cfg->stream);
    clgan_ref_rand_uniform(b, (int)l->b_n, -bound, bound, cfg->seed, cfg->step_b, cfg->stream);
  } else if (cfg->init == CLGAN_INIT_GLOROT) {
    float bound = (float)sqrt(6.0 / (fan_in + fan_out));
    clgan_ref_rand_uniform(w, (int)l->w_n, -bound, bound, cfg->seed, cfg->step_w, cfg->stream);
  } else {
    clgan_ref_rand_normal(w, (int)l->w_n, 0.0f, 0.02f, cfg->seed, cfg->step_w, cfg->stream);
  }
}

static void linear_init(const clgan_layer *l, const clgan_layer_init_cfg *cfg, float *w,
                        float *b) {
  clgan_layer_init_affine(l, cfg, 1.0, w, b);
}

/* y = x W^T + b. CLBlast on PoCL ran B-transposed products slower than a transposed copy and
 * an NN product; clgan's packed kernels transpose while packing, so they take W as it is, and
 * add b as they store y. */
static clgan_status linear_forward(clgan_net *net, clgan_layer *l, const clgan_buffer *x,
                                   int batch, int train) {
  (void)train;
  clgan_gemm_args g = {.m = (size_t)batch, .n = (size_t)l->out, .k = (size_t)l->in,
                       .alpha = 1.0f, .beta = 0.0f, .a = x, .lda = (size_t)l->in, .b = &l->wt,
                       .ldb = (size_t)l->out, .c = &l->y, .ldc = (size_t)l->out};
  if (clgan_device_gemm(net->dev) == CLGAN_GEMM_PACKED) {
    /* The bias is added as C is stored: no pass of its own. */
    g.trans_b = 1;
    g.b = clgan_layer_weight(l);
    g.ldb = (size_t)l->in;
    clgan_gemm_layout with_bias = {.bias = &l->b, .bias_columns = 1};
    return clgan_gemm_ex(net->dev, &g, &with_bias);
  }
  clgan_status st = clgan_transpose(net->dev, &l->wt, clgan_layer_weight(l), l->out, l->in);
  if (st == CLGAN_OK) st = clgan_matmul(net->dev, &g);
  if (st != CLGAN_OK) return st;
  return clgan_bias_forward(net->dev, &l->y, &l->b, batch, l->out);
}

/* dW (+)= dy^T x, db (+)= sum_rows dy; dx = dy W. */
static clgan_status linear_backward(clgan_net *net, clgan_layer *l, const clgan_backward_cfg *cfg,
                                    const clgan_buffer *dy, const clgan_buffer *x, int need_dx) {
  clgan_status st = CLGAN_OK;
  size_t batch = (size_t)cfg->batch;
  if (cfg->param_grads) {
    clgan_gemm_args gw = {.trans_a = 1, .m = (size_t)l->out, .n = (size_t)l->in, .k = batch,
                          .alpha = 1.0f, .beta = cfg->accumulate ? 1.0f : 0.0f, .a = dy,
                          .lda = (size_t)l->out, .b = x, .ldb = (size_t)l->in,
                          .c = clgan_layer_wgrad(l),
                          .ldc = (size_t)l->in};
    if ((st = clgan_matmul(net->dev, &gw)) ||
        (st = clgan_bias_backward(net->dev, &l->db, dy, cfg->batch, l->out, cfg->accumulate)))
      return st;
  }
  if (need_dx) {
    clgan_gemm_args gx = {.m = batch, .n = (size_t)l->in, .k = (size_t)l->out, .alpha = 1.0f,
                          .beta = 0.0f, .a = dy, .lda = (size_t)l->out, .b = clgan_layer_weight(l),
                          .ldb = (size_t)l->in, .c = &l->dx, .ldc = (size_t)l->in};
    st = clgan_matmul(net->dev, &gx);
  }
  return st;
}

/* The input-gradient map is gx = gy W: dW += gy^T gin, gout = gin W^T. */
static clgan_status linear_double_backward(clgan_net *net, clgan_layer *l, int batch,
                                           const clgan_buffer *x, const clgan_buffer *gy,
                                           const clgan_buffer *gin, clgan_buffer *gout) {
  (void)x;
  clgan_status st;
  clgan_gemm_args gw = {.trans_a = 1, .m = (size_t)l->out, .n = (size_t)l->in,
                        .k = (size_t)batch, .alpha = 1.0f, .beta = 1.0f, .a = gy,
                        .lda = (size_t)l->out, .b = gin, .ldb = (size_t)l->in,
                        .c = clgan_layer_wgrad(l),
                        .ldc = (size_t)l->in};
  if ((st = clgan_matmul(net->dev, &gw)) || !gout) return st;
  clgan_gemm_args go = {.trans_b = 1, .m = (size_t)batch, .n = (size_t)l->out,
                        .k = (size_t)l->in, .alpha = 1.0f, .beta = 0.0f, .a = gin,
                        .lda = (size_t)l->in, .b = clgan_layer_weight(l), .ldb = (size_t)l->in,
                        .c = gout,
                        .ldc = (size_t)l->out};
  return clgan_matmul(net->dev, &go);
}

const clgan_layer_ops clgan_layer_linear = {
    .name = "linear",
    .shape = linear_shape,
    .alloc = linear_alloc,
    .init = linear_init,
    .forward = linear_forward,
    .backward = linear_backward,
    .double_backward = linear_double_backward,
};
