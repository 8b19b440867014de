/* Private to src/gan/: the trainer's state, shared by trainer.c and checkpoint.c. */
#ifndef CLGAN_GAN_TRAINER_INTERNAL_H
#define CLGAN_GAN_TRAINER_INTERNAL_H

#include "clgan/data.h"
#include "clgan/gan.h"

enum {
  STAT_D_LOSS_REAL,
  STAT_D_LOSS_FAKE,
  STAT_G_LOSS,
  STAT_D_REAL,
  STAT_D_FAKE,
  STAT_ACC_REAL,
  STAT_ACC_FAKE,
  STAT_GP,
  STAT_COUNT
};

/* Philox streams: each use of randomness has its own, so none shifts another. */
enum {
  STREAM_INIT_G = 1,
  STREAM_INIT_D = 2,
  STREAM_NOISE = 3,
  STREAM_SHUFFLE = 4,
  STREAM_GP = 5,
  STREAM_AUG_REAL = 6,  /* DiffAugment: D step's real batch, keyed by d_batches */
  STREAM_AUG_FAKE = 7,  /* D step's fake batch, keyed by d_batches */
  STREAM_AUG_G = 8,     /* G step's fake batch, keyed by step */
  STREAM_LABELS = 9,    /* conditional: the fake batch's labels, keyed by d_batches */
  STREAM_FLIP = 10,     /* --flip: each epoch position's flip, keyed by epoch */
  STREAM_FIXED_LATENT = 0x5A4D
};

struct clgan_trainer {
  clgan_device *dev;
  clgan_train_cfg cfg;
  clgan_train_data data;
  clgan_net g, d;
  clgan_net g_ema;          /* cfg.ema > 0: the generator's exponential moving average */
  clgan_net_spec g_spec, d_spec;
  int dim;                  /* rows * cols */

  clgan_buffer perm;        /* (count) int32: this epoch's order */
  clgan_buffer z;           /* (batch, latent) */
  clgan_buffer real;        /* (batch, dim) */
  clgan_buffer dlogits;     /* (batch) */
  clgan_buffer loss_terms;  /* (batch) */
  clgan_buffer probs;       /* (batch) */
  clgan_buffer stats;       /* (STAT_COUNT) running sums since the last metrics read */
  clgan_buffer x_hat;       /* WGAN-GP: (batch, dim) interpolates */
  clgan_buffer gp_eps;      /* WGAN-GP: (batch) interpolation weights */
  clgan_buffer ones;        /* WGAN-GP: (batch) the seed dD = 1 */
  int32_t *perm_host;
  clgan_buffer flips;       /* (count) uint8: this epoch's flips, with cfg.flip */
  uint8_t *flips_host;
  clgan_stream *stream;     /* data.host_images: the batches streamed, or NULL */
  clgan_buffer identity;    /* with stream: (batch) int32 0..batch-1, the gather's order */

  long step;                /* G steps done */
  int epoch;                /* epoch of the next batch */
  long pos;                 /* index into perm of the next batch */
  long d_batches;           /* D steps done in total (keys the noise) */
  long window_g, window_d;  /* steps since the last metrics read */
  /* The last steps enqueued: a step waits for the one in_flight_depth before it. */
  clgan_inflight in_flight;
  int in_flight_depth;

  int external_batches;     /* tests: real and z (and WGAN-GP's gp_eps) are filled by the
                               caller, not by the trainer */
  /* Tests, with external_batches: called before each D step (after = 0), to write that step's
   * real, z and gp_eps, and at its end (after = 1, D updated and clipped), to inspect it;
   * t->d_batches numbers the D step. A status other than CLGAN_OK stops the step with it.
   * NULL: every D step uses what the caller wrote before clgan_trainer_step. */
  clgan_status (*test_hook)(clgan_trainer *t, int after, void *ctx);
  void *test_hook_ctx;

  /* Fused D step (a D without batch norm): the real and the fake batch go through D as one
   * batch of 2B rows, so each of D's products is one GEMM of twice the rows instead of two.
   * real, dlogits, loss_terms and probs are then views of the first half of these. */
  int fused;
  clgan_buffer x2, x2_fake;         /* (2B, dim) and the view of its second half */
  clgan_buffer dl2, lt2, pr2;       /* (2B) */
  clgan_buffer dl_fake, lt_fake, pr_fake, logits_real, logits_fake; /* (B) views */

  /* DiffAugment (cfg.diffaug): the augmented batches D trains on, (B, dim) each (views of x2's
   * halves when fused, where real is then a buffer of its own), and the gradient of G's
   * output brought back through the augmentation's transpose. */
  clgan_buffer real_aug, fake_aug, dfake;

  /* Conditional training (cfg.classes > 0): the real batch's labels and the fake batch's, one
   * (2B) int32 buffer whose halves are views (D's fused batch reads the whole), the uniforms
   * the fake labels come from, and the classes' cumulative weights (uniform). With
   * external_batches the caller writes labels2 too. */
  clgan_cond_cfg g_cond, d_cond;
  clgan_buffer labels2, labels_real, labels_fake; /* (2B) and views of its halves, or (when
                                                     a half is not aligned) two buffers */
  clgan_buffer label_u, label_cdf;                /* (B), (classes) */

  /* Gradient accumulation and data parallelism (issue 14). An optimizer step sees a global
   * batch of `global` = batch x accum x ranks images: rank r's micro-batch k is the global
   * batch's rows [(k * ranks + r) * batch, + batch), its images from the permutation at pos
   * plus that offset, its noise, fake labels and WGAN-GP weights the same rows of one draw of
   * the whole global batch, keyed as a single batch's draw was. So the step is the same
   * whatever the split, up to summation order. Every loss is scaled by 1 / global: gradients
   * summed over micro-batches and ranks are the global batch's mean. */
  int accum;                /* micro-batches per optimizer step (>= 1) */
  int ranks, rank;          /* the data-parallel group; 1 and 0 alone */
  clgan_dist *dist;
  long global;              /* batch * accum * ranks */
  int sliced;               /* global > batch: draws go to the *_all buffers and are sliced */
  clgan_buffer z_all;       /* (global, latent) */
  clgan_buffer label_u_all; /* conditional: (global) */
  clgan_buffer gp_eps_all;  /* WGAN-GP: (global) */
  float *host_grads;        /* ranks > 1: the all-reduce's host staging (the larger arena) */
};

/* Builds the permutation of epoch `epoch` on the host and uploads it. */
clgan_status clgan_trainer_shuffle(clgan_trainer *t);

#endif
