/* Networks: layers as forward/backward pairs, a sequential network built from a spec string,
 * one parameter arena per network (parameters, gradients and optimizer state share one layout,
 * so an optimizer step is one launch), and initialisers.
 *
 * Spec language (README "Network specs"): comma-separated layers, e.g.
 *   linear:256,lrelu:0.01,bn:0.8:0.001,linear:784,tanh
 *   linear:N            dense layer with N outputs (PyTorch nn.Linear, weight (N, in))
 *   relu | tanh | sigmoid
 *   lrelu[:SLOPE]       leaky ReLU, default slope 0.01 (PyTorch's default)
 *   bn[:MOMENTUM[:EPS]] batch norm over features; MOMENTUM is Keras-style, the running average's
 *                       decay (running = m*running + (1-m)*batch), default 0.9 (PyTorch's 0.1);
 *                       EPS default 1e-5
 *   bn2d[:MOMENTUM[:EPS]] batch norm per channel of an image (nn.BatchNorm2d)
 *   conv:C:K[:S[:P]]    nn.Conv2d to C channels, KxK kernel, stride S (1), padding P (0)
 *   convT:C:K[:S[:P]]   nn.ConvTranspose2d, the same fields
 *   reshape:CxHxW       view the features as C channels of HxW (nn.Unflatten)
 *   flatten             view an image as features (nn.Flatten)
 * A layer with weights (linear, conv, convT) may end in one more field, `sn`, for spectral
 * normalisation (torch.nn.utils.spectral_norm: one power iteration per training forward, eps
 * 1e-12, dim 0, or 1 for convT): linear:1:sn, conv:64:4:2:1:sn, conv:64:4:sn (stride and
 * padding still default). It is always the last field; on any other layer (relu:sn, bn:sn) the
 * spec is refused. clgan_spec_format writes it last, after every field written out.
 * Each token is one nn.Sequential module, so tensor names follow PyTorch's state_dict:
 * "<prefix>.<index>.weight"; a layer with sn has "weight_orig", "weight_u" and "weight_v" (the
 * parameter and the two power-iteration vectors, as spectral_norm registers them) instead of
 * "weight". A final sigmoid in a discriminator is folded into the loss, which is
 * computed from logits. */
#ifndef CLGAN_NN_H
#define CLGAN_NN_H

#include <stddef.h>

#include "clgan/device.h"
#include "clgan/ops.h"

/* The layer kinds, the one list of them: X(ENUM, "name", record). The name is the spec token
 * the parser looks up and clgan_spec_format writes (an activation layer writes its
 * activation's name instead, from CLGAN_ACT_TABLE). record names the kind's implementation,
 * clgan_layer_<record>, defined in the kind's own file in src/nn/: the library's table of
 * kinds (src/nn/layers.h) is generated from these rows, so a new kind is its file and its row
 * here (and, if its token has fields, their parsing in src/nn/spec.c). */
#define CLGAN_LAYER_TABLE(X)                                                               \
  X(LINEAR, "linear", linear)                                                              \
  X(ACT, "act", act)                                                                       \
  X(BN, "bn", bn)                                                                          \
  X(BN2D, "bn2d", bn2d)                                                                    \
  X(CONV, "conv", conv)                                                                    \
  X(CONVT, "convT", convT)                                                                 \
  X(RESHAPE, "reshape", reshape)                                                           \
  X(FLATTEN, "flatten", flatten)

typedef enum {
#define CLGAN_X_ENUM(e, name, record) CLGAN_LAYER_##e,
  CLGAN_LAYER_TABLE(CLGAN_X_ENUM)
#undef CLGAN_X_ENUM
} clgan_layer_kind;
#define CLGAN_X_ONE_LAYER(e, name, record) +1
enum { CLGAN_LAYER_COUNT = 0 CLGAN_LAYER_TABLE(CLGAN_X_ONE_LAYER) };
#undef CLGAN_X_ONE_LAYER

/* "convT" for CLGAN_LAYER_CONVT; NULL when unknown. */
const char *clgan_layer_kind_name(clgan_layer_kind kind);
/* Batch norm over features or over an image's channels (bn, bn2d): the layers with running
 * statistics and num_batches_tracked. */
int clgan_layer_is_bn(clgan_layer_kind kind);

typedef struct {
  clgan_layer_kind kind;
  int out;           /* linear: output features; conv/convT: output channels */
  clgan_act act;     /* act */
  float param;       /* act: leaky slope; bn, bn2d: PyTorch momentum (weight of the new batch) */
  float eps;         /* bn, bn2d */
  int k, stride, pad; /* conv, convT */
  int c, h, w;       /* reshape */
  int sn;            /* linear, conv, convT: spectral normalisation of the weight */
} clgan_layer_spec;

#define CLGAN_MAX_LAYERS 64

typedef struct {
  clgan_layer_spec layers[CLGAN_MAX_LAYERS];
  int count;
} clgan_net_spec;

/* Parses text into spec. On error returns CLGAN_INVALID_ARGUMENT and writes a message that
 * points at the bad token into err (e.g. "token 3 'linaer:784': unknown layer 'linaer'"). */
clgan_status clgan_spec_parse(const char *text, clgan_net_spec *spec, char *err, size_t err_size);
/* Writes the canonical text of spec (round-trips through clgan_spec_parse). */
void clgan_spec_format(const clgan_net_spec *spec, char *out, size_t size);

/* The initialisers: X(ENUM, "name"); the names are the CLI's --init spellings and the
 * checkpoint's "init" metadata.
 *   torch:  PyTorch's nn.Linear default: W, b ~ U(-1/sqrt(in), 1/sqrt(in))
 *   glorot: Keras' glorot_uniform: W ~ U(+-sqrt(6/(in+out))), b = 0
 *   dcgan:  W ~ N(0, 0.02), b = 0, BN gamma ~ N(1, 0.02) */
#define CLGAN_INIT_TABLE(X)                                                                \
  X(TORCH, "torch")                                                                        \
  X(GLOROT, "glorot")                                                                      \
  X(DCGAN, "dcgan")

typedef enum {
#define CLGAN_X_ENUM(e, name) CLGAN_INIT_##e,
  CLGAN_INIT_TABLE(CLGAN_X_ENUM)
#undef CLGAN_X_ENUM
} clgan_init;
enum { CLGAN_INIT_COUNT = 0 CLGAN_INIT_TABLE(CLGAN_X_ONE) };

/* "glorot" for CLGAN_INIT_GLOROT; NULL when unknown. */
const char *clgan_init_name(clgan_init init);
/* 1 and *init set when name is an initialiser's name, else 0. */
int clgan_init_parse(const char *name, clgan_init *init);

typedef struct {
  clgan_layer_spec spec;
  int in, out;            /* features per sample */
  int in_c, in_h, in_w;   /* the same as a CxHxW image (dense features: C = in, H = W = 1) */
  int out_c, out_h, out_w;
  clgan_conv_shape conv;  /* conv, convT (n set per call) */
  int w_ndim;             /* PyTorch shape of the weight tensor */
  long long w_shape[4];
  size_t w_off, b_off;    /* float offsets into the arenas; w: (out, in) or BN gamma, b: bias/beta */
  size_t w_n, b_n;        /* element counts (0 if none) */
  clgan_buffer w, b;      /* views into params */
  clgan_buffer dw, db;    /* views into grads */
  clgan_buffer wt;        /* linear: W^T (in, out), refreshed by each forward; CLBlast path only */
  clgan_buffer running_mean, running_var; /* bn: (out) */
  clgan_buffer mean, invstd;              /* bn: saved batch statistics (out) */
  clgan_buffer y;         /* (batch, out) output */
  clgan_buffer dx;        /* (batch, in) gradient of the layer's input */
  long bn_batches;        /* bn: num_batches_tracked */
  /* Spectral normalisation (spec.sn; src/nn/spectral.c): w holds PyTorch's weight_orig, the
   * layer computes with w_sn = w / sigma. */
  clgan_sn_shape sn;      /* the weight as a matrix (a, r, k): r rows, a*k columns */
  clgan_buffer sn_u, sn_v; /* (r), (a*k): weight_u, weight_v, kept between steps */
  clgan_buffer w_sn;      /* (w_n) w / sigma, refreshed by every forward */
  clgan_buffer sn_g;      /* (w_n) dL/dw_sn of one backward pass */
  clgan_buffer sn_t;      /* (r) W v */
  clgan_buffer sn_sigma;  /* (2) sigma, and the backward's <dL/dw_sn, w_sn> */
} clgan_layer;

/* Class conditioning of a whole network (issue 12; src/nn/cond.c), set when it is built:
 *   none        an unconditional network
 *   concat      the one-hot label concatenated to the (flattened) input, Mirza & Osindero 2014:
 *               the first layer reads torch.cat([x.flatten(1), F.one_hot(y, classes).float()],
 *               1), so its weight has classes more input columns; no tensor of its own
 *   projection  the projection discriminator, Miyato & Koyama 2018: the last run layer (one
 *               output) reads the features h (batch, F), and the logit gains
 *               (embed(y) * h.flatten(1)).sum(1, keepdim=True); embed is nn.Embedding(classes,
 *               F), the tensor "<prefix>.embed.weight" beside the layers' own
 * Labels are int32 on the device, set with clgan_net_set_labels before each forward; the
 * backward and double backward use those of the forward they follow. */
#define CLGAN_COND_TABLE(X)                                                                \
  X(NONE, "none")                                                                          \
  X(CONCAT, "concat")                                                                      \
  X(PROJECTION, "projection")

typedef enum {
#define CLGAN_X_ENUM(e, name) CLGAN_COND_##e,
  CLGAN_COND_TABLE(CLGAN_X_ENUM)
#undef CLGAN_X_ENUM
} clgan_cond;
enum { CLGAN_COND_COUNT = 0 CLGAN_COND_TABLE(CLGAN_X_ONE) };

const char *clgan_cond_name(clgan_cond c); /* NULL when unknown */
int clgan_cond_parse(const char *name, clgan_cond *c);

typedef struct {
  clgan_cond kind;
  int classes;            /* >= 1 unless kind is none */
} clgan_cond_cfg;

typedef struct {
  clgan_device *dev;
  clgan_net_spec spec;
  /* Conditioning (kind none: all unused). */
  clgan_cond_cfg cond;
  const clgan_buffer *labels;   /* (batch) int32 labels of the next forward */
  clgan_buffer cond_x;          /* concat: (max_batch, in + classes) the first layer's input */
  clgan_buffer cond_dx;         /* concat: (max_batch, in) the input gradient's image part */
  clgan_buffer cond_gbar;       /* concat: (max_batch, in + classes) the padded GP seed */
  int proj_layer;               /* projection: the last run layer, the one h feeds */
  size_t e_off, e_n;            /* projection: embed's place in the arenas (classes * F) */
  clgan_buffer embed, dembed;   /* projection: views into params and grads */
  clgan_layer *layers;
  int count;
  int run_count;          /* layers run in training: a final sigmoid is left to the loss */
  int in, out, max_batch;
  size_t arena_n;         /* floats in each arena, padding included */
  clgan_buffer params;    /* (arena_n) */
  clgan_buffer grads;     /* (arena_n) */
  clgan_buffer state1, state2; /* optimizer state, (arena_n) each */
  clgan_buffer col;       /* im2col workspace shared by the convolutions */
  clgan_buffer scratch[2]; /* double backward only: ping-pong (max_batch, widest layer) */
  clgan_buffer sumsq;     /* (1) the gradients' sum of squares, for gradient-norm clipping */
  const clgan_buffer *output; /* the last forward's output (owned by a layer or the caller) */
  long opt_t;             /* optimizer steps taken */
} clgan_net;

/* Builds the network's layers, arenas and activation buffers for batches up to max_batch, for
 * inputs of in_c x in_h x in_w per sample (a latent vector: in_c = size, in_h = in_w = 1).
 * Shape errors (a convolution on dense features, a reshape of the wrong size, bn after a
 * convolution) are CLGAN_INVALID_ARGUMENT, reported with the layer's index and token.
 * Parameters are zero until clgan_net_init. */
clgan_status clgan_net_create(clgan_net *net, clgan_device *dev, const clgan_net_spec *spec,
                              int in_c, int in_h, int in_w, int max_batch);
/* The same, conditioned as cond says (NULL: none). concat needs a dense first computing layer
 * (the input is the flattened image or latent vector, and the classes); projection a last run
 * layer with one output. Other shapes are CLGAN_INVALID_ARGUMENT, reported. */
clgan_status clgan_net_create_cond(clgan_net *net, clgan_device *dev, const clgan_net_spec *spec,
                                   int in_c, int in_h, int in_w, int max_batch,
                                   const clgan_cond_cfg *cond);
/* The labels (batch, int32 on the device) the next forward of a conditional net reads; the
 * net keeps the pointer, so the buffer must outlive the forward, backward and double backward. */
void clgan_net_set_labels(clgan_net *net, const clgan_buffer *labels);
void clgan_net_free(clgan_net *net); /* accepts a zeroed or freed net */

/* Initialises parameters on the host from Philox (seed, stream) and uploads them; zeroes
 * gradients, optimizer state and BN running statistics (running_var = 1). A layer with sn gets
 * u and v ~ N(0, 1), normalised, as spectral_norm draws them, from Philox steps of their own
 * (2^32 + 2i and 2^32 + 2i + 1 for layer i), so no other tensor's values change. */
clgan_status clgan_net_init(clgan_net *net, clgan_init init, unsigned long long seed,
                            unsigned stream);

/* Forward through the first `layers` layers (net->count for all, net->run_count for logits).
 * train = 1 uses batch statistics in BN (and updates running statistics), 0 running ones.
 * Returns the output buffer in *y (owned by the net). */
clgan_status clgan_net_forward(clgan_net *net, const clgan_buffer *x, int batch, int layers,
                               int train, const clgan_buffer **y);

/* Backward through the layers run by the last forward (same x, same count): dy is the gradient
 * of the last run layer's output. param_grads = 0 skips weight gradients (a G step's pass
 * through D); accumulate = 1 adds to the gradients already in the arena. input_grad = 1
 * computes the gradient of x into *dx (owned by the net). */
typedef struct {
  int layers, batch;
  int param_grads, accumulate, input_grad;
} clgan_backward_cfg;

/* Enqueues only. cfg's layers and batch must be the last forward's (not checked); device
 * failures as they come. */
clgan_status clgan_net_backward(clgan_net *net, const clgan_backward_cfg *cfg,
                                const clgan_buffer *x, const clgan_buffer *dy,
                                const clgan_buffer **dx);

/* One update of the network from the gradients in its arena, in this order: gradient-norm
 * clipping over the whole arena when clip_norm > 0 (torch.nn.utils.clip_grad_norm_ over all
 * parameters), one optimizer launch over the arena with step count ++opt_t, then weight
 * clipping of every parameter to [-clip_weights, clip_weights] when clip_weights > 0 (the WGAN
 * critic's, BN's parameters too, as in the paper's code). Enqueues only; never blocks. */
typedef struct {
  clgan_opt_cfg opt;
  float clip_norm;        /* 0 = off */
  float clip_weights;     /* 0 = off */
} clgan_step_cfg;

/* Enqueues only. CLGAN_INVALID_ARGUMENT for an unknown optimizer; device failures as they
 * come. */
clgan_status clgan_net_step(clgan_net *net, const clgan_step_cfg *cfg);

/* dst = decay * dst + (1 - decay) * src for every parameter and batch-norm running statistic
 * of two nets built from the same spec (num_batches_tracked and sn's u and v copied), in float32 with decay and
 * 1 - decay each rounded from the double: the EMA generator's update, and with decay 0 a copy. CLGAN_INVALID_ARGUMENT when the layouts differ. Enqueues
 * only. */
clgan_status clgan_net_average(clgan_net *dst, const clgan_net *src, double decay);

/* WGAN-GP's double backward (docs/wgan-gp.md). Call after clgan_net_forward on x (train mode)
 * and clgan_net_backward with param_grads = 0, input_grad = 1 and dy = seed, which leave the
 * input-gradient pass in the layers. gbar (batch, in) is dP/dg for the penalty P on that input
 * gradient g; this adds dP/dW to every weight gradient (biases get none: the penalty does not
 * depend on them). Only linear, conv, relu, lrelu, reshape and flatten layers are allowed
 * (clgan_net_check_double_backward says which layer is not); linear and conv may have sn, whose
 * weight gradient gets the backward's correction with the u, v of the forward on x. A
 * conditional net uses the labels of that forward: with concat, gbar is the image part (batch,
 * in) and the class columns' seed is 0; with projection, the embedding gets its share. */
clgan_status clgan_net_double_backward(clgan_net *net, int batch, const clgan_buffer *x,
                                       const clgan_buffer *seed, const clgan_buffer *gbar);
/* Index of the first layer the double backward cannot go through, or -1. */
int clgan_net_check_double_backward(const clgan_net *net);

/* Reshape and flatten are views: they compute nothing and pass their input's buffer on. */
int clgan_layer_is_view(const clgan_layer *l);

/* Tensor naming, PyTorch style: fills name with "<prefix>.<index>.<what>" for layer i. */
void clgan_net_tensor_name(char *name, size_t size, const char *prefix, int layer,
                           const char *what);

#endif
