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
    clgan_buffer *bufs[] = {&l->w,    &l->b,          &l->dw,           &l->db,
                            &l->wt,   &l->running_mean, &l->running_var, &l->mean,
                            &l->invstd, &l->y,        &l->dx};
    for (size_t j = 0; j < sizeof bufs / sizeof bufs[0]; j++) clgan_buffer_free(bufs[j]);
  }
  free(net->layers);
  clgan_buffer_free(&net->params);
  clgan_buffer_free(&net->grads);
  clgan_buffer_free(&net->state1);
  clgan_buffer_free(&net->state2);
  clgan_buffer_free(&net->col);
  clgan_buffer_free(&net->scratch[0]);
  clgan_buffer_free(&net->scratch[1]);
  memset(net, 0, sizeof *net);
}

/* Shapes of layer l from its input (c, h, w); a message in err on a shape error. */
static int layer_shape(clgan_layer *l, int c, int h, int w, char *err, size_t size) {
  const clgan_layer_spec *sp = &l->spec;
  l->in_c = c;
  l->in_h = h;
  l->in_w = w;
  l->in = c * h * w;
  l->out_c = c;
  l->out_h = h;
  l->out_w = w;
  l->w_ndim = 0;
  switch (sp->kind) {
    case CLGAN_LAYER_LINEAR:
      l->out_c = sp->out;
      l->out_h = l->out_w = 1;
      l->w_n = (size_t)sp->out * (size_t)l->in;
      l->b_n = (size_t)sp->out;
      l->w_ndim = 2;
      l->w_shape[0] = sp->out;
      l->w_shape[1] = l->in;
      break;
    case CLGAN_LAYER_ACT:
      break;
    case CLGAN_LAYER_BN:
      if (h != 1 || w != 1) {
        snprintf(err, size, "bn follows a %dx%dx%d image: use bn2d for images", c, h, w);
        return 0;
      }
      l->w_n = l->b_n = (size_t)c;
      l->w_ndim = 1;
      l->w_shape[0] = c;
      break;
    case CLGAN_LAYER_BN2D:
      if (h == 1 && w == 1) {
        snprintf(err, size, "bn2d needs an image (CxHxW), not %d dense features: use bn, or "
                            "reshape first", c);
        return 0;
      }
      l->w_n = l->b_n = (size_t)c;
      l->w_ndim = 1;
      l->w_shape[0] = c;
      break;
    case CLGAN_LAYER_CONV:
    case CLGAN_LAYER_CONVT: {
      int transposed = sp->kind == CLGAN_LAYER_CONVT;
      l->conv = (clgan_conv_shape){.n = 1, .c_in = c, .h_in = h, .w_in = w, .c_out = sp->out,
                                   .kh = sp->k, .kw = sp->k, .stride = sp->stride, .pad = sp->pad};
      int ho = 0, wo = 0;
      if (transposed)
        clgan_convT2d_out_hw(&l->conv, &ho, &wo);
      else
        clgan_conv2d_out_hw(&l->conv, &ho, &wo);
      if (ho < 1 || wo < 1 || (!transposed && (h + 2 * sp->pad < sp->k || w + 2 * sp->pad < sp->k))) {
        snprintf(err, size, "a %dx%d kernel (stride %d, padding %d) does not fit the %dx%dx%d input",
                 sp->k, sp->k, sp->stride, sp->pad, c, h, w);
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
      break;
    }
    case CLGAN_LAYER_RESHAPE:
      if (sp->c * sp->h * sp->w != l->in) {
        snprintf(err, size, "reshape:%dx%dx%d holds %d values but its input has %d", sp->c, sp->h,
                 sp->w, sp->c * sp->h * sp->w, l->in);
        return 0;
      }
      l->out_c = sp->c;
      l->out_h = sp->h;
      l->out_w = sp->w;
      break;
    case CLGAN_LAYER_FLATTEN:
      l->out_c = l->in;
      l->out_h = l->out_w = 1;
      break;
  }
  l->out = l->out_c * l->out_h * l->out_w;
  return 1;
}

int clgan_layer_is_view(const clgan_layer *l) {
  return l->spec.kind == CLGAN_LAYER_RESHAPE || l->spec.kind == CLGAN_LAYER_FLATTEN;
}

static size_t conv_workspace(const clgan_layer *l, int batch) {
  clgan_conv_shape sh = l->conv;
  sh.n = batch;
  if (l->spec.kind == CLGAN_LAYER_CONV) return clgan_conv2d_workspace(&sh);
  if (l->spec.kind == CLGAN_LAYER_CONVT) return clgan_convT2d_workspace(&sh);
  return 0;
}

clgan_status clgan_net_create(clgan_net *net, clgan_device *dev, const clgan_net_spec *spec,
                              int in_c, int in_h, int in_w, int max_batch) {
  clgan_status st = CLGAN_OK;
  memset(net, 0, sizeof *net);
  net->dev = dev;
  net->spec = *spec;
  net->in = in_c * in_h * in_w;
  net->max_batch = max_batch;
  net->layers = calloc((size_t)spec->count, sizeof *net->layers);
  if (!net->layers) return CLGAN_HOST_OUT_OF_MEMORY;
  net->count = spec->count;
  net->run_count = spec->count;
  const clgan_layer_spec *last = &spec->layers[spec->count - 1];
  if (last->kind == CLGAN_LAYER_ACT && last->act == CLGAN_ACT_SIGMOID) net->run_count--;

  size_t align = clgan_device_align(dev) / sizeof(float);
  size_t off = 0, workspace = 0;
  int c = in_c, h = in_h, w = in_w;
  for (int i = 0; i < net->count; i++) {
    clgan_layer *l = &net->layers[i];
    char err[200];
    l->spec = spec->layers[i];
    if (!layer_shape(l, c, h, w, err, sizeof err)) {
      char token[128];
      clgan_net_spec one = {.count = 1};
      one.layers[0] = l->spec;
      clgan_spec_format(&one, token, sizeof token);
      clgan_error("layer %d '%s': %s", i + 1, token, err);
      st = CLGAN_INVALID_ARGUMENT;
      goto fail;
    }
    if (l->w_n) {
      l->w_off = off;
      off = round_up(off + l->w_n, align);
      l->b_off = off;
      off = round_up(off + l->b_n, align);
    }
    size_t ws = conv_workspace(l, max_batch);
    if (ws > workspace) workspace = ws;
    c = l->out_c;
    h = l->out_h;
    w = l->out_w;
  }
  net->out = c * h * w;
  net->arena_n = off ? off : align;

  size_t bytes = net->arena_n * sizeof(float);
  if ((st = clgan_buffer_alloc(dev, &net->params, bytes)) ||
      (st = clgan_buffer_alloc(dev, &net->grads, bytes)) ||
      (st = clgan_buffer_alloc(dev, &net->state1, bytes)) ||
      (st = clgan_buffer_alloc(dev, &net->state2, bytes)) ||
      (workspace && (st = clgan_buffer_alloc(dev, &net->col, workspace * sizeof(float)))))
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
    if (clgan_layer_is_bn(l->spec.kind)) {
      size_t cb = (size_t)l->out_c * fb;
      if ((st = clgan_buffer_alloc(dev, &l->running_mean, cb)) ||
          (st = clgan_buffer_alloc(dev, &l->running_var, cb)) ||
          (st = clgan_buffer_alloc(dev, &l->mean, cb)) ||
          (st = clgan_buffer_alloc(dev, &l->invstd, cb)))
        goto fail;
    }
    if (l->spec.kind == CLGAN_LAYER_LINEAR &&
        (st = clgan_buffer_alloc(dev, &l->wt, l->w_n * fb)))
      goto fail;
    if (clgan_layer_is_view(l)) continue;
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
    int conv = l->spec.kind == CLGAN_LAYER_CONV || l->spec.kind == CLGAN_LAYER_CONVT;
    if (l->spec.kind == CLGAN_LAYER_LINEAR || conv) {
      /* PyTorch's fan_in is weight.size(1) * receptive field: in for Linear and Conv2d, but
       * c_out for ConvTranspose2d, whose weight is (c_in, c_out, k, k). */
      double field = conv ? (double)l->spec.k * l->spec.k : 1.0;
      double fan_in = (double)l->w_shape[1] * field, fan_out = (double)l->w_shape[0] * field;
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
    } else if (clgan_layer_is_bn(l->spec.kind)) {
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
    if (!clgan_layer_is_bn(l->spec.kind)) continue;
    if ((st = clgan_fill(net->dev, &l->running_mean, l->out_c, 0.0f)) ||
        (st = clgan_fill(net->dev, &l->running_var, l->out_c, 1.0f)))
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
    clgan_conv_shape sh = l->conv;
    sh.n = batch;
    switch (l->spec.kind) {
      case CLGAN_LAYER_LINEAR:
        st = clgan_linear_forward(net->dev, l, in, batch);
        break;
      case CLGAN_LAYER_ACT:
        st = clgan_act_forward(net->dev, l->spec.act, l->spec.param, &l->y, in, batch * l->out);
        break;
      case CLGAN_LAYER_BN:
      case CLGAN_LAYER_BN2D:
        st = clgan_bn_layer_forward(net->dev, l, in, batch, train);
        break;
      case CLGAN_LAYER_CONV:
        st = clgan_conv2d_forward(net->dev, &sh, &l->y, in, &l->w, &l->b, &net->col);
        break;
      case CLGAN_LAYER_CONVT:
        st = clgan_convT2d_forward(net->dev, &sh, &l->y, in, &l->w, &l->b, &net->col);
        break;
      case CLGAN_LAYER_RESHAPE:
      case CLGAN_LAYER_FLATTEN:
        continue; /* a view: the input buffer is the output */
    }
    if (st != CLGAN_OK) return st;
    in = &l->y;
  }
  net->output = in;
  *y = in;
  return CLGAN_OK;
}

/* The buffer layer i read in the last forward: the output of the nearest computing layer
 * before it, or the network's input. */
static const clgan_buffer *layer_input(const clgan_net *net, int i, const clgan_buffer *x) {
  while (--i >= 0)
    if (!clgan_layer_is_view(&net->layers[i])) return &net->layers[i].y;
  return x;
}

clgan_status clgan_net_backward(clgan_net *net, const clgan_backward_cfg *cfg,
                                const clgan_buffer *x, const clgan_buffer *dy,
                                const clgan_buffer **dx) {
  clgan_status st = CLGAN_OK;
  const clgan_buffer *grad = dy;
  for (int i = cfg->layers - 1; i >= 0; i--) {
    clgan_layer *l = &net->layers[i];
    if (clgan_layer_is_view(l)) continue; /* the gradient passes through unchanged */
    const clgan_buffer *in = layer_input(net, i, x);
    int need_dx = layer_input(net, i, NULL) != NULL || cfg->input_grad;
    int n = cfg->batch * l->out;
    clgan_conv_shape sh = l->conv;
    sh.n = cfg->batch;
    clgan_buffer *dw = cfg->param_grads ? &l->dw : NULL, *db = cfg->param_grads ? &l->db : NULL;
    clgan_buffer *dxl = need_dx ? &l->dx : NULL;
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
      case CLGAN_LAYER_BN2D:
        st = clgan_bn_layer_backward(net->dev, l, grad, in, cfg->batch, cfg->param_grads,
                                     cfg->accumulate);
        break;
      case CLGAN_LAYER_CONV:
        st = clgan_conv2d_backward(net->dev, &sh, dxl, dw, db, grad, in, &l->w, &net->col,
                                   cfg->accumulate);
        break;
      case CLGAN_LAYER_CONVT:
        st = clgan_convT2d_backward(net->dev, &sh, dxl, dw, db, grad, in, &l->w, &net->col,
                                    cfg->accumulate);
        break;
      default:
        break;
    }
    if (st != CLGAN_OK) return st;
    grad = &l->dx;
  }
  if (dx) *dx = grad;
  return CLGAN_OK;
}
