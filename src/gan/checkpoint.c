/* Checkpoints as safetensors files (README "Checkpoints"):
 *   generator.<i>.weight / .bias, discriminator.<i>.weight / .bias   PyTorch state_dict names
 *   <net>.<i>.running_mean / .running_var / .num_batches_tracked     batch norm
 *   optimizer.<net>.<i>.<tensor>.<exp_avg|exp_avg_sq|square_avg|momentum_buffer>
 *   trainer.stats                                                    metrics accumulated so far
 * and in the metadata the specs, every hyper-parameter, the seed, the step, the data position
 * and the clgan version. Saving is atomic; loading validates the whole file before it changes
 * anything, so a damaged checkpoint is refused, never half-loaded (the per-net part lives in
 * net_io.c, shared with the classifier). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "gan/net_io.h"
#include "gan/trainer_internal.h"

static const char *opt_name(clgan_opt_kind k) {
  return k == CLGAN_OPT_ADAM ? "adam" : k == CLGAN_OPT_RMSPROP ? "rmsprop" : "sgd";
}

static const char *init_name(clgan_init i) {
  return i == CLGAN_INIT_TORCH ? "torch" : i == CLGAN_INIT_GLOROT ? "glorot" : "dcgan";
}

/* ---- Metadata ---------------------------------------------------------------------------- */

static clgan_status write_opt_meta(clgan_st_writer *w, const char *key, const clgan_opt_cfg *o) {
  return ckpt_meta_printf(
      w, key, "%s lr=%.17g beta1=%.17g beta2=%.17g eps=%.17g alpha=%.17g momentum=%.17g",
      opt_name(o->kind), o->lr, o->beta1, o->beta2, o->eps, o->alpha, o->momentum);
}

static int parse_opt_meta(const char *text, clgan_opt_cfg *o) {
  char kind[16];
  double lr, b1, b2, eps, alpha, mom;
  if (!text || sscanf(text, "%15s lr=%lf beta1=%lf beta2=%lf eps=%lf alpha=%lf momentum=%lf", kind,
                      &lr, &b1, &b2, &eps, &alpha, &mom) != 7)
    return 0;
  if (!strcmp(kind, "adam")) o->kind = CLGAN_OPT_ADAM;
  else if (!strcmp(kind, "rmsprop")) o->kind = CLGAN_OPT_RMSPROP;
  else if (!strcmp(kind, "sgd")) o->kind = CLGAN_OPT_SGD;
  else return 0;
  o->lr = lr;
  o->beta1 = b1;
  o->beta2 = b2;
  o->eps = eps;
  o->alpha = alpha;
  o->momentum = mom;
  return 1;
}

/* ---- Saving ------------------------------------------------------------------------------- */

static clgan_status add_f32(clgan_st_writer *w, const char *name, const float *data,
                            const int64_t *shape, int ndim) {
  return clgan_st_add(w, name, CLGAN_ST_F32, shape, ndim, data);
}
clgan_status clgan_trainer_save(clgan_trainer *t, const char *path) {
  clgan_status st = CLGAN_OK;
  clgan_st_writer *w = NULL;
  ckpt_net_host hg = {0}, hd = {0};
  float stats[STAT_COUNT];
  const clgan_train_cfg *c = &t->cfg;
  if ((st = ckpt_net_read(&t->g, &hg)) || (st = ckpt_net_read(&t->d, &hd)) ||
      (st = clgan_buffer_read(t->dev, &t->stats, 0, sizeof stats, stats)) ||
      (st = clgan_st_writer_new(&w)))
    goto fail;
  if ((st = ckpt_net_add(w, &t->g, &hg, "generator", &c->opt_g)) ||
      (st = ckpt_net_add(w, &t->d, &hd, "discriminator", &c->opt_d)) ||
      (st = add_f32(w, "trainer.stats", stats, (const int64_t[]){STAT_COUNT}, 1)))
    goto fail;
  if ((st = clgan_st_add_meta(w, "format", "clgan-checkpoint-1")) ||
      (st = clgan_st_add_meta(w, "version", CLGAN_VERSION)) ||
      (st = clgan_st_add_meta(w, "model", c->model)) ||
      (st = clgan_st_add_meta(w, "generator.spec", c->g_spec)) ||
      (st = clgan_st_add_meta(w, "discriminator.spec", c->d_spec)) ||
      (st = ckpt_meta_printf(w, "image", "%dx%d", t->data.rows, t->data.cols)) ||
      (st = ckpt_meta_printf(w, "latent", "%d", c->latent)) ||
      (st = ckpt_meta_printf(w, "batch", "%d", c->batch)) ||
      (st = ckpt_meta_printf(w, "epochs", "%d", c->epochs)) ||
      (st = ckpt_meta_printf(w, "steps", "%ld", c->steps)) ||
      (st = ckpt_meta_printf(w, "sample_every", "%ld", c->sample_every)) ||
      (st = ckpt_meta_printf(w, "checkpoint_every", "%ld", c->checkpoint_every)) ||
      (st = ckpt_meta_printf(w, "grid", "%d", c->grid)) ||
      (st = clgan_st_add_meta(w, "init", init_name(c->init))) ||
      (st = clgan_st_add_meta(w, "loss", clgan_loss_name(c->loss))) ||
      (st = ckpt_meta_printf(w, "clip_weights", "%.9g", (double)c->clip_weights)) ||
      (st = ckpt_meta_printf(w, "gp_lambda", "%.9g", (double)c->gp_lambda)) ||
      (st = ckpt_meta_printf(w, "real_label", "%.9g", (double)c->real_label)) ||
      (st = ckpt_meta_printf(w, "d_steps", "%d", c->d_steps)) ||
      (st = ckpt_meta_printf(w, "clip_grad_norm", "%.9g", (double)c->clip_norm)) ||
      (st = ckpt_meta_printf(w, "seed", "%" PRIu64, c->seed)) ||
      (st = write_opt_meta(w, "optimizer.generator", &c->opt_g)) ||
      (st = write_opt_meta(w, "optimizer.discriminator", &c->opt_d)) ||
      (st = ckpt_meta_printf(w, "optimizer.generator.t", "%ld", t->g.opt_t)) ||
      (st = ckpt_meta_printf(w, "optimizer.discriminator.t", "%ld", t->d.opt_t)) ||
      (st = ckpt_meta_printf(w, "step", "%ld", t->step)) ||
      (st = ckpt_meta_printf(w, "epoch", "%d", t->epoch)) ||
      (st = ckpt_meta_printf(w, "data.position", "%ld", t->pos)) ||
      (st = ckpt_meta_printf(w, "data.count", "%d", t->data.count)) ||
      (st = clgan_st_add_meta(w, "data.order", "Fisher-Yates shuffle per epoch from "
                                               "Philox-4x32-10 keyed (seed, epoch)")) ||
      (st = ckpt_meta_printf(w, "noise.d_batches", "%ld", t->d_batches)) ||
      (st = ckpt_meta_printf(w, "metrics.window", "%ld %ld", t->window_g, t->window_d)))
    goto fail;
  st = clgan_st_write(w, path);
fail:
  clgan_st_writer_free(w);
  ckpt_net_host_free(&hg, t->g.count);
  ckpt_net_host_free(&hd, t->d.count);
  return st;
}

/* ---- Loading ------------------------------------------------------------------------------ */

static const char *need_meta(const clgan_st_file *f, const char *path, const char *key,
                             clgan_status *st) {
  const char *v = clgan_st_meta(f, key);
  if (!v && *st == CLGAN_OK) {
    clgan_error("%s: not a clgan checkpoint, or damaged: metadata '%s' is missing", path, key);
    *st = CLGAN_BAD_FORMAT;
  }
  return v;
}

static long meta_long(const clgan_st_file *f, const char *path, const char *key,
                      clgan_status *st) {
  const char *v = need_meta(f, path, key, st);
  if (!v) return 0;
  char *end = NULL;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || end == v || *end || x < 0) {
    if (*st == CLGAN_OK) clgan_error("%s: metadata '%s' = '%s' is not a count", path, key, v);
    *st = CLGAN_BAD_FORMAT;
  }
  return x;
}

static float meta_float(const clgan_st_file *f, const char *path, const char *key,
                        clgan_status *st) {
  const char *v = need_meta(f, path, key, st);
  if (!v) return 0;
  char *end = NULL;
  double x = strtod(v, &end);
  if (end == v || *end) {
    if (*st == CLGAN_OK) clgan_error("%s: metadata '%s' = '%s' is not a number", path, key, v);
    *st = CLGAN_BAD_FORMAT;
  }
  return (float)x;
}

static clgan_status read_cfg(const clgan_st_file *f, const char *path, clgan_train_cfg *c,
                             int *rows, int *cols) {
  clgan_status st = CLGAN_OK;
  memset(c, 0, sizeof *c);
  const char *format = need_meta(f, path, "format", &st);
  if (format && strcmp(format, "clgan-checkpoint-1") != 0) {
    clgan_error("%s: checkpoint format '%s' is not one this clgan reads (clgan-checkpoint-1)",
                path, format);
    return CLGAN_BAD_FORMAT;
  }
  const char *model = need_meta(f, path, "model", &st);
  const char *gs = need_meta(f, path, "generator.spec", &st);
  const char *ds = need_meta(f, path, "discriminator.spec", &st);
  const char *image = need_meta(f, path, "image", &st);
  const char *init = need_meta(f, path, "init", &st);
  const char *loss = need_meta(f, path, "loss", &st);
  const char *seed = need_meta(f, path, "seed", &st);
  if (st != CLGAN_OK) return st;
  snprintf(c->model, sizeof c->model, "%s", model);
  snprintf(c->g_spec, sizeof c->g_spec, "%s", gs);
  snprintf(c->d_spec, sizeof c->d_spec, "%s", ds);
  if (sscanf(image, "%dx%d", rows, cols) != 2 || *rows < 1 || *cols < 1 || *rows > 4096 ||
      *cols > 4096) {
    clgan_error("%s: metadata 'image' = '%s' is not ROWSxCOLS", path, image);
    return CLGAN_BAD_FORMAT;
  }
  c->latent = (int)meta_long(f, path, "latent", &st);
  c->batch = (int)meta_long(f, path, "batch", &st);
  c->epochs = (int)meta_long(f, path, "epochs", &st);
  c->steps = meta_long(f, path, "steps", &st);
  c->sample_every = meta_long(f, path, "sample_every", &st);
  c->checkpoint_every = meta_long(f, path, "checkpoint_every", &st);
  c->grid = (int)meta_long(f, path, "grid", &st);
  c->d_steps = (int)meta_long(f, path, "d_steps", &st);
  c->real_label = meta_float(f, path, "real_label", &st);
  c->clip_norm = meta_float(f, path, "clip_grad_norm", &st);
  c->seed = strtoull(seed, NULL, 10);
  c->init = !strcmp(init, "torch") ? CLGAN_INIT_TORCH
            : !strcmp(init, "glorot") ? CLGAN_INIT_GLOROT
                                      : CLGAN_INIT_DCGAN;
  if (!clgan_loss_parse(loss, &c->loss)) {
    clgan_error("%s: unknown loss '%s' in the metadata", path, loss);
    return CLGAN_BAD_FORMAT;
  }
  c->clip_weights = meta_float(f, path, "clip_weights", &st);
  c->gp_lambda = meta_float(f, path, "gp_lambda", &st);
  if (st == CLGAN_OK &&
      (!parse_opt_meta(clgan_st_meta(f, "optimizer.generator"), &c->opt_g) ||
       !parse_opt_meta(clgan_st_meta(f, "optimizer.discriminator"), &c->opt_d))) {
    clgan_error("%s: the optimizer metadata is missing or damaged", path);
    st = CLGAN_BAD_FORMAT;
  }
  if (st == CLGAN_OK && (c->latent < 1 || c->batch < 1 || c->d_steps < 1 || c->grid < 1)) {
    clgan_error("%s: latent, batch, d_steps or grid in the metadata is out of range", path);
    st = CLGAN_BAD_FORMAT;
  }
  return st;
}

clgan_status clgan_checkpoint_cfg(const char *path, clgan_train_cfg *cfg, int *rows, int *cols) {
  clgan_st_file *f = NULL;
  clgan_status st = clgan_st_open(path, &f);
  if (st == CLGAN_OK) st = read_cfg(f, path, cfg, rows, cols);
  clgan_st_close(f);
  return st;
}

clgan_status clgan_trainer_load(clgan_trainer *t, const char *path) {
  clgan_st_file *f = NULL;
  ckpt_net_host hg = {0}, hd = {0};
  clgan_train_cfg c;
  int rows = 0, cols = 0;
  clgan_status st = clgan_st_open(path, &f);
  if (st != CLGAN_OK) return st;
  if ((st = read_cfg(f, path, &c, &rows, &cols))) goto done;
  if (strcmp(c.g_spec, t->cfg.g_spec) || strcmp(c.d_spec, t->cfg.d_spec) ||
      c.latent != t->cfg.latent || rows != t->data.rows || cols != t->data.cols) {
    clgan_error("%s: the checkpoint's model (G '%s', D '%s', latent %d, images %dx%d) does not "
                "match this run's (G '%s', D '%s', latent %d, images %dx%d)", path, c.g_spec,
                c.d_spec, c.latent, rows, cols, t->cfg.g_spec, t->cfg.d_spec, t->cfg.latent,
                t->data.rows, t->data.cols);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  long step = meta_long(f, path, "step", &st);
  long epoch = meta_long(f, path, "epoch", &st);
  long pos = meta_long(f, path, "data.position", &st);
  long count = meta_long(f, path, "data.count", &st);
  long d_batches = meta_long(f, path, "noise.d_batches", &st);
  long g_t = meta_long(f, path, "optimizer.generator.t", &st);
  long d_t = meta_long(f, path, "optimizer.discriminator.t", &st);
  long wg = 0, wd = 0;
  const char *window = need_meta(f, path, "metrics.window", &st);
  if (window && sscanf(window, "%ld %ld", &wg, &wd) != 2 && st == CLGAN_OK) {
    clgan_error("%s: metadata 'metrics.window' is damaged", path);
    st = CLGAN_BAD_FORMAT;
  }
  const float *stats = ckpt_need_tensor(f, "trainer.stats", (const int64_t[]){STAT_COUNT}, 1, &st);
  if (st == CLGAN_OK && count != t->data.count) {
    clgan_error("%s: the checkpoint was trained on %ld images, this data set has %d: its data "
                "order cannot be continued", path, count, t->data.count);
    st = CLGAN_INVALID_ARGUMENT;
  }
  if (st == CLGAN_OK && pos + t->cfg.batch > count + t->cfg.batch) {
    clgan_error("%s: data position %ld is beyond the data set", path, pos);
    st = CLGAN_BAD_FORMAT;
  }
  if (st != CLGAN_OK) goto done;
  if ((st = ckpt_net_stage(f, path, &t->g, "generator", &t->cfg.opt_g, 1, &hg)) ||
      (st = ckpt_net_stage(f, path, &t->d, "discriminator", &t->cfg.opt_d, 1, &hd)))
    goto done;
  /* Everything validated: only now does the trainer change. */
  if ((st = ckpt_net_upload(&t->g, &hg)) || (st = ckpt_net_upload(&t->d, &hd)) ||
      (st = clgan_buffer_write(t->dev, &t->stats, 0, STAT_COUNT * sizeof(float), stats)))
    goto done;
  t->g.opt_t = g_t;
  t->d.opt_t = d_t;
  t->step = step;
  t->epoch = (int)epoch;
  t->pos = pos;
  t->d_batches = d_batches;
  t->window_g = wg;
  t->window_d = wd;
  st = clgan_trainer_shuffle(t);
done:
  ckpt_net_host_free(&hg, t->g.count);
  ckpt_net_host_free(&hd, t->d.count);
  clgan_st_close(f);
  return st;
}

clgan_status clgan_checkpoint_load_generator(const char *path, clgan_device *dev, clgan_net *g,
                                             clgan_train_cfg *cfg, int *rows, int *cols,
                                             int max_batch) {
  clgan_st_file *f = NULL;
  ckpt_net_host h = {0};
  clgan_net_spec spec;
  char err[256];
  memset(g, 0, sizeof *g);
  clgan_status st = clgan_st_open(path, &f);
  if (st != CLGAN_OK) return st;
  if ((st = read_cfg(f, path, cfg, rows, cols))) goto done;
  if ((st = clgan_spec_parse(cfg->g_spec, &spec, err, sizeof err))) {
    clgan_error("%s: the generator spec in the checkpoint is invalid: %s", path, err);
    st = CLGAN_BAD_FORMAT;
    goto done;
  }
  if ((st = clgan_net_create(g, dev, &spec, cfg->latent, 1, 1, max_batch))) goto done;
  if ((st = ckpt_net_stage(f, path, g, "generator", &cfg->opt_g, 0, &h)) || (st = ckpt_net_upload(g, &h)))
    goto done;
done:
  if (st != CLGAN_OK) {
    int count = g->count;
    ckpt_net_host_free(&h, count);
    clgan_net_free(g);
  } else {
    ckpt_net_host_free(&h, g->count);
  }
  clgan_st_close(f);
  return st;
}
