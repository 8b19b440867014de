/* Device ops: everything a training step computes on the device. Each op enqueues one or a few
 * kernels from cl/<family>.cl through clgan_launch (the matrix product: CLBlast through the
 * device layer), never blocks, and has a plain C reference (clgan_ref_*, same argument meaning
 * on host arrays) that tests/test_ops_*.c compare against.
 *
 * Conventions: outputs first, then inputs, then sizes. Matrices are row-major (rows = batch).
 * Buffers hold float32 unless a name says otherwise. Every `n` counts elements. */
#ifndef CLGAN_OPS_H
#define CLGAN_OPS_H

#include <stdint.h>

#include "clgan/device.h"

/* ---- Matrix product (src/ops/matmul.c) ---------------------------------------------------- */

/* C = alpha op(A) op(B) + beta C, the device layer's GEMM (clgan_gemm) as the layers above ops
 * see it: the same arguments, the same result bit for bit, the same profiling span. nn and gan
 * call this, never clgan_gemm, so the product goes through ops like every other op (issue 9).
 * Its reference is clgan_gemm_reference. */
clgan_status clgan_matmul(clgan_device *dev, const clgan_gemm_args *g);

/* ---- Bias (cl/bias.cl) ------------------------------------------------------------------ */

/* y[r, c] += b[c] for a (rows, cols) matrix. */
clgan_status clgan_bias_forward(clgan_device *dev, clgan_buffer *y, const clgan_buffer *b,
                                int rows, int cols);
/* db[c] (+)= sum_r dy[r, c]; accumulate = 0 overwrites db. Deterministic (no atomics). */
clgan_status clgan_bias_backward(clgan_device *dev, clgan_buffer *db, const clgan_buffer *dy,
                                 int rows, int cols, int accumulate);
void clgan_ref_bias_forward(float *y, const float *b, int rows, int cols);
void clgan_ref_bias_backward(float *db, const float *dy, int rows, int cols, int accumulate);

/* ---- Activations (cl/activation.cl) ------------------------------------------------------- */

/* One table per enum (as CLGAN_STATUS_TABLE): X(ENUM, "name") gives the enum value, the name
 * (spec token, and kernel suffix: act_forward_<name>), clgan_act_name and clgan_act_parse, and
 * the enum as the kernels see it (clgan_kernel_preamble). LRELU's param: the negative slope. */
#define CLGAN_ACT_TABLE(X)                                                                 \
  X(IDENTITY, "identity")                                                                  \
  X(RELU, "relu")                                                                          \
  X(LRELU, "lrelu")                                                                        \
  X(TANH, "tanh")                                                                          \
  X(SIGMOID, "sigmoid")

/* Counts a table's rows: enum { N = 0 TABLE(CLGAN_X_ONE) }. */
#define CLGAN_X_ONE(e, name) +1

typedef enum {
#define CLGAN_X_ENUM(e, name) CLGAN_ACT_##e,
  CLGAN_ACT_TABLE(CLGAN_X_ENUM)
#undef CLGAN_X_ENUM
} clgan_act;
enum { CLGAN_ACT_COUNT = 0 CLGAN_ACT_TABLE(CLGAN_X_ONE) };

/* "relu" for CLGAN_ACT_RELU; NULL when act is no activation. */
const char *clgan_act_name(clgan_act act);
/* 1 and *act set when name is an activation's name, else 0 (*act untouched). */
int clgan_act_parse(const char *name, clgan_act *act);

/* y = act(x) elementwise. */
clgan_status clgan_act_forward(clgan_device *dev, clgan_act act, float param, clgan_buffer *y,
                               const clgan_buffer *x, int n);
/* dx = dy * act'(x), given both x and y = act(x) (tanh and sigmoid use y, the others x; the
 * one not used may be NULL). In place (dx == dy, y == x) is fine. */
clgan_status clgan_act_backward(clgan_device *dev, clgan_act act, float param, clgan_buffer *dx,
                                const clgan_buffer *dy, const clgan_buffer *x,
                                const clgan_buffer *y, int n);
void clgan_ref_act_forward(clgan_act act, float param, float *y, const float *x, int n);
void clgan_ref_act_backward(clgan_act act, float param, float *dx, const float *dy,
                            const float *x, const float *y, int n);

/* ---- Batch normalisation (cl/batchnorm.cl) ----------------------------------------------- */

/* Layout (N, C, S): element (n, c, s) at n*C*S + c*S + s. S = 1 for dense (bn), H*W for bn2d.
 * Training mode: per-channel batch mean and biased variance normalise x;
 *   y = gamma * (x - mean) / sqrt(var + eps) + beta;
 *   saves mean[c] and invstd[c] for backward;
 *   running_mean = (1 - momentum) * running_mean + momentum * mean,
 *   running_var  = (1 - momentum) * running_var + momentum * var * M / (M - 1), M = N*S
 *   (PyTorch's convention: momentum is the weight of the new batch, unbiased running variance;
 *   Keras' momentum 0.8 is PyTorch's 0.2).
 * Training needs N*S >= 2 (as torch); fewer is CLGAN_INVALID_ARGUMENT.
 * Eval mode (clgan_bn_forward_eval): normalises with the running statistics. */
typedef struct {
  int n, c, s;
  float eps, momentum;
} clgan_bn_shape;

/* Training mode: batch statistics into mean and invstd (saved for the backward), running
 * statistics updated; eval mode reads the running ones. Enqueue only. */
clgan_status clgan_bn_forward_train(clgan_device *dev, const clgan_bn_shape *sh, clgan_buffer *y,
                                    clgan_buffer *mean, clgan_buffer *invstd,
                                    clgan_buffer *running_mean, clgan_buffer *running_var,
                                    const clgan_buffer *x, const clgan_buffer *gamma,
                                    const clgan_buffer *beta);
clgan_status clgan_bn_forward_eval(clgan_device *dev, const clgan_bn_shape *sh, clgan_buffer *y,
                                   const clgan_buffer *running_mean,
                                   const clgan_buffer *running_var, const clgan_buffer *x,
                                   const clgan_buffer *gamma, const clgan_buffer *beta);
/* Backward of the training-mode forward. dgamma and dbeta (+)= per accumulate, or both NULL
 * (only dx: a G step's pass through D); dx overwritten. */
clgan_status clgan_bn_backward(clgan_device *dev, const clgan_bn_shape *sh, clgan_buffer *dx,
                               clgan_buffer *dgamma, clgan_buffer *dbeta, const clgan_buffer *dy,
                               const clgan_buffer *x, const clgan_buffer *mean,
                               const clgan_buffer *invstd, const clgan_buffer *gamma,
                               int accumulate);
void clgan_ref_bn_forward_train(const clgan_bn_shape *sh, float *y, float *mean, float *invstd,
                                float *running_mean, float *running_var, const float *x,
                                const float *gamma, const float *beta);
void clgan_ref_bn_forward_eval(const clgan_bn_shape *sh, float *y, const float *running_mean,
                               const float *running_var, const float *x, const float *gamma,
                               const float *beta);
void clgan_ref_bn_backward(const clgan_bn_shape *sh, float *dx, float *dgamma, float *dbeta,
                           const float *dy, const float *x, const float *mean,
                           const float *invstd, const float *gamma, int accumulate);

/* ---- Losses (cl/loss.cl) ----------------------------------------------------------------- */

/* Binary cross-entropy on logits z, computed stably from the logits (never through a separate
 * sigmoid): loss_i = max(z,0) - z*t + log(1 + exp(-|z|)), with target t.
 *   dz[i]  = sign * scale * (sigmoid(z_i) - t)
 *   loss[i] = sign * loss_i       (per-sample, for the metrics reduction)
 *   prob[i] = sigmoid(z_i)        (D(x) or D(G(z)), for metrics); prob may be NULL
 * scale is 1/batch for a mean loss; sign = -1 gives the minimax generator loss
 * (minimising -BCE(z, 0) = log(1 - D(G(z)))). dz may be NULL (metrics only); so may loss. */
typedef struct {
  float target, scale, sign;
} clgan_bce_cfg;

/* The op above on the device (enqueues only), and its plain C reference on host arrays.
 * CLGAN_INVALID_ARGUMENT for sizes that do not fit; device failures as they come. */
clgan_status clgan_bce_logits(clgan_device *dev, const clgan_bce_cfg *cfg, clgan_buffer *dz,
                              clgan_buffer *loss, clgan_buffer *prob, const clgan_buffer *z,
                              int n);
void clgan_ref_bce_logits(const clgan_bce_cfg *cfg, float *dz, float *loss, float *prob,
                          const float *z, int n);

/* Softmax cross-entropy on the logits z (n, classes), row-major, for integer class labels read
 * at labels[label_off + i] (int32; the offset lets a whole epoch's labels sit on the device
 * and each batch read its slice, with no host transfer per batch). Computed stably through
 * the log-sum-exp with the row maximum subtracted (as torch.nn.functional.cross_entropy):
 *   loss[i]       = logsumexp(z_i) - z_i[label_i]      (per-sample, for the metrics sum)
 *   dz[i, c]      = scale * (softmax(z_i)[c] - [c == label_i])    (scale = 1/n for a mean)
 *   correct[i]    = 1 if argmax_c z_i[c] == label_i else 0 (ties go to the lowest index), as
 *                   a float so that clgan_reduce_sum counts it
 * A label outside [0, classes) is never used as an index: that row's loss and dz are NaN (so
 * a bad label shows up in the loss instead of training silently on garbage) and correct 0.
 * Any of dz, loss and correct may be NULL. classes >= 1. */
typedef struct {
  float scale;
} clgan_xent_cfg;

/* The op above; enqueues only. */
clgan_status clgan_softmax_xent(clgan_device *dev, const clgan_xent_cfg *cfg, clgan_buffer *dz,
                                clgan_buffer *loss, clgan_buffer *correct,
                                const clgan_buffer *z, const clgan_buffer *labels, int label_off,
                                int n, int classes);
/* The reference, in double inside. */
void clgan_ref_softmax_xent(const clgan_xent_cfg *cfg, float *dz, float *loss, float *correct,
                            const float *z, const int32_t *labels, int label_off, int n,
                            int classes);

/* ---- Reductions (cl/reduce.cl) ----------------------------------------------------------- */

/* Deterministic sums (fixed tree order, one work-group, no atomics).
 * clgan_reduce_sum: out[slot] (+)= sum_i x[i].
 * clgan_reduce_count_above: out[slot] (+)= #{i : x[i] > threshold} (for D accuracy: prob > 0.5
 *   on real, or use threshold with negate = 1 to count x[i] <= threshold on fake).
 * clgan_reduce_sumsq: out[slot] (+)= sum_i x[i]^2 (for gradient norms). */
clgan_status clgan_reduce_sum(clgan_device *dev, clgan_buffer *out, int slot,
                              const clgan_buffer *x, int n, int accumulate);
clgan_status clgan_reduce_count_above(clgan_device *dev, clgan_buffer *out, int slot,
                                      const clgan_buffer *x, int n, float threshold, int negate,
                                      int accumulate);
clgan_status clgan_reduce_sumsq(clgan_device *dev, clgan_buffer *out, int slot,
                                const clgan_buffer *x, int n, int accumulate);
void clgan_ref_reduce_sum(float *out, int slot, const float *x, int n, int accumulate);
void clgan_ref_reduce_count_above(float *out, int slot, const float *x, int n, float threshold,
                                  int negate, int accumulate);
void clgan_ref_reduce_sumsq(float *out, int slot, const float *x, int n, int accumulate);

/* ---- Random numbers (cl/random.cl) ------------------------------------------------------- */

/* Philox-4x32-10 (Salmon et al., SC'11), counter-based: element i of stream `stream` at `step`
 * under `seed` is a pure function of (seed, step, stream, i), identical on every device and in
 * the C reference. Counter = (i / 4, step_lo, step_hi, stream), key = (seed_lo, seed_hi);
 * the four 32-bit outputs serve elements 4*(i/4) .. 4*(i/4)+3.
 * Uniform: u = (bits >> 9) * 2^-23 + 2^-24: exact in float and inside (0, 1) (with 24 bits,
 *   (2^24 - 1/2) * 2^-24 would round to 1.0f), then lo + (hi - lo) * u, all in float.
 * Normal: Box-Muller on pairs of uniforms (u0,u1) -> (r cos, r sin), r = sqrt(-2 ln u0),
 *   theta = 2 pi u1, from words (0,1) and (2,3) of a block, then mean + stddev * z. */
clgan_status clgan_rand_normal(clgan_device *dev, clgan_buffer *out, int n, float mean,
                               float stddev, uint64_t seed, uint64_t step, uint32_t stream);
clgan_status clgan_rand_uniform(clgan_device *dev, clgan_buffer *out, int n, float lo, float hi,
                                uint64_t seed, uint64_t step, uint32_t stream);
void clgan_ref_rand_normal(float *out, int n, float mean, float stddev, uint64_t seed,
                           uint64_t step, uint32_t stream);
void clgan_ref_rand_uniform(float *out, int n, float lo, float hi, uint64_t seed, uint64_t step,
                            uint32_t stream);
/* The raw generator: four 32-bit words for one counter block. */
void clgan_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
/* perm = a permutation of 0..n-1 (host memory, n ints): Fisher-Yates from the last position
 * down, position i swapped with j = (w * (i + 1)) >> 32, w word k % 4 of the block with counter
 * (k / 4, epoch, 0, stream) under key (seed_lo, seed_hi), k = n - 1 - i. The order depends on
 * nothing but (seed, epoch, stream), so a resumed run rebuilds an epoch's order exactly. */
void clgan_philox_shuffle(int32_t *perm, int n, uint64_t seed, uint32_t epoch, uint32_t stream);

/* ---- Data (cl/data.cl) ------------------------------------------------------------------- */

/* A uint8 pixel as training sees it: (p - 127.5) * fl(1/127.5), cl/data.cl's formula, which is
 * p / 127.5 - 1 within an ulp and exactly -1 and 1 at 0 and 255. */
#define CLGAN_PIXEL_OFFSET 127.5f
#define CLGAN_PIXEL_SCALE 0x1.010102p-7f /* fl(1/127.5) */
static inline float clgan_pixel_to_unit(uint8_t p) {
  return ((float)p - CLGAN_PIXEL_OFFSET) * CLGAN_PIXEL_SCALE;
}

/* out[b, j] = images[index[first + b], j] / 127.5 - 1 for b < batch, j < dim: uint8 pixels to
 * floats in [-1, 1] (clgan_pixel_to_unit). images is the whole uint8 training set; index an int32 permutation. An
 * index outside the set makes that row NaN on the device rather than read out of bounds. */
clgan_status clgan_gather_images(clgan_device *dev, clgan_buffer *out, const clgan_buffer *images,
                                 const clgan_buffer *index, int first, int batch, int dim);
/* The same with horizontal flips (issue 13's --flip): where flips[first + b] (uint8) is not 0,
 * sample b is mirrored, each row of width pixels read right to left; dim is a multiple of
 * width (channels x rows x width). */
clgan_status clgan_gather_images_flip(clgan_device *dev, clgan_buffer *out,
                                      const clgan_buffer *images, const clgan_buffer *index,
                                      const clgan_buffer *flips, int first, int batch, int dim,
                                      int width);
void clgan_ref_gather_images_flip(float *out, const uint8_t *images, const int32_t *index,
                                  const uint8_t *flips, int first, int batch, int dim, int width);
/* An epoch's flips: flips[p] = bit 0 of Philox-4x32-10 at counter (p, epoch, stream, 0) and
 * key seed, so a resumed run redraws the same ones. */
void clgan_flip_bits(uint8_t *flips, int n, uint64_t seed, uint32_t epoch, uint32_t stream);
void clgan_ref_gather_images(float *out, const uint8_t *images, const int32_t *index, int first,
                             int batch, int dim);

/* ---- DiffAugment (cl/augment.cl) --------------------------------------------------------- */

/* Differentiable augmentation of D's inputs (Zhao, Liu, Lin, Zhu, Han, "Differentiable
 * Augmentation for Data-Efficient GAN Training", NeurIPS 2020), the ops of the official
 * PyTorch code (mit-han-lab/data-efficient-gans, DiffAugment_pytorch.py) with its ratios, on
 * NCHW floats, one draw per sample, applied in the table's order (the policy string
 * "translation,cutout": translation first):
 *   translation  sh = int(H/8 + 0.5), sw = int(W/8 + 0.5); per sample tx in [-sh, sh],
 *                ty in [-sw, sw] (rand_translation, ratio 0.125);
 *                y[b,c,i,j] = x[b,c,i+tx,j+ty] where that lies in the image, else 0
 *   cutout       ch = int(H/2 + 0.5), cw = int(W/2 + 0.5) (rand_cutout, ratio 0.5); per
 *                sample ox in [0, H - ch%2], oy in [0, W - cw%2]; the rows
 *                [ox - ch/2, ox - ch/2 + ch) and the columns [oy - cw/2, oy - cw/2 + cw),
 *                clipped to the image, are multiplied by 0 in every channel (as x * mask)
 * The draws of sample b: the four words of the Philox-4x32-10 block with counter (b, step_lo,
 * step_hi, stream) and key (seed_lo, seed_hi) (clgan_philox4x32), each mapped to k values by
 * Lemire's multiply-shift (w * k) >> 32 (torch.randint's uniform, to within k / 2^32):
 * word 0 -> tx + sh, word 1 -> ty + sw, word 2 -> ox, word 3 -> oy. A policy without an op
 * leaves its words unused, so a sample's cutout is the same with and without translation.
 * The op is linear, y = A x; backward is its transpose, dx = A^T dy: the gradient moves back
 * through the shift and is 0 where the forward filled or cut (where x reached no output). */
#define CLGAN_AUG_TABLE(X)                                                                 \
  X(TRANSLATION, "translation")                                                            \
  X(CUTOUT, "cutout")

typedef enum {
#define CLGAN_X_ENUM(e, name) CLGAN_AUG_##e,
  CLGAN_AUG_TABLE(CLGAN_X_ENUM)
#undef CLGAN_X_ENUM
} clgan_aug_op;
enum { CLGAN_AUG_COUNT = 0 CLGAN_AUG_TABLE(CLGAN_X_ONE) };
/* A policy is a set of ops: bit (1 << CLGAN_AUG_op) for each; 0 is none. */
#define CLGAN_AUG_ALL ((1u << CLGAN_AUG_COUNT) - 1u)

/* The policy as the CLI and checkpoints spell it: "none", or the ops' names in the table's
 * order joined by commas ("translation,cutout"). NULL for bits outside CLGAN_AUG_ALL. */
const char *clgan_aug_policy_name(unsigned policy);
/* 1 and *policy set when text is such a spelling, else 0 ("cutout,translation", "translation,"
 * and repeated ops are not: the order is the order the ops are applied in). */
int clgan_aug_policy_parse(const char *text, unsigned *policy);

typedef struct {
  unsigned policy;
  int n, c, h, w;           /* NCHW */
  uint64_t seed, step;
  uint32_t stream;
} clgan_aug_cfg;

/* One sample's draws as the kernels use them: translation (0 without it) and the cut rows
 * [r0, r1) and columns [c0, c1) (empty without cutout). */
typedef struct {
  int tx, ty, r0, r1, c0, c1;
} clgan_aug_params;
void clgan_aug_sample(const clgan_aug_cfg *cfg, int b, clgan_aug_params *p);

/* y = A x. y must not be x, nor overlap it (a translation reads its neighbours). */
clgan_status clgan_augment_forward(clgan_device *dev, const clgan_aug_cfg *cfg, clgan_buffer *y,
                                   const clgan_buffer *x);
/* dx = A^T dy, dx overwritten; dx must not be dy, nor overlap it. */
clgan_status clgan_augment_backward(clgan_device *dev, const clgan_aug_cfg *cfg,
                                    clgan_buffer *dx, const clgan_buffer *dy);
void clgan_ref_augment_forward(const clgan_aug_cfg *cfg, float *y, const float *x);
void clgan_ref_augment_backward(const clgan_aug_cfg *cfg, float *dx, const float *dy);

/* ---- Elementwise utilities (cl/elementwise.cl) ------------------------------------------- */

/* x[0..n) = value. */
clgan_status clgan_fill(clgan_device *dev, clgan_buffer *x, int n, float value);
/* y = a * x + b * y; b = 0 does not read y (as BLAS), so NaN in y cannot leak through. */
clgan_status clgan_axpby(clgan_device *dev, clgan_buffer *y, float a, const clgan_buffer *x,
                         float b, int n);
/* out (cols, rows) = in (rows, cols)^T. The dense layer keeps W^T beside W so that its forward
 * GEMM has no transposed operand (slow on some devices, 3x on PoCL: src/nn/linear.c). */
clgan_status clgan_transpose(clgan_device *dev, clgan_buffer *out, const clgan_buffer *in,
                             int rows, int cols);
void clgan_ref_transpose(float *out, const float *in, int rows, int cols);
/* x = clamp(x, -c, c) (WGAN weight clipping) */
clgan_status clgan_clamp(clgan_device *dev, clgan_buffer *x, int n, float c);
/* x *= min(1, max_norm / (sqrt(sumsq[slot]) + 1e-6)), reading sumsq on the device
 * (torch.nn.utils.clip_grad_norm_). */
clgan_status clgan_clip_by_norm(clgan_device *dev, clgan_buffer *x, int n,
                                const clgan_buffer *sumsq, int slot, float max_norm);

/* ---- Optimizers (cl/optim.cl) ------------------------------------------------------------ */

/* One launch over a whole parameter arena: w, g and the state buffers have n elements.
 * Semantics follow torch.optim (1.13) without weight decay:
 *   adam:    m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *            w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)   (t counts from 1)
 *   rmsprop: v = alpha v + (1-alpha) g^2; w -= lr * g / (sqrt(v) + eps)
 *   sgd:     buf = momentum * buf + g; w -= lr * buf   (momentum 0: w -= lr g) */
/* The optimizers: X(ENUM, "name"); the names are the CLI's --opt-g/--opt-d spellings and the
 * checkpoint's "optimizer.*" metadata, so they never change. */
#define CLGAN_OPT_TABLE(X)                                                                 \
  X(ADAM, "adam")                                                                          \
  X(RMSPROP, "rmsprop")                                                                    \
  X(SGD, "sgd")

typedef enum {
#define CLGAN_X_ENUM(e, name) CLGAN_OPT_##e,
  CLGAN_OPT_TABLE(CLGAN_X_ENUM)
#undef CLGAN_X_ENUM
} clgan_opt_kind;
enum { CLGAN_OPT_COUNT = 0 CLGAN_OPT_TABLE(CLGAN_X_ONE) };

/* "adam" for CLGAN_OPT_ADAM; NULL when unknown. */
const char *clgan_opt_name(clgan_opt_kind kind);
/* 1 and *kind set when name is an optimizer's name, else 0. */
int clgan_opt_parse(const char *name, clgan_opt_kind *kind);

/* Hyper-parameters are doubles, as in torch.optim, where they are Python floats: 1 - beta2 is
 * computed from 0.999, not from its float32 rounding (which would be off by 1.3e-5 relative). */
typedef struct {
  clgan_opt_kind kind;
  double lr;
  double beta1, beta2; /* adam */
  double alpha;        /* rmsprop smoothing */
  double momentum;     /* sgd */
  double eps;
} clgan_opt_cfg;

/* state1: adam m, rmsprop v, sgd momentum buffer; state2: adam v (unused otherwise, may be
 * NULL, as may state1 for sgd without momentum). t: the 1-based step count of this optimizer;
 * sgd's momentum buffer starts as a copy of g at t = 1, as in torch. */
clgan_status clgan_opt_step(clgan_device *dev, const clgan_opt_cfg *cfg, long t, clgan_buffer *w,
                            const clgan_buffer *g, clgan_buffer *state1, clgan_buffer *state2,
                            int n);
void clgan_ref_opt_step(const clgan_opt_cfg *cfg, long t, float *w, const float *g, float *state1,
                        float *state2, int n);

/* ---- Convolution (cl/conv.cl) ------------------------------------------------------------ */

/* torch.nn.Conv2d and torch.nn.ConvTranspose2d on NCHW tensors: stride and symmetric zero
 * padding, no dilation, no groups, no output_padding. Weights as PyTorch stores them:
 *   Conv2d          w (c_out, c_in, kh, kw), b (c_out); x (n, c_in, h_in, w_in)
 *                   y (n, c_out, h_out, w_out), h_out = (h_in + 2 pad - kh) / stride + 1
 *   ConvTranspose2d w (c_in, c_out, kh, kw), b (c_out); x (n, c_in, h_in, w_in)
 *                   y (n, c_out, h_out, w_out), h_out = (h_in - 1) stride - 2 pad + kh
 * (likewise for widths). c_in/h_in/w_in always describe the op's input.
 * col is a workspace of at least clgan_conv2d_workspace / clgan_convT2d_workspace floats, its
 * contents scratch; one buffer of the largest size serves every layer of a network (ops on
 * one queue never overlap). b may be NULL (no bias).
 * backward: dx overwritten; dw and db (+)= per accumulate, as in the dense layer; any of
 * dx, dw, db may be NULL (not computed; x is read only for dw, w only for dx, col only for
 * dx or dw). An empty batch (n = 0) is fine: gradients 0, or unchanged with accumulate. */
typedef struct {
  int n, c_in, h_in, w_in, c_out, kh, kw, stride, pad;
} clgan_conv_shape;

/* The output height and width of the shape's convolution (or transposed convolution). */
void clgan_conv2d_out_hw(const clgan_conv_shape *sh, int *h_out, int *w_out);
void clgan_convT2d_out_hw(const clgan_conv_shape *sh, int *h_out, int *w_out);
/* Workspace sizes in floats (the batched im2col matrix and one permuted activation). */
size_t clgan_conv2d_workspace(const clgan_conv_shape *sh);
size_t clgan_convT2d_workspace(const clgan_conv_shape *sh);

/* The ops above on the device (im2col / col2im and CLBlast GEMMs; enqueue only), then their
 * plain C references on host arrays. CLGAN_INVALID_ARGUMENT for a shape that does not fit. */
clgan_status clgan_conv2d_forward(clgan_device *dev, const clgan_conv_shape *sh, clgan_buffer *y,
                                  const clgan_buffer *x, const clgan_buffer *w,
                                  const clgan_buffer *b, clgan_buffer *col);
clgan_status clgan_conv2d_backward(clgan_device *dev, const clgan_conv_shape *sh,
                                   clgan_buffer *dx, clgan_buffer *dw, clgan_buffer *db,
                                   const clgan_buffer *dy, const clgan_buffer *x,
                                   const clgan_buffer *w, clgan_buffer *col, int accumulate);
clgan_status clgan_convT2d_forward(clgan_device *dev, const clgan_conv_shape *sh,
                                   clgan_buffer *y, const clgan_buffer *x, const clgan_buffer *w,
                                   const clgan_buffer *b, clgan_buffer *col);
clgan_status clgan_convT2d_backward(clgan_device *dev, const clgan_conv_shape *sh,
                                    clgan_buffer *dx, clgan_buffer *dw, clgan_buffer *db,
                                    const clgan_buffer *dy, const clgan_buffer *x,
                                    const clgan_buffer *w, clgan_buffer *col, int accumulate);
void clgan_ref_conv2d_forward(const clgan_conv_shape *sh, float *y, const float *x,
                              const float *w, const float *b);
void clgan_ref_conv2d_backward(const clgan_conv_shape *sh, float *dx, float *dw, float *db,
                               const float *dy, const float *x, const float *w, int accumulate);
void clgan_ref_convT2d_forward(const clgan_conv_shape *sh, float *y, const float *x,
                               const float *w, const float *b);
void clgan_ref_convT2d_backward(const clgan_conv_shape *sh, float *dx, float *dw, float *db,
                                const float *dy, const float *x, const float *w, int accumulate);

/* ---- Spectral normalisation (cl/sn.cl) --------------------------------------------------- */

/* torch.nn.utils.spectral_norm (Miyato et al. 2018) with n_power_iterations = 1. The weight W
 * is seen as a matrix with PyTorch's `dim` first: rows R, columns A*K, stored as (A, R, K) with
 * element (r, a*K + k) at (a*R + r)*K + k. dim 0 (Linear (out, in), Conv2d (c_out, c_in, k, k)):
 * A = 1, R = w.shape[0]; dim 1 (ConvTranspose2d (c_in, c_out, k, k)): A = c_in, R = c_out,
 * K = k*k. u has R elements, v A*K, t R (scratch), sigma 2 (sigma, then the backward's dot).
 * Forward, train = 1 (one power iteration, no gradient through it):
 *   v = normalize(W^T u); t = W v; u = normalize(t); sigma = u . t; w_sn = W / sigma
 * train = 0 (eval: u and v as stored): t = W v; sigma = u . t; w_sn = W / sigma.
 * normalize(x) = x / max(||x||, eps) (F.normalize). Backward, with g = dL/dw_sn of one pass and
 * the u, v, sigma of that pass's forward:
 *   dw (+)= (g - <g, w_sn>_F u v^T) / sigma   (accumulate = 0 overwrites dw). */
typedef struct {
  int a, r, k;
  float eps; /* PyTorch's 1e-12 */
} clgan_sn_shape;

/* The forward and backward above; enqueue only. */
clgan_status clgan_sn_forward(clgan_device *dev, const clgan_sn_shape *sh, clgan_buffer *w_sn,
                              clgan_buffer *u, clgan_buffer *v, clgan_buffer *t,
                              clgan_buffer *sigma, const clgan_buffer *w, int train);
clgan_status clgan_sn_backward(clgan_device *dev, const clgan_sn_shape *sh, clgan_buffer *dw,
                               clgan_buffer *sigma, const clgan_buffer *g,
                               const clgan_buffer *w_sn, const clgan_buffer *u,
                               const clgan_buffer *v, int accumulate);
/* The references, in double inside. */
void clgan_ref_sn_forward(const clgan_sn_shape *sh, float *w_sn, float *u, float *v, float *t,
                          float *sigma, const float *w, int train);
void clgan_ref_sn_backward(const clgan_sn_shape *sh, float *dw, float *sigma, const float *g,
                           const float *w_sn, const float *u, const float *v, int accumulate);

/* ---- Critic losses and WGAN-GP (cl/gan_loss.cl) ------------------------------------------ */

/* Losses on raw critic outputs d (one value per sample), each giving the per-sample loss term
 * (for the metrics reduction) and dd = scale * d(loss)/d(d) (scale = 1/batch for a mean):
 *   WASSERSTEIN  loss = sign * d                     (WGAN, Arjovsky et al. 2017)
 *   HINGE        loss = max(0, 1 + sign * d)         (Lim & Ye 2017; Miyato et al. 2018)
 *   LSQ          loss = 0.5 * (d - target)^2         (LSGAN, Mao et al. 2017; sign unused)
 * sign = +1 pushes d down, -1 pushes it up. So the critic minimises E[d(fake)] - E[d(real)]
 * with WASSERSTEIN sign -1 on real and +1 on fake; the hinge critic uses HINGE with -1 on real
 * (relu(1 - d)) and +1 on fake (relu(1 + d)); both generators use WASSERSTEIN sign -1 on fake
 * (loss -d). LSGAN: targets 1 (real) and 0 (fake) for the critic, 1 on fake for the generator.
 * The hinge's derivative at its kink is 0, as torch.relu's. dd or loss may be NULL. */
#define CLGAN_CRITIC_TABLE(X)                                                              \
  X(WASSERSTEIN, "wasserstein")                                                            \
  X(HINGE, "hinge")                                                                        \
  X(LSQ, "lsq")

typedef enum {
#define CLGAN_X_ENUM(e, name) CLGAN_CRITIC_##e,
  CLGAN_CRITIC_TABLE(CLGAN_X_ENUM)
#undef CLGAN_X_ENUM
} clgan_critic_kind;
enum { CLGAN_CRITIC_COUNT = 0 CLGAN_CRITIC_TABLE(CLGAN_X_ONE) };

typedef struct {
  clgan_critic_kind kind;
  float sign, target, scale;
} clgan_critic_loss_cfg;

/* The op above on the device (enqueues only), and its plain C reference on host arrays.
 * CLGAN_INVALID_ARGUMENT for sizes that do not fit; device failures as they come. */
clgan_status clgan_critic_loss(clgan_device *dev, const clgan_critic_loss_cfg *cfg,
                               clgan_buffer *dd, clgan_buffer *loss, const clgan_buffer *d,
                               int n);
void clgan_ref_critic_loss(const clgan_critic_loss_cfg *cfg, float *dd, float *loss,
                           const float *d, int n);

/* WGAN-GP (Gulrajani et al. 2017). Interpolation between matching real and fake rows,
 *   x_hat[b, j] = eps[b] * real[b, j] + (1 - eps[b]) * fake[b, j],
 * with eps (batch) uniform in (0, 1), e.g. from clgan_rand_uniform. x_hat is a fresh input:
 * nothing flows back through it to the generator. */
clgan_status clgan_gp_interpolate(clgan_device *dev, clgan_buffer *x_hat,
                                  const clgan_buffer *real, const clgan_buffer *fake,
                                  const clgan_buffer *eps, int batch, int dim);
void clgan_ref_gp_interpolate(float *x_hat, const float *real, const float *fake,
                              const float *eps, int batch, int dim);

/* The penalty on g = dD/dx_hat (batch, dim), one row per sample:
 *   norm[b] = ||g_b||,  loss[b] = lambda * (norm[b] - 1)^2,
 *   dg[b, :] = scale * 2 lambda (norm[b] - 1) g_b / norm[b]   (0 where norm[b] = 0).
 * dg is the seed of the double backward that carries the penalty to the critic's weights
 * (docs/wgan-gp.md): per layer a forward-shaped product and a weight-gradient product (GEMMs,
 * clgan_conv2d_forward/backward), and for leaky ReLU clgan_act_backward itself with the saved
 * pre-activation, no new op. dg may be g itself; dg, loss and norm may each be NULL. */
typedef struct {
  float lambda, scale;
} clgan_gp_cfg;

/* The op above on the device (enqueues only), and its plain C reference on host arrays.
 * CLGAN_INVALID_ARGUMENT for sizes that do not fit; device failures as they come. */
clgan_status clgan_gp_penalty(clgan_device *dev, const clgan_gp_cfg *cfg, clgan_buffer *dg,
                              clgan_buffer *loss, clgan_buffer *norm, const clgan_buffer *g,
                              int batch, int dim);
void clgan_ref_gp_penalty(const clgan_gp_cfg *cfg, float *dg, float *loss, float *norm,
                          const float *g, int batch, int dim);

/* ---- Conditioning (cl/cond.cl) ------------------------------------------------------------ */

/* Class-conditional GANs (issue 12). Labels on the device are int32, one per row.
 * Concatenation (Mirza & Osindero 2014): out (batch, n + classes) = [x | one_hot(labels)], the
 * input of a conditional MLP's first layer (torch.cat([x, F.one_hot(y, classes).float()], 1));
 * labels NULL writes zeros in the class columns (the double backward pads its seed so). A label
 * outside 0..classes-1 makes its row's class columns NaN. */
clgan_status clgan_cond_concat(clgan_device *dev, clgan_buffer *out, const clgan_buffer *x,
                               const clgan_buffer *labels, int batch, int n, int classes);
void clgan_ref_cond_concat(float *out, const float *x, const int32_t *labels, int batch, int n,
                           int classes);
/* out (batch, n) = the first n of the stride columns of in: the input gradient of the image
 * part of a concatenated input. */
clgan_status clgan_cond_slice(clgan_device *dev, clgan_buffer *out, const clgan_buffer *in,
                              int batch, int n, int stride);
void clgan_ref_cond_slice(float *out, const float *in, int batch, int n, int stride);

/* The projection discriminator (Miyato & Koyama 2018): y[b] += <embed[labels[b]], h[b]>, h the
 * features (batch, features) the last layer reads, embed (classes, features) (nn.Embedding's
 * weight). Backward: dh[b] += dy[b] embed[labels[b]] (dh NULL: skipped) and dembed[k] (+)= sum
 * over the rows of class k of dy[b] h[b] (dembed NULL: skipped), each sum serial in row order
 * (no atomics). The double backward's embedding gradient is this backward with h = dP/d(the
 * last layer's input gradient) and dy the seed. A bad label makes y, dh NaN. */
typedef struct {
  int batch, features, classes;
} clgan_proj_shape;

/* The forward and backward above (enqueue only), then their plain C references. */
clgan_status clgan_proj_forward(clgan_device *dev, const clgan_proj_shape *sh, clgan_buffer *y,
                                const clgan_buffer *h, const clgan_buffer *embed,
                                const clgan_buffer *labels);
clgan_status clgan_proj_backward(clgan_device *dev, const clgan_proj_shape *sh, clgan_buffer *dh,
                                 clgan_buffer *dembed, const clgan_buffer *dy,
                                 const clgan_buffer *h, const clgan_buffer *embed,
                                 const clgan_buffer *labels, int accumulate);
void clgan_ref_proj_forward(const clgan_proj_shape *sh, float *y, const float *h,
                            const float *embed, const int32_t *labels);
void clgan_ref_proj_backward(const clgan_proj_shape *sh, float *dh, float *dembed,
                             const float *dy, const float *h, const float *embed,
                             const int32_t *labels, int accumulate);

/* out[b] = labels[index[first + b]] (int32) from the uint8 labels of the whole training set on
 * the device: the batch's labels, the same permutation as clgan_gather_images. An index
 * outside the set gives -1 (which the conditioning ops turn into NaN). */
clgan_status clgan_gather_labels(clgan_device *dev, clgan_buffer *out, const clgan_buffer *labels,
                                 const clgan_buffer *index, int first, int batch);
void clgan_ref_gather_labels(int32_t *out, const uint8_t *labels, const int32_t *index,
                             int first, int batch);
/* out[b] = the first class k with u[b] < cdf[k] (the last class if none): labels drawn from
 * uniforms u (batch) in (0, 1), e.g. clgan_rand_uniform's, with the class distribution's
 * cumulative sums cdf (classes; clgan_class_cdf). */
clgan_status clgan_labels_from_uniform(clgan_device *dev, clgan_buffer *out, const clgan_buffer *u,
                                       const clgan_buffer *cdf, int batch, int classes);
void clgan_ref_labels_from_uniform(int32_t *out, const float *u, const float *cdf, int batch,
                                   int classes);
/* cdf[k] = (w_0 + ... + w_k) / sum(w) in float, the last exactly 1; weights NULL: uniform. */
void clgan_class_cdf(float *cdf, const double *weights, int classes);

/* ---- Kernel preamble ---------------------------------------------------------------------- */

/* The OpenCL C text every ops program is built with (clgan_kernel_get_prefixed), generated
 * from the tables above so that a kernel never restates a C fact: the enums the kernels switch
 * on (enum { CLGAN_CRITIC_WASSERSTEIN, ... }), the pixel scale (CLGAN_PIXEL_OFFSET,
 * CLGAN_PIXEL_SCALE), Philox-4x32-10 (clgan_philox4x32_10) and clgan_tree_sum, the one
 * local-memory tree sum. */
const char *clgan_kernel_preamble(void);

/* ---- Work in flight (src/ops/inflight.c) ------------------------------------------------- */

/* A bound on the work a training loop keeps enqueued ahead of the host: a ring of queue
 * markers (clgan/device.h), one placed per step. Enough steps in flight that the device never
 * idles, few enough that the queue stays short (PoCL slowed down by 1.8x with hundreds of
 * steps queued; bench/RESULTS.md). The layers above ops drive no queue themselves
 * (cmake/clgan_layering.cmake): this is their one door to it. Zero-initialise; free with
 * clgan_inflight_free. */
#define CLGAN_INFLIGHT_MAX 8
typedef struct {
  clgan_marker slot[CLGAN_INFLIGHT_MAX];
} clgan_inflight;

/* Call after enqueueing step number step (1, 2, ...): waits until the step depth steps earlier
 * has finished and marks this one, so at most depth steps are queued behind the one running.
 * depth 0: no bound, the queue is only flushed. depth is 0..CLGAN_INFLIGHT_MAX - 1. */
clgan_status clgan_inflight_step(clgan_device *dev, clgan_inflight *w, long step, int depth);
void clgan_inflight_free(clgan_inflight *w); /* accepts a zeroed one; leaves it zeroed */

#endif
