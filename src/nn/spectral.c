/* Spectral normalisation of a layer's weight (Miyato et al. 2018), as
 * torch.nn.utils.spectral_norm(module) does it with its defaults: the parameter is
 * weight_orig (the layer's w in the arena), buffers weight_u and weight_v (sn_u, sn_v) persist
 * between steps, every training-mode forward runs one power iteration without gradient, and
 * the layer computes with w_sn = w / sigma. The backward holds u and v constant (PyTorch clones
 * them after the iteration), so with g = dL/dw_sn of one pass
 *   dL/dw = (g - <g, w_sn>_F u v^T) / sigma,
 * applied per backward pass with that pass's own sigma, u, v: clgan's D backward runs after
 * each of its forwards (real, then fake), each forward iterating once, as PyTorch's two
 * forwards do before one backward. The kind computes g into sn_g (clgan_layer_wgrad); dim is
 * 0 (rows = out features or channels), or 1 for convT, whose weight is (c_in, c_out, k, k).
 * WGAN-GP's double backward (gradpen.c) goes through the same correction: the penalty depends
 * on W_orig only through W_sn, with u and v constant, so dP/dW_orig is the same map of
 * dP/dW_sn. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/layers.h"

int clgan_sn_shape_of(clgan_layer *l, char *err, size_t err_size) {
  if (!l->w_n || l->w_ndim < 1 || l->spec.kind == CLGAN_LAYER_BN ||
      l->spec.kind == CLGAN_LAYER_BN2D) {
    snprintf(err, err_size, "sn (spectral normalisation) needs a layer with a weight: linear, "
             "conv or convT");
    return 0;
  }
  int transposed = l->spec.kind == CLGAN_LAYER_CONVT;
  int a = transposed ? (int)l->w_shape[0] : 1, r = (int)l->w_shape[transposed ? 1 : 0];
  l->sn = (clgan_sn_shape){.a = a, .r = r, .k = (int)(l->w_n / ((size_t)a * (size_t)r)),
                           .eps = 1e-12f};
  return 1;
}

clgan_status clgan_sn_alloc(clgan_net *net, clgan_layer *l) {
  clgan_status st;
  size_t fb = sizeof(float), r = (size_t)l->sn.r, cols = (size_t)l->sn.a * (size_t)l->sn.k;
  if ((st = clgan_buffer_alloc(net->dev, &l->sn_u, r * fb)) ||
      (st = clgan_buffer_alloc(net->dev, &l->sn_v, cols * fb)) ||
      (st = clgan_buffer_alloc(net->dev, &l->w_sn, l->w_n * fb)) ||
      (st = clgan_buffer_alloc(net->dev, &l->sn_g, l->w_n * fb)) ||
      (st = clgan_buffer_alloc(net->dev, &l->sn_t, r * fb)) ||
      (st = clgan_buffer_alloc(net->dev, &l->sn_sigma, 2 * fb)))
    return st;
  return CLGAN_OK;
}

void clgan_sn_free(clgan_layer *l) {
  clgan_buffer *bufs[] = {&l->sn_u, &l->sn_v, &l->w_sn, &l->sn_g, &l->sn_t, &l->sn_sigma};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) clgan_buffer_free(bufs[i]);
}

/* x = normalize(x) in float, as F.normalize (eps 1e-12). */
static void normalize(float *x, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)x[i] * x[i];
  float d = fmaxf((float)sqrt(s), 1e-12f);
  for (int i = 0; i < n; i++) x[i] /= d;
}

clgan_status clgan_sn_init(clgan_net *net, clgan_layer *l, int index, unsigned long long seed,
                           unsigned stream) {
  clgan_status st;
  int r = l->sn.r, cols = l->sn.a * l->sn.k;
  float *u = malloc((size_t)r * sizeof *u), *v = malloc((size_t)cols * sizeof *v);
  if (!u || !v) {
    free(u);
    free(v);
    return CLGAN_HOST_OUT_OF_MEMORY;
  }
  unsigned long long step = (1ull << 32) + 2ull * (unsigned long long)index;
  clgan_ref_rand_normal(u, r, 0.0f, 1.0f, seed, step, stream);
  clgan_ref_rand_normal(v, cols, 0.0f, 1.0f, seed, step + 1, stream);
  normalize(u, r);
  normalize(v, cols);
  if (!(st = clgan_buffer_write(net->dev, &l->sn_u, 0, (size_t)r * sizeof *u, u)))
    st = clgan_buffer_write(net->dev, &l->sn_v, 0, (size_t)cols * sizeof *v, v);
  free(u);
  free(v);
  return st;
}

clgan_status clgan_sn_forward_layer(clgan_net *net, clgan_layer *l, int train) {
  return clgan_sn_forward(net->dev, &l->sn, &l->w_sn, &l->sn_u, &l->sn_v, &l->sn_t,
                          &l->sn_sigma, &l->w, train);
}

clgan_status clgan_sn_begin_grad(clgan_net *net, clgan_layer *l, int accumulate) {
  return accumulate ? clgan_buffer_zero(net->dev, &l->sn_g) : CLGAN_OK;
}

clgan_status clgan_sn_end_grad(clgan_net *net, clgan_layer *l, int accumulate) {
  return clgan_sn_backward(net->dev, &l->sn, &l->dw, &l->sn_sigma, &l->sn_g, &l->w_sn, &l->sn_u,
                           &l->sn_v, accumulate);
}
