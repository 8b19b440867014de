/* The convolution layers: nn.Conv2d (conv, weight (c_out, c_in, k, k)) and nn.ConvTranspose2d
 * (convT, weight (c_in, c_out, k, k)), both over the ops' im2col/col2im convolutions with the
 * net's shared workspace. They share shape, initialisation and workspace code; the convolution
 * has a double backward (WGAN-GP critics), the transposed one, a generator's layer, has none. */
#include <stdio.h>

#include "nn/layers.h"

static int conv_shape_common(clgan_layer *l, int transposed, char *err, size_t err_size) {
  const clgan_layer_spec *sp = &l->spec;
  int c = l->in_c, h = l->in_h, w = l->in_w;
  l->conv = (clgan_conv_shape){.n = 1, .c_in = c, .h_in = h, .w_in = w, .c_out = sp->out,
                               .kh = sp->k, .kw = sp->k, .stride = sp->stride, .pad = sp->pad};
  int ho = 0, wo = 0;
  if (transposed)
    clgan_convT2d_out_hw(&l->conv, &ho, &wo);
  else
    clgan_conv2d_out_hw(&l->conv, &ho, &wo);
  if (ho < 1 || wo < 1 || (!transposed && (h + 2 * sp->pad < sp->k || w + 2 * sp->pad < sp->k))) {
    snprintf(err, err_size, "a %dx%d kernel (stride %d, padding %d) does not fit the %dx%dx%d "
             "input", sp->k, sp->k, sp->stride, sp->pad, c, h, w);
    return 0;
  }
  l->out_c = sp->out;
  l->out_h = ho;
  l->out_w = wo;
  l->w_n = (size_t)c * (size_t)sp->out * (size_t)sp->k * (size_t)sp->k;
  l->b_n = (size_t)sp->out;
  l->w_ndim = 4;
  l->w_shape[0] = transposed ? c : sp->out;
  l->w_shape[1] = transposed ? sp->out : c;
  l->w_shape[2] = l->w_shape[3] = sp->k;
  return 1;
}

static int conv_shape(clgan_layer *l, char *err, size_t err_size) {
  return conv_shape_common(l, 0, err, err_size);
}

static int convT_shape(clgan_layer *l, char *err, size_t err_size) {
  return conv_shape_common(l, 1, err, err_size);
}

static clgan_conv_shape batch_shape(const clgan_layer *l, int batch) {
  clgan_conv_shape sh = l->conv;
  sh.n = batch;
  return sh;
}

static size_t conv_workspace(const clgan_layer *l, int batch) {
  clgan_conv_shape sh = batch_shape(l, batch);
  return clgan_conv2d_workspace(&sh);
}

static size_t convT_workspace(const clgan_layer *l, int batch) {
  clgan_conv_shape sh = batch_shape(l, batch);
  return clgan_convT2d_workspace(&sh);
}

static void conv_init(const clgan_layer *l, const clgan_layer_init_cfg *cfg, float *w,
                      float *b) {
  clgan_layer_init_affine(l, cfg, (double)l->spec.k * l->spec.k, w, b);
}

static clgan_status conv_forward(clgan_net *net, clgan_layer *l, const clgan_buffer *x,
                                 int batch, int train) {
  (void)train;
  clgan_conv_shape sh = batch_shape(l, batch);
  return clgan_conv2d_forward(net->dev, &sh, &l->y, x, clgan_layer_weight(l), &l->b, &net->col);
}

static clgan_status convT_forward(clgan_net *net, clgan_layer *l, const clgan_buffer *x,
                                  int batch, int train) {
  (void)train;
  clgan_conv_shape sh = batch_shape(l, batch);
  return clgan_convT2d_forward(net->dev, &sh, &l->y, x, clgan_layer_weight(l), &l->b,
                               &net->col);
}

static clgan_status conv_backward(clgan_net *net, clgan_layer *l, const clgan_backward_cfg *cfg,
                                  const clgan_buffer *dy, const clgan_buffer *x, int need_dx) {
  clgan_conv_shape sh = batch_shape(l, cfg->batch);
  return clgan_conv2d_backward(net->dev, &sh, need_dx ? &l->dx : NULL,
                               cfg->param_grads ? clgan_layer_wgrad(l) : NULL,
                               cfg->param_grads ? &l->db : NULL, dy, x, clgan_layer_weight(l),
                               &net->col, cfg->accumulate);
}

static clgan_status convT_backward(clgan_net *net, clgan_layer *l, const clgan_backward_cfg *cfg,
                                   const clgan_buffer *dy, const clgan_buffer *x, int need_dx) {
  clgan_conv_shape sh = batch_shape(l, cfg->batch);
  return clgan_convT2d_backward(net->dev, &sh, need_dx ? &l->dx : NULL,
                                cfg->param_grads ? clgan_layer_wgrad(l) : NULL,
                                cfg->param_grads ? &l->db : NULL, dy, x, clgan_layer_weight(l),
                                &net->col, cfg->accumulate);
}

/* The input-gradient map is conv2d_backward's dx: its weight gradient with (gy, gin) is dW's
 * share, and its adjoint, conv2d_forward without bias, carries gin on. */
static clgan_status conv_double_backward(clgan_net *net, clgan_layer *l, int batch,
                                         const clgan_buffer *x, const clgan_buffer *gy,
                                         const clgan_buffer *gin, clgan_buffer *gout) {
  (void)x;
  clgan_conv_shape sh = batch_shape(l, batch);
  clgan_status st = clgan_conv2d_backward(net->dev, &sh, NULL, clgan_layer_wgrad(l), NULL, gy,
                                          gin, clgan_layer_weight(l), &net->col, 1);
  if (st != CLGAN_OK || !gout) return st;
  return clgan_conv2d_forward(net->dev, &sh, gout, gin, clgan_layer_weight(l), NULL, &net->col);
}

const clgan_layer_ops clgan_layer_conv = {
    .name = "conv",
    .shape = conv_shape,
    .workspace = conv_workspace,
    .init = conv_init,
    .forward = conv_forward,
    .backward = conv_backward,
    .double_backward = conv_double_backward,
};

const clgan_layer_ops clgan_layer_convT = {
    .name = "convT",
    .shape = convT_shape,
    .workspace = convT_workspace,
    .init = conv_init,
    .forward = convT_forward,
    .backward = convT_backward,
};
