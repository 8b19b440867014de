/* GANs: model presets, the training configuration, the trainer that runs DESIGN.md's training
 * step on the device, metrics, sampling and checkpoints. */
#ifndef CLGAN_GAN_H
#define CLGAN_GAN_H

#include <stdint.h>

#include "clgan/device.h"
#include "clgan/nn.h"
#include "clgan/ops.h"

/* The losses: X(ENUM, "name"); the names are the CLI's --loss spellings and the checkpoint's
 * "loss" metadata.
 *   bce:         BCE from logits; non-saturating generator loss BCE(D(G(z)), 1)
 *   bce-minimax: the original minimax generator loss: -BCE(D(G(z)), 0)
 *   wgan:        critic E[D(fake)] - E[D(real)], generator -E[D(fake)]
 *   wgan-gp:     WGAN plus the gradient penalty lambda E[(||grad D(x_hat)|| - 1)^2]
 *   hinge:       critic E[relu(1 - D(real))] + E[relu(1 + D(fake))], G -E[D(fake)]
 *   lsgan:       least squares: critic targets 1 and 0, generator target 1 */
#define CLGAN_LOSS_TABLE(X)                                                                \
  X(BCE, "bce")                                                                            \
  X(BCE_MINIMAX, "bce-minimax")                                                            \
  X(WGAN, "wgan")                                                                          \
  X(WGAN_GP, "wgan-gp")                                                                    \
  X(HINGE, "hinge")                                                                        \
  X(LSGAN, "lsgan")

typedef enum {
#define CLGAN_X_ENUM(e, name) CLGAN_LOSS_##e,
  CLGAN_LOSS_TABLE(CLGAN_X_ENUM)
#undef CLGAN_X_ENUM
} clgan_loss_kind;
enum { CLGAN_LOSS_COUNT = 0 CLGAN_LOSS_TABLE(CLGAN_X_ONE) };

/* "wgan-gp" for CLGAN_LOSS_WGAN_GP; NULL when unknown. */
const char *clgan_loss_name(clgan_loss_kind k);
/* 1 and *k set when name is a loss's name, else 0. */
int clgan_loss_parse(const char *name, clgan_loss_kind *k);

typedef struct {
  char model[32];
  char g_spec[1024], d_spec[1024];
  int latent;              /* latent size, N(0, 1) */
  int batch;
  int epochs;              /* bounds the run with steps; 0 = unbounded by epochs */
  long steps;              /* G steps; 0 = unbounded by steps */
  long sample_every;       /* steps between sample grids (0 = only at the end) */
  long checkpoint_every;   /* steps between checkpoints (0 = only at the end) */
  int grid;                /* sample grid is grid x grid images */
  clgan_init init;
  clgan_opt_cfg opt_g, opt_d;
  clgan_loss_kind loss;
  float real_label;        /* 1, or < 1 for one-sided label smoothing */
  int d_steps;             /* discriminator steps per generator step */
  float clip_norm;         /* gradient-norm clipping per network; 0 = off */
  float clip_weights;      /* WGAN weight clipping of the critic to [-c, c]; 0 = off */
  float gp_lambda;         /* WGAN-GP penalty weight (10 in the paper) */
  uint64_t seed;
} clgan_train_cfg;

/* The allowed values of a clgan_train_cfg, in one place for the CLI's options and the
 * checkpoint reader. A fault names the field as the checkpoint metadata spells it ("batch",
 * "clip_grad_norm"; for an optimizer field its key inside "optimizer.<net>", with net set),
 * its value as text and the allowed range, in the library's terms: the caller knows which
 * option or file the value came from and names it. */
typedef struct {
  const char *field;
  const char *net;     /* "generator" / "discriminator" for optimizer fields, else NULL */
  char value[48];
  const char *range;   /* "1..65536", "[0, 1)", "a finite number >= 0" */
} clgan_cfg_fault;

/* CLGAN_OK, or CLGAN_INVALID_ARGUMENT with *fault describing the first field out of range.
 * Reports nothing itself. */
clgan_status clgan_train_cfg_check(const clgan_train_cfg *cfg, clgan_cfg_fault *fault);
/* A model name is a label (a preset's name, or another tool's): 1..31 letters, digits, '.', '_'
 * or '-', so that it can name a run folder. 1 if name is one. */
int clgan_model_name_ok(const char *name);

/* Fills cfg with a preset ("mlp", "mlp-bn", "mlp-tf"); CLGAN_INVALID_ARGUMENT if unknown. */
clgan_status clgan_preset(const char *name, clgan_train_cfg *cfg);
/* Preset names, NULL-terminated, and a one-line description of each. */
extern const char *const clgan_preset_names[];
const char *clgan_preset_summary(const char *name);

/* Averages over the steps since the last read. */
typedef struct {
  long steps;              /* steps in the window */
  double d_loss;           /* BCE(real) + BCE(fake), mean per step */
  double g_loss;
  double d_real, d_fake;   /* mean D(x), mean D(G(z)) in the D steps: probabilities for BCE,
                              raw critic outputs for the other losses */
  double acc_real, acc_fake, acc; /* D accuracy: real above, fake below 0.5 (BCE, LSGAN) or 0 */
} clgan_metrics;

typedef struct {
  int count, rows, cols;   /* the uint8 training set on the device */
  clgan_buffer images;
} clgan_train_data;

typedef struct clgan_trainer clgan_trainer;

/* Builds both networks, initialises them from cfg->seed. data: the images, already on the
 * device (rows*cols features); the trainer does not own them. */
clgan_status clgan_trainer_create(clgan_trainer **t, clgan_device *dev, const clgan_train_cfg *cfg,
                                  const clgan_train_data *data);
void clgan_trainer_free(clgan_trainer *t);

/* The distinct GEMMs one training step of cfg runs on dev, each with its count per step (for
 * clgan_tune): a trainer on cfg->batch blank 28x28 images runs one step while clgan_gemm calls
 * are recorded. More than max distinct shapes is refused. */
clgan_status clgan_train_gemm_shapes(clgan_device *dev, const clgan_train_cfg *cfg,
                                     clgan_tune_shape *shapes, int max, int *count);

/* One generator step, preceded by cfg->d_steps discriminator steps. Enqueues only: no host
 * synchronisation except once per epoch (the new permutation's upload). */
clgan_status clgan_trainer_step(clgan_trainer *t);
/* Reads and resets the metrics accumulated on the device (one small blocking read). */
clgan_status clgan_trainer_metrics(clgan_trainer *t, clgan_metrics *m);

long clgan_trainer_step_count(const clgan_trainer *t);
int clgan_trainer_epoch(const clgan_trainer *t);   /* 0-based epoch of the next batch */
long clgan_trainer_steps_per_epoch(const clgan_trainer *t);
const clgan_train_cfg *clgan_trainer_cfg(const clgan_trainer *t);
clgan_net *clgan_trainer_generator(clgan_trainer *t);
clgan_net *clgan_trainer_discriminator(clgan_trainer *t);

/* Runs G in eval mode on the given latent vectors (count x latent, host) and writes
 * count x (rows*cols) floats in [-1, 1] to out. */
clgan_status clgan_generate(clgan_net *g, const float *latent, int count, int latent_dim,
                            float *out);
/* The fixed latent batch used for sample grids: N(0,1) from (seed, stream 0x5A4D). */
void clgan_fixed_latent(float *z, int count, int latent_dim, uint64_t seed);
/* steps vectors (steps x dim) on the great circle from a to b, a and b included: spherical
 * interpolation, straight where a and b are (anti)parallel. */
void clgan_latent_interpolate(float *out, const float *a, const float *b, int dim, int steps);
/* For each of nq images (floats in [-1, 1], dim pixels) the nearest of the n uint8 images of
 * set, scaled as training scales them (clgan_pixel_to_unit): index[q] and the Euclidean
 * distance dist[q]; the lowest index wins a tie. A memorisation check for generated samples. */
void clgan_nearest_images(const float *queries, int nq, const uint8_t *set, int n, int dim,
                          int *index, float *dist);

/* Checkpoints (safetensors; see README "Checkpoints"). Save is atomic. Load refuses a file that
 * does not match the trainer's specs or is damaged, and changes nothing then. */
clgan_status clgan_trainer_save(clgan_trainer *t, const char *path);
clgan_status clgan_trainer_load(clgan_trainer *t, const char *path);
/* Reads the training configuration stored in a checkpoint (to resume or sample). */
clgan_status clgan_checkpoint_cfg(const char *path, clgan_train_cfg *cfg, int *rows, int *cols);
/* Loads only the generator of a checkpoint into g (built from the checkpoint's spec). */
clgan_status clgan_checkpoint_load_generator(const char *path, clgan_device *dev, clgan_net *g,
                                             clgan_train_cfg *cfg, int *rows, int *cols,
                                             int max_batch);

#endif
