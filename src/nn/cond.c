/* Class conditioning of a network (include/clgan/nn.h, clgan_cond; issue 12), called by
 * net.c around the layers and by gradpen.c around the double backward:
 *   concat      the first layer reads [x | one_hot(y)] (cond_x), and the input gradient handed
 *               back is the image part of the first layer's (cond_dx);
 *   projection  after the last run layer's forward, logit += <embed[y], h> with h that layer's
 *               input; its backward adds embed[y] dy to the layer's dx and h dy to dembed.
 * The equivalent PyTorch modules: README "Conditional GANs" (tests/fixtures/make_cond_fixture.py
 * defines them and checks a strict load). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/layers.h"
#include "util/names.h"

static const char *const cond_names[] = {
#define X(e, name) name,
    CLGAN_COND_TABLE(X)
#undef X
};

const char *clgan_cond_name(clgan_cond c) {
  return (unsigned)c < CLGAN_COND_COUNT ? cond_names[c] : NULL;
}

int clgan_cond_parse(const char *name, clgan_cond *c) {
  int i = clgan_name_index(cond_names, CLGAN_COND_COUNT, name);
  if (i >= 0) *c = (clgan_cond)i;
  return i >= 0;
}

void clgan_net_set_labels(clgan_net *net, const clgan_buffer *labels) { net->labels = labels; }

void nn_cond_input_shape(const clgan_net *net, int *c, int *h, int *w) {
  if (net->cond.kind != CLGAN_COND_CONCAT) return;
  *c = *c * *h * *w + net->cond.classes;
  *h = *w = 1;
}

int nn_cond_check(clgan_net *net, int in_h, int in_w, char *err, size_t size) {
  int classes = net->cond.classes;
  if (net->cond.kind == CLGAN_COND_NONE) return 1;
  if ((unsigned)net->cond.kind >= CLGAN_COND_COUNT || classes < 1 || classes > 65536) {
    snprintf(err, size, "conditioning %d on %d classes is not one clgan has (1..65536 classes)",
             (int)net->cond.kind, classes);
    return 0;
  }
  if (net->cond.kind == CLGAN_COND_CONCAT) {
    /* A dense first layer takes the concatenation as it is. So does a (transposed) convolution
     * whose input is a vector, (C, 1, 1) like the latent of dcgan32's and dcgan64's G: the one-hot
     * label concatenated to a 1x1 map's channels is the same concatenation. */
    for (int i = 0; i < net->count; i++) {
      clgan_layer_kind kind = net->layers[i].spec.kind;
      if (clgan_layer_is_view(&net->layers[i])) continue;
      if (kind == CLGAN_LAYER_LINEAR) return 1;
      if ((kind == CLGAN_LAYER_CONV || kind == CLGAN_LAYER_CONVT) && in_h == 1 && in_w == 1)
        return 1;
      break;
    }
    snprintf(err, size, "a one-hot label concatenated to the input needs a dense first layer "
                        "(linear:N), or a convolution of a vector input (Cx1x1); a convolutional "
                        "discriminator is conditioned by projection");
    return 0;
  }
  int last = net->run_count - 1;
  while (last > 0 && clgan_layer_is_view(&net->layers[last])) last--;
  const clgan_layer *l = &net->layers[last];
  if (clgan_layer_is_view(l) || !l->w_n || l->out != 1) {
    snprintf(err, size, "the projection discriminator needs a last layer with weights and one "
                        "output (linear:1), whose input features the class embedding is dotted "
                        "with");
    return 0;
  }
  net->proj_layer = last;
  net->e_n = (size_t)classes * (size_t)l->in;
  return 1;
}

clgan_status nn_cond_alloc(clgan_net *net) {
  clgan_status st = CLGAN_OK;
  size_t fb = sizeof(float), b = (size_t)net->max_batch, k = (size_t)net->cond.classes;
  if (net->cond.kind == CLGAN_COND_CONCAT) {
    size_t in = (size_t)net->in;
    if ((st = clgan_buffer_alloc(net->dev, &net->cond_x, b * (in + k) * fb)) ||
        (st = clgan_buffer_alloc(net->dev, &net->cond_dx, b * in * fb)))
      return st;
  } else if (net->cond.kind == CLGAN_COND_PROJECTION) {
    if ((st = clgan_buffer_view(net->dev, &net->params, net->e_off * fb, net->e_n * fb,
                                &net->embed)) ||
        (st = clgan_buffer_view(net->dev, &net->grads, net->e_off * fb, net->e_n * fb,
                                &net->dembed)))
      return st;
  }
  return CLGAN_OK;
}

void nn_cond_free(clgan_net *net) {
  clgan_buffer_free(&net->embed);
  clgan_buffer_free(&net->dembed);
  clgan_buffer_free(&net->cond_x);
  clgan_buffer_free(&net->cond_dx);
  clgan_buffer_free(&net->cond_gbar);
}

/* nn.Embedding's N(0, 1) with the torch initialiser, glorot_uniform over (classes, F), and
 * DCGAN's N(0, 0.02), from a Philox step after every layer's (2 * count). */
void nn_cond_init(const clgan_net *net, clgan_init init, unsigned long long seed,
                  unsigned stream, float *host) {
  if (net->cond.kind != CLGAN_COND_PROJECTION) return;
  unsigned long long step = 2ull * (unsigned long long)net->count;
  float *e = host + net->e_off;
  int n = (int)net->e_n;
  if (init == CLGAN_INIT_TORCH) {
    clgan_ref_rand_normal(e, n, 0.0f, 1.0f, seed, step, stream);
  } else if (init == CLGAN_INIT_GLOROT) {
    double fan = (double)net->cond.classes + (double)net->e_n / net->cond.classes;
    float bound = (float)sqrt(6.0 / fan);
    clgan_ref_rand_uniform(e, n, -bound, bound, seed, step, stream);
  } else {
    clgan_ref_rand_normal(e, n, 0.0f, 0.02f, seed, step, stream);
  }
}

static clgan_status need_labels(const clgan_net *net) {
  if (net->labels) return CLGAN_OK;
  clgan_error("a conditional network (%s, %d classes) ran without labels: call "
              "clgan_net_set_labels first", clgan_cond_name(net->cond.kind), net->cond.classes);
  return CLGAN_INVALID_ARGUMENT;
}

clgan_status nn_cond_forward_input(clgan_net *net, const clgan_buffer **x, int batch) {
  clgan_status st;
  if (net->cond.kind == CLGAN_COND_NONE) return CLGAN_OK;
  if ((st = need_labels(net))) return st;
  if (net->cond.kind != CLGAN_COND_CONCAT) return CLGAN_OK;
  if ((st = clgan_cond_concat(net->dev, &net->cond_x, *x, net->labels, batch, net->in,
                              net->cond.classes)))
    return st;
  *x = &net->cond_x;
  return CLGAN_OK;
}

static clgan_proj_shape proj_shape(const clgan_net *net, int batch) {
  return (clgan_proj_shape){.batch = batch, .features = net->layers[net->proj_layer].in,
                            .classes = net->cond.classes};
}

clgan_status nn_cond_forward_layer(clgan_net *net, int i, const clgan_buffer *in, int batch) {
  if (net->cond.kind != CLGAN_COND_PROJECTION || i != net->proj_layer) return CLGAN_OK;
  clgan_proj_shape sh = proj_shape(net, batch);
  return clgan_proj_forward(net->dev, &sh, &net->layers[i].y, in, &net->embed, net->labels);
}

const clgan_buffer *nn_cond_backward_input(const clgan_net *net, const clgan_buffer *x) {
  return net->cond.kind == CLGAN_COND_CONCAT ? &net->cond_x : x;
}

clgan_status nn_cond_backward_layer(clgan_net *net, int i, const clgan_backward_cfg *cfg,
                                    const clgan_buffer *dy, const clgan_buffer *in,
                                    int need_dx) {
  if (net->cond.kind != CLGAN_COND_PROJECTION || i != net->proj_layer) return CLGAN_OK;
  clgan_proj_shape sh = proj_shape(net, cfg->batch);
  return clgan_proj_backward(net->dev, &sh, need_dx ? &net->layers[i].dx : NULL,
                             cfg->param_grads ? &net->dembed : NULL, dy, in, &net->embed,
                             net->labels, cfg->accumulate);
}

clgan_status nn_cond_backward_output(clgan_net *net, int batch, const clgan_buffer **grad) {
  if (net->cond.kind != CLGAN_COND_CONCAT) return CLGAN_OK;
  clgan_status st = clgan_cond_slice(net->dev, &net->cond_dx, *grad, batch, net->in,
                                     net->in + net->cond.classes);
  if (st == CLGAN_OK) *grad = &net->cond_dx;
  return st;
}

clgan_status nn_cond_double_backward_input(clgan_net *net, int batch, const clgan_buffer **x,
                                           const clgan_buffer **gbar) {
  clgan_status st;
  if (net->cond.kind != CLGAN_COND_CONCAT) return CLGAN_OK;
  size_t bytes = (size_t)net->max_batch * (size_t)(net->in + net->cond.classes) * sizeof(float);
  if (!net->cond_gbar.mem && (st = clgan_buffer_alloc(net->dev, &net->cond_gbar, bytes)))
    return st;
  if ((st = clgan_cond_concat(net->dev, &net->cond_gbar, *gbar, NULL, batch, net->in,
                              net->cond.classes)))
    return st;
  *x = &net->cond_x;
  *gbar = &net->cond_gbar;
  return CLGAN_OK;
}

clgan_status nn_cond_double_backward_layer(clgan_net *net, int i, int batch,
                                           const clgan_buffer *seed, const clgan_buffer *gin) {
  if (net->cond.kind != CLGAN_COND_PROJECTION || i != net->proj_layer) return CLGAN_OK;
  clgan_proj_shape sh = proj_shape(net, batch);
  return clgan_proj_backward(net->dev, &sh, NULL, &net->dembed, seed, gin, &net->embed,
                             net->labels, 1);
}
