/* The trainer: DESIGN.md's training step, all on the device. The host only enqueues work; it
 * waits once per epoch (uploading the next permutation) and when metrics are read. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gan/trainer_internal.h"
#include "util/names.h"

clgan_status clgan_trainer_shuffle(clgan_trainer *t) {
  int n = t->data.count;
  /* Keyed (seed, epoch): resuming mid-run rebuilds the epoch's order exactly. */
  clgan_philox_shuffle(t->perm_host, n, t->cfg.seed, (uint32_t)t->epoch, STREAM_SHUFFLE);
  if (t->cfg.flip) {
    clgan_flip_bits(t->flips_host, n, t->cfg.seed, (uint32_t)t->epoch, STREAM_FLIP);
    clgan_status st = clgan_buffer_write(t->dev, &t->flips, 0, (size_t)n, t->flips_host);
    if (st != CLGAN_OK) return st;
  }
  return clgan_buffer_write(t->dev, &t->perm, 0, (size_t)n * sizeof(int32_t), t->perm_host);
}

void clgan_trainer_free(clgan_trainer *t) {
  if (!t) return;
  clgan_stream_free(t->stream);
  clgan_inflight_free(&t->in_flight);
  /* Views before what they view. */
  clgan_buffer *views[] = {&t->logits_real, &t->logits_fake, &t->x2_fake, &t->dl_fake,
                           &t->lt_fake,     &t->pr_fake,     &t->real_aug, &t->fake_aug,
                           &t->labels_real, &t->labels_fake};
  for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) clgan_buffer_free(views[i]);
  clgan_net_free(&t->g);
  clgan_net_free(&t->g_ema);
  clgan_net_free(&t->d);
  clgan_buffer *bufs[] = {&t->perm,  &t->z,     &t->real,  &t->dlogits, &t->loss_terms,
                          &t->probs, &t->stats, &t->x_hat,   &t->gp_eps,
                          &t->ones,  &t->x2,    &t->dl2,   &t->lt2,     &t->pr2,
                          &t->dfake, &t->labels2, &t->label_u, &t->label_cdf,
                          &t->z_all, &t->label_u_all, &t->gp_eps_all, &t->flips,
                          &t->identity};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) clgan_buffer_free(bufs[i]);
  free(t->perm_host);
  free(t->host_grads);
  free(t->flips_host);
  free(t);
}

void clgan_conditioning(const clgan_train_cfg *cfg, const clgan_net_spec *d_spec,
                        clgan_cond_cfg *g, clgan_cond_cfg *d) {
  *g = *d = (clgan_cond_cfg){.kind = CLGAN_COND_NONE};
  if (cfg->classes <= 0) return;
  int conv = 0;
  for (int i = 0; i < d_spec->count; i++)
    conv |= d_spec->layers[i].kind == CLGAN_LAYER_CONV || d_spec->layers[i].kind == CLGAN_LAYER_CONVT;
  *g = (clgan_cond_cfg){.kind = CLGAN_COND_CONCAT, .classes = cfg->classes};
  *d = (clgan_cond_cfg){.kind = conv ? CLGAN_COND_PROJECTION : CLGAN_COND_CONCAT,
                        .classes = cfg->classes};
}

/* Conditional training's label buffers; the uniform class distribution of the fake labels. */
static clgan_status alloc_labels(clgan_trainer *t) {
  clgan_status st;
  clgan_device *dev = t->dev;
  size_t b = (size_t)t->cfg.batch, ib = b * sizeof(int32_t);
  int k = t->cfg.classes;
  float *cdf = malloc((size_t)k * sizeof *cdf);
  if (!cdf) return CLGAN_HOST_OUT_OF_MEMORY;
  clgan_class_cdf(cdf, NULL, k);
  /* Halves of one buffer where a view may start at B labels (the fused D step needs that, and
   * has it: its batches' halves are aligned alike), else two buffers. */
  if (ib % clgan_device_align(dev) == 0) {
    if ((st = clgan_buffer_alloc(dev, &t->labels2, 2 * ib)) ||
        (st = clgan_buffer_zero(dev, &t->labels2)) ||
        (st = clgan_buffer_view(dev, &t->labels2, 0, ib, &t->labels_real)) ||
        (st = clgan_buffer_view(dev, &t->labels2, ib, ib, &t->labels_fake)))
      goto done;
  } else if ((st = clgan_buffer_alloc(dev, &t->labels_real, ib)) ||
             (st = clgan_buffer_alloc(dev, &t->labels_fake, ib)) ||
             (st = clgan_buffer_zero(dev, &t->labels_real)) ||
             (st = clgan_buffer_zero(dev, &t->labels_fake))) {
    goto done;
  }
  if ((st = clgan_buffer_alloc(dev, &t->label_u, b * sizeof(float))) ||
      (st = clgan_buffer_alloc(dev, &t->label_cdf, (size_t)k * sizeof(float))) ||
      (st = clgan_buffer_write(dev, &t->label_cdf, 0, (size_t)k * sizeof(float), cdf)) ||
      (t->sliced &&
       (st = clgan_buffer_alloc(dev, &t->label_u_all, (size_t)t->global * sizeof(float)))))
    goto done;
  clgan_net_set_labels(&t->g, &t->labels_fake);
  if (t->cfg.ema > 0.0f) clgan_net_set_labels(&t->g_ema, &t->labels_fake);
done:
  free(cdf);
  return st;
}

static clgan_status parse_spec(const char *what, const char *text, clgan_net_spec *spec) {
  char err[256];
  clgan_status st = clgan_spec_parse(text, spec, err, sizeof err);
  if (st != CLGAN_OK) clgan_error("bad %s spec '%s': %s", what, text, err);
  return st;
}

static clgan_status alloc_separate(clgan_trainer *t) {
  clgan_status st;
  size_t b = (size_t)t->cfg.batch, fb = sizeof(float);
  if ((st = clgan_buffer_alloc(t->dev, &t->real, b * (size_t)t->dim * fb)) ||
      (st = clgan_buffer_alloc(t->dev, &t->dlogits, b * fb)) ||
      (st = clgan_buffer_alloc(t->dev, &t->loss_terms, b * fb)) ||
      (st = clgan_buffer_alloc(t->dev, &t->probs, b * fb)))
    return st;
  return CLGAN_OK;
}

/* The fused D step's buffers, and the views that let the rest of the trainer see halves. */
static clgan_status alloc_fused(clgan_trainer *t) {
  clgan_status st;
  clgan_device *dev = t->dev;
  size_t b = (size_t)t->cfg.batch, fb = sizeof(float), img = b * (size_t)t->dim * fb;
  const clgan_layer *last = NULL;
  for (int i = t->d.run_count - 1; i >= 0 && !last; i--)
    if (!clgan_layer_is_view(&t->d.layers[i])) last = &t->d.layers[i];
  if ((st = clgan_buffer_alloc(dev, &t->x2, 2 * img)) ||
      (st = clgan_buffer_alloc(dev, &t->dl2, 2 * b * fb)) ||
      (st = clgan_buffer_alloc(dev, &t->lt2, 2 * b * fb)) ||
      (st = clgan_buffer_alloc(dev, &t->pr2, 2 * b * fb)) ||
      (st = clgan_buffer_view(dev, &t->x2, 0, img, &t->real)) ||
      (st = clgan_buffer_view(dev, &t->x2, img, img, &t->x2_fake)) ||
      (st = clgan_buffer_view(dev, &t->dl2, 0, b * fb, &t->dlogits)) ||
      (st = clgan_buffer_view(dev, &t->dl2, b * fb, b * fb, &t->dl_fake)) ||
      (st = clgan_buffer_view(dev, &t->lt2, 0, b * fb, &t->loss_terms)) ||
      (st = clgan_buffer_view(dev, &t->lt2, b * fb, b * fb, &t->lt_fake)) ||
      (st = clgan_buffer_view(dev, &t->pr2, 0, b * fb, &t->probs)) ||
      (st = clgan_buffer_view(dev, &t->pr2, b * fb, b * fb, &t->pr_fake)) ||
      (st = clgan_buffer_view(dev, &last->y, 0, b * fb, &t->logits_real)) ||
      (st = clgan_buffer_view(dev, &last->y, b * fb, b * fb, &t->logits_fake)))
    return st;
  return CLGAN_OK;
}

/* DiffAugment's buffers. Fused, the augmented batches are x2's halves, and the real batch, which
 * alloc_fused made the first half, gets a buffer of its own to be augmented from. */
static clgan_status alloc_aug(clgan_trainer *t) {
  clgan_status st;
  clgan_device *dev = t->dev;
  size_t img = (size_t)t->cfg.batch * (size_t)t->dim * sizeof(float);
  if (t->fused) {
    clgan_buffer_free(&t->real);
    if ((st = clgan_buffer_alloc(dev, &t->real, img)) ||
        (st = clgan_buffer_view(dev, &t->x2, 0, img, &t->real_aug)) ||
        (st = clgan_buffer_view(dev, &t->x2, img, img, &t->fake_aug)))
      return st;
  } else if ((st = clgan_buffer_alloc(dev, &t->real_aug, img)) ||
             (st = clgan_buffer_alloc(dev, &t->fake_aug, img))) {
    return st;
  }
  return clgan_buffer_alloc(dev, &t->dfake, img);
}

/* DiffAugment works on G's output as 1 x rows x cols images, the shape D reads: a flat output
 * is viewed so, an image output must be one. CLGAN_OK when there is no policy. */
static clgan_status check_aug(const clgan_trainer *t) {
  const clgan_layer *last = &t->g.layers[t->g.count - 1];
  int flat = last->out_h == 1 && last->out_w == 1;
  if (t->cfg.diffaug & ~CLGAN_AUG_ALL) {
    clgan_error("DiffAugment policy %#x has bits of no op", t->cfg.diffaug);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (t->cfg.diffaug && t->data.channels > 1) {
    clgan_error("DiffAugment works on one-channel images; the data have %d channels (give "
                "--channels 1, or train without --diffaug)", t->data.channels);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (!t->cfg.diffaug || flat ||
      (last->out_c == 1 && last->out_h == t->data.rows && last->out_w == t->data.cols))
    return CLGAN_OK;
  clgan_error("DiffAugment shifts and cuts the generator's output as 1x%dx%d images (the data's "
              "shape), but the generator makes %dx%dx%d images: end it in one channel of %dx%d",
              t->data.rows, t->data.cols, last->out_c, last->out_h, last->out_w, t->data.rows,
              t->data.cols);
  return CLGAN_INVALID_ARGUMENT;
}

/* The stream's order of an epoch, clgan_trainer_shuffle's, on the stream's thread: it reads
 * only the trainer's fixed count, seed and flip setting. */
static void stream_order(void *ctx, int epoch, int32_t *perm, uint8_t *flips) {
  const clgan_trainer *t = ctx;
  int n = t->data.count;
  clgan_philox_shuffle(perm, n, t->cfg.seed, (uint32_t)epoch, STREAM_SHUFFLE);
  if (t->cfg.flip) clgan_flip_bits(flips, n, t->cfg.seed, (uint32_t)epoch, STREAM_FLIP);
}

static clgan_status open_stream(clgan_trainer *t) {
  clgan_status st;
  int b = t->cfg.batch;
  int32_t *ident = malloc((size_t)b * sizeof *ident);
  if (!ident) return CLGAN_HOST_OUT_OF_MEMORY;
  for (int i = 0; i < b; i++) ident[i] = i;
  clgan_stream_cfg sc = {.images = t->data.host_images, .count = t->data.count, .batch = b,
                         .image_bytes = (size_t)t->dim, .width = t->data.cols,
                         .flip = t->cfg.flip, .order = stream_order, .ctx = t};
  if (!(st = clgan_buffer_alloc(t->dev, &t->identity, (size_t)b * sizeof *ident)) &&
      !(st = clgan_buffer_write(t->dev, &t->identity, 0, (size_t)b * sizeof *ident, ident)))
    st = clgan_stream_create(&t->stream, t->dev, &sc);
  free(ident);
  return st;
}

/* The real batch at the current position, as floats in [-1, 1]: gathered on the device from
 * the uploaded set, or from the streamed slot in its own order (the flips already applied). */
/* The real micro-batch of rows [pos, pos + batch) of the epoch's order into t->real: gathered
 * on the device from the uploaded set, or served by the stream (which foresees the next batch
 * of a one-rank, one-micro-batch run; another split is correct and fills on demand). */
static clgan_status real_batch(clgan_trainer *t, long pos) {
  clgan_status st;
  int b = t->cfg.batch;
  if (!t->stream)
    return t->cfg.flip ? clgan_gather_images_flip(t->dev, &t->real, &t->data.images, &t->perm,
                                                  &t->flips, (int)pos, b, t->dim,
                                                  t->data.cols)
                       : clgan_gather_images(t->dev, &t->real, &t->data.images, &t->perm,
                                             (int)pos, b, t->dim);
  const clgan_buffer *slot = NULL;
  if ((st = clgan_stream_next(t->stream, t->epoch, (int)pos, &slot)) ||
      (st = clgan_gather_images(t->dev, &t->real, slot, &t->identity, 0, b, t->dim)))
    return st;
  return clgan_stream_done(t->stream);
}

double clgan_trainer_data_wait(const clgan_trainer *t) {
  return clgan_stream_wait_seconds(t->stream);
}

clgan_status clgan_trainer_create(clgan_trainer **out, clgan_device *dev, const clgan_train_cfg *cfg,
                                  const clgan_train_data *data) {
  return clgan_trainer_create_dist(out, dev, cfg, data, NULL);
}

/* The group's share of the work: micro-batches, ranks, the global batch (issue 14). */
static clgan_status set_split(clgan_trainer *t, clgan_dist *dist) {
  const clgan_train_cfg *cfg = &t->cfg;
  t->dist = dist;
  t->accum = cfg->accumulate > 1 ? cfg->accumulate : 1;
  t->ranks = clgan_dist_size(dist);
  t->rank = clgan_dist_rank(dist);
  t->global = clgan_train_global_batch(cfg);
  t->sliced = t->global > cfg->batch;
  if ((cfg->ranks > 1 ? cfg->ranks : 1) != t->ranks) {
    clgan_error("the training configuration is for %d rank(s), and this group has %d",
                cfg->ranks, t->ranks);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (cfg->accumulate < 0) {
    clgan_error("invalid training setup: accumulate %d", cfg->accumulate);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (cfg->batch >= 1 && t->global > t->data.count) {
    if (t->global == cfg->batch)
      clgan_error("batch %d is larger than the data set (%d training images): the batch can "
                  "be at most %d", cfg->batch, t->data.count, t->data.count);
    else
      clgan_error("the global batch of %ld images (batch %d x accumulate %d x %d rank(s)) is "
                  "larger than the data set (%d training images)", t->global, cfg->batch,
                  t->accum, t->ranks, t->data.count);
    return CLGAN_INVALID_ARGUMENT;
  }
  return CLGAN_OK;
}

clgan_status clgan_trainer_create_dist(clgan_trainer **out, clgan_device *dev,
                                       const clgan_train_cfg *cfg, const clgan_train_data *data,
                                       clgan_dist *dist) {
  clgan_status st = CLGAN_OK;
  *out = NULL;
  clgan_trainer *t = calloc(1, sizeof *t);
  if (!t) return CLGAN_HOST_OUT_OF_MEMORY;
  t->dev = dev;
  t->cfg = *cfg;
  t->data = *data;
  t->in_flight_depth = 2; /* mlp-bn on PoCL: 26 steps/s unbounded, 44 at 1 or 2, 39 at 3-5 */
  int channels = data->channels > 1 ? data->channels : 1;
  t->data.channels = t->cfg.channels = channels;
  t->dim = channels * data->rows * data->cols;
  int b = cfg->batch;
  if ((st = set_split(t, dist))) goto fail;
  if (b < 1 || cfg->latent < 1 || cfg->d_steps < 1) {
    clgan_error("invalid training setup: batch %d, latent %d, d_steps %d", b, cfg->latent,
                cfg->d_steps);
    st = CLGAN_INVALID_ARGUMENT;
    goto fail;
  }
  if ((st = parse_spec("generator", cfg->g_spec, &t->g_spec)) ||
      (st = parse_spec("discriminator", cfg->d_spec, &t->d_spec)))
    goto fail;
  clgan_conditioning(cfg, &t->d_spec, &t->g_cond, &t->d_cond);
  if (cfg->classes < 0 || cfg->classes > 256) {
    clgan_error("classes %d: the trainer takes 0 (unconditional) or a count up to 256 (a run "
                "resolves CLGAN_CLASSES_FROM_DATA from the labels)", cfg->classes);
    st = CLGAN_INVALID_ARGUMENT;
    goto fail;
  }
  if (cfg->classes > 0 && !data->labels.mem) {
    clgan_error("conditional training on %d classes needs the data set's labels, and none were "
                "uploaded", cfg->classes);
    st = CLGAN_INVALID_ARGUMENT;
    goto fail;
  }
  size_t align = clgan_device_align(dev), fb = sizeof(float);
  t->fused = ((size_t)b * fb) % align == 0 && ((size_t)b * (size_t)t->dim * fb) % align == 0;
  /* Batch statistics of real and fake together would change the model; so would one power
   * iteration of spectral normalisation where PyTorch's two forwards run two. */
  for (int i = 0; i < t->d_spec.count; i++)
    if (clgan_layer_is_bn(t->d_spec.layers[i].kind) || t->d_spec.layers[i].sn) t->fused = 0;
  if ((st = clgan_net_create_cond(&t->g, dev, &t->g_spec, cfg->latent, 1, 1, b, &t->g_cond)) ||
      (st = clgan_net_create_cond(&t->d, dev, &t->d_spec, channels, data->rows, data->cols,
                                  t->fused ? 2 * b : b, &t->d_cond)))
    goto fail;
  if (t->g.out != t->dim) {
    if (channels > 1)
      clgan_error("the generator makes %d values per sample but the images have %d (%dx%dx%d): "
                  "end the generator spec with linear:%d, or a convT to %d channels of %dx%d",
                  t->g.out, t->dim, channels, data->rows, data->cols, t->dim, channels,
                  data->rows, data->cols);
    else
      clgan_error("the generator makes %d values per sample but the images have %d (%dx%d): end "
                  "the generator spec with linear:%d", t->g.out, t->dim, data->rows, data->cols,
                  t->dim);
    st = CLGAN_INVALID_ARGUMENT;
    goto fail;
  }
  if ((st = check_aug(t))) goto fail;
  if (t->d.layers[t->d.run_count - 1].out != 1) {
    clgan_error("the discriminator must end in one output (linear:1, optionally then sigmoid); "
                "its spec '%s' ends in %d", cfg->d_spec, t->d.layers[t->d.run_count - 1].out);
    st = CLGAN_INVALID_ARGUMENT;
    goto fail;
  }
  if (cfg->loss == CLGAN_LOSS_WGAN_GP) {
    int bad = clgan_net_check_double_backward(&t->d);
    if (bad >= 0) {
      clgan_error("WGAN-GP's critic may hold only linear, conv, relu, lrelu, reshape and flatten "
                  "layers (batch norm breaks the per-sample penalty: Gulrajani et al. 2017, "
                  "sec. 4); layer %d of '%s' is not one", bad + 1, cfg->d_spec);
      st = CLGAN_INVALID_ARGUMENT;
      goto fail;
    }
    if ((st = clgan_buffer_alloc(dev, &t->x_hat, (size_t)b * (size_t)t->dim * fb)) ||
        (st = clgan_buffer_alloc(dev, &t->gp_eps, (size_t)b * fb)) ||
        (st = clgan_buffer_alloc(dev, &t->ones, (size_t)b * fb)) ||
        (st = clgan_fill(dev, &t->ones, b, 1.0f)) ||
        (t->sliced && (st = clgan_buffer_alloc(dev, &t->gp_eps_all, (size_t)t->global * fb))))
      goto fail;
  }
  if ((st = clgan_net_init(&t->g, cfg->init, cfg->seed, STREAM_INIT_G)) ||
      (st = clgan_net_init(&t->d, cfg->init, cfg->seed, STREAM_INIT_D)))
    goto fail;
  /* The EMA generator starts as a copy of G. */
  if (cfg->ema > 0.0f &&
      ((st = clgan_net_create_cond(&t->g_ema, dev, &t->g_spec, cfg->latent, 1, 1, b,
                                   &t->g_cond)) ||
       (st = clgan_net_average(&t->g_ema, &t->g, 0.0f))))
    goto fail;
  if ((st = t->fused ? alloc_fused(t) : alloc_separate(t)) ||
      (cfg->diffaug && (st = alloc_aug(t))) || (cfg->classes > 0 && (st = alloc_labels(t))))
    goto fail;
  if ((st = clgan_buffer_alloc(dev, &t->perm, (size_t)data->count * sizeof(int32_t))) ||
      (st = clgan_buffer_alloc(dev, &t->z, (size_t)b * (size_t)cfg->latent * fb)) ||
      (st = clgan_buffer_alloc(dev, &t->stats, STAT_COUNT * fb)) ||
      (st = clgan_buffer_zero(dev, &t->stats)) ||
      (t->sliced &&
       (st = clgan_buffer_alloc(dev, &t->z_all, (size_t)t->global * (size_t)cfg->latent * fb))))
    goto fail;
  if (t->ranks > 1) {
    size_t n = t->g.arena_n > t->d.arena_n ? t->g.arena_n : t->d.arena_n;
    if (!(t->host_grads = malloc(n * sizeof *t->host_grads))) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto fail;
    }
  }
  t->perm_host = malloc((size_t)data->count * sizeof *t->perm_host);
  if (!t->perm_host) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto fail;
  }
  if (cfg->flip) {
    if ((st = clgan_buffer_alloc(dev, &t->flips, (size_t)data->count))) goto fail;
    if (!(t->flips_host = malloc((size_t)data->count))) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto fail;
    }
  }
  if (data->host_images && (st = open_stream(t))) goto fail;
  if ((st = clgan_trainer_shuffle(t))) goto fail;
  *out = t;
  return CLGAN_OK;
fail:
  clgan_trainer_free(t);
  return st;
}

static const char *const loss_names[] = {
#define X(e, name) name,
    CLGAN_LOSS_TABLE(X)
#undef X
};

const char *clgan_loss_name(clgan_loss_kind k) {
  return (unsigned)k < CLGAN_LOSS_COUNT ? loss_names[k] : NULL;
}

int clgan_loss_parse(const char *name, clgan_loss_kind *k) {
  int i = clgan_name_index(loss_names, CLGAN_LOSS_COUNT, name);
  if (i >= 0) *k = (clgan_loss_kind)i;
  return i >= 0;
}

typedef enum { ON_REAL, ON_FAKE, FOR_G } loss_role;

typedef struct {
  clgan_buffer *dlogits, *loss_terms, *probs;
} loss_bufs;

/* The loss of D's outputs for the current batch in one role, writing d(loss)/d(output) to
 * dlogits and summing the metrics into the stats buffer (no host synchronisation). */
static clgan_status loss_into(clgan_trainer *t, const clgan_buffer *out, loss_role role,
                              loss_bufs lb) {
  clgan_status st;
  int b = t->cfg.batch;
  /* The mean over the global batch: alone and unaccumulated, 1 / batch as ever. */
  float scale = 1.0f / (float)t->global;
  clgan_loss_kind kind = t->cfg.loss;
  const clgan_buffer *values = out; /* what D(x) and D(G(z)) report */
  float threshold = 0.0f;
  if (kind == CLGAN_LOSS_BCE || kind == CLGAN_LOSS_BCE_MINIMAX) {
    clgan_bce_cfg bce = {.target = role == ON_REAL ? t->cfg.real_label : 0.0f, .scale = scale,
                         .sign = 1.0f};
    if (role == FOR_G && kind == CLGAN_LOSS_BCE) bce.target = 1.0f;
    if (role == FOR_G && kind == CLGAN_LOSS_BCE_MINIMAX) bce.sign = -1.0f;
    st = clgan_bce_logits(t->dev, &bce, lb.dlogits, lb.loss_terms, lb.probs, out, b);
    values = lb.probs;
    threshold = 0.5f;
  } else {
    clgan_critic_loss_cfg c = {.kind = CLGAN_CRITIC_WASSERSTEIN, .scale = scale,
                               .sign = role == ON_FAKE ? 1.0f : -1.0f};
    if (kind == CLGAN_LOSS_HINGE && role != FOR_G) c.kind = CLGAN_CRITIC_HINGE;
    if (kind == CLGAN_LOSS_LSGAN) {
      c.kind = CLGAN_CRITIC_LSQ;
      c.target = role == ON_FAKE ? 0.0f : role == ON_REAL ? t->cfg.real_label : 1.0f;
      threshold = 0.5f;
    }
    st = clgan_critic_loss(t->dev, &c, lb.dlogits, lb.loss_terms, out, b);
  }
  if (st != CLGAN_OK) return st;
  int loss_slot = role == ON_REAL ? STAT_D_LOSS_REAL : role == ON_FAKE ? STAT_D_LOSS_FAKE
                                                                       : STAT_G_LOSS;
  if ((st = clgan_reduce_sum(t->dev, &t->stats, loss_slot, lb.loss_terms, b, 1))) return st;
  if (role == FOR_G) return CLGAN_OK;
  int real = role == ON_REAL;
  if ((st = clgan_reduce_sum(t->dev, &t->stats, real ? STAT_D_REAL : STAT_D_FAKE, values, b, 1)))
    return st;
  return clgan_reduce_count_above(t->dev, &t->stats, real ? STAT_ACC_REAL : STAT_ACC_FAKE, values,
                                  b, threshold, !real, 1);
}

/* The loss into the trainer's own (first-half) buffers. */
static clgan_status loss_and_stats(clgan_trainer *t, const clgan_buffer *out, loss_role role) {
  return loss_into(t, out, role, (loss_bufs){&t->dlogits, &t->loss_terms, &t->probs});
}

/* clip_weights: WGAN's critic clipping (the critic's call only); clip_norm applies to both. */
static clgan_status optimize(clgan_trainer *t, clgan_net *net, const clgan_opt_cfg *opt,
                             float clip_weights) {
  clgan_status st;
  /* Data-parallel: the ranks' gradients summed (each scaled by 1 / global already, so the sum
   * is the global mean) before clipping sees them; one fused host buffer per network. */
  if (t->ranks > 1) {
    size_t bytes = net->arena_n * sizeof(float);
    if ((st = clgan_buffer_read(t->dev, &net->grads, 0, bytes, t->host_grads)) ||
        (st = clgan_dist_allreduce_sum(t->dist, t->host_grads, net->arena_n)) ||
        (st = clgan_buffer_write(t->dev, &net->grads, 0, bytes, t->host_grads)))
      return st;
  }
  clgan_step_cfg step = {.opt = *opt, .clip_norm = t->cfg.clip_norm,
                         .clip_weights = clip_weights};
  return clgan_net_step(net, &step);
}

/* WGAN-GP: lambda * mean((||dD/dx_hat|| - 1)^2) on interpolates between the real and the fake
 * batch as D saw them (augmented, with DiffAugment), its gradient added to the critic's by the
 * double backward (docs/wgan-gp.md). */
static clgan_status gradient_penalty(clgan_trainer *t, const clgan_buffer *real,
                                     const clgan_buffer *fake, long row) {
  clgan_status st;
  int b = t->cfg.batch;
  size_t fb = sizeof(float);
  const clgan_buffer *out = NULL, *g = NULL;
  clgan_backward_cfg through = {.layers = t->d.run_count, .batch = b, .input_grad = 1};
  clgan_gp_cfg gp = {.lambda = t->cfg.gp_lambda, .scale = 1.0f / (float)t->global};
  /* The interpolation weights: this micro-batch's rows of the global batch's draw. */
  if (!t->external_batches && t->sliced &&
      (st = clgan_buffer_copy(t->dev, &t->gp_eps, 0, &t->gp_eps_all, (size_t)row * fb,
                              (size_t)b * fb)))
    return st;
  if ((!t->external_batches && !t->sliced &&
       (st = clgan_rand_uniform(t->dev, &t->gp_eps, b, 0.0f, 1.0f, t->cfg.seed,
                                (uint64_t)t->d_batches, STREAM_GP))) ||
      (st = clgan_gp_interpolate(t->dev, &t->x_hat, real, fake, &t->gp_eps, b, t->dim)))
    return st;
  /* The interpolates carry the real batch's labels (a conditional critic). */
  clgan_net_set_labels(&t->d, &t->labels_real);
  if ((st = clgan_net_forward(&t->d, &t->x_hat, b, t->d.run_count, 1, &out)) ||
      (st = clgan_net_backward(&t->d, &through, &t->x_hat, &t->ones, &g)))
    return st;
  /* dg overwrites g in place: the double backward reads the layers' other gradients only. */
  clgan_buffer *dg = (clgan_buffer *)g;
  if ((st = clgan_gp_penalty(t->dev, &gp, dg, &t->loss_terms, NULL, g, b, t->dim)) ||
      (st = clgan_reduce_sum(t->dev, &t->stats, STAT_GP, &t->loss_terms, b, 1)))
    return st;
  return clgan_net_double_backward(&t->d, b, &t->x_hat, &t->ones, dg);
}

/* The key of micro-batch k of optimizer step `step`'s draws: the step itself alone and
 * unaccumulated, else one key per micro-batch of every rank (DiffAugment draws per row of a
 * batch, so these differ with the split: issue 14's equivalence holds without it). */
static long micro_key(const clgan_trainer *t, long step, int k) {
  return step * (long)t->accum * t->ranks + (long)k * t->ranks + t->rank;
}

/* DiffAugment of one batch of G's output shape, keyed (seed, step, stream). */
static clgan_aug_cfg aug_cfg(const clgan_trainer *t, long step, uint32_t stream) {
  return (clgan_aug_cfg){.policy = t->cfg.diffaug, .n = t->cfg.batch, .c = 1,
                         .h = t->data.rows, .w = t->data.cols, .seed = t->cfg.seed,
                         .step = (uint64_t)step, .stream = stream};
}

/* The D step's real and fake batch augmented, each with its own draws, into real_aug and
 * fake_aug (fused: x2's halves, so this replaces the copy of the fake batch). */
static clgan_status augment_d_batches(clgan_trainer *t, const clgan_buffer *fake, int k) {
  clgan_aug_cfg real = aug_cfg(t, micro_key(t, t->d_batches, k), STREAM_AUG_REAL);
  clgan_aug_cfg gen = aug_cfg(t, micro_key(t, t->d_batches, k), STREAM_AUG_FAKE);
  clgan_status st = clgan_augment_forward(t->dev, &real, &t->real_aug, &t->real);
  return st != CLGAN_OK ? st : clgan_augment_forward(t->dev, &gen, &t->fake_aug, fake);
}

/* Row of the global batch where rank t->rank's micro-batch k starts. */
static long micro_row(const clgan_trainer *t, int k) {
  return ((long)k * t->ranks + t->rank) * t->cfg.batch;
}

/* The draws of one optimizer step's global batch, keyed by the D steps done: the noise and
 * the fake labels' uniforms (WGAN-GP's weights are drawn by gradient_penalty). Alone and
 * unaccumulated they go straight into the batch's buffers, as before issue 14. */
static clgan_status draw_step(clgan_trainer *t) {
  clgan_status st;
  int n = (int)t->global;
  uint64_t key = (uint64_t)t->d_batches;
  if ((st = clgan_rand_normal(t->dev, t->sliced ? &t->z_all : &t->z, n * t->cfg.latent, 0.0f,
                              1.0f, t->cfg.seed, key, STREAM_NOISE)))
    return st;
  if (t->cfg.classes > 0 &&
      (st = clgan_rand_uniform(t->dev, t->sliced ? &t->label_u_all : &t->label_u, n, 0.0f, 1.0f,
                               t->cfg.seed, key, STREAM_LABELS)))
    return st;
  if (t->sliced && t->cfg.loss == CLGAN_LOSS_WGAN_GP)
    return clgan_rand_uniform(t->dev, &t->gp_eps_all, n, 0.0f, 1.0f, t->cfg.seed, key,
                              STREAM_GP);
  return CLGAN_OK;
}

/* Micro-batch k's noise and fake labels: its rows of the step's draws. */
static clgan_status micro_latent(clgan_trainer *t, int k) {
  clgan_status st;
  size_t row = (size_t)micro_row(t, k), b = (size_t)t->cfg.batch, fb = sizeof(float);
  size_t lat = (size_t)t->cfg.latent;
  if (t->sliced &&
      ((st = clgan_buffer_copy(t->dev, &t->z, 0, &t->z_all, row * lat * fb, b * lat * fb)) ||
       (t->cfg.classes > 0 &&
        (st = clgan_buffer_copy(t->dev, &t->label_u, 0, &t->label_u_all, row * fb, b * fb)))))
    return st;
  if (t->cfg.classes > 0)
    return clgan_labels_from_uniform(t->dev, &t->labels_fake, &t->label_u, &t->label_cdf,
                                     (int)b, t->cfg.classes);
  return CLGAN_OK;
}

/* One micro-batch of a D step: its real rows and fake batch through D, the gradients added to
 * D's (k > 0) or written (k = 0). */
static clgan_status d_micro(clgan_trainer *t, int k) {
  clgan_status st;
  int b = t->cfg.batch;
  long pos = t->pos + micro_row(t, k);
  const clgan_buffer *fake = NULL, *logits = NULL;
  int dl = t->d.run_count;
  clgan_backward_cfg back = {.layers = dl, .batch = b, .param_grads = 1, .accumulate = k > 0};
  if (!t->external_batches &&
      ((st = real_batch(t, pos)) || (st = micro_latent(t, k))))
    return st;
  /* Conditional: the real labels by the same permutation. */
  if (t->cfg.classes > 0 && !t->external_batches &&
      (st = clgan_gather_labels(t->dev, &t->labels_real, &t->data.labels, &t->perm, (int)pos,
                                b)))
    return st;
  if ((st = clgan_net_forward(&t->g, &t->z, b, t->g.count, 1, &fake))) return st;
  /* What D sees: the batches themselves, or with DiffAugment their augmentations. */
  const clgan_buffer *real_in = &t->real, *fake_in = fake;
  if (t->cfg.diffaug) {
    if ((st = augment_d_batches(t, fake, k))) return st;
    real_in = &t->real_aug;
    fake_in = &t->fake_aug;
  }
  if (t->fused) {
    /* Real rows then fake rows through D at once; the losses see the two halves. */
    back.batch = 2 * b;
    clgan_net_set_labels(&t->d, &t->labels2);
    if ((!t->cfg.diffaug &&
         (st = clgan_buffer_copy(t->dev, &t->x2_fake, 0, fake, 0, t->x2_fake.bytes))) ||
        (st = clgan_net_forward(&t->d, &t->x2, 2 * b, dl, 1, &logits)) ||
        (st = loss_and_stats(t, &t->logits_real, ON_REAL)) ||
        (st = loss_into(t, &t->logits_fake, ON_FAKE,
                        (loss_bufs){&t->dl_fake, &t->lt_fake, &t->pr_fake})) ||
        (st = clgan_net_backward(&t->d, &back, &t->x2, &t->dl2, NULL)))
      return st;
  } else {
    /* D on the real batch, then on the fake one, gradients summed. */
    clgan_net_set_labels(&t->d, &t->labels_real);
    if ((st = clgan_net_forward(&t->d, real_in, b, dl, 1, &logits)) ||
        (st = loss_and_stats(t, logits, ON_REAL)) ||
        (st = clgan_net_backward(&t->d, &back, real_in, &t->dlogits, NULL)))
      return st;
    back.accumulate = 1;
    clgan_net_set_labels(&t->d, &t->labels_fake);
    if ((st = clgan_net_forward(&t->d, fake_in, b, dl, 1, &logits)) ||
        (st = loss_and_stats(t, logits, ON_FAKE)) ||
        (st = clgan_net_backward(&t->d, &back, fake_in, &t->dlogits, NULL)))
      return st;
  }
  if (t->cfg.loss == CLGAN_LOSS_WGAN_GP &&
      (st = gradient_penalty(t, real_in, fake_in, micro_row(t, k))))
    return st;
  return CLGAN_OK;
}

static clgan_status d_step(clgan_trainer *t) {
  clgan_status st;
  if (!t->external_batches && t->pos + t->global > t->data.count) {
    t->epoch++;
    t->pos = 0;
    if ((st = clgan_trainer_shuffle(t))) return st;
  }
  if (t->external_batches && t->accum > 1) {
    clgan_error("external batches (tests) take one micro-batch per step");
    return CLGAN_INVALID_ARGUMENT;
  }
  if (t->external_batches && t->test_hook && (st = t->test_hook(t, 0, t->test_hook_ctx)))
    return st;
  if (!t->external_batches && (st = draw_step(t))) return st;
  for (int k = 0; k < t->accum; k++)
    if ((st = d_micro(t, k))) return st;
  /* One update of D for all its micro-batches (and ranks). */
  if ((st = optimize(t, &t->d, &t->cfg.opt_d, t->cfg.clip_weights))) return st;
  if (t->external_batches && t->test_hook && (st = t->test_hook(t, 1, t->test_hook_ctx)))
    return st;
  t->pos += t->global;
  t->d_batches++;
  t->window_d++;
  return CLGAN_OK;
}

/* Micro-batch k of the G step through the updated D, G's gradients added (k > 0). */
static clgan_status g_micro(clgan_trainer *t, int k) {
  clgan_status st;
  int b = t->cfg.batch;
  /* The fake batch of the last D step (G has not changed). Accumulating, only the last
   * micro-batch's activations are still in G: the others are made again from their rows of
   * the step's draws (and G's batch-norm running statistics see them a second time). */
  const clgan_buffer *fake = t->g.output, *logits = NULL, *dfake = NULL;
  if (t->accum > 1 && ((st = micro_latent(t, k)) ||
                       (st = clgan_net_forward(&t->g, &t->z, b, t->g.count, 1, &fake))))
    return st;
  clgan_backward_cfg through_d = {.layers = t->d.run_count, .batch = b, .input_grad = 1};
  clgan_backward_cfg g_back = {.layers = t->g.count, .batch = b, .param_grads = 1,
                               .accumulate = k > 0};
  /* With DiffAugment on its own augmentation, the gradient brought back through A^T. */
  clgan_aug_cfg aug = aug_cfg(t, micro_key(t, t->step, k), STREAM_AUG_G);
  if (t->cfg.diffaug) {
    if ((st = clgan_augment_forward(t->dev, &aug, &t->fake_aug, fake))) return st;
    fake = &t->fake_aug;
  }
  clgan_net_set_labels(&t->d, &t->labels_fake);
  if ((st = clgan_net_forward(&t->d, fake, b, t->d.run_count, 1, &logits)) ||
      (st = loss_and_stats(t, logits, FOR_G)) ||
      (st = clgan_net_backward(&t->d, &through_d, fake, &t->dlogits, &dfake)))
    return st;
  if (t->cfg.diffaug) {
    if ((st = clgan_augment_backward(t->dev, &aug, &t->dfake, dfake))) return st;
    dfake = &t->dfake;
  }
  return clgan_net_backward(&t->g, &g_back, &t->z, dfake, NULL);
}

clgan_status clgan_trainer_step(clgan_trainer *t) {
  clgan_status st;
  for (int k = 0; k < t->cfg.d_steps; k++)
    if ((st = d_step(t))) return st;
  for (int k = 0; k < t->accum; k++)
    if ((st = g_micro(t, k))) return st;
  if ((st = optimize(t, &t->g, &t->cfg.opt_g, 0.0f))) return st;
  if (t->cfg.ema > 0.0f &&
      (st = clgan_net_average(&t->g_ema, &t->g, clgan_ema_decay(t->cfg.ema, t->step))))
    return st;
  t->step++;
  t->window_g++;
  /* Keep a few steps in flight: enough to never idle the device, few enough that the queue
   * stays short (bench/RESULTS.md). */
  return clgan_inflight_step(t->dev, &t->in_flight, t->step, t->in_flight_depth);
}

/* Data-parallel: every rank's window of statistics summed (one small all-reduce). */
static clgan_status sum_stats(clgan_trainer *t, float *s) {
  clgan_status st = clgan_buffer_read(t->dev, &t->stats, 0, STAT_COUNT * sizeof(float), s);
  if (st == CLGAN_OK) st = clgan_dist_allreduce_sum(t->dist, s, STAT_COUNT);
  return st;
}

clgan_status clgan_trainer_gather_metrics(clgan_trainer *t) {
  float s[STAT_COUNT];
  if (t->ranks == 1) return CLGAN_OK;
  clgan_status st = sum_stats(t, s);
  if (st != CLGAN_OK) return st;
  /* Rank 0 holds the sums, the others nothing: a later sum is the same. */
  if (t->rank != 0) return clgan_buffer_zero(t->dev, &t->stats);
  return clgan_buffer_write(t->dev, &t->stats, 0, sizeof s, s);
}

clgan_status clgan_trainer_metrics(clgan_trainer *t, clgan_metrics *m) {
  float s[STAT_COUNT];
  memset(m, 0, sizeof *m);
  clgan_status st = sum_stats(t, s);
  if (st != CLGAN_OK) return st;
  if ((st = clgan_buffer_zero(t->dev, &t->stats))) return st;
  /* Images, not micro-batches: the sums hold every rank's every micro-batch. */
  double nd = (double)t->window_d * (double)t->global, ng = (double)t->window_g * (double)t->global;
  m->steps = t->window_g;
  if (nd > 0) {
    m->d_loss = ((double)s[STAT_D_LOSS_REAL] + s[STAT_D_LOSS_FAKE] + s[STAT_GP]) / nd;
    m->d_real = s[STAT_D_REAL] / nd;
    m->d_fake = s[STAT_D_FAKE] / nd;
    m->acc_real = s[STAT_ACC_REAL] / nd;
    m->acc_fake = s[STAT_ACC_FAKE] / nd;
    m->acc = 0.5 * (m->acc_real + m->acc_fake);
  }
  if (ng > 0) m->g_loss = s[STAT_G_LOSS] / ng;
  t->window_g = t->window_d = 0;
  return CLGAN_OK;
}

long clgan_trainer_step_count(const clgan_trainer *t) { return t->step; }
long clgan_trainer_global_batch(const clgan_trainer *t) { return t->global; }
int clgan_trainer_epoch(const clgan_trainer *t) {
  return t->pos + t->global > t->data.count ? t->epoch + 1 : t->epoch;
}
long clgan_trainer_steps_per_epoch(const clgan_trainer *t) {
  long n = t->data.count / (t->global * t->cfg.d_steps);
  return n > 0 ? n : 1; /* a data set smaller than d_steps batches still makes epochs */
}
const clgan_train_cfg *clgan_trainer_cfg(const clgan_trainer *t) { return &t->cfg; }
clgan_net *clgan_trainer_generator(clgan_trainer *t) { return &t->g; }
clgan_net *clgan_trainer_discriminator(clgan_trainer *t) { return &t->d; }
clgan_net *clgan_trainer_sampler(clgan_trainer *t) {
  return t->cfg.ema > 0.0f ? &t->g_ema : &t->g;
}

double clgan_ema_decay(double decay, long updates) {
  double warm = (1.0 + (double)updates) / (10.0 + (double)updates);
  return warm < decay ? warm : decay;
}

void clgan_fixed_latent(float *z, int count, int latent_dim, uint64_t seed) {
  clgan_ref_rand_normal(z, count * latent_dim, 0.0f, 1.0f, seed, 0, STREAM_FIXED_LATENT);
}

void clgan_class_grid(float *z, int32_t *labels, int classes, int cols, int latent_dim,
                      uint64_t seed) {
  size_t n = (size_t)latent_dim;
  clgan_fixed_latent(z, cols, latent_dim, seed);
  for (int k = classes - 1; k >= 0; k--)
    for (int j = cols - 1; j >= 0; j--) {
      /* Row 0 is the fixed batch itself; later rows copy it (back to front, in place). */
      if (k) memcpy(z + ((size_t)k * cols + j) * n, z + (size_t)j * n, n * sizeof *z);
      labels[(size_t)k * cols + j] = k;
    }
}

clgan_status clgan_generate(clgan_net *g, const float *latent, int count, int latent_dim,
                            float *out) {
  return clgan_generate_labels(g, latent, NULL, count, latent_dim, out);
}

clgan_status clgan_generate_labels(clgan_net *g, const float *latent, const int32_t *labels,
                                   int count, int latent_dim, float *out) {
  clgan_status st = CLGAN_OK;
  clgan_buffer z = {0}, lab = {0};
  int chunk = g->max_batch, classes = g->cond.kind != CLGAN_COND_NONE ? g->cond.classes : 0;
  size_t fb = sizeof(float);
  int32_t *host = NULL;
  const clgan_buffer *saved = g->labels;
  for (int i = 0; labels && classes && i < count; i++)
    if (labels[i] < 0 || labels[i] >= classes) {
      clgan_error("sample %d asks for class %d; the generator knows classes 0..%d", i,
                  (int)labels[i], classes - 1);
      return CLGAN_INVALID_ARGUMENT;
    }
  if ((st = clgan_buffer_alloc(g->dev, &z, (size_t)chunk * (size_t)latent_dim * fb))) return st;
  if (classes) {
    host = malloc((size_t)chunk * sizeof *host);
    if (!host) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto done;
    }
    if ((st = clgan_buffer_alloc(g->dev, &lab, (size_t)chunk * sizeof(int32_t)))) goto done;
    clgan_net_set_labels(g, &lab);
  }
  for (int first = 0; first < count; first += chunk) {
    int n = count - first < chunk ? count - first : chunk;
    const clgan_buffer *y = NULL;
    for (int i = 0; classes && i < n; i++)
      host[i] = labels ? labels[first + i] : (first + i) % classes;
    if ((classes &&
         (st = clgan_buffer_write(g->dev, &lab, 0, (size_t)n * sizeof(int32_t), host))) ||
        (st = clgan_buffer_write(g->dev, &z, 0, (size_t)n * (size_t)latent_dim * fb,
                                 latent + (size_t)first * (size_t)latent_dim)) ||
        (st = clgan_net_forward(g, &z, n, g->count, 0, &y)) ||
        (st = clgan_buffer_read(g->dev, y, 0, (size_t)n * (size_t)g->out * fb,
                                out + (size_t)first * (size_t)g->out)))
      break;
  }
done:
  /* The read above waited for the forward: the buffer can go, and the net gets its own back. */
  clgan_net_set_labels(g, saved);
  clgan_buffer_free(&lab);
  clgan_buffer_free(&z);
  free(host);
  return st;
}
