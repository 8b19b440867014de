/* The sequential network: shapes, the parameter arena and its views, initialisation, and the
 * forward and backward passes that walk the layers (src/nn/linear.c, activation.c, batchnorm.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"

void clgan_net_tensor_name(char *name, size_t size, const char *prefix, int layer,
                           const char *what) {
  snprintf(name, size, "%s.%d.%s", prefix, layer, what);
}

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

void clgan_net_free(clgan_net *net) {
  if (!net) return;
  for (int i = 0; i < net->count && net->layers; i++) {
    clgan_layer *l = &net->layers[i];
    clgan_buffer *bufs[] = {&l->w, &l->b, &l->dw, &l->db, &l->running_mean, &l->running_var,
                            &l->mean, &l->invstd, &l->y, &l->dx};
    for (size_t j = 0; j < sizeof bufs / sizeof bufs[0]; j++) clgan_buffer_free(bufs[j]);
  }
  free(net->layers);
  clgan_buffer_free(&net->params);
  clgan_buffer_free(&net->grads);
  clgan_buffer_free(&net->state1);
  clgan_buffer_free(&net->state2);
  memset(net, 0, sizeof *net);
}

clgan_status clgan_net_create(clgan_net *net, clgan_device *dev, const clgan_net_spec *spec,
                              int in, int max_batch) {
  clgan_status st = CLGAN_OK;
  memset(net, 0, sizeof *net);
  net->dev = dev;
  net->spec = *spec;
  net->in = in;
  net->max_batch = max_batch;
  net->layers = calloc((size_t)spec->count, sizeof *net->layers);
  if (!net->layers) return CLGAN_HOST_OUT_OF_MEMORY;
  net->count = spec->count;
  net->run_count = spec->count;
  const clgan_layer_spec *last = &spec->layers[spec->count - 1];
  if (last->kind == CLGAN_LAYER_ACT && last->act == CLGAN_ACT_SIGMOID) net->run_count--;

  size_t align = clgan_device_align(dev) / sizeof(float);
  size_t off = 0;
  int features = in;
  for (int i = 0; i < net->count; i++) {
    clgan_layer *l = &net->layers[i];
    l->spec = spec->layers[i];
    l->in = features;
    l->out = l->spec.kind == CLGAN_LAYER_LINEAR ? l->spec.out : features;
    if (l->spec.kind == CLGAN_LAYER_LINEAR) {
      l->w_n = (size_t)l->out * (size_t)l->in;
      l->b_n = (size_t)l->out;
    } else if (l->spec.kind == CLGAN_LAYER_BN) {
      l->w_n = l->b_n = (size_t)l->out;
    }
    if (l->w_n) {
      l->w_off = off;
      off = round_up(off + l->w_n, align);
      l->b_off = off;
      off = round_up(off + l->b_n, align);
    }
    features = l->out;
  }
  net->out = features;
  net->arena_n = off ? off : align;

  size_t bytes = net->arena_n * sizeof(float);
  if ((st = clgan_buffer_alloc(dev, &net->params, bytes)) ||
      (st = clgan_buffer_alloc(dev, &net->grads, bytes)) ||
      (st = clgan_buffer_alloc(dev, &net->state1, bytes)) ||
      (st = clgan_buffer_alloc(dev, &net->state2, bytes)))
    goto fail;
  for (int i = 0; i < net->count; i++) {
    clgan_layer *l = &net->layers[i];
    size_t fb = sizeof(float);
    if (l->w_n) {
      if ((st = clgan_buffer_view(dev, &net->params, l->w_off * fb, l->w_n * fb, &l->w)) ||
          (st = clgan_buffer_view(dev, &net->params, l->b_off * fb, l->b_n * fb, &l->b)) ||
          (st = clgan_buffer_view(dev, &net->grads, l->w_off * fb, l->w_n * fb, &l->dw)) ||
          (st = clgan_buffer_view(dev, &net->grads, l->b_off * fb, l->b_n * fb, &l->db)))
        goto fail;
    }
    if (l->spec.kind == CLGAN_LAYER_BN) {
      size_t cb = (size_t)l->out * fb;
      if ((st = clgan_buffer_alloc(dev, &l->running_mean, cb)) ||
          (st = clgan_buffer_alloc(dev, &l->running_var, cb)) ||
          (st = clgan_buffer_alloc(dev, &l->mean, cb)) ||
          (st = clgan_buffer_alloc(dev, &l->invstd, cb)))
        goto fail;
    }
    if ((st = clgan_buffer_alloc(dev, &l->y, (size_t)max_batch * (size_t)l->out * fb)) ||
        (st = clgan_buffer_alloc(dev, &l->dx, (size_t)max_batch * (size_t)l->in * fb)))
      goto fail;
  }
  return CLGAN_OK;
fail:
  clgan_net_free(net);
  return st;
}

clgan_status clgan_net_init(clgan_net *net, clgan_init init, unsigned long long seed,
                            unsigned stream) {
  clgan_status st = CLGAN_OK;
  float *host = calloc(net->arena_n, sizeof *host);
  if (!host) return CLGAN_HOST_OUT_OF_MEMORY;
  for (int i = 0; i < net->count; i++) {
    clgan_layer *l = &net->layers[i];
    float *w = host + l->w_off, *b = host + l->b_off;
    /* One Philox step per layer and tensor keeps each tensor's values independent of the
     * others' sizes. */
    unsigned long long step_w = 2ull * (unsigned long long)i, step_b = step_w + 1;
    if (l->spec.kind == CLGAN_LAYER_LINEAR) {
      double fan_in = l->in, fan_out = l->out;
      if (init == CLGAN_INIT_TORCH) {
        float bound = (float)(1.0 / sqrt(fan_in));
        clgan_ref_rand_uniform(w, (int)l->w_n, -bound, bound, seed, step_w, stream);
        clgan_ref_rand_uniform(b, (int)l->b_n, -bound, bound, seed, step_b, stream);
      } else if (init == CLGAN_INIT_GLOROT) {
        float bound = (float)sqrt(6.0 / (fan_in + fan_out));
        clgan_ref_rand_uniform(w, (int)l->w_n, -bound, bound, seed, step_w, stream);
      } else {
        clgan_ref_rand_normal(w, (int)l->w_n, 0.0f, 0.02f, seed, step_w, stream);
      }
    } else if (l->spec.kind == CLGAN_LAYER_BN) {
      if (init == CLGAN_INIT_DCGAN)
        clgan_ref_rand_normal(w, (int)l->w_n, 1.0f, 0.02f, seed, step_w, stream);
      else
        for (size_t j = 0; j < l->w_n; j++) w[j] = 1.0f;
    }
  }
  if ((st = clgan_buffer_write(net->dev, &net->params, 0, net->arena_n * sizeof(float), host)) ||
      (st = clgan_buffer_zero(net->dev, &net->grads)) ||
      (st = clgan_buffer_zero(net->dev, &net->state1)) ||
      (st = clgan_buffer_zero(net->dev, &net->state2)))
    goto fail;
  for (int i = 0; i < net->count; i++) {
    clgan_layer *l = &net->layers[i];
    l->bn_batches = 0;
    if (l->spec.kind != CLGAN_LAYER_BN) continue;
    if ((st = clgan_fill(net->dev, &l->running_mean, l->out, 0.0f)) ||
        (st = clgan_fill(net->dev, &l->running_var, l->out, 1.0f)))
      goto fail;
  }
  net->opt_t = 0;
fail:
  free(host);
  return st;
}

clgan_status clgan_net_forward(clgan_net *net, const clgan_buffer *x, int batch, int layers,
                               int train, const clgan_buffer **y) {
  clgan_status st = CLGAN_OK;
  if (batch > net->max_batch || layers > net->count) return CLGAN_INVALID_ARGUMENT;
  const clgan_buffer *in = x;
  for (int i = 0; i < layers; i++) {
    clgan_layer *l = &net->layers[i];
    switch (l->spec.kind) {
      case CLGAN_LAYER_LINEAR:
        st = clgan_linear_forward(net->dev, l, in, batch);
        break;
      case CLGAN_LAYER_ACT:
        st = clgan_act_forward(net->dev, l->spec.act, l->spec.param, &l->y, in, batch * l->out);
        break;
      case CLGAN_LAYER_BN:
        st = clgan_bn_layer_forward(net->dev, l, in, batch, train);
        break;
    }
    if (st != CLGAN_OK) return st;
    in = &l->y;
  }
  *y = in;
  return CLGAN_OK;
}

clgan_status clgan_net_backward(clgan_net *net, const clgan_backward_cfg *cfg,
                                const clgan_buffer *x, const clgan_buffer *dy,
                                const clgan_buffer **dx) {
  clgan_status st = CLGAN_OK;
  const clgan_buffer *grad = dy;
  for (int i = cfg->layers - 1; i >= 0; i--) {
    clgan_layer *l = &net->layers[i];
    const clgan_buffer *in = i ? &net->layers[i - 1].y : x;
    int need_dx = i > 0 || cfg->input_grad;
    int n = cfg->batch * l->out;
    switch (l->spec.kind) {
      case CLGAN_LAYER_LINEAR:
        st = clgan_linear_backward(net->dev, l, grad, in, cfg->batch, cfg->param_grads,
                                   cfg->accumulate, need_dx);
        break;
      case CLGAN_LAYER_ACT:
        st = need_dx ? clgan_act_backward(net->dev, l->spec.act, l->spec.param, &l->dx, grad, in,
                                          &l->y, n)
                     : CLGAN_OK;
        break;
      case CLGAN_LAYER_BN:
        st = clgan_bn_layer_backward(net->dev, l, grad, in, cfg->batch, cfg->accumulate);
        break;
    }
    if (st != CLGAN_OK) return st;
    grad = &l->dx;
  }
  if (dx) *dx = grad;
  return CLGAN_OK;
}
