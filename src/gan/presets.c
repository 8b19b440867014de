/* The seed programs as presets, written out in the spec language (README "Models"). */
#include <stdio.h>
#include <string.h>

#include "clgan/gan.h"

const char *const clgan_preset_names[] = {"mlp",     "mlp-bn",          "mlp-tf",  "dcgan",
                                          "wgan",    "wgan-gp",         "dcgan32", "dcgan64",
                                          "dcgan-hinge-ema", "dcgan-cond-ema", NULL};

const char *clgan_preset_summary(const char *name) {
  if (!strcmp(name, "mlp")) return "the PyTorch tutorial MLP GAN (batch 128, 10 epochs)";
  if (!strcmp(name, "mlp-bn"))
    return "the Keras tutorial MLP GAN with batch norm (batch 64, 10,000 steps; the default)";
  if (!strcmp(name, "mlp-tf")) return "the TensorFlow tutorial MLP GAN (Adam 1e-3)";
  if (!strcmp(name, "dcgan")) return "a DCGAN for 28x28 images (convolutions, batch norm)";
  if (!strcmp(name, "wgan")) return "dcgan's shapes as a WGAN: critic, weight clipping, RMSprop";
  if (!strcmp(name, "wgan-gp")) return "WGAN-GP: gradient penalty, a critic without batch norm";
  if (!strcmp(name, "dcgan32"))
    return "the PyTorch examples DCGAN made for 32x32 images (CIFAR-10 size), colour or gray";
  if (!strcmp(name, "dcgan64"))
    return "the PyTorch examples DCGAN for 64x64 images (faces, bedrooms), colour or gray";
  if (!strcmp(name, "dcgan-hinge-ema"))
    return "dcgan's generator, a wider critic without batch norm, hinge loss, an EMA generator "
           "(10,000 steps; the best unconditional recipe on clgan eval's figures, README)";
  if (!strcmp(name, "dcgan-cond-ema"))
    return "dcgan conditioned on the data's classes (one-hot G, projection D) with an EMA "
           "generator (5 epochs; the best on clgan eval's figures; needs labels, README)";
  return NULL;
}

static clgan_opt_cfg adam(double lr, double beta1, double beta2, double eps) {
  return (clgan_opt_cfg){.kind = CLGAN_OPT_ADAM, .lr = lr, .beta1 = beta1, .beta2 = beta2,
                         .eps = eps, .alpha = 0.99};
}

clgan_status clgan_preset(const char *name, clgan_train_cfg *cfg) {
  memset(cfg, 0, sizeof *cfg);
  snprintf(cfg->model, sizeof cfg->model, "%s", name);
  cfg->latent = 100;
  cfg->loss = CLGAN_LOSS_BCE;
  cfg->real_label = 1.0f;
  cfg->d_steps = 1;
  cfg->accumulate = 1;
  cfg->ranks = 1;
  cfg->seed = 1;
  cfg->grid = 8;
  cfg->gp_lambda = 10.0f;
  if (!strcmp(name, "mlp")) {
    /* PyTorch tutorial: nn.Linear defaults, ReLU in G, LeakyReLU(0.2) in D, Adam 2e-4. */
    snprintf(cfg->g_spec, sizeof cfg->g_spec, "linear:128,relu,linear:256,relu,linear:784,tanh");
    snprintf(cfg->d_spec, sizeof cfg->d_spec,
             "linear:256,lrelu:0.2,linear:128,lrelu:0.2,linear:1,sigmoid");
    cfg->init = CLGAN_INIT_TORCH;
    cfg->opt_g = cfg->opt_d = adam(2e-4, 0.9, 0.999, 1e-8);
    cfg->batch = 128;
    cfg->epochs = 10;
    cfg->sample_every = 500;
    cfg->checkpoint_every = 2000;
  } else if (!strcmp(name, "mlp-bn")) {
    /* Keras tutorial: LeakyReLU(0.01) then BatchNormalization(momentum 0.8, eps 1e-3) after
     * each hidden Dense of G; glorot_uniform; Adam(2e-4, beta1 0.5); 4x4 grid every 1,000. */
    snprintf(cfg->g_spec, sizeof cfg->g_spec,
             "linear:256,lrelu:0.01,bn:0.8:0.001,linear:512,lrelu:0.01,bn:0.8:0.001,"
             "linear:1024,lrelu:0.01,bn:0.8:0.001,linear:784,tanh");
    snprintf(cfg->d_spec, sizeof cfg->d_spec,
             "linear:512,lrelu:0.01,linear:256,lrelu:0.01,linear:1,sigmoid");
    cfg->init = CLGAN_INIT_GLOROT;
    cfg->opt_g = cfg->opt_d = adam(2e-4, 0.5, 0.999, 1e-7);
    cfg->batch = 64;
    cfg->steps = 10000;
    cfg->sample_every = 1000;
    cfg->checkpoint_every = 1000;
    cfg->grid = 4;
  } else if (!strcmp(name, "mlp-tf")) {
    /* TensorFlow tutorial: tf.nn.leaky_relu (alpha 0.2), a linear G output, logits out of D,
     * sigmoid cross-entropy on logits, Adam 1e-3 (TF's eps 1e-7), Glorot weights. */
    snprintf(cfg->g_spec, sizeof cfg->g_spec, "linear:128,lrelu:0.2,linear:256,lrelu:0.2,linear:784");
    snprintf(cfg->d_spec, sizeof cfg->d_spec, "linear:256,lrelu:0.2,linear:128,lrelu:0.2,linear:1");
    cfg->init = CLGAN_INIT_GLOROT;
    cfg->opt_g = cfg->opt_d = adam(1e-3, 0.9, 0.999, 1e-7);
    cfg->batch = 128;
    cfg->epochs = 10;
    cfg->sample_every = 500;
    cfg->checkpoint_every = 2000;
  } else if (!strcmp(name, "dcgan")) {
    /* The seed's DCGAN made whole for 28x28 (README "Models"): two dense layers up to 256x7x7,
     * two stride-2 transposed convolutions to 28x28; D two stride-2 convolutions to 64x7x7 and
     * a dense output. DCGAN init (N(0, 0.02), BN gamma N(1, 0.02)), Adam(2e-4, beta1 0.5). */
    snprintf(cfg->g_spec, sizeof cfg->g_spec,
             "linear:128,bn,relu,linear:12544,bn,relu,reshape:256x7x7,"
             "convT:128:4:2:1,bn2d,relu,convT:1:4:2:1,tanh");
    snprintf(cfg->d_spec, sizeof cfg->d_spec,
             "conv:32:4:2:1,bn2d,lrelu:0.2,conv:64:4:2:1,bn2d,lrelu:0.2,flatten,linear:1");
    cfg->init = CLGAN_INIT_DCGAN;
    cfg->opt_g = cfg->opt_d = adam(2e-4, 0.5, 0.999, 1e-8);
    cfg->batch = 64;
    cfg->epochs = 5;
    cfg->sample_every = 200;
    cfg->checkpoint_every = 500;
  } else if (!strcmp(name, "wgan") || !strcmp(name, "wgan-gp")) {
    /* Arjovsky et al. 2017, Algorithm 1: the critic has no sigmoid, c = 0.01, RMSprop 5e-5,
     * five critic steps per generator step. Gulrajani et al. 2017, Algorithm 1: lambda 10,
     * Adam(1e-4, 0.5, 0.9), five critic steps, and a critic without batch norm. */
    clgan_preset("dcgan", cfg);
    snprintf(cfg->model, sizeof cfg->model, "%s", name);
    cfg->d_steps = 5;
    cfg->epochs = 0;
    cfg->steps = 10000; /* wgan: convincing by 10,000 G steps (README), not by 2,000 */
    if (!strcmp(name, "wgan")) {
      cfg->loss = CLGAN_LOSS_WGAN;
      cfg->clip_weights = 0.01f;
      cfg->opt_g = cfg->opt_d = (clgan_opt_cfg){.kind = CLGAN_OPT_RMSPROP, .lr = 5e-5,
                                                .alpha = 0.99, .eps = 1e-8};
    } else {
      cfg->loss = CLGAN_LOSS_WGAN_GP;
      snprintf(cfg->d_spec, sizeof cfg->d_spec,
               "conv:32:4:2:1,lrelu:0.2,conv:64:4:2:1,lrelu:0.2,flatten,linear:1");
      cfg->opt_g = cfg->opt_d = adam(1e-4, 0.5, 0.9, 1e-8);
    }
  } else if (!strcmp(name, "dcgan64") || !strcmp(name, "dcgan32")) {
    /* github.com/pytorch/examples dcgan/main.py: G from z (100x1x1) through a 4x4 transposed
     * convolution to 8*ngf x 4 x 4, then stride-2 4x4 transposed convolutions halving the
     * channels (batch norm, ReLU) up to nc channels and Tanh; D mirrored with LeakyReLU(0.2),
     * batch norm on all but its first layer, and a 4x4 convolution to one logit (PyTorch's
     * Sigmoid + BCELoss, as BCE on logits here). ngf = ndf = 64, weights N(0, 0.02), batch norm
     * gamma N(1, 0.02); Adam(2e-4, beta1 0.5), batch 128, 25 epochs. dcgan32 is the same family
     * one stride-2 layer shorter. PyTorch's convolutions there have no bias; clgan's have one,
     * which the batch norm after each absorbs (its first D layer and last G layer keep one). */
    int big = !strcmp(name, "dcgan64");
    snprintf(cfg->g_spec, sizeof cfg->g_spec, "%s%s",
             big ? "convT:512:4:1:0,bn2d,relu,convT:256:4:2:1,bn2d,relu,"
                 : "convT:256:4:1:0,bn2d,relu,",
             "convT:128:4:2:1,bn2d,relu,convT:64:4:2:1,bn2d,relu,convT:3:4:2:1,tanh");
    snprintf(cfg->d_spec, sizeof cfg->d_spec, "%s%s",
             "conv:64:4:2:1,lrelu:0.2,conv:128:4:2:1,bn2d,lrelu:0.2,conv:256:4:2:1,bn2d,lrelu:0.2,",
             big ? "conv:512:4:2:1,bn2d,lrelu:0.2,conv:1:4:1:0,flatten" : "conv:1:4:1:0,flatten");
    cfg->init = CLGAN_INIT_DCGAN;
    cfg->opt_g = cfg->opt_d = adam(2e-4, 0.5, 0.999, 1e-8);
    cfg->batch = 128;
    cfg->epochs = 25;
    cfg->sample_every = 500;
    cfg->checkpoint_every = 1000;
  } else if (!strcmp(name, "dcgan-hinge-ema")) {
    /* The recipe the search of issue 10 found (README "Better generators"): dcgan's generator;
     * a critic of twice dcgan's width without batch norm (so its real and fake batches run as
     * one pass); the hinge loss; TTUR (Heusel et al. 2017): Adam 1e-4 for G, 4e-4 for D, with
     * SAGAN's betas (0, 0.9); an EMA generator of decay 0.999; 10,000 steps. */
    clgan_preset("dcgan", cfg);
    snprintf(cfg->model, sizeof cfg->model, "%s", name);
    snprintf(cfg->d_spec, sizeof cfg->d_spec,
             "conv:64:4:2:1,lrelu:0.2,conv:128:4:2:1,lrelu:0.2,flatten,linear:1");
    cfg->loss = CLGAN_LOSS_HINGE;
    cfg->opt_g = adam(1e-4, 0.0, 0.9, 1e-8);
    cfg->opt_d = adam(4e-4, 0.0, 0.9, 1e-8);
    cfg->ema = 0.999f;
    cfg->epochs = 0;
    cfg->steps = 10000;
    cfg->sample_every = 500;
    cfg->checkpoint_every = 1000;
  } else if (!strcmp(name, "dcgan-cond-ema")) {
    /* Issue 10's winner (README "Better generators"): dcgan's networks and schedule, conditioned
     * on the training labels (G: the one-hot class concatenated to z; D: Miyato & Koyama's
     * projection), with an EMA generator of decay 0.999. Samples draw the classes balanced. The
     * same run as `--model dcgan --conditional --ema 0.999`. */
    clgan_preset("dcgan", cfg);
    snprintf(cfg->model, sizeof cfg->model, "%s", name);
    cfg->classes = CLGAN_CLASSES_FROM_DATA;
    cfg->ema = 0.999f;
  } else {
    return CLGAN_INVALID_ARGUMENT;
  }
  return CLGAN_OK;
}

/* Replaces the last occurrence of `from` in spec by `to`; 0 when from is not there or the
 * result does not fit. */
static int replace_last(char *spec, size_t size, const char *from, const char *to) {
  char *at = NULL;
  for (char *p = strstr(spec, from); p; p = strstr(p + 1, from)) at = p;
  if (!at) return 0;
  char tail[1024];
  snprintf(tail, sizeof tail, "%s", at + strlen(from));
  size_t head = (size_t)(at - spec);
  return snprintf(spec + head, size - head, "%s%s", to, tail) < (int)(size - head);
}

clgan_status clgan_preset_fit(clgan_train_cfg *cfg, int channels, int rows, int cols) {
  clgan_train_cfg preset;
  if (channels < 1) channels = 1;
  cfg->channels = channels;
  if (clgan_preset(cfg->model, &preset) != CLGAN_OK || strcmp(cfg->g_spec, preset.g_spec) != 0 ||
      strcmp(cfg->d_spec, preset.d_spec) != 0)
    return CLGAN_OK; /* not a preset's networks: the user's specs say what they take */
  const char *m = cfg->model;
  char to[64];
  if (!strncmp(m, "mlp", 3)) {
    /* The hidden layers stay the tutorials' sizes; the output layer makes every pixel. */
    snprintf(to, sizeof to, "linear:%d", channels * rows * cols);
    if (!replace_last(cfg->g_spec, sizeof cfg->g_spec, "linear:784", to)) goto unsupported;
    return CLGAN_OK;
  }
  if (!strcmp(m, "dcgan32") || !strcmp(m, "dcgan64")) {
    int side = !strcmp(m, "dcgan64") ? 64 : 32;
    if (rows != side || cols != side) {
      clgan_error("--model %s takes %dx%d images, and the data's are %dx%d: give --image-size %d "
                  "(or use dcgan%d)", m, side, side, rows, cols, side, side == 64 ? 32 : 64);
      return CLGAN_INVALID_ARGUMENT;
    }
    snprintf(to, sizeof to, "convT:%d:4:2:1,tanh", channels);
    if (!replace_last(cfg->g_spec, sizeof cfg->g_spec, "convT:3:4:2:1,tanh", to)) goto unsupported;
    return CLGAN_OK;
  }
  /* dcgan and its variants: two stride-2 transposed convolutions from 256 x H/4 x W/4. */
  if (rows % 4 || cols % 4) {
    clgan_error("--model %s takes images whose sides are multiples of 4 (28x28, 32x32, 64x64, "
                "...), and the data's are %dx%d: give --image-size", m, rows, cols);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (channels == 1 && rows == 28 && cols == 28) return CLGAN_OK;
  char dense[64], shape[64];
  snprintf(dense, sizeof dense, "linear:%d,", 256 * (rows / 4) * (cols / 4));
  snprintf(shape, sizeof shape, "reshape:256x%dx%d,", rows / 4, cols / 4);
  snprintf(to, sizeof to, "convT:%d:4:2:1,tanh", channels);
  if (!replace_last(cfg->g_spec, sizeof cfg->g_spec, "linear:12544,", dense) ||
      !replace_last(cfg->g_spec, sizeof cfg->g_spec, "reshape:256x7x7,", shape) ||
      !replace_last(cfg->g_spec, sizeof cfg->g_spec, "convT:1:4:2:1,tanh", to))
    goto unsupported;
  return CLGAN_OK;
unsupported:
  clgan_error("--model %s cannot be fitted to %dx%dx%d images: give --generator and "
              "--discriminator specs", m, channels, rows, cols);
  return CLGAN_INVALID_ARGUMENT;
}
