/* One evaluation: the classifier's features of a fixed real reference, held once, and of the
 * images to judge, then every statistic of src/gan/metrics.c on the two sets. The reference is
 * embedded when the evaluator is made, so judging a generator at many steps of a run (clgan
 * train --eval-every) embeds only the samples each time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/eval.h"
#include "clgan/ops.h"
#include "util/clock.h"

/* Philox stream of the reference subset; the key is fixed (not the run's seed) so that every
 * run and every clgan eval on the same data is judged against the same real images. */
enum { STREAM_EVAL_SUBSET = 0x4556 };
static const uint32_t subset_key[2] = {0x636c6761u, 0x6e657661u};

struct clgan_evaluator {
  clgan_device *dev;
  clgan_classifier *c;
  clgan_eval_cfg cfg;
  float *real; /* (n_real, dim) */
  int n_real, dim, classes, pixels;
  double embed_s;
};

/* The first count entries of a Philox-driven Fisher-Yates shuffle of 0..n-1. */
static void choose_subset(int32_t *index, int n, int count) {
  int32_t *perm = index;
  for (int i = 0; i < n; i++) perm[i] = i;
  uint32_t words[4];
  for (int i = 0; i < count && i < n - 1; i++) {
    if (i % 4 == 0) {
      uint32_t ctr[4] = {(uint32_t)(i / 4), 0, 0, STREAM_EVAL_SUBSET};
      clgan_philox4x32(ctr, subset_key, words);
    }
    uint32_t span = (uint32_t)(n - i);
    int j = i + (int)(((uint64_t)words[i % 4] * span) >> 32);
    int32_t tmp = perm[i];
    perm[i] = perm[j];
    perm[j] = tmp;
  }
}

void clgan_evaluator_free(clgan_evaluator *ev) {
  if (!ev) return;
  free(ev->real);
  free(ev);
}

clgan_status clgan_evaluator_create(clgan_evaluator **out, clgan_device *dev, clgan_classifier *c,
                                    const clgan_dataset *real, int count,
                                    const clgan_eval_cfg *cfg) {
  clgan_status st = CLGAN_OK;
  uint8_t *pixels = NULL;
  int32_t *index = NULL;
  *out = NULL;
  int rows, cols;
  clgan_classifier_image_size(c, &rows, &cols);
  if (real->rows != rows || real->cols != cols) {
    clgan_error("the classifier takes %dx%d images; the real images are %dx%d", rows, cols,
                real->rows, real->cols);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (count < 1) {
    clgan_error("evaluation needs at least one real image (count %d)", count);
    return CLGAN_INVALID_ARGUMENT;
  }
  clgan_evaluator *ev = calloc(1, sizeof *ev);
  if (!ev) return CLGAN_HOST_OUT_OF_MEMORY;
  ev->dev = dev;
  ev->c = c;
  ev->cfg = *cfg;
  if (ev->cfg.k_pr <= 0) ev->cfg.k_pr = 3;
  if (ev->cfg.k_dc <= 0) ev->cfg.k_dc = 5;
  ev->dim = clgan_classifier_feature_dim(c);
  ev->classes = clgan_classifier_classes(c);
  ev->pixels = rows * cols;
  ev->n_real = count < real->count ? count : real->count;
  size_t pix = (size_t)ev->pixels;
  index = malloc((size_t)real->count * sizeof *index);
  pixels = malloc((size_t)ev->n_real * pix);
  ev->real = malloc((size_t)ev->n_real * (size_t)ev->dim * sizeof *ev->real);
  if (!index || !pixels || !ev->real) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto fail;
  }
  choose_subset(index, real->count, ev->n_real);
  for (int i = 0; i < ev->n_real; i++)
    memcpy(pixels + (size_t)i * pix, real->images + (size_t)index[i] * pix, pix);
  double t0 = clgan_now_s();
  if ((st = clgan_classifier_embed_u8(c, pixels, ev->n_real, ev->real, NULL, NULL))) goto fail;
  ev->embed_s = clgan_now_s() - t0;
  free(index);
  free(pixels);
  *out = ev;
  return CLGAN_OK;
fail:
  free(index);
  free(pixels);
  clgan_evaluator_free(ev);
  return st;
}

const float *clgan_evaluator_real_features(const clgan_evaluator *ev, int *n, int *dim) {
  if (n) *n = ev->n_real;
  if (dim) *dim = ev->dim;
  return ev->real;
}

/* Everything after the embedding; fake (count, dim) are the images' features. */
static clgan_status score_features(clgan_evaluator *ev, const float *fake, const int *pred,
                                   const float *conf, int count, clgan_eval_result *r) {
  clgan_status st;
  double t0 = clgan_now_s();
  if ((st = clgan_fid(ev->real, ev->n_real, fake, count, ev->dim, &r->fid))) return st;
  double t1 = clgan_now_s();
  if ((st = clgan_kid(ev->dev, ev->real, ev->n_real, fake, count, ev->dim, &ev->cfg.kid,
                      &r->kid_mean, &r->kid_std)))
    return st;
  double t2 = clgan_now_s();
  if ((st = clgan_prdc_compute(ev->dev, ev->real, ev->n_real, fake, count, ev->dim,
                               ev->cfg.k_pr, ev->cfg.k_dc, &r->prdc)))
    return st;
  double t3 = clgan_now_s();
  clgan_class_stats_compute(&r->classes, pred, conf, count, ev->classes);
  r->fid_s = t1 - t0;
  r->kid_s = t2 - t1;
  r->prdc_s = t3 - t2;
  return CLGAN_OK;
}

/* The shared body of the two score functions: embed (floats or uint8), then score. */
static clgan_status score(clgan_evaluator *ev, const float *images, const uint8_t *bytes,
                          int count, float *features, clgan_eval_result *r) {
  clgan_status st = CLGAN_OK;
  memset(r, 0, sizeof *r);
  int need = (ev->cfg.k_pr > ev->cfg.k_dc ? ev->cfg.k_pr : ev->cfg.k_dc) + 1;
  if (count < need || ev->n_real < need) {
    clgan_error("%d samples against %d real images: precision / recall (k = %d) and density / "
                "coverage (k = %d) need at least %d of each", count, ev->n_real, ev->cfg.k_pr,
                ev->cfg.k_dc, need);
    return CLGAN_INVALID_ARGUMENT;
  }
  for (size_t i = 0; images && i < (size_t)count * (size_t)ev->pixels; i++) {
    if (!isfinite(images[i])) {
      clgan_error("sample %zu of %d has a non-finite value (%g) at pixel %zu: the generator "
                  "makes NaN or Inf", i / (size_t)ev->pixels + 1, count, (double)images[i],
                  i % (size_t)ev->pixels);
      return CLGAN_NUMERIC;
    }
  }
  r->n_real = ev->n_real;
  r->n_fake = count;
  r->dim = ev->dim;
  r->k_pr = ev->cfg.k_pr;
  r->k_dc = ev->cfg.k_dc;
  int smaller = count < ev->n_real ? count : ev->n_real;
  r->kid_subsets = ev->cfg.kid.subsets > 0 ? ev->cfg.kid.subsets : 100;
  r->kid_subset_size = ev->cfg.kid.subset_size > 0 ? ev->cfg.kid.subset_size : 1000;
  if (r->kid_subset_size > smaller) r->kid_subset_size = smaller;
  float *feat = features ? features : malloc((size_t)count * (size_t)ev->dim * sizeof *feat);
  int *pred = malloc((size_t)count * sizeof *pred);
  float *conf = malloc((size_t)count * sizeof *conf);
  if (!feat || !pred || !conf) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  double t0 = clgan_now_s();
  st = images ? clgan_classifier_embed(ev->c, images, count, feat, pred, conf)
              : clgan_classifier_embed_u8(ev->c, bytes, count, feat, pred, conf);
  if (st) goto done;
  double embed_s = clgan_now_s() - t0;
  if ((st = score_features(ev, feat, pred, conf, count, r))) goto done;
  r->embed_s = embed_s;
done:
  if (!features) free(feat);
  free(pred);
  free(conf);
  return st;
}

clgan_status clgan_evaluator_score(clgan_evaluator *ev, const float *images, int count,
                                   float *features, clgan_eval_result *r) {
  return score(ev, images, NULL, count, features, r);
}

clgan_status clgan_evaluator_score_u8(clgan_evaluator *ev, const uint8_t *images, int count,
                                      float *features, clgan_eval_result *r) {
  return score(ev, NULL, images, count, features, r);
}
