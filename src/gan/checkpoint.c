/* Checkpoints as safetensors files (README "Checkpoints"):
 *   generator.<i>.weight / .bias, discriminator.<i>.weight / .bias   PyTorch state_dict names
 *   generator_ema.<i>.weight / .bias / BN statistics                 the EMA generator (ema > 0)
 *   <net>.<i>.running_mean / .running_var / .num_batches_tracked     batch norm
 *   <net>.<i>.weight_orig / .weight_u / .weight_v    spectral normalisation (no .weight)
 *   optimizer.<net>.<i>.<tensor>.<exp_avg|exp_avg_sq|square_avg|momentum_buffer>
 *   trainer.stats                                                    metrics accumulated so far
 * and in the metadata the specs, every hyper-parameter, the seed, the step, the data position
 * and the clgan version. Saving is atomic; loading validates the whole file before it changes
 * anything, so a damaged checkpoint is refused, never half-loaded (the per-net part lives in
 * net_io.c, shared with the classifier).
 *
 * A file without "clgan.crc32" and "clgan.version" is accepted (issue 9, finding 2): a PyTorch
 * user who changed a tensor cannot recompute clgan's CRC, and a CRC-32 stops accidents, not
 * a file made on purpose. What makes such files safe is that every metadata value is checked
 * against its bounds (clgan_train_cfg_check) and every tensor against the spec's shapes, with
 * or without a CRC. */
#define _POSIX_C_SOURCE 200809L /* stat */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clgan/io.h"
#include "gan/net_io.h"
#include "gan/trainer_internal.h"

/* ---- Metadata ---------------------------------------------------------------------------- */

static clgan_status write_opt_meta(clgan_st_writer *w, const char *key, const clgan_opt_cfg *o) {
  return ckpt_meta_printf(
      w, key, "%s lr=%.17g beta1=%.17g beta2=%.17g eps=%.17g alpha=%.17g momentum=%.17g",
      clgan_opt_name(o->kind), o->lr, o->beta1, o->beta2, o->eps, o->alpha, o->momentum);
}

/* Strict: the kind, then each value, nothing after; the values' ranges are checked with the
 * rest of the configuration (clgan_train_cfg_check). */
static int parse_opt_meta(const char *text, clgan_opt_cfg *o) {
  char kind[16];
  double lr, b1, b2, eps, alpha, mom;
  int end = -1;
  if (!text || sscanf(text, "%15s lr=%lf beta1=%lf beta2=%lf eps=%lf alpha=%lf momentum=%lf%n",
                      kind, &lr, &b1, &b2, &eps, &alpha, &mom, &end) != 7 ||
      end < 0 || text[end] != '\0')
    return 0;
  if (!clgan_opt_parse(kind, &o->kind)) return 0;
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
  ckpt_net_host hg = {0}, hd = {0}, he = {0};
  float stats[STAT_COUNT];
  const clgan_train_cfg *c = &t->cfg;
  int ema = c->ema > 0.0f;
  if ((st = ckpt_net_read(&t->g, &hg)) || (st = ckpt_net_read(&t->d, &hd)) ||
      (ema && (st = ckpt_net_read(&t->g_ema, &he))) ||
      (st = clgan_buffer_read(t->dev, &t->stats, 0, sizeof stats, stats)) ||
      (st = clgan_st_writer_new(&w)))
    goto fail;
  if ((st = ckpt_net_add(w, &t->g, &hg, "generator", &c->opt_g)) ||
      (st = ckpt_net_add(w, &t->d, &hd, "discriminator", &c->opt_d)) ||
      (ema && (st = ckpt_net_add(w, &t->g_ema, &he, "generator_ema", NULL))) ||
      (st = add_f32(w, "trainer.stats", stats, (const int64_t[]){STAT_COUNT}, 1)))
    goto fail;
  if ((st = clgan_st_add_meta(w, "format", "clgan-checkpoint-1")) ||
      (st = clgan_st_add_meta(w, "version", CLGAN_VERSION)) ||
      (st = clgan_st_add_meta(w, "model", c->model)) ||
      (st = clgan_st_add_meta(w, "generator.spec", c->g_spec)) ||
      (st = clgan_st_add_meta(w, "discriminator.spec", c->d_spec)) ||
      (st = t->data.channels > 1
                ? ckpt_meta_printf(w, "image", "%dx%dx%d", t->data.channels, t->data.rows,
                                   t->data.cols)
                : ckpt_meta_printf(w, "image", "%dx%d", t->data.rows, t->data.cols)) ||
      (st = ckpt_meta_printf(w, "latent", "%d", c->latent)) ||
      (st = ckpt_meta_printf(w, "batch", "%d", c->batch)) ||
      (st = ckpt_meta_printf(w, "accumulate", "%d", t->accum)) ||
      (st = ckpt_meta_printf(w, "ranks", "%d", t->ranks)) ||
      (st = ckpt_meta_printf(w, "global_batch", "%ld", t->global)) ||
      (st = ckpt_meta_printf(w, "epochs", "%d", c->epochs)) ||
      (st = ckpt_meta_printf(w, "steps", "%ld", c->steps)) ||
      (st = ckpt_meta_printf(w, "sample_every", "%ld", c->sample_every)) ||
      (st = ckpt_meta_printf(w, "checkpoint_every", "%ld", c->checkpoint_every)) ||
      (st = ckpt_meta_printf(w, "grid", "%d", c->grid)) ||
      (st = clgan_st_add_meta(w, "init", clgan_init_name(c->init))) ||
      (st = clgan_st_add_meta(w, "loss", clgan_loss_name(c->loss))) ||
      (st = clgan_st_add_meta(w, "diffaug", clgan_aug_policy_name(c->diffaug))) ||
      (st = ckpt_meta_printf(w, "classes", "%d", c->classes)) ||
      (c->flip && (st = clgan_st_add_meta(w, "flip", "horizontal"))) ||
      (st = ckpt_meta_printf(w, "conditioning", "generator=%s discriminator=%s",
                             clgan_cond_name(t->g_cond.kind), clgan_cond_name(t->d_cond.kind))) ||
      (st = ckpt_meta_printf(w, "clip_weights", "%.9g", (double)c->clip_weights)) ||
      (st = ckpt_meta_printf(w, "gp_lambda", "%.9g", (double)c->gp_lambda)) ||
      (st = ckpt_meta_printf(w, "ema", "%.9g", (double)c->ema)) ||
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
  ckpt_net_host_free(&he, t->g_ema.count);
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

/* A count in 0..max, written in decimal digits only: no sign, no space, no truncation (the
 * probe's batch=4294967360 was read as 64 through an int cast). */
static long meta_count(const clgan_st_file *f, const char *path, const char *key, long max,
                       clgan_status *st) {
  const char *v = need_meta(f, path, key, st);
  if (!v) return 0;
  char *end = NULL;
  errno = 0;
  long x = v[0] >= '0' && v[0] <= '9' ? strtol(v, &end, 10) : -1;
  if (x < 0 || errno || !end || *end || x > max) {
    if (*st == CLGAN_OK)
      clgan_error("%s: metadata '%s' = '%.40s' is not a count in 0..%ld", path, key, v, max);
    *st = CLGAN_BAD_FORMAT;
    return 0;
  }
  return x;
}

static long meta_long(const clgan_st_file *f, const char *path, const char *key,
                      clgan_status *st) {
  return meta_count(f, path, key, LONG_MAX, st);
}

static int meta_int(const clgan_st_file *f, const char *path, const char *key,
                    clgan_status *st) {
  return (int)meta_count(f, path, key, INT_MAX, st);
}

static float meta_float(const clgan_st_file *f, const char *path, const char *key,
                        clgan_status *st) {
  const char *v = need_meta(f, path, key, st);
  if (!v) return 0;
  char *end = NULL;
  double x = strtod(v, &end);
  if (end == v || *end) {
    if (*st == CLGAN_OK) clgan_error("%s: metadata '%s' = '%.40s' is not a number", path, key, v);
    *st = CLGAN_BAD_FORMAT;
  }
  return (float)x;
}

/* Every value is checked as strictly as the CLI checks its options (clgan_train_cfg_check):
 * the CRC guards against accidents, not against a file written on purpose (anyone can compute
 * a CRC-32), so the values themselves must be safe to use. */
static clgan_status read_cfg(const clgan_st_file *f, const char *path, clgan_train_cfg *c,
                             int *rows, int *cols) {
  clgan_status st = CLGAN_OK;
  memset(c, 0, sizeof *c);
  const char *format = need_meta(f, path, "format", &st);
  if (format && strcmp(format, "clgan-checkpoint-1") != 0) {
    clgan_error("%s: checkpoint format '%.40s' is not one this clgan reads (clgan-checkpoint-1)",
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
  /* The model name is only a label (the specs define the networks), but it names the run
   * folder, so it must be a plain name. */
  if (!clgan_model_name_ok(model)) {
    clgan_error("%s: metadata 'model' = '%.40s' is not a model name (1..31 letters, digits, '.', "
                "'_' or '-')", path, model);
    return CLGAN_BAD_FORMAT;
  }
  if (strlen(gs) >= sizeof c->g_spec || strlen(ds) >= sizeof c->d_spec) {
    clgan_error("%s: a network spec in the metadata is longer than %zu characters", path,
                sizeof c->g_spec - 1);
    return CLGAN_BAD_FORMAT;
  }
  snprintf(c->model, sizeof c->model, "%s", model);
  snprintf(c->g_spec, sizeof c->g_spec, "%s", gs);
  snprintf(c->d_spec, sizeof c->d_spec, "%s", ds);
  /* ROWSxCOLS for one channel (as before colour), CHANNELSxROWSxCOLS for 3. */
  int end = -1, a = 0, b = 0, k = 0;
  if (sscanf(image, "%4dx%4dx%4d%n", &k, &a, &b, &end) == 3 && end > 0 && image[end] == '\0' &&
      k == 3) {
    c->channels = 3, *rows = a, *cols = b;
  } else {
    c->channels = 1;
    end = -1;
    if (sscanf(image, "%4dx%4d%n", rows, cols, &end) != 2 || end < 0 || image[end] != '\0')
      end = -1;
  }
  if (end < 0 || *rows < 1 || *cols < 1 || *rows > 4096 || *cols > 4096) {
    clgan_error("%s: metadata 'image' = '%.40s' is not ROWSxCOLS or 3xROWSxCOLS (each side "
                "1..4096)", path, image);
    return CLGAN_BAD_FORMAT;
  }
  c->latent = meta_int(f, path, "latent", &st);
  c->batch = meta_int(f, path, "batch", &st);
  c->epochs = meta_int(f, path, "epochs", &st);
  c->steps = meta_long(f, path, "steps", &st);
  c->sample_every = meta_long(f, path, "sample_every", &st);
  c->checkpoint_every = meta_long(f, path, "checkpoint_every", &st);
  c->grid = meta_int(f, path, "grid", &st);
  c->d_steps = meta_int(f, path, "d_steps", &st);
  c->real_label = meta_float(f, path, "real_label", &st);
  c->clip_norm = meta_float(f, path, "clip_grad_norm", &st);
  c->clip_weights = meta_float(f, path, "clip_weights", &st);
  c->gp_lambda = meta_float(f, path, "gp_lambda", &st);
  /* Written since the EMA generator (issue 10); a checkpoint from before has none. */
  c->ema = clgan_st_meta(f, "ema") ? meta_float(f, path, "ema", &st) : 0.0f;
  /* Written since conditional GANs (issue 12); earlier checkpoints are unconditional. */
  c->classes = clgan_st_meta(f, "classes") ? meta_int(f, path, "classes", &st) : 0;
  /* Written since accumulation and data parallelism (issue 14): earlier runs were one rank,
   * one micro-batch. batch is a rank's micro-batch; global_batch their product, kept as a
   * check. */
  c->accumulate = clgan_st_meta(f, "accumulate") ? meta_int(f, path, "accumulate", &st) : 1;
  c->ranks = clgan_st_meta(f, "ranks") ? meta_int(f, path, "ranks", &st) : 1;
  long global = clgan_st_meta(f, "global_batch") ? meta_long(f, path, "global_batch", &st) : -1;
  if (st != CLGAN_OK) return st;
  char *seed_end = NULL;
  errno = 0;
  c->seed = seed[0] >= '0' && seed[0] <= '9' ? strtoull(seed, &seed_end, 10) : 0;
  if (!seed_end || *seed_end || errno) {
    clgan_error("%s: metadata 'seed' = '%.40s' is not an unsigned 64-bit integer", path, seed);
    return CLGAN_BAD_FORMAT;
  }
  if (!clgan_init_parse(init, &c->init)) {
    clgan_error("%s: metadata 'init' = '%.40s' is not torch, glorot or dcgan", path, init);
    return CLGAN_BAD_FORMAT;
  }
  if (!clgan_loss_parse(loss, &c->loss)) {
    clgan_error("%s: unknown loss '%.40s' in the metadata", path, loss);
    return CLGAN_BAD_FORMAT;
  }
  /* Absent from checkpoints older than DiffAugment, which trained without it. */
  const char *diffaug = clgan_st_meta(f, "diffaug");
  if (diffaug && !clgan_aug_policy_parse(diffaug, &c->diffaug)) {
    clgan_error("%s: metadata 'diffaug' = '%.40s' is not none, translation, cutout or "
                "translation,cutout", path, diffaug);
    return CLGAN_BAD_FORMAT;
  }
  /* Written only by runs with --flip (issue 13). */
  const char *flip = clgan_st_meta(f, "flip");
  if (flip && strcmp(flip, "horizontal") != 0) {
    clgan_error("%s: metadata 'flip' = '%.40s' is not 'horizontal'", path, flip);
    return CLGAN_BAD_FORMAT;
  }
  c->flip = flip != NULL;
  if (!parse_opt_meta(clgan_st_meta(f, "optimizer.generator"), &c->opt_g) ||
      !parse_opt_meta(clgan_st_meta(f, "optimizer.discriminator"), &c->opt_d)) {
    clgan_error("%s: the optimizer metadata is missing or damaged", path);
    return CLGAN_BAD_FORMAT;
  }
  clgan_cfg_fault fault;
  if (clgan_train_cfg_check(c, &fault) != CLGAN_OK) {
    if (fault.net)
      clgan_error("%s: metadata 'optimizer.%s': %s = %s is out of range (allowed: %s)", path,
                  fault.net, fault.field, fault.value, fault.range);
    else
      clgan_error("%s: metadata '%s' = %s is out of range (allowed: %s)", path, fault.field,
                  fault.value, fault.range);
    return CLGAN_BAD_FORMAT;
  }
  if (global >= 0 && global != clgan_train_global_batch(c)) {
    clgan_error("%s: metadata 'global_batch' = %ld is not batch x accumulate x ranks (%d x %d x "
                "%d)", path, global, c->batch, c->accumulate, c->ranks);
    return CLGAN_BAD_FORMAT;
  }
  /* The sample grid's picture: bounded per side, so that a grid of large images cannot ask for
   * gigabytes either. */
  if ((long)c->grid * *rows > 8192 || (long)c->grid * *cols > 8192) {
    clgan_error("%s: metadata 'grid' = %d of %dx%d images is over 8192 pixels a side", path,
                c->grid, *rows, *cols);
    return CLGAN_BAD_FORMAT;
  }
  return CLGAN_OK;
}

/* clgan_st_open, and a reason when the path is a folder (the reader's own "error reading" did
 * not say why). */
static clgan_status ckpt_open(const char *path, clgan_st_file **f) {
  struct stat sb;
  *f = NULL;
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    clgan_error("%s: is a directory, not a checkpoint file", path);
    return CLGAN_IO_ERROR;
  }
  return clgan_st_open(path, f);
}

clgan_status clgan_checkpoint_cfg(const char *path, clgan_train_cfg *cfg, int *rows, int *cols) {
  clgan_st_file *f = NULL;
  clgan_status st = ckpt_open(path, &f);
  if (st == CLGAN_OK) st = read_cfg(f, path, cfg, rows, cols);
  clgan_st_close(f);
  return st;
}

clgan_status clgan_trainer_load(clgan_trainer *t, const char *path) {
  clgan_st_file *f = NULL;
  ckpt_net_host hg = {0}, hd = {0}, he = {0};
  clgan_train_cfg c;
  int rows = 0, cols = 0;
  clgan_status st = ckpt_open(path, &f);
  if (st != CLGAN_OK) return st;
  if ((st = read_cfg(f, path, &c, &rows, &cols))) goto done;
  if (strcmp(c.g_spec, t->cfg.g_spec) || strcmp(c.d_spec, t->cfg.d_spec) ||
      c.latent != t->cfg.latent || rows != t->data.rows || cols != t->data.cols ||
      c.channels != t->data.channels) {
    clgan_error("%s: the checkpoint's model (G '%s', D '%s', latent %d, images %dx%dx%d) does "
                "not match this run's (G '%s', D '%s', latent %d, images %dx%dx%d): give the "
                "--data, --image-size and --channels it was trained with", path, c.g_spec,
                c.d_spec, c.latent, c.channels, rows, cols, t->cfg.g_spec, t->cfg.d_spec,
                t->cfg.latent, t->data.channels, t->data.rows, t->data.cols);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if ((c.ema > 0.0f) != (t->cfg.ema > 0.0f)) {
    clgan_error("%s: the checkpoint %s EMA generator and this run %s", path,
                c.ema > 0.0f ? "has an" : "has no", t->cfg.ema > 0.0f ? "keeps one" : "does not");
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if (c.classes != t->cfg.classes) {
    if (c.classes == 0 || t->cfg.classes == 0)
      clgan_error("%s: the checkpoint is %s and this run is %s", path,
                  c.classes ? "conditional" : "unconditional",
                  t->cfg.classes ? "conditional (--conditional)" : "not");
    else
      clgan_error("%s: the checkpoint is conditional on %d classes, this data set has %d", path,
                  c.classes, t->cfg.classes);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if (c.flip != t->cfg.flip) {
    clgan_error("%s: the checkpoint was trained %s --flip, this run %s", path,
                c.flip ? "with" : "without", t->cfg.flip ? "has it" : "has not");
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  /* Another split of the same global batch continues the same run (issue 14): the data
   * position and the draws are counted in global batches. */
  if (clgan_train_global_batch(&c) != t->global) {
    clgan_error("%s: the checkpoint's global batch is %ld images (batch %d x accumulate %d x %d "
                "rank(s)), this run's %ld (batch %d x accumulate %d x %d rank(s)): the data order "
                "cannot be continued", path, clgan_train_global_batch(&c), c.batch, c.accumulate,
                c.ranks, t->global, t->cfg.batch, t->accum, t->ranks);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if (c.diffaug != t->cfg.diffaug) {
    clgan_error("%s: the checkpoint was trained with DiffAugment policy %s, this run has %s",
                path, clgan_aug_policy_name(c.diffaug), clgan_aug_policy_name(t->cfg.diffaug));
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  long step = meta_long(f, path, "step", &st);
  int epoch = meta_int(f, path, "epoch", &st);
  long pos = meta_long(f, path, "data.position", &st);
  long count = meta_long(f, path, "data.count", &st);
  long d_batches = meta_long(f, path, "noise.d_batches", &st);
  long g_t = meta_long(f, path, "optimizer.generator.t", &st);
  long d_t = meta_long(f, path, "optimizer.discriminator.t", &st);
  long wg = 0, wd = 0;
  const char *window = need_meta(f, path, "metrics.window", &st);
  int wend = -1;
  if (window && st == CLGAN_OK &&
      (sscanf(window, "%ld %ld%n", &wg, &wd, &wend) != 2 || wend < 0 || window[wend] != '\0' ||
       wg < 0 || wd < 0)) {
    clgan_error("%s: metadata 'metrics.window' is damaged", path);
    st = CLGAN_BAD_FORMAT;
  }
  const float *stats = ckpt_need_tensor(f, "trainer.stats", (const int64_t[]){STAT_COUNT}, 1, &st);
  if (st == CLGAN_OK && count != t->data.count) {
    clgan_error("%s: the checkpoint was trained on %ld images, this data set has %d: its data "
                "order cannot be continued", path, count, t->data.count);
    st = CLGAN_INVALID_ARGUMENT;
  }
  if (st == CLGAN_OK && pos > count) {
    clgan_error("%s: data position %ld is beyond the data set", path, pos);
    st = CLGAN_BAD_FORMAT;
  }
  if (st != CLGAN_OK) goto done;
  if ((st = ckpt_net_stage(f, path, &t->g, "generator", &t->cfg.opt_g, 1, &hg)) ||
      (st = ckpt_net_stage(f, path, &t->d, "discriminator", &t->cfg.opt_d, 1, &hd)) ||
      (t->cfg.ema > 0.0f &&
       (st = ckpt_net_stage(f, path, &t->g_ema, "generator_ema", NULL, 0, &he))))
    goto done;
  /* Everything validated: only now does the trainer change. */
  if ((st = ckpt_net_upload(&t->g, &hg)) || (st = ckpt_net_upload(&t->d, &hd)) ||
      (t->cfg.ema > 0.0f && (st = ckpt_net_upload(&t->g_ema, &he))) ||
      (st = clgan_buffer_write(t->dev, &t->stats, 0, STAT_COUNT * sizeof(float), stats)))
    goto done;
  /* The window's sums (every rank's, clgan_trainer_gather_metrics) are rank 0's to hold. */
  if (t->rank != 0 && (st = clgan_buffer_zero(t->dev, &t->stats))) goto done;
  t->g.opt_t = g_t;
  t->d.opt_t = d_t;
  t->step = step;
  t->epoch = epoch;
  t->pos = pos;
  t->d_batches = d_batches;
  t->window_g = wg;
  t->window_d = wd;
  st = clgan_trainer_shuffle(t);
done:
  ckpt_net_host_free(&hg, t->g.count);
  ckpt_net_host_free(&hd, t->d.count);
  ckpt_net_host_free(&he, t->g_ema.count);
  clgan_st_close(f);
  return st;
}

clgan_status clgan_checkpoint_load_generator(const char *path, clgan_device *dev, clgan_net *g,
                                             clgan_train_cfg *cfg, int *rows, int *cols,
                                             int max_batch, clgan_gen_pick pick, int *is_ema) {
  clgan_st_file *f = NULL;
  ckpt_net_host h = {0};
  clgan_net_spec spec;
  char err[256];
  memset(g, 0, sizeof *g);
  clgan_status st = ckpt_open(path, &f);
  if (st != CLGAN_OK) return st;
  if ((st = read_cfg(f, path, cfg, rows, cols))) goto done;
  if ((st = clgan_spec_parse(cfg->g_spec, &spec, err, sizeof err))) {
    clgan_error("%s: the generator spec in the checkpoint is invalid: %s", path, err);
    st = CLGAN_BAD_FORMAT;
    goto done;
  }
  int ema = pick == CLGAN_GEN_EMA || (pick == CLGAN_GEN_AUTO && cfg->ema > 0.0f);
  if (ema && cfg->ema <= 0.0f) {
    clgan_error("%s: the checkpoint has no EMA generator (it was trained without --ema)", path);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if (is_ema) *is_ema = ema;
  clgan_net_spec d_spec;
  clgan_cond_cfg g_cond, d_cond;
  if ((st = clgan_spec_parse(cfg->d_spec, &d_spec, err, sizeof err))) {
    clgan_error("%s: the discriminator spec in the checkpoint is invalid: %s", path, err);
    st = CLGAN_BAD_FORMAT;
    goto done;
  }
  clgan_conditioning(cfg, &d_spec, &g_cond, &d_cond);
  if ((st = clgan_net_create_cond(g, dev, &spec, cfg->latent, 1, 1, max_batch, &g_cond)))
    goto done;
  if ((st = ckpt_net_stage(f, path, g, ema ? "generator_ema" : "generator", NULL, 0, &h)) ||
      (st = ckpt_net_upload(g, &h)))
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
