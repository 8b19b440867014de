/* The layer kinds a clgan_net is built from, as a table: one record per kind, each in its own
 * file (linear.c, act.c, batchnorm.c for bn and bn2d, conv.c for conv and convT, view.c for
 * reshape and flatten), and net.c and gradpen.c walk the layers through their kind's record.
 * A new layer kind is one new file with its record, clgan_layer_<record>, plus its row in
 * CLGAN_LAYER_TABLE (include/clgan/nn.h), from which the enum, the spec parser's token lookup,
 * the declarations below and clgan_layer_kind_ops (net.c) are generated; a token with fields
 * (linear:N, conv:C:K) also needs their parsing and formatting in src/nn/spec.c. A row without
 * its record fails to link.
 *
 * A layer's buffers (clgan_layer, include/clgan/nn.h) hold its parameters (views into the net's
 * arena), saved statistics and activations; y and dx are allocated by net.c for every kind
 * that is not a view. */
#ifndef CLGAN_NN_LAYERS_H
#define CLGAN_NN_LAYERS_H

#include "clgan/nn.h"

/* What a kind's initialiser draws from: the net's initialiser and the Philox key of the
 * layer's two tensors (one step each, so each tensor's values do not depend on the others'
 * sizes). */
typedef struct {
  clgan_init init;
  unsigned long long seed, step_w, step_b;
  unsigned stream;
} clgan_layer_init_cfg;

typedef struct {
  const char *name; /* the spec token's name, for messages */
  /* Output shape, parameter counts and PyTorch weight shape of l from its input (l->in_c,
   * in_h, in_w, in; out_* preset to the input's, w_n = b_n = w_ndim = 0). Returns 0 with a
   * message in err when the kind cannot follow that input. */
  int (*shape)(clgan_layer *l, char *err, size_t err_size);
  /* Floats of the net's shared im2col workspace this layer needs for a batch; NULL: none. */
  size_t (*workspace)(const clgan_layer *l, int batch);
  /* Device buffers of the kind's own (saved statistics, a transposed weight); NULL: none. */
  clgan_status (*alloc)(clgan_net *net, clgan_layer *l);
  /* Host initial values of the parameters w (w_n) and b (b_n), both zero on entry; NULL: the
   * kind keeps zeros (or has no parameters). */
  void (*init)(const clgan_layer *l, const clgan_layer_init_cfg *cfg, float *w, float *b);
  /* State reset by clgan_net_init besides the arenas (BN's running statistics); NULL: none. */
  clgan_status (*reset)(clgan_net *net, clgan_layer *l);
  /* l->y from x (batch, in); train selects batch statistics in BN. NULL: a view, which computes
   * nothing and passes its input's buffer on (and its gradient back unchanged). */
  clgan_status (*forward)(clgan_net *net, clgan_layer *l, const clgan_buffer *x, int batch,
                          int train);
  /* From dy (batch, out) and the forward input x: l->dx when need_dx, and when
   * cfg->param_grads, l->dw and l->db (added to when cfg->accumulate). */
  clgan_status (*backward)(clgan_net *net, clgan_layer *l, const clgan_backward_cfg *cfg,
                           const clgan_buffer *dy, const clgan_buffer *x, int need_dx);
  /* One layer of WGAN-GP's double backward (gradpen.c, docs/wgan-gp.md): with x the forward
   * input, gy the input-gradient pass's gradient at the layer's output and gin dP/d(the
   * layer's input gradient), adds the layer's dP/dW to l->dw and writes gout = dP/d(the input
   * gradient of the next layer) unless gout is NULL (the last layer). NULL: not supported. */
  clgan_status (*double_backward)(clgan_net *net, clgan_layer *l, int batch,
                                  const clgan_buffer *x, const clgan_buffer *gy,
                                  const clgan_buffer *gin, clgan_buffer *gout);
  /* Whether this layer of the kind has a double backward, where that depends on its spec
   * (only relu and lrelu among the activations); NULL: double_backward says it. */
  int (*has_double_backward)(const clgan_layer *l);
} clgan_layer_ops;

/* The record of kind; NULL for a value outside the enum. */
const clgan_layer_ops *clgan_layer_kind_ops(clgan_layer_kind kind);

/* The kinds' records, one per row of CLGAN_LAYER_TABLE: clgan_layer_linear (linear.c),
 * clgan_layer_act (act.c), clgan_layer_bn and _bn2d (batchnorm.c), clgan_layer_conv and _convT
 * (conv.c), clgan_layer_reshape and _flatten (view.c). */
#define CLGAN_X_DECLARE(e, name, record) extern const clgan_layer_ops clgan_layer_##record;
CLGAN_LAYER_TABLE(CLGAN_X_DECLARE)
#undef CLGAN_X_DECLARE

/* The weight a layer computes with: w, or w / sigma with spectral normalisation. */
static inline const clgan_buffer *clgan_layer_weight(const clgan_layer *l) {
  return l->spec.sn ? &l->w_sn : &l->w;
}
/* Where a kind's backward and double backward put the weight gradient: dw, or with spectral
 * normalisation the gradient of w / sigma, which spectral.c turns into dw's share. */
static inline clgan_buffer *clgan_layer_wgrad(clgan_layer *l) {
  return l->spec.sn ? &l->sn_g : &l->dw;
}

/* Spectral normalisation around any kind with weights (spectral.c), called by net.c. */
/* Shape and buffers of l's power iteration (after the kind's shape); 0 with a message when the
 * kind has no weight. */
int clgan_sn_shape_of(clgan_layer *l, char *err, size_t err_size);
clgan_status clgan_sn_alloc(clgan_net *net, clgan_layer *l);
void clgan_sn_free(clgan_layer *l);
/* u, v ~ N(0, 1) from Philox, normalised; uploaded. */
clgan_status clgan_sn_init(clgan_net *net, clgan_layer *l, int index, unsigned long long seed,
                           unsigned stream);
/* Before the kind's forward: w_sn from w (a power iteration first when train). */
clgan_status clgan_sn_forward_layer(clgan_net *net, clgan_layer *l, int train);
/* Around the kind's backward: sn_g must start from zero when the kind accumulates into it
 * (clgan_sn_begin_grad), and its share is added to dw after (clgan_sn_end_grad). */
clgan_status clgan_sn_begin_grad(clgan_net *net, clgan_layer *l, int accumulate);
clgan_status clgan_sn_end_grad(clgan_net *net, clgan_layer *l, int accumulate);

/* The initialisation shared by linear, conv and convT (PyTorch's, Glorot's or DCGAN's), given
 * the receptive field (k*k for a convolution, 1 for a dense layer): linear.c. */
void clgan_layer_init_affine(const clgan_layer *l, const clgan_layer_init_cfg *cfg,
                             double field, float *w, float *b);

/* Conditioning around the layers (cond.c; clgan_cond in include/clgan/nn.h), called by net.c
 * and gradpen.c; each does nothing for an unconditional net. */
/* The first layer's input shape: concat flattens it and adds the classes. */
void nn_cond_input_shape(const clgan_net *net, int *c, int *h, int *w);
/* After the layers are shaped: whether the spec can carry the conditioning (0 with a message),
 * and projection's proj_layer and e_n. in_h x in_w: the net's input before the conditioning. */
int nn_cond_check(clgan_net *net, int in_h, int in_w, char *err, size_t size);
clgan_status nn_cond_alloc(clgan_net *net); /* after the arenas */
void nn_cond_free(clgan_net *net);
/* Host initial values of the embedding into the arena copy host. */
void nn_cond_init(const clgan_net *net, clgan_init init, unsigned long long seed,
                  unsigned stream, float *host);
/* Forward: the input the layers read (concat: cond_x, built here), and after layer i the
 * projection term when i is proj_layer (in: the layer's input). */
clgan_status nn_cond_forward_input(clgan_net *net, const clgan_buffer **x, int batch);
clgan_status nn_cond_forward_layer(clgan_net *net, int i, const clgan_buffer *in, int batch);
/* Backward: the input the first layer read; after layer i's backward, the projection's share;
 * at the end, the input gradient handed back (concat: its image part). */
const clgan_buffer *nn_cond_backward_input(const clgan_net *net, const clgan_buffer *x);
clgan_status nn_cond_backward_layer(clgan_net *net, int i, const clgan_backward_cfg *cfg,
                                    const clgan_buffer *dy, const clgan_buffer *in, int need_dx);
clgan_status nn_cond_backward_output(clgan_net *net, int batch, const clgan_buffer **grad);
/* Double backward: the input and the seed padded to the concatenated width; the embedding's
 * share at the projection layer. */
clgan_status nn_cond_double_backward_input(clgan_net *net, int batch, const clgan_buffer **x,
                                           const clgan_buffer **gbar);
clgan_status nn_cond_double_backward_layer(clgan_net *net, int i, int batch,
                                           const clgan_buffer *seed, const clgan_buffer *gin);

#endif
