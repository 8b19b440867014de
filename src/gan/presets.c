/* The seed programs as presets, written out in the spec language (README "Models"). */
#include <stdio.h>
#include <string.h>

#include "clgan/gan.h"

const char *const clgan_preset_names[] = {"mlp",  "mlp-bn",  "mlp-tf",          "dcgan",
                                          "wgan", "wgan-gp", "dcgan-hinge-ema", NULL};

const char *clgan_preset_summary(const char *name) {
  if (!strcmp(name, "mlp")) return "the PyTorch tutorial MLP GAN (batch 128, 10 epochs)";
  if (!strcmp(name, "mlp-bn"))
    return "the Keras tutorial MLP GAN with batch norm (batch 64, 10,000 steps; the default)";
  if (!strcmp(name, "mlp-tf")) return "the TensorFlow tutorial MLP GAN (Adam 1e-3)";
  if (!strcmp(name, "dcgan")) return "a DCGAN for 28x28 images (convolutions, batch norm)";
  if (!strcmp(name, "wgan")) return "dcgan's shapes as a WGAN: critic, weight clipping, RMSprop";
  if (!strcmp(name, "wgan-gp")) return "WGAN-GP: gradient penalty, a critic without batch norm";
  if (!strcmp(name, "dcgan-hinge-ema"))
    return "dcgan's generator, a wider critic without batch norm, hinge loss, an EMA generator "
           "(10,000 steps; the best on clgan eval's figures, README)";
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
  } else {
    return CLGAN_INVALID_ARGUMENT;
  }
  return CLGAN_OK;
}
