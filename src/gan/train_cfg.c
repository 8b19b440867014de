/* The allowed values of a training configuration: one home for the bounds that the CLI's
 * options and the checkpoint reader both enforce (issue 9, bad-input probe findings 2 and 4:
 * a grid of 46341 overflowed grid * grid, NaN betas and clip values passed as "off"). Every
 * float must be finite: a NaN compares false against any bound, so each test is written so that
 * NaN fails it. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clgan/gan.h"

/* The sample grid is grid x grid images: 64 x 64 of 28x28 images is a 1,800-pixel picture and
 * 12.8 MB of floats; the probe's 3000 asked for 28 GB. */
#define GRID_MAX 64

static int fault_long(clgan_cfg_fault *f, const char *field, long v, long lo, long hi,
                      const char *range) {
  if (v >= lo && v <= hi) return 0;
  f->field = field;
  f->net = NULL;
  f->range = range;
  snprintf(f->value, sizeof f->value, "%ld", v);
  return 1;
}

/* in_range: the caller's test, written so that NaN fails it. */
static int fault_double(clgan_cfg_fault *f, const char *field, const char *net, double v,
                        int in_range, const char *range) {
  if (in_range && isfinite(v)) return 0;
  f->field = field;
  f->net = net;
  f->range = range;
  snprintf(f->value, sizeof f->value, "%g", v);
  return 1;
}

static int opt_fault(clgan_cfg_fault *f, const clgan_opt_cfg *o, const char *net) {
  if ((unsigned)o->kind >= CLGAN_OPT_COUNT) {
    f->field = "kind";
    f->net = net;
    f->range = "adam, rmsprop or sgd";
    snprintf(f->value, sizeof f->value, "%d", (int)o->kind);
    return 1;
  }
  return fault_double(f, "lr", net, o->lr, o->lr > 0 && o->lr < 10, "(0, 10)") ||
         fault_double(f, "beta1", net, o->beta1, o->beta1 >= 0 && o->beta1 < 1, "[0, 1)") ||
         fault_double(f, "beta2", net, o->beta2, o->beta2 >= 0 && o->beta2 < 1, "[0, 1)") ||
         fault_double(f, "eps", net, o->eps, o->eps > 0 && o->eps < 1, "(0, 1)") ||
         fault_double(f, "alpha", net, o->alpha, o->alpha >= 0 && o->alpha < 1, "[0, 1)") ||
         fault_double(f, "momentum", net, o->momentum, o->momentum >= 0 && o->momentum < 1,
                      "[0, 1)");
}

int clgan_model_name_ok(const char *name) {
  size_t n = strlen(name);
  if (n < 1 || n > 31) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

long clgan_train_global_batch(const clgan_train_cfg *c) {
  long k = c->accumulate > 1 ? c->accumulate : 1, n = c->ranks > 1 ? c->ranks : 1;
  return (long)c->batch * k * n;
}

clgan_status clgan_train_cfg_check(const clgan_train_cfg *c, clgan_cfg_fault *f) {
  const char *nonneg = "a finite number >= 0";
  memset(f, 0, sizeof *f);
  if (!memchr(c->model, '\0', sizeof c->model) || !clgan_model_name_ok(c->model)) {
    f->field = "model";
    f->range = "1..31 letters, digits, '.', '_' or '-'";
    snprintf(f->value, sizeof f->value, "%.*s", (int)sizeof c->model, c->model);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (fault_long(f, "latent", c->latent, 1, 65536, "1..65536") ||
      fault_long(f, "batch", c->batch, 1, 65536, "1..65536") ||
      fault_long(f, "d_steps", c->d_steps, 1, 100, "1..100") ||
      fault_long(f, "accumulate", c->accumulate, 0, 65536, "1..65536 (0 = 1)") ||
      fault_long(f, "ranks", c->ranks, 0, 65536, "1..65536 (0 = 1)") ||
      fault_long(f, "global_batch", clgan_train_global_batch(c), 1, INT_MAX,
                 "batch x accumulate x ranks up to 2147483647") ||
      fault_long(f, "epochs", c->epochs, 0, INT_MAX, ">= 0") ||
      fault_long(f, "steps", c->steps, 0, LONG_MAX, ">= 0") ||
      fault_long(f, "sample_every", c->sample_every, 0, LONG_MAX, ">= 0") ||
      fault_long(f, "checkpoint_every", c->checkpoint_every, 0, LONG_MAX, ">= 0") ||
      fault_long(f, "grid", c->grid, 1, GRID_MAX, "1..64") ||
      fault_long(f, "init", (long)c->init, 0, CLGAN_INIT_COUNT - 1,
                 "torch, glorot or dcgan") ||
      fault_long(f, "loss", (long)c->loss, 0, CLGAN_LOSS_COUNT - 1,
                 "bce, bce-minimax, wgan, wgan-gp, hinge or lsgan") ||
      fault_double(f, "real_label", NULL, c->real_label, c->real_label > 0.5f &&
                   c->real_label <= 1.0f, "(0.5, 1]") ||
      fault_double(f, "clip_grad_norm", NULL, c->clip_norm, c->clip_norm >= 0, nonneg) ||
      fault_double(f, "clip_weights", NULL, c->clip_weights, c->clip_weights >= 0, nonneg) ||
      fault_double(f, "gp_lambda", NULL, c->gp_lambda, c->gp_lambda >= 0, nonneg) ||
      fault_double(f, "ema", NULL, c->ema, c->ema >= 0 && c->ema < 1, "[0, 1), 0 = off") ||
      fault_long(f, "classes", c->classes, -1, 256, "0..256 (0 = unconditional)") ||
      fault_long(f, "diffaug", (long)c->diffaug, 0, CLGAN_AUG_ALL,
                 "none, translation, cutout or translation,cutout") ||
      opt_fault(f, &c->opt_g, "generator") || opt_fault(f, &c->opt_d, "discriminator"))
    return CLGAN_INVALID_ARGUMENT;
  return CLGAN_OK;
}
