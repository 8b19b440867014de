/* Task-based evaluation of a conditional generator (issue 12): the Classification Accuracy
 * Score (Ravuri & Vinyals 2019, "Classification Accuracy Score for Conditional Generative
 * Models"): the domain classifier (src/gan/classifier.c, the same spec and schedule) trained
 * only on N generated labelled images and tested on the real test split, beside the same
 * classifier trained on N real images and on those N real plus the N generated ones
 * (augmentation); and, with the judge (the classifier trained on all real training images),
 * the conditional accuracy (the share of samples asked for class k that it assigns to k) and
 * the FID of each class's samples against that class's real images, on its features. */
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"

/* Generated images to uint8 pixels, as clgan sample writes IDX files. */
static void to_bytes(uint8_t *out, const float *images, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = (images[i] + 1.0f) * 127.5f;
    out[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
  }
}

/* A data set over host arrays (not owned). */
static clgan_dataset view(int count, int rows, int cols, uint8_t *images, uint8_t *labels,
                          int classes) {
  return (clgan_dataset){.count = count, .rows = rows, .cols = cols, .images = images,
                         .labels = labels, .classes = classes};
}

static clgan_status train_and_test(clgan_device *dev, const clgan_cas_cfg *cfg,
                                   const clgan_dataset *train, const clgan_dataset *test,
                                   double *accuracy) {
  clgan_classifier *c = NULL;
  clgan_status st = clgan_classifier_train(&c, dev, &cfg->classifier, train, test, accuracy);
  clgan_classifier_free(c);
  return st;
}

/* Per-class FID on the judge's features: the samples of class k against as many real training
 * images of class k, taken in the order perm gives (fewer if the class has fewer). */
static clgan_status class_fids(clgan_classifier *judge, const clgan_dataset *train,
                               const int32_t *perm, const float *sample_f, const int32_t *labels,
                               int n, clgan_cas_result *r) {
  clgan_status st = CLGAN_OK;
  int dim = clgan_classifier_feature_dim(judge), k = r->classes;
  size_t px = (size_t)train->rows * (size_t)train->cols;
  float *fake = malloc((size_t)n * (size_t)dim * sizeof *fake);
  float *real = malloc((size_t)n * (size_t)dim * sizeof *real);
  uint8_t *pick = malloc((size_t)n * px);
  if (!fake || !real || !pick) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  for (int c = 0; c < k; c++) {
    int nf = 0, nr = 0;
    for (int i = 0; i < n; i++)
      if (labels[i] == c)
        memcpy(fake + (size_t)nf++ * dim, sample_f + (size_t)i * dim, (size_t)dim * sizeof *fake);
    for (int i = 0; i < train->count && nr < nf; i++) {
      int row = perm[i];
      if (train->labels[row] == c) memcpy(pick + (size_t)nr++ * px, train->images + row * px, px);
    }
    r->class_fid[c] = -1.0;
    if (nf < 2 || nr < 2) continue;
    if ((st = clgan_classifier_embed_u8(judge, pick, nr, real, NULL, NULL)) ||
        (st = clgan_fid(real, nr, fake, nf, dim, &r->class_fid[c])))
      goto done;
  }
done:
  free(fake);
  free(real);
  free(pick);
  return st;
}

clgan_status clgan_cas(clgan_device *dev, clgan_net *g, int latent, const clgan_dataset *train,
                       const clgan_dataset *test, clgan_classifier *judge,
                       const clgan_cas_cfg *cfg, clgan_cas_result *r) {
  clgan_status st = CLGAN_OK;
  int n = cfg->count, k = g->cond.classes;
  size_t px = (size_t)train->rows * (size_t)train->cols;
  memset(r, 0, sizeof *r);
  if (g->cond.kind == CLGAN_COND_NONE || k < 2 || k > CLGAN_MAX_CLASSES) {
    clgan_error("the Classification Accuracy Score needs a conditional generator");
    return CLGAN_INVALID_ARGUMENT;
  }
  if (!train->labels || !test->labels || train->classes > k || n < 2 * k || n > train->count) {
    clgan_error("the Classification Accuracy Score needs labelled train and test splits of at "
                "most %d classes, and %d to %d images (%d asked)", k, 2 * k, train->count, n);
    return CLGAN_INVALID_ARGUMENT;
  }
  r->count = n;
  r->classes = k;
  float *z = malloc((size_t)n * (size_t)latent * sizeof *z);
  float *images = malloc((size_t)n * px * sizeof *images);
  float *features = malloc((size_t)n * (size_t)clgan_classifier_feature_dim(judge) * sizeof(float));
  int32_t *labels = malloc((size_t)n * sizeof *labels), *perm = malloc((size_t)train->count * sizeof *perm);
  int *pred = malloc((size_t)n * sizeof *pred);
  /* Synthetic, then real, then real + synthetic images and labels in one pair of arrays. */
  uint8_t *bytes = malloc(2 * (size_t)n * px), *lab = malloc(2 * (size_t)n);
  if (!z || !images || !features || !labels || !perm || !pred || !bytes || !lab) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  /* Balanced classes, the order shuffled so that no batch is one class. */
  clgan_philox_shuffle(perm, n, cfg->seed, 0, 0x434153);
  for (int i = 0; i < n; i++) labels[perm[i]] = i % k;
  clgan_fixed_latent(z, n, latent, cfg->seed);
  if ((st = clgan_generate_labels(g, z, labels, n, latent, images))) goto done;
  to_bytes(bytes, images, (size_t)n * px);
  for (int i = 0; i < n; i++) lab[i] = (uint8_t)labels[i];
  /* The real subset: the first n of a fixed permutation of the training set. */
  clgan_philox_shuffle(perm, train->count, 0x5245414C, 0, 0x434153);
  for (int i = 0; i < n; i++) {
    memcpy(bytes + ((size_t)n + i) * px, train->images + (size_t)perm[i] * px, px);
    lab[n + i] = train->labels[perm[i]];
  }
  clgan_dataset synth = view(n, train->rows, train->cols, bytes, lab, k);
  clgan_dataset real = view(n, train->rows, train->cols, bytes + (size_t)n * px, lab + n, k);
  clgan_dataset both = view(2 * n, train->rows, train->cols, bytes, lab, k);
  if ((st = train_and_test(dev, cfg, &synth, test, &r->cas)) ||
      (st = train_and_test(dev, cfg, &real, test, &r->real)) ||
      (st = train_and_test(dev, cfg, &both, test, &r->augmented)))
    goto done;
  /* The judge on the samples: conditional accuracy, and the features of per-class FID. */
  if ((st = clgan_classifier_embed(judge, images, n, features, pred, NULL))) goto done;
  int hits = 0, per[CLGAN_MAX_CLASSES] = {0}, asked[CLGAN_MAX_CLASSES] = {0};
  for (int i = 0; i < n; i++) {
    asked[labels[i]]++;
    if (pred[i] == labels[i]) hits++, per[labels[i]]++;
  }
  r->cond_accuracy = (double)hits / n;
  for (int c = 0; c < k; c++) r->class_accuracy[c] = asked[c] ? (double)per[c] / asked[c] : 0;
  st = class_fids(judge, train, perm, features, labels, n, r);
done:
  free(z);
  free(images);
  free(features);
  free(labels);
  free(perm);
  free(pred);
  free(bytes);
  free(lab);
  return st;
}
