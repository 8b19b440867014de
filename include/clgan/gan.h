/* GANs: model presets, the training configuration, the trainer that runs DESIGN.md's training
 * step on the device, metrics, sampling, checkpoints, and the training run around them. */
#ifndef CLGAN_GAN_H
#define CLGAN_GAN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "clgan/device.h"
#include "clgan/dist.h"
#include "clgan/eval.h"
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

/* clgan_train_cfg.classes for a run: as many classes as the data's labels hold. */
#define CLGAN_CLASSES_FROM_DATA (-1)

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
  float ema;               /* decay of the EMA generator, in (0, 1); 0 = off (README "EMA") */
  uint64_t seed;
  /* DiffAugment policy (CLGAN_AUG_* bits, clgan_augment_forward; 0 = none): every batch D sees
   * in training is augmented, G's output viewed as 1 x rows x cols images. Draws keyed
   * (seed, D steps done, 6) for the real batch and (seed, D steps done, 7) for the fake batch
   * of a D step, (seed, G steps done, 8) for the fake batch of a G step, whose gradient comes
   * back to G through the transpose. WGAN-GP interpolates between the augmented batches. */
  unsigned diffaug;
  /* Class-conditional training on this many classes (issue 12, README "Conditional GANs"); 0:
   * unconditional. G gets the one-hot label concatenated to its latent vector; D gets it
   * concatenated to its flattened image when its spec has no convolution, else through the
   * projection (clgan_conditioning). Real labels are gathered with the batch; the fake batch's
   * labels are uniform, drawn keyed (seed, D steps done, 9). */
  int classes;
  /* Image channels G makes and D reads (issue 13): 1 (0 reads as 1) or 3. The trainer takes
   * them from its data; a checkpoint records them in its 'image' metadata (CxHxW when not 1). */
  int channels;
  /* Random horizontal flips of the real batches (issue 13's --flip): each epoch position's
   * flip drawn keyed (seed, epoch, 10) (clgan_flip_bits), so runs and resumes repeat. */
  int flip;
  /* Gradient accumulation (issue 14, README "Several devices (MPI)"): micro-batches of `batch`
   * per optimizer step, their gradients summed on the device. 0 is read as 1. */
  int accumulate;
  /* Data-parallel ranks the step is split over (the run sets it from its clgan_dist; 0 is read
   * as 1). Each rank runs `accumulate` micro-batches of `batch`: an optimizer step sees the
   * global batch batch x accumulate x ranks, and every loss is a mean over it. */
  int ranks;
} clgan_train_cfg;

/* batch x accumulate x ranks (0s read as 1): the images of one optimizer step. */
long clgan_train_global_batch(const clgan_train_cfg *cfg);

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
/* Fits a preset's networks to the data's shape (issue 13), when cfg's specs are still the
 * preset's own (a spec given in their place is the user's and is left alone): the MLP presets'
 * last generator layer becomes linear:C*H*W (their hidden sizes stay); dcgan, wgan, wgan-gp and
 * dcgan-hinge-ema take any H and W divisible by 4 (G's dense layer grows to 256 x H/4 x W/4, its
 * last convT makes C channels); dcgan32 and dcgan64 take only 32x32 and 64x64 images of C
 * channels. CLGAN_INVALID_ARGUMENT with a message naming the preset and the sizes it takes when
 * the data's shape is not one of them. Sets cfg->channels. */
clgan_status clgan_preset_fit(clgan_train_cfg *cfg, int channels, int rows, int cols);
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
  int channels;            /* 1 (0 reads as 1) or 3: images are (channels, rows, cols) */
  clgan_buffer images;
  clgan_buffer labels;     /* (count) uint8, needed when cfg.classes > 0 */
  /* Streamed data (issue 13; clgan_data_device_budget): images stays zeroed and the batches
   * are gathered from host_images (count x channels x rows x cols, outliving the trainer) on
   * a host thread and uploaded while the device computes. The batches are bit-identical. */
  const uint8_t *host_images;
} clgan_train_data;

/* The conditioning of G and D for cfg (kind none for both when cfg->classes is 0): G concat,
 * D projection when d_spec has a convolution, else concat. */
void clgan_conditioning(const clgan_train_cfg *cfg, const clgan_net_spec *d_spec,
                        clgan_cond_cfg *g, clgan_cond_cfg *d);

typedef struct clgan_trainer clgan_trainer;

/* Builds both networks, initialises them from cfg->seed. data: the images, already on the
 * device (rows*cols features); the trainer does not own them. */
clgan_status clgan_trainer_create(clgan_trainer **t, clgan_device *dev, const clgan_train_cfg *cfg,
                                  const clgan_train_data *data);
/* The same as one rank of a data-parallel group (dist NULL: alone, as clgan_trainer_create).
 * cfg->ranks must be the group's size. Each rank takes its own slices of every global batch
 * from the same permutation and the same noise draws, gradients are summed over the ranks
 * before every optimizer step (clgan_dist_allreduce_sum), and every rank applies the same
 * step. Every rank must call clgan_trainer_step and clgan_trainer_metrics alike. */
clgan_status clgan_trainer_create_dist(clgan_trainer **t, clgan_device *dev,
                                       const clgan_train_cfg *cfg, const clgan_train_data *data,
                                       clgan_dist *dist);
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

/* The trainer's state: G steps done, and what it was built with (owned by the trainer). */
long clgan_trainer_step_count(const clgan_trainer *t);
long clgan_trainer_global_batch(const clgan_trainer *t); /* images per optimizer step, all ranks */
/* Data-parallel: folds every rank's metrics window into rank 0's (a collective: every rank
 * calls it), so that a checkpoint rank 0 writes holds the whole window. Alone, nothing. */
clgan_status clgan_trainer_gather_metrics(clgan_trainer *t);
/* Seconds the host has waited for streamed batches (0 when the data was uploaded). */
double clgan_trainer_data_wait(const clgan_trainer *t);
int clgan_trainer_epoch(const clgan_trainer *t);   /* 0-based epoch of the next batch */
long clgan_trainer_steps_per_epoch(const clgan_trainer *t);
const clgan_train_cfg *clgan_trainer_cfg(const clgan_trainer *t);
clgan_net *clgan_trainer_generator(clgan_trainer *t);
/* The generator samples and evaluations come from: the EMA generator when cfg.ema > 0, else
 * the trained one. */
clgan_net *clgan_trainer_sampler(clgan_trainer *t);
/* The decay the EMA update after G step `updates` + 1 uses: min(decay, (1 + updates) /
 * (10 + updates)), TensorFlow's ExponentialMovingAverage with num_updates, so that the average
 * forgets the random initial weights within the first hundred steps. */
double clgan_ema_decay(double decay, long updates);
clgan_net *clgan_trainer_discriminator(clgan_trainer *t);

/* Runs G in eval mode on the given latent vectors (count x latent, host) and writes
 * count x (rows*cols) floats in [-1, 1] to out. */
clgan_status clgan_generate(clgan_net *g, const float *latent, int count, int latent_dim,
                            float *out);
/* The same for a conditional generator, labels (count, host) the class of each sample; labels
 * NULL gives sample i class i % classes (balanced). clgan_generate on a conditional generator
 * is this with NULL. Labels outside 0..classes-1 are CLGAN_INVALID_ARGUMENT. */
clgan_status clgan_generate_labels(clgan_net *g, const float *latent, const int32_t *labels,
                                   int count, int latent_dim, float *out);
/* The fixed latent batch used for sample grids: N(0,1) from (seed, stream 0x5A4D). */
void clgan_fixed_latent(float *z, int count, int latent_dim, uint64_t seed);
/* A class grid (issue 12): classes rows of cols samples, sample (k, j) of class k with column
 * j's latent vector (clgan_fixed_latent's j-th), so style stays down a column and the class
 * changes. z: classes * cols * latent_dim floats, labels: classes * cols. */
void clgan_class_grid(float *z, int32_t *labels, int classes, int cols, int latent_dim,
                      uint64_t seed);
/* The truncation trick: each component of z (count x dim) with |z_i| > psi drawn again from
 * N(0, 1) until inside [-psi, psi] (BigGAN's resampling, not a scaling toward the mean), keyed
 * by seed. CLGAN_INVALID_ARGUMENT for psi not a finite number > 0. */
clgan_status clgan_latent_truncate(float *z, int count, int dim, uint64_t seed, float psi);
/* steps vectors (steps x dim) on the great circle from a to b, a and b included: spherical
 * interpolation, straight where a and b are (anti)parallel. */
void clgan_latent_interpolate(float *out, const float *a, const float *b, int dim, int steps);
/* For each of nq images (floats in [-1, 1], each clgan_dataset_image_bytes(set) values: its
 * channels x rows x cols in (C, H, W) planes, as a generator writes them) the nearest of the
 * images of set over all channels, scaled as training scales them (clgan_pixel_to_unit):
 * index[q] and the Euclidean distance dist[q]; the lowest index wins a tie. skip: NULL, or for
 * each query an image of set to leave out (-1: none), so a training image can be measured
 * against the others. No image left: index -1, distance 0. A memorisation check for generated
 * samples. */
void clgan_nearest_images(const float *queries, int nq, const clgan_dataset *set,
                          const int *skip, int *index, float *dist);

/* Task-based evaluation of a conditional generator g (src/gan/cas.c; README "Conditional
 * GANs"): count balanced samples (latents clgan_fixed_latent(seed), classes shuffled) as uint8
 * images; the classifier of cfg->classifier (clgan_classifier_train: the domain classifier's
 * spec and schedule by default) trained on them alone and tested on test (the Classification
 * Accuracy Score, Ravuri & Vinyals 2019), on count real training images (a fixed Philox
 * subset), and on both (augmentation); the judge's (a classifier trained on the real data)
 * predictions on the samples (conditional accuracy, overall and per class) and the FID of each
 * class's samples against as many real images of that class on the judge's features (-1 where
 * a class has fewer than 2). train and test need labels of at most g's classes. */
typedef struct {
  int count;
  uint64_t seed;
  clgan_classifier_cfg classifier;
} clgan_cas_cfg;

typedef struct {
  int count, classes;
  double cas, real, augmented;  /* test accuracies: trained on synthetic, real, both */
  double cond_accuracy;
  double class_accuracy[CLGAN_MAX_CLASSES], class_fid[CLGAN_MAX_CLASSES];
} clgan_cas_result;

/* Fills *r; the caller keeps dev, g, the data sets and judge. Blocks until done. */
clgan_status clgan_cas(clgan_device *dev, clgan_net *g, int latent, const clgan_dataset *train,
                       const clgan_dataset *test, clgan_classifier *judge,
                       const clgan_cas_cfg *cfg, clgan_cas_result *r);

/* Checkpoints (safetensors; see README "Checkpoints"). Save is atomic. Load refuses a file that
 * does not match the trainer's specs or is damaged, and changes nothing then. */
clgan_status clgan_trainer_save(clgan_trainer *t, const char *path);
clgan_status clgan_trainer_load(clgan_trainer *t, const char *path);
/* Reads the training configuration stored in a checkpoint (to resume or sample). */
clgan_status clgan_checkpoint_cfg(const char *path, clgan_train_cfg *cfg, int *rows, int *cols);
/* Which generator of a checkpoint to load: the EMA one when the checkpoint has it (AUTO), the
 * trained one (RAW), or the EMA one, refusing a checkpoint without (EMA). */
typedef enum { CLGAN_GEN_AUTO, CLGAN_GEN_RAW, CLGAN_GEN_EMA } clgan_gen_pick;
/* Loads only the generator of a checkpoint into g (built from the checkpoint's spec): the one
 * pick names; *is_ema (may be NULL) says which was loaded. */
clgan_status clgan_checkpoint_load_generator(const char *path, clgan_device *dev, clgan_net *g,
                                             clgan_train_cfg *cfg, int *rows, int *cols,
                                             int max_batch, clgan_gen_pick pick, int *is_ema);

/* ---- A training run (src/gan/run.c) --------------------------------------------------------
 * What `clgan train` does around the trainer, for every program that trains: the data loaded
 * and uploaded, the trainer built or resumed, and per step the cadences of the run folder:
 * metrics.csv every log_every steps (the only waits on the device), sample grids
 * (samples/step_NNNNNN.png), atomic checkpoints with losses.png, and with eval_every the
 * evaluation (eval.csv, eval.png, checkpoint-best.safetensors). The run prints nothing: it
 * reports through callbacks, and the caller words and prints. The caller owns the device. */

typedef struct {
  const char *data_dir;    /* the data: any source clgan_dataset_open reads (IDX folder, image
                              folder, CIFAR-10 folder, .npy), its train split */
  clgan_data_opts data;    /* --image-size, --channels, the scan's progress */
  const char *dir;         /* run folder, created with samples/ (see clgan_run_default_dir) */
  const char *resume;      /* checkpoint to continue exactly, or NULL */
  int log_every;           /* steps between metrics rows (>= 1) */
  long eval_every;         /* steps between evaluations, and one at the end; 0 = none */
  int eval_count;          /* samples per evaluation, and real images in its reference */
  int keep_best;           /* keep checkpoint-best.safetensors, the checkpoint of the best FID */
  int grid_scale;          /* sample grids: each pixel an N x N block (1..64); 0 = the smallest
                              N that makes a grid CLGAN_GRID_MIN_WIDTH pixels wide */
  int data_limit;          /* train on the first data_limit images only (0 = all); evaluations
                              still judge against the whole set */
  /* cfg->classes may be CLGAN_CLASSES_FROM_DATA: conditional on the classes the training
   * labels hold (max label + 1). A conditional run without a labels file is refused. */
  /* Optional: non-zero (a signal handler sets it) ends the run after the current step, which
   * is checkpointed. */
  const volatile sig_atomic_t *stop;
  /* Data-parallel (NULL: alone): every rank opens the run on its own device with the same cfg
   * (cfg->ranks the group's size); rank 0 alone creates the run folder and writes metrics,
   * samples, plots, checkpoints and evaluations. A stop asked on any rank stops every rank
   * after the same step. */
  clgan_dist *dist;
} clgan_run_cfg;

/* A metrics row, as written to metrics.csv. */
typedef struct {
  long step, total;        /* G steps done, the run's bound */
  int epoch;               /* 0-based epoch the step's batches came from */
  int at_end;              /* the row of the run's last step */
  clgan_metrics m;
  double img_s;            /* training images per second since the previous row */
  double eta_s;            /* seconds left at that rate (may be inf or NaN) */
} clgan_run_progress;

/* One evaluation, as written to eval.csv. */
typedef struct {
  long step;
  const clgan_eval_result *r;
  double seconds;
  int best;                /* the lowest FID so far */
  int saved_best;          /* ... and checkpoint-best.safetensors was written */
} clgan_run_eval_report;

/* Every member may be NULL. */
typedef struct {
  void (*progress)(void *user, const clgan_run_progress *p);
  void (*evaluated)(void *user, const clgan_run_eval_report *e);
  /* A file that failed is redrawn later and the run goes on: text says which (no prefix). With
   * no callback it goes to clgan_warn. */
  void (*warning)(void *user, const char *text);
  /* With eval_every: the classifier that judges images like train's (the run frees it). Called
   * once by clgan_run_open, after the data is loaded. */
  clgan_status (*classifier)(void *user, clgan_device *dev, const clgan_dataset *train,
                             clgan_classifier **out);
  void *user;
} clgan_run_callbacks;

/* What clgan_run_open found, filled as far as it got (zero before). */
typedef struct {
  int count, rows, cols;   /* training images */
  int channels;
  clgan_data_summary data; /* what the source held */
  long per_epoch, total;   /* steps per epoch; the run's bound (steps, or epochs x per_epoch) */
  long start_step;         /* the checkpoint's step when resuming, else 0 */
  int streamed;            /* the images exceed the device budget and are streamed */
  unsigned long long data_bytes, budget; /* the images' bytes; clgan_data_device_budget */
} clgan_run_info;

/* The run's figures so far; final after clgan_run_finish. */
typedef struct {
  long step, steps;        /* where the run stands; steps this process ran */
  double seconds, img_s;   /* wall time since this process's first step (evaluations included);
                              img/s over it */
  clgan_metrics last;      /* the last metrics row's */
  int stopped;             /* *stop ended it */
  int evals, eval_count;   /* evaluations this process ran, samples each */
  double eval_seconds;
  double best_fid;         /* INFINITY and best_step -1 before the first (eval.csv's rows count
                              on resume) */
  long best_step;
} clgan_run_result;

typedef struct clgan_run clgan_run;

/* The folder a run writes to when none is given: the checkpoint's folder when resuming, else
 * runs/<YYYYmmdd-HHMMSS>-<model> (local time). */
void clgan_run_default_dir(char *dir, size_t size, const char *resume, const char *model);

/* Loads and uploads the data, builds the trainer (cfg as clgan_trainer_create takes it),
 * resumes from rc->resume, creates the run folder and opens metrics.csv (and eval.csv): on
 * resume, rows past the checkpoint's step are dropped and the earlier ones reloaded for the
 * plots. info (may be NULL) is filled as far as opening got, also on failure. */
clgan_status clgan_run_open(clgan_run **run, clgan_device *dev, const clgan_train_cfg *cfg,
                            const clgan_run_cfg *rc, const clgan_run_callbacks *cb,
                            clgan_run_info *info);
/* One step and what falls due after it: the metrics row (CLGAN_NUMERIC, reporting nothing, if
 * the losses became non-finite: the last checkpoint is intact), the sample grid, the
 * checkpoint and losses.png (also when *stop is set), the evaluation. The first call of a run
 * that is not resumed writes the grid of step 0 first. At the bound, or once *stop is set, it
 * does nothing. */
clgan_status clgan_run_step(clgan_run *run);
/* Steps until the bound or *stop. */
clgan_status clgan_run_until(clgan_run *run);
int clgan_run_done(const clgan_run *run); /* at the bound, or stopped */
/* Closes metrics.csv and eval.csv (a failed final flush fails the run) and fixes the result. */
clgan_status clgan_run_finish(clgan_run *run);
void clgan_run_get_result(const clgan_run *run, clgan_run_result *res);
clgan_trainer *clgan_run_trainer(clgan_run *run);
void clgan_run_close(clgan_run *run); /* accepts NULL */

#endif
