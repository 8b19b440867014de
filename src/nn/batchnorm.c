/* The batch-norm layers: over dense features (nn.BatchNorm1d, S = 1 in the ops' layout) and per
 * channel of an image (nn.BatchNorm2d, S = H*W). The two differ only in the input they accept.
 * gamma is the layer's w, beta its b; running statistics and the batch's saved mean and
 * 1/std are buffers of the layer's own. No double backward: batch statistics tie the samples
 * together, which breaks WGAN-GP's per-sample penalty (Gulrajani et al. 2017, section 4). */
#include <stdio.h>

#include "nn/layers.h"

static void bn_params(clgan_layer *l) {
  l->w_n = l->b_n = (size_t)l->in_c;
  l->w_ndim = 1;
  l->w_shape[0] = l->in_c;
}

static int bn_shape(clgan_layer *l, char *err, size_t err_size) {
  if (l->in_h != 1 || l->in_w != 1) {
    snprintf(err, err_size, "bn follows a %dx%dx%d image: use bn2d for images", l->in_c,
             l->in_h, l->in_w);
    return 0;
  }
  bn_params(l);
  return 1;
}

static int bn2d_shape(clgan_layer *l, char *err, size_t err_size) {
  if (l->in_h == 1 && l->in_w == 1) {
    snprintf(err, err_size, "bn2d needs an image (CxHxW), not %d dense features: use bn, or "
                            "reshape first", l->in_c);
    return 0;
  }
  bn_params(l);
  return 1;
}

static clgan_status bn_alloc(clgan_net *net, clgan_layer *l) {
  size_t cb = (size_t)l->out_c * sizeof(float);
  clgan_status st;
  if ((st = clgan_buffer_alloc(net->dev, &l->running_mean, cb)) ||
      (st = clgan_buffer_alloc(net->dev, &l->running_var, cb)) ||
      (st = clgan_buffer_alloc(net->dev, &l->mean, cb)) ||
      (st = clgan_buffer_alloc(net->dev, &l->invstd, cb)))
    return st;
  return CLGAN_OK;
}

/* gamma = 1 (DCGAN's init: N(1, 0.02)), beta = 0. */
static void bn_init(const clgan_layer *l, const clgan_layer_init_cfg *cfg, float *w, float *b) {
  (void)b;
  if (cfg->init == CLGAN_INIT_DCGAN)
    clgan_ref_rand_normal(w, (int)l->w_n, 1.0f, 0.02f, cfg->seed, cfg->step_w, cfg->stream);
  else
    for (size_t j = 0; j < l->w_n; j++) w[j] = 1.0f;
}

static clgan_status bn_reset(clgan_net *net, clgan_layer *l) {
  clgan_status st;
  if ((st = clgan_fill(net->dev, &l->running_mean, l->out_c, 0.0f)) ||
      (st = clgan_fill(net->dev, &l->running_var, l->out_c, 1.0f)))
    return st;
  return CLGAN_OK;
}

static clgan_bn_shape bn_op_shape(const clgan_layer *l, int batch) {
  return (clgan_bn_shape){.n = batch, .c = l->out_c, .s = l->out_h * l->out_w,
                          .eps = l->spec.eps, .momentum = l->spec.param};
}

/* Training: batch statistics (saved for backward, folded into the running ones); eval: the
 * running statistics. */
static clgan_status bn_forward(clgan_net *net, clgan_layer *l, const clgan_buffer *x, int batch,
                               int train) {
  clgan_bn_shape sh = bn_op_shape(l, batch);
  if (!train)
    return clgan_bn_forward_eval(net->dev, &sh, &l->y, &l->running_mean, &l->running_var, x,
                                 &l->w, &l->b);
  l->bn_batches++;
  return clgan_bn_forward_train(net->dev, &sh, &l->y, &l->mean, &l->invstd, &l->running_mean,
                                &l->running_var, x, &l->w, &l->b);
}

/* dx is written even when not needed: clgan_bn_backward has no form without it. */
static clgan_status bn_backward(clgan_net *net, clgan_layer *l, const clgan_backward_cfg *cfg,
                                const clgan_buffer *dy, const clgan_buffer *x, int need_dx) {
  (void)need_dx;
  clgan_bn_shape sh = bn_op_shape(l, cfg->batch);
  return clgan_bn_backward(net->dev, &sh, &l->dx, cfg->param_grads ? &l->dw : NULL,
                           cfg->param_grads ? &l->db : NULL, dy, x, &l->mean, &l->invstd, &l->w,
                           cfg->accumulate);
}

const clgan_layer_ops clgan_layer_bn = {
    .name = "bn",
    .shape = bn_shape,
    .alloc = bn_alloc,
    .init = bn_init,
    .reset = bn_reset,
    .forward = bn_forward,
    .backward = bn_backward,
};

const clgan_layer_ops clgan_layer_bn2d = {
    .name = "bn2d",
    .shape = bn2d_shape,
    .alloc = bn_alloc,
    .init = bn_init,
    .reset = bn_reset,
    .forward = bn_forward,
    .backward = bn_backward,
};
