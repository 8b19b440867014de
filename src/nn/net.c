/* The sequential network: shapes, the parameter arena and its views, initialisation, and the
 * forward and backward passes, each walking the layers through their kind's record
 * (clgan_layer_kind_ops below, generated from CLGAN_LAYER_TABLE; the kinds in linear.c, act.c,
 * batchnorm.c, conv.c, view.c). */
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
    clgan_sn_free(l);
  }
  free(net->layers);
  nn_cond_free(net);
  clgan_buffer_free(&net->params);
  clgan_buffer_free(&net->grads);
  clgan_buffer_free(&net->state1);
  clgan_buffer_free(&net->state2);
  clgan_buffer_free(&net->col);
  clgan_buffer_free(&net->sumsq);
  clgan_buffer_free(&net->scratch[0]);
  clgan_buffer_free(&net->scratch[1]);
  memset(net, 0, sizeof *net);
}

const clgan_layer_ops *clgan_layer_kind_ops(clgan_layer_kind kind) {
  static const clgan_layer_ops *const table[] = {
#define X(e, name, record) [CLGAN_LAYER_##e] = &clgan_layer_##record,
      CLGAN_LAYER_TABLE(X)
#undef X
  };
  if ((int)kind < 0 || (size_t)kind >= sizeof table / sizeof table[0]) return NULL;
  return table[kind];
}

/* Shapes of layer l from its input (c, h, w): the input's, then the kind's; a message in err
 * on a shape error. */
static int layer_shape(clgan_layer *l, int c, int h, int w, char *err, size_t size) {
  const clgan_layer_ops *ops = clgan_layer_kind_ops(l->spec.kind);
  l->in_c = c;
  l->in_h = h;
  l->in_w = w;
  l->in = c * h * w;
  l->out_c = c;
  l->out_h = h;
  l->out_w = w;
  l->w_ndim = 0;
  if (!ops) {
    snprintf(err, size, "layer kind %d has no record in clgan_layer_kind_ops", (int)l->spec.kind);
    return 0;
  }
  if (!ops->shape(l, err, size)) return 0;
  if (l->spec.sn && !clgan_sn_shape_of(l, err, size)) return 0;
  l->out = l->out_c * l->out_h * l->out_w;
  return 1;
}

int clgan_layer_is_view(const clgan_layer *l) {
  return clgan_layer_kind_ops(l->spec.kind)->forward == NULL;
}

clgan_status clgan_net_create(clgan_net *net, clgan_device *dev, const clgan_net_spec *spec,
                              int in_c, int in_h, int in_w, int max_batch) {
  return clgan_net_create_cond(net, dev, spec, in_c, in_h, in_w, max_batch, NULL);
}

clgan_status clgan_net_create_cond(clgan_net *net, clgan_device *dev, const clgan_net_spec *spec,
                                   int in_c, int in_h, int in_w, int max_batch,
                                   const clgan_cond_cfg *cond) {
  clgan_status st = CLGAN_OK;
  memset(net, 0, sizeof *net);
  net->dev = dev;
  net->spec = *spec;
  if (cond) net->cond = *cond;
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
  nn_cond_input_shape(net, &c, &h, &w);
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
    const clgan_layer_ops *ops = clgan_layer_kind_ops(l->spec.kind);
    size_t ws = ops->workspace ? ops->workspace(l, max_batch) : 0;
    if (ws > workspace) workspace = ws;
    c = l->out_c;
    h = l->out_h;
    w = l->out_w;
  }
  net->out = c * h * w;
  {
    char err[240];
    if (!nn_cond_check(net, in_h, in_w, err, sizeof err)) {
      clgan_error("conditioning (%s, %d classes): %s", clgan_cond_name(net->cond.kind),
                  net->cond.classes, err);
      st = CLGAN_INVALID_ARGUMENT;
      goto fail;
    }
  }
  /* The embedding after every layer's tensors: an unconditional net's layout is unchanged. */
  if (net->e_n) {
    net->e_off = off;
    off = round_up(off + net->e_n, align);
  }
  net->arena_n = off ? off : align;

  size_t bytes = net->arena_n * sizeof(float);
  if ((st = clgan_buffer_alloc(dev, &net->params, bytes)) ||
      (st = clgan_buffer_alloc(dev, &net->grads, bytes)) ||
      (st = clgan_buffer_alloc(dev, &net->state1, bytes)) ||
      (st = clgan_buffer_alloc(dev, &net->state2, bytes)) ||
      (st = clgan_buffer_alloc(dev, &net->sumsq, sizeof(float))) ||
      (workspace && (st = clgan_buffer_alloc(dev, &net->col, workspace * sizeof(float)))))
    goto fail;
  if ((st = nn_cond_alloc(net))) goto fail;
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
    const clgan_layer_ops *ops = clgan_layer_kind_ops(l->spec.kind);
    if (ops->alloc && (st = ops->alloc(net, l))) goto fail;
    if (l->spec.sn && (st = clgan_sn_alloc(net, l))) goto fail;
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
    const clgan_layer_ops *ops = clgan_layer_kind_ops(l->spec.kind);
    /* One Philox step per layer and tensor keeps each tensor's values independent of the
     * others' sizes. */
    unsigned long long step = 2ull * (unsigned long long)i;
    clgan_layer_init_cfg icfg = {.init = init, .seed = seed, .step_w = step, .step_b = step + 1,
                                 .stream = stream};
    if (ops->init) ops->init(l, &icfg, host + l->w_off, host + l->b_off);
  }
  nn_cond_init(net, init, seed, stream, host);
  if ((st = clgan_buffer_write(net->dev, &net->params, 0, net->arena_n * sizeof(float), host)) ||
      (st = clgan_buffer_zero(net->dev, &net->grads)) ||
      (st = clgan_buffer_zero(net->dev, &net->state1)) ||
      (st = clgan_buffer_zero(net->dev, &net->state2)))
    goto fail;
  for (int i = 0; i < net->count; i++) {
    clgan_layer *l = &net->layers[i];
    const clgan_layer_ops *ops = clgan_layer_kind_ops(l->spec.kind);
    l->bn_batches = 0;
    if (ops->reset && (st = ops->reset(net, l))) goto fail;
    if (l->spec.sn && (st = clgan_sn_init(net, l, i, seed, stream))) goto fail;
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
  if ((st = nn_cond_forward_input(net, &in, batch))) return st;
  for (int i = 0; i < layers; i++) {
    clgan_layer *l = &net->layers[i];
    const clgan_layer_ops *ops = clgan_layer_kind_ops(l->spec.kind);
    if (!ops->forward) continue; /* a view: the input buffer is the output */
    if (l->spec.sn && (st = clgan_sn_forward_layer(net, l, train))) return st;
    if ((st = ops->forward(net, l, in, batch, train)) ||
        (st = nn_cond_forward_layer(net, i, in, batch)))
      return st;
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
  x = nn_cond_backward_input(net, x);
  for (int i = cfg->layers - 1; i >= 0; i--) {
    clgan_layer *l = &net->layers[i];
    if (clgan_layer_is_view(l)) continue; /* the gradient passes through unchanged */
    const clgan_buffer *in = layer_input(net, i, x);
    int need_dx = layer_input(net, i, NULL) != NULL || cfg->input_grad;
    int sn = l->spec.sn && cfg->param_grads;
    if ((sn && (st = clgan_sn_begin_grad(net, l, cfg->accumulate))) ||
        (st = clgan_layer_kind_ops(l->spec.kind)->backward(net, l, cfg, grad, in, need_dx)) ||
        (sn && (st = clgan_sn_end_grad(net, l, cfg->accumulate))) ||
        (st = nn_cond_backward_layer(net, i, cfg, grad, in, need_dx)))
      return st;
    grad = &l->dx;
  }
  if (dx && cfg->input_grad && (st = nn_cond_backward_output(net, cfg->batch, &grad))) return st;
  if (dx) *dx = grad;
  return CLGAN_OK;
}
