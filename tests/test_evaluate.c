/* The evaluator (src/gan/evaluate.c) with the PyTorch fixture's classifier: judging the
 * reference's own images scores a perfect generator (FID ~0, precision = recall = coverage = 1),
 * floats and uint8 judge alike, the reference subset is fixed and without repeats, different
 * images score worse, and bad input (too few samples, NaN images, another image size) is refused
 * with the right status. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/eval.h"
#include "clgan/ops.h"
#include "harness.h"

#define FIXTURE CLGAN_TEST_DATA_DIR "/classifier_forward.safetensors"

static void quiet(const char *level, const char *text, void *user) {
  (void)level, (void)text, (void)user;
}

/* n random 28x28 images: blobs of light on black, so the features vary from image to image. */
static void make_images(uint8_t *images, int n, unsigned long long *rng) {
  float *u = malloc((size_t)n * 784 * sizeof *u);
  test_fill_uniform(u, (size_t)n * 784, 0, 1, rng);
  for (int i = 0; i < n; i++) {
    float cx = 6 + 16 * u[(size_t)i * 784], cy = 6 + 16 * u[(size_t)i * 784 + 1];
    float r = 3 + 6 * u[(size_t)i * 784 + 2];
    for (int y = 0; y < 28; y++)
      for (int x = 0; x < 28; x++) {
        float d = sqrtf((x - cx) * (x - cx) + (y - cy) * (y - cy));
        float v = d < r ? 255 * (1 - d / r) + 40 * u[(size_t)i * 784 + y * 28 + x] : 0;
        images[(size_t)i * 784 + y * 28 + x] = (uint8_t)(v > 255 ? 255 : v);
      }
  }
  free(u);
}

int main(void) {
  clgan_device *dev = test_open_device();
  clgan_classifier *c = NULL;
  clgan_status st = clgan_classifier_load(&c, dev, FIXTURE);
  CHECK(st == CLGAN_OK, "load the fixture classifier: %s", clgan_status_name(st));
  if (st != CLGAN_OK) return test_finish();
  enum { N = 300, REF = 200 };
  unsigned long long rng = 42;
  clgan_dataset ds = {.count = N, .rows = 28, .cols = 28};
  ds.images = malloc((size_t)N * 784);
  make_images(ds.images, N, &rng);

  clgan_eval_cfg cfg = {.kid = {.subsets = 10, .subset_size = 50, .seed = 3}};
  clgan_evaluator *ev = NULL;
  st = clgan_evaluator_create(&ev, dev, c, &ds, REF, &cfg);
  CHECK(st == CLGAN_OK, "evaluator_create: %s", clgan_status_name(st));
  if (st != CLGAN_OK) return test_finish();
  int n = 0, dim = 0;
  const float *real = clgan_evaluator_real_features(ev, &n, &dim);
  CHECK(n == REF && dim == clgan_classifier_feature_dim(c), "reference %d x %d, want %d x %d", n,
        dim, REF, clgan_classifier_feature_dim(c));

  /* Which images the reference holds: each reference row equals the features of exactly one
   * data-set image, and no image twice. */
  float *all = malloc((size_t)N * (size_t)dim * sizeof *all);
  CHECK(clgan_classifier_embed_u8(c, ds.images, N, all, NULL, NULL) == CLGAN_OK, "embed all");
  int *taken = calloc(N, sizeof *taken), *which = malloc(REF * sizeof *which);
  int matched = 0, repeats = 0;
  for (int i = 0; i < REF; i++) {
    which[i] = -1;
    for (int j = 0; j < N && which[i] < 0; j++)
      if (!memcmp(real + (size_t)i * dim, all + (size_t)j * dim, (size_t)dim * sizeof(float)))
        which[i] = j;
    if (which[i] >= 0) {
      matched++;
      repeats += taken[which[i]]++ > 0;
    }
  }
  CHECK(matched == REF && repeats == 0, "reference rows: %d of %d are data-set images, %d repeats",
        matched, REF, repeats);
  int in_order = 1;
  for (int i = 0; i < REF; i++) in_order &= which[i] == i;
  CHECK(!in_order, "the reference is a random subset, not the first %d images", REF);

  /* The reference's own images, judged: a perfect generator. */
  uint8_t *same = malloc((size_t)REF * 784);
  for (int i = 0; i < REF; i++) memcpy(same + (size_t)i * 784, ds.images + (size_t)which[i] * 784, 784);
  clgan_eval_result r;
  float *feat = malloc((size_t)REF * (size_t)dim * sizeof *feat);
  st = clgan_evaluator_score_u8(ev, same, REF, feat, &r);
  CHECK(st == CLGAN_OK, "score the reference's images: %s", clgan_status_name(st));
  CHECK(fabs(r.fid) < 1e-6, "FID of the reference with itself %g", r.fid);
  CHECK(r.prdc.precision == 1 && r.prdc.recall == 1 && r.prdc.coverage == 1,
        "precision %g recall %g coverage %g of identical sets, want 1", r.prdc.precision,
        r.prdc.recall, r.prdc.coverage);
  CHECK(!memcmp(feat, real, (size_t)REF * (size_t)dim * sizeof(float)),
        "features written for the samples are theirs");
  CHECK(r.n_real == REF && r.n_fake == REF && r.k_pr == 3 && r.k_dc == 5 && r.kid_subsets == 10 &&
            r.kid_subset_size == 50, "result bookkeeping: %d %d %d %d %d %d", r.n_real, r.n_fake,
        r.k_pr, r.k_dc, r.kid_subsets, r.kid_subset_size);
  long total = 0;
  for (int k = 0; k < r.classes.classes; k++) total += r.classes.hist[k];
  CHECK(r.classes.classes == clgan_classifier_classes(c) && total == REF,
        "class histogram counts %ld of %d samples", total, REF);

  /* The same images as floats in [-1, 1] judge the same. */
  float *fl = malloc((size_t)REF * 784 * sizeof *fl);
  for (size_t i = 0; i < (size_t)REF * 784; i++) fl[i] = clgan_pixel_to_unit(same[i]);
  clgan_eval_result rf;
  CHECK(clgan_evaluator_score(ev, fl, REF, NULL, &rf) == CLGAN_OK, "score floats");
  CHECK(rf.fid == r.fid && rf.kid_mean == r.kid_mean && rf.prdc.density == r.prdc.density,
        "floats and uint8 judge alike: FID %g vs %g", rf.fid, r.fid);

  /* Other images (the images not in the reference, then inverted ones) score worse. */
  uint8_t *other = malloc((size_t)(N - REF) * 784);
  int m = 0;
  for (int j = 0; j < N; j++)
    if (!taken[j]) memcpy(other + (size_t)m++ * 784, ds.images + (size_t)j * 784, 784);
  clgan_eval_result ro, rinv;
  CHECK(clgan_evaluator_score_u8(ev, other, m, NULL, &ro) == CLGAN_OK, "score held-out images");
  for (size_t i = 0; i < (size_t)m * 784; i++) other[i] = (uint8_t)(255 - other[i]);
  CHECK(clgan_evaluator_score_u8(ev, other, m, NULL, &rinv) == CLGAN_OK, "score inverted images");
  CHECK(ro.fid > r.fid && rinv.fid > 10 * ro.fid && rinv.kid_mean > ro.kid_mean,
        "FID: identical %g < held-out %g << inverted %g; KID %g < %g", r.fid, ro.fid, rinv.fid,
        ro.kid_mean, rinv.kid_mean);

  /* Bad input. */
  clgan_set_log(quiet, NULL);
  CHECK(clgan_evaluator_score_u8(ev, same, 5, NULL, &r) == CLGAN_INVALID_ARGUMENT,
        "5 samples (k + 1 = 6 needed) refused");
  fl[3 * 784 + 17] = NAN;
  st = clgan_evaluator_score(ev, fl, REF, NULL, &r);
  CHECK(st == CLGAN_NUMERIC, "a NaN image gives non-finite features: %s", clgan_status_name(st));
  clgan_dataset small = {.count = 10, .rows = 20, .cols = 20, .images = ds.images};
  clgan_evaluator *bad = NULL;
  CHECK(clgan_evaluator_create(&bad, dev, c, &small, 10, &cfg) == CLGAN_INVALID_ARGUMENT && !bad,
        "20x20 real images for a 28x28 classifier refused");
  clgan_set_log(NULL, NULL);

  free(all), free(taken), free(which), free(same), free(feat), free(fl), free(other);
  free(ds.images);
  clgan_evaluator_free(ev);
  clgan_classifier_free(c);
  clgan_device_close(dev);
  return test_finish();
}
