/* Moving a clgan_net's state between the device and safetensors files, shared by the GAN
 * checkpoints (checkpoint.c) and the domain classifier (classifier.c): PyTorch state_dict
 * names, optimizer moments beside them, batch-norm running statistics and num_batches_tracked.
 * Loading is two-phase (stage every tensor on the host, validated, then upload), so a damaged
 * file never half-loads a network. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gan/net_io.h"

clgan_status ckpt_meta_printf(clgan_st_writer *w, const char *key, const char *fmt, ...) {
  char value[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(value, sizeof value, fmt, ap);
  va_end(ap);
  return clgan_st_add_meta(w, key, value);
}

/* "<prefix>.<layer>.<what>", or "<layer>.<what>" without a prefix (a bare nn.Sequential). */
static void tensor_name(char *name, size_t size, const char *prefix, int layer,
                        const char *what) {
  if (prefix)
    clgan_net_tensor_name(name, size, prefix, layer, what);
  else
    snprintf(name, size, "%d.%s", layer, what);
}

/* "<prefix>.embed.weight", or "embed.weight" without a prefix. */
static void embed_name(char *name, size_t size, const char *prefix) {
  snprintf(name, size, "%s%sembed.weight", prefix ? prefix : "", prefix ? "." : "");
}

static const char *state_name(clgan_opt_kind k, int which) {
  if (k == CLGAN_OPT_ADAM) return which == 1 ? "exp_avg" : "exp_avg_sq";
  if (k == CLGAN_OPT_RMSPROP) return which == 1 ? "square_avg" : NULL;
  return which == 1 ? "momentum_buffer" : NULL;
}

static int is_bn(const clgan_layer *l) {
  return clgan_layer_is_bn(l->spec.kind);
}

void ckpt_net_host_free(ckpt_net_host *h, int count) {
  free(h->params);
  free(h->state1);
  free(h->state2);
  for (int i = 0; h->running && i < count; i++) free(h->running[i]);
  for (int i = 0; h->sn && i < count; i++) free(h->sn[i]);
  free(h->running);
  free(h->batches);
  free(h->sn);
}

/* Spectral normalisation's vectors: u (r) and v (a*k), one host array per layer. */
static size_t sn_floats(const clgan_layer *l, size_t *r) {
  *r = (size_t)l->sn.r;
  return (size_t)l->sn.r + (size_t)l->sn.a * (size_t)l->sn.k;
}

static clgan_status alloc_host(const clgan_net *net, ckpt_net_host *h, int zeroed) {
  size_t bytes = net->arena_n * sizeof(float);
  memset(h, 0, sizeof *h);
  h->params = zeroed ? calloc(1, bytes) : malloc(bytes);
  h->state1 = zeroed ? calloc(1, bytes) : malloc(bytes);
  h->state2 = zeroed ? calloc(1, bytes) : malloc(bytes);
  h->running = calloc((size_t)net->count, sizeof *h->running);
  h->batches = calloc((size_t)net->count, sizeof *h->batches);
  h->sn = calloc((size_t)net->count, sizeof *h->sn);
  if (!h->params || !h->state1 || !h->state2 || !h->running || !h->batches || !h->sn)
    return CLGAN_HOST_OUT_OF_MEMORY;
  for (int i = 0; i < net->count; i++) {
    size_t r;
    if (!net->layers[i].spec.sn) continue;
    h->sn[i] = malloc(sn_floats(&net->layers[i], &r) * sizeof(float));
    if (!h->sn[i]) return CLGAN_HOST_OUT_OF_MEMORY;
  }
  return CLGAN_OK;
}

clgan_status ckpt_net_read(clgan_net *net, ckpt_net_host *h) {
  clgan_status st = CLGAN_OK;
  size_t bytes = net->arena_n * sizeof(float);
  if ((st = alloc_host(net, h, 0))) return st;
  if ((st = clgan_buffer_read(net->dev, &net->params, 0, bytes, h->params)) ||
      (st = clgan_buffer_read(net->dev, &net->state1, 0, bytes, h->state1)) ||
      (st = clgan_buffer_read(net->dev, &net->state2, 0, bytes, h->state2)))
    return st;
  for (int i = 0; i < net->count; i++) {
    clgan_layer *l = &net->layers[i];
    size_t r, n = l->spec.sn ? sn_floats(l, &r) : 0;
    if (n && ((st = clgan_buffer_read(net->dev, &l->sn_u, 0, r * sizeof(float), h->sn[i])) ||
              (st = clgan_buffer_read(net->dev, &l->sn_v, 0, (n - r) * sizeof(float),
                                      h->sn[i] + r))))
      return st;
    if (!is_bn(l)) continue;
    size_t cb = (size_t)l->out_c * sizeof(float);
    h->running[i] = malloc(2 * cb);
    if (!h->running[i]) return CLGAN_HOST_OUT_OF_MEMORY;
    if ((st = clgan_buffer_read(net->dev, &l->running_mean, 0, cb, h->running[i])) ||
        (st = clgan_buffer_read(net->dev, &l->running_var, 0, cb, h->running[i] + l->out_c)))
      return st;
    h->batches[i] = l->bn_batches;
  }
  return CLGAN_OK;
}

static clgan_status add_f32(clgan_st_writer *w, const char *name, const float *data,
                            const int64_t *shape, int ndim) {
  return clgan_st_add(w, name, CLGAN_ST_F32, shape, ndim, data);
}

/* The PyTorch shapes of layer l's weight and bias. */
static void param_shapes(const clgan_layer *l, int64_t wshape[4], int *wdim, int64_t bshape[1]) {
  *wdim = l->w_ndim;
  for (int i = 0; i < l->w_ndim; i++) wshape[i] = l->w_shape[i];
  bshape[0] = (int64_t)l->b_n;
}

clgan_status ckpt_net_add(clgan_st_writer *w, const clgan_net *net, const ckpt_net_host *h,
                          const char *prefix, const clgan_opt_cfg *opt) {
  clgan_status st = CLGAN_OK;
  char name[160], oname[200];
  if (net->e_n) {
    /* The projection's class embedding (nn.Embedding(classes, F).weight). */
    int64_t eshape[2] = {net->cond.classes, (int64_t)(net->e_n / (size_t)net->cond.classes)};
    embed_name(name, sizeof name, prefix);
    if ((st = add_f32(w, name, h->params + net->e_off, eshape, 2))) return st;
    for (int s = 1; s <= 2; s++) {
      const char *sn = opt ? state_name(opt->kind, s) : NULL;
      if (!sn) continue;
      snprintf(oname, sizeof oname, "optimizer.%s.%s", name, sn);
      if ((st = add_f32(w, oname, (s == 1 ? h->state1 : h->state2) + net->e_off, eshape, 2)))
        return st;
    }
  }
  for (int i = 0; i < net->count; i++) {
    const clgan_layer *l = &net->layers[i];
    if (!l->w_n) continue;
    int64_t wshape[4], bshape[1];
    int wdim;
    param_shapes(l, wshape, &wdim, bshape);
    struct {
      const char *what;
      size_t off;
      const int64_t *shape;
      int ndim;
    } tensors[2] = {{l->spec.sn ? "weight_orig" : "weight", l->w_off, wshape, wdim},
                    {"bias", l->b_off, bshape, 1}};
    for (int k = 0; k < 2; k++) {
      tensor_name(name, sizeof name, prefix, i, tensors[k].what);
      if ((st = add_f32(w, name, h->params + tensors[k].off, tensors[k].shape, tensors[k].ndim)))
        return st;
      for (int s = 1; s <= 2; s++) {
        const char *sn = opt ? state_name(opt->kind, s) : NULL;
        if (!sn) continue;
        snprintf(oname, sizeof oname, "optimizer.%s.%s", name, sn);
        if ((st = add_f32(w, oname, (s == 1 ? h->state1 : h->state2) + tensors[k].off,
                          tensors[k].shape, tensors[k].ndim)))
          return st;
      }
    }
    if (l->spec.sn) {
      size_t r, n = sn_floats(l, &r);
      int64_t ushape[1] = {(int64_t)r}, vshape[1] = {(int64_t)(n - r)};
      tensor_name(name, sizeof name, prefix, i, "weight_u");
      if ((st = add_f32(w, name, h->sn[i], ushape, 1))) return st;
      tensor_name(name, sizeof name, prefix, i, "weight_v");
      if ((st = add_f32(w, name, h->sn[i] + r, vshape, 1))) return st;
    }
    if (is_bn(l)) {
      int64_t cshape[1] = {l->out_c};
      tensor_name(name, sizeof name, prefix, i, "running_mean");
      if ((st = add_f32(w, name, h->running[i], cshape, 1))) return st;
      tensor_name(name, sizeof name, prefix, i, "running_var");
      if ((st = add_f32(w, name, h->running[i] + l->out_c, cshape, 1))) return st;
      tensor_name(name, sizeof name, prefix, i, "num_batches_tracked");
      if ((st = clgan_st_add(w, name, CLGAN_ST_I64, NULL, 0, &h->batches[i]))) return st;
    }
  }
  return CLGAN_OK;
}

const float *ckpt_need_tensor(const clgan_st_file *f, const char *name, const int64_t *shape,
                              int ndim, clgan_status *st) {
  const void *data = NULL;
  if (*st != CLGAN_OK) return NULL;
  *st = clgan_st_expect(f, name, CLGAN_ST_F32, shape, ndim, &data);
  return *st == CLGAN_OK ? (const float *)data : NULL;
}

clgan_status ckpt_net_stage(const clgan_st_file *f, const char *path, const clgan_net *net,
                            const char *prefix, const clgan_opt_cfg *opt, int with_optimizer,
                            ckpt_net_host *h) {
  clgan_status st = CLGAN_OK;
  char name[160], oname[200];
  if ((st = alloc_host(net, h, 1))) return st;
  if (net->e_n) {
    int64_t eshape[2] = {net->cond.classes, (int64_t)(net->e_n / (size_t)net->cond.classes)};
    embed_name(name, sizeof name, prefix);
    const float *src = ckpt_need_tensor(f, name, eshape, 2, &st);
    if (src) memcpy(h->params + net->e_off, src, net->e_n * sizeof(float));
    for (int s = 1; s <= 2 && with_optimizer && st == CLGAN_OK; s++) {
      const char *sn = state_name(opt->kind, s);
      if (!sn) continue;
      snprintf(oname, sizeof oname, "optimizer.%s.%s", name, sn);
      const float *os = ckpt_need_tensor(f, oname, eshape, 2, &st);
      if (os) memcpy((s == 1 ? h->state1 : h->state2) + net->e_off, os, net->e_n * sizeof(float));
    }
  }
  for (int i = 0; i < net->count && st == CLGAN_OK; i++) {
    const clgan_layer *l = &net->layers[i];
    if (!l->w_n) continue;
    int64_t wshape[4], bshape[1];
    int wdim;
    param_shapes(l, wshape, &wdim, bshape);
    struct {
      const char *what;
      size_t off, n;
      const int64_t *shape;
      int ndim;
    } tensors[2] = {{l->spec.sn ? "weight_orig" : "weight", l->w_off, l->w_n, wshape, wdim},
                    {"bias", l->b_off, l->b_n, bshape, 1}};
    for (int k = 0; k < 2 && st == CLGAN_OK; k++) {
      tensor_name(name, sizeof name, prefix, i, tensors[k].what);
      const float *src = ckpt_need_tensor(f, name, tensors[k].shape, tensors[k].ndim, &st);
      if (src) memcpy(h->params + tensors[k].off, src, tensors[k].n * sizeof(float));
      for (int s = 1; s <= 2 && with_optimizer && st == CLGAN_OK; s++) {
        const char *sn = state_name(opt->kind, s);
        if (!sn) continue;
        snprintf(oname, sizeof oname, "optimizer.%s.%s", name, sn);
        const float *os = ckpt_need_tensor(f, oname, tensors[k].shape, tensors[k].ndim, &st);
        if (os)
          memcpy((s == 1 ? h->state1 : h->state2) + tensors[k].off, os,
                 tensors[k].n * sizeof(float));
      }
    }
    if (l->spec.sn && st == CLGAN_OK) {
      size_t r, n = sn_floats(l, &r);
      int64_t ushape[1] = {(int64_t)r}, vshape[1] = {(int64_t)(n - r)};
      tensor_name(name, sizeof name, prefix, i, "weight_u");
      const float *u = ckpt_need_tensor(f, name, ushape, 1, &st);
      tensor_name(name, sizeof name, prefix, i, "weight_v");
      const float *v = ckpt_need_tensor(f, name, vshape, 1, &st);
      if (st == CLGAN_OK) {
        memcpy(h->sn[i], u, r * sizeof(float));
        memcpy(h->sn[i] + r, v, (n - r) * sizeof(float));
      }
    }
    if (is_bn(l) && st == CLGAN_OK) {
      int64_t cshape[1] = {l->out_c};
      h->running[i] = malloc(2 * (size_t)l->out_c * sizeof(float));
      if (!h->running[i]) return CLGAN_HOST_OUT_OF_MEMORY;
      tensor_name(name, sizeof name, prefix, i, "running_mean");
      const float *rm = ckpt_need_tensor(f, name, cshape, 1, &st);
      tensor_name(name, sizeof name, prefix, i, "running_var");
      const float *rv = ckpt_need_tensor(f, name, cshape, 1, &st);
      tensor_name(name, sizeof name, prefix, i, "num_batches_tracked");
      const clgan_st_tensor *nb = clgan_st_find(f, name);
      if (st == CLGAN_OK && (!nb || nb->dtype != CLGAN_ST_I64 || nb->nbytes != 8)) {
        clgan_error("%s: tensor '%s' is missing or not a scalar I64", path, name);
        st = CLGAN_BAD_FORMAT;
      }
      if (st == CLGAN_OK) {
        memcpy(h->running[i], rm, (size_t)l->out_c * sizeof(float));
        memcpy(h->running[i] + l->out_c, rv, (size_t)l->out_c * sizeof(float));
        memcpy(&h->batches[i], nb->data, 8);
        /* A count, as PyTorch writes it; it becomes a long (bn_batches). */
        if (h->batches[i] < 0 || h->batches[i] > LONG_MAX) {
          clgan_error("%s: tensor '%s' = %lld is not a count of batches", path, name,
                      (long long)h->batches[i]);
          st = CLGAN_BAD_FORMAT;
        }
      }
    }
  }
  return st;
}

clgan_status ckpt_net_upload(clgan_net *net, const ckpt_net_host *h) {
  clgan_status st = CLGAN_OK;
  size_t bytes = net->arena_n * sizeof(float);
  if ((st = clgan_buffer_write(net->dev, &net->params, 0, bytes, h->params)) ||
      (st = clgan_buffer_write(net->dev, &net->state1, 0, bytes, h->state1)) ||
      (st = clgan_buffer_write(net->dev, &net->state2, 0, bytes, h->state2)) ||
      (st = clgan_buffer_zero(net->dev, &net->grads)))
    return st;
  for (int i = 0; i < net->count; i++) {
    clgan_layer *l = &net->layers[i];
    size_t r, n = l->spec.sn ? sn_floats(l, &r) : 0;
    if (n && ((st = clgan_buffer_write(net->dev, &l->sn_u, 0, r * sizeof(float), h->sn[i])) ||
              (st = clgan_buffer_write(net->dev, &l->sn_v, 0, (n - r) * sizeof(float),
                                       h->sn[i] + r))))
      return st;
    if (!is_bn(l)) continue;
    size_t cb = (size_t)l->out_c * sizeof(float);
    if ((st = clgan_buffer_write(net->dev, &l->running_mean, 0, cb, h->running[i])) ||
        (st = clgan_buffer_write(net->dev, &l->running_var, 0, cb, h->running[i] + l->out_c)))
      return st;
    l->bn_batches = (long)h->batches[i];
  }
  return CLGAN_OK;
}
