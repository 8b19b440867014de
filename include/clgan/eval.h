/* Judging a generator (issue 8): a domain classifier trained by clgan, whose late-layer features
 * stand in for Inception's (made for 299x299 photographs, a poor judge of 28x28 grayscale
 * images), and the statistics computed on those features: FID, KID, precision / recall,
 * density / coverage and the class histogram of the samples.
 *
 * Layers: the classifier is a clgan_net trained with the softmax cross-entropy op; the
 * statistics are host code in double precision (LAPACKE for FID's eigendecompositions) except
 * the pairwise distances of KID and precision / recall / density / coverage, which are GEMMs on
 * the device. */
#ifndef CLGAN_EVAL_H
#define CLGAN_EVAL_H

#include <stdint.h>

#include "clgan/data.h"
#include "clgan/device.h"
#include "clgan/status.h"

/* ---- The domain classifier (src/gan/classifier.c) ----------------------------------------- */

/* The default network: stride-2 convolutions with batch norm and ReLU, a dense feature layer
 * (its ReLU output is the feature vector), and the logits. The last layer must be linear with
 * as many outputs as the data has classes. */
#define CLGAN_CLASSIFIER_SPEC \
  "conv:32:3:2:1,bn2d,relu,conv:64:3:2:1,bn2d,relu,flatten,linear:128,bn,relu,linear:10"

/* The defaults of clgan_classifier_cfg (classifier.c says why): Adam (torch.optim's betas
 * and eps) with the learning rate decayed to 0 along a cosine over the run. */
#define CLGAN_CLASSIFIER_EPOCHS 4
#define CLGAN_CLASSIFIER_BATCH 128
#define CLGAN_CLASSIFIER_LR 1e-3

typedef struct {
  const char *spec;   /* NULL: CLGAN_CLASSIFIER_SPEC */
  int epochs;         /* 0: CLGAN_CLASSIFIER_EPOCHS */
  int batch;          /* 0: CLGAN_CLASSIFIER_BATCH (at least 2: batch norm) */
  double lr;          /* 0: CLGAN_CLASSIFIER_LR, the peak of the cosine schedule */
  uint64_t seed;
  /* Optional: one line per progress report (epoch, loss, accuracy, img/s). */
  void (*progress)(const char *line, void *user);
  void *user;
} clgan_classifier_cfg;

typedef struct clgan_classifier clgan_classifier;

/* Trains a classifier on the labelled train split and measures its accuracy on the test split
 * (both must have labels and the same image size). */
clgan_status clgan_classifier_train(clgan_classifier **out, clgan_device *dev,
                                    const clgan_classifier_cfg *cfg, const clgan_dataset *train,
                                    const clgan_dataset *test, double *test_accuracy);
/* safetensors, written atomically: the network's tensors under PyTorch's nn.Sequential names
 * ("0.weight", "1.running_mean", "1.num_batches_tracked", ...; no optimizer state), so
 * `nn.Sequential(...).load_state_dict(load_file(path))` works, and in the metadata
 * "clgan.kind" = "classifier", "spec", "rows", "cols", "classes", "fingerprint" (of the
 * training data, clgan_dataset_fingerprint), "test_accuracy", "epochs", "batch", "lr", "seed". */
clgan_status clgan_classifier_save(const clgan_classifier *c, const char *path);
/* Refuses, naming the file, with CLGAN_BAD_FORMAT: a damaged file, one that is not a classifier
 * (a GAN checkpoint says so), a spec that does not end in linear:<classes> or does not fit the
 * image size, and a network tensor that is missing or of another shape. Tensors that are not
 * the network's are ignored (a non-strict load_state_dict); "clgan.kind", "spec", "rows",
 * "cols", "classes" and "fingerprint" are required, the rest is a record (so a file written
 * from PyTorch loads: tests/fixtures/make_classifier_fixture.py). */
clgan_status clgan_classifier_load(clgan_classifier **out, clgan_device *dev, const char *path);
void clgan_classifier_free(clgan_classifier *c); /* accepts NULL */

/* The width of the feature vector: the output of the layer before the final linear one. */
int clgan_classifier_feature_dim(const clgan_classifier *c);
int clgan_classifier_classes(const clgan_classifier *c);
void clgan_classifier_image_size(const clgan_classifier *c, int *rows, int *cols);
const char *clgan_classifier_fingerprint(const clgan_classifier *c); /* its training data's */
double clgan_classifier_test_accuracy(const clgan_classifier *c); /* NaN if not recorded */
const char *clgan_classifier_spec(const clgan_classifier *c);

/* Embeds count images in batches, batch norm in eval mode: features (count, feature_dim), the
 * predicted class pred (count) and its softmax probability conf (count). Any output may be NULL.
 * clgan_classifier_embed takes floats in [-1, 1] (count, rows * cols) as the generator makes
 * them; _u8 takes uint8 pixels as a data set holds them (scaled by clgan_pixel_to_unit). */
clgan_status clgan_classifier_embed(clgan_classifier *c, const float *images, int count,
                                    float *features, int *pred, float *conf);
clgan_status clgan_classifier_embed_u8(clgan_classifier *c, const uint8_t *images, int count,
                                       float *features, int *pred, float *conf);

/* Where a classifier trained on data with this fingerprint is cached:
 * $XDG_CACHE_HOME/clgan/classifiers/<fingerprint>.safetensors, else ~/.cache/clgan/... */
void clgan_classifier_cache_path(const char *fingerprint, char *path, size_t size);

/* ---- Statistics on features (src/gan/metrics.c) ------------------------------------------- */

/* Feature matrices are row-major floats: a (na, dim) and b (nb, dim). Non-finite features are
 * CLGAN_NUMERIC, too few rows CLGAN_INVALID_ARGUMENT, each reported once. */

/* FID (Heusel et al. 2017): |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)), means and
 * covariances (n - 1 normalised, as numpy.cov) in double precision. The trace of the square
 * root is sum_i sqrt(max(lambda_i, 0)) of M = S_a^(1/2) S_b S_a^(1/2) (symmetric, positive
 * semi-definite, and similar to S_a S_b), both through LAPACKE_dsyevd; M is formed in S_a's
 * eigenbasis, V_a^T M V_a = C^T S_b C with C = V_a L_a^(1/2), which has the same eigenvalues and
 * saves a matrix product. Needs at least 2 rows in each set. */
clgan_status clgan_fid(const float *a, int na, const float *b, int nb, int dim, double *fid);

/* KID (Binkowski et al. 2018): the unbiased MMD^2 estimate with the kernel
 * k(x, y) = (x.y / dim + 1)^3, averaged over `subsets` random subsets of `subset_size` rows of
 * each set (drawn without replacement within a subset, Philox keyed by seed: the same seed gives
 * the same subsets); *std (may be NULL) is the population standard deviation over the subsets
 * (np.std, as torch-fidelity reports it). Defaults (0): 100 subsets of 1000, clamped to the
 * smaller set; each set needs at least 2 rows. The three Gram matrices of a subset are GEMMs on
 * dev; the kernel and the sums are the host's, in double. */
typedef struct {
  int subsets, subset_size;
  uint64_t seed;
} clgan_kid_cfg;
clgan_status clgan_kid(clgan_device *dev, const float *a, int na, const float *b, int nb, int dim,
                       const clgan_kid_cfg *cfg, double *mean, double *std);

/* Precision and recall (Kynkaanniemi et al. 2019, k nearest neighbours, k_pr = 3) and density
 * and coverage (Naeem et al. 2020, k_dc = 5), with Euclidean distances; a point's k-NN radius
 * is the distance to its k-th nearest other point of its own set. As the reference `prdc`
 * package defines them, comparisons are strict: a point exactly on a radius is outside it.
 * Precision / recall use k_pr radii, density / coverage k_dc radii (0: the values above).
 * Pairwise squared distances come from GEMMs on dev, a block of rows at a time; a comparison
 * the float32 value cannot settle is redone in double, so the results are those of a
 * double-precision brute force. Needs more than max(k_pr, k_dc) rows in each set. */
typedef struct {
  double precision, recall, density, coverage;
} clgan_prdc;
clgan_status clgan_prdc_compute(clgan_device *dev, const float *real, int nr, const float *fake,
                                int nf, int dim, int k_pr, int k_dc, clgan_prdc *out);

/* The class histogram of predictions: hist[c] for c < classes (at most CLGAN_MAX_CLASSES),
 * entropy of the histogram (natural log, at most ln classes) and the mean confidence (0 when
 * conf is NULL). A prediction outside [0, classes) falls in no bin and counts only in count. */
#define CLGAN_MAX_CLASSES 256
typedef struct {
  int classes, count;
  long hist[CLGAN_MAX_CLASSES];
  double entropy, mean_conf;
} clgan_class_stats;
void clgan_class_stats_compute(clgan_class_stats *s, const int *pred, const float *conf, int count,
                               int classes);

/* ---- One evaluation (src/gan/evaluate.c) -------------------------------------------------- */

typedef struct {
  int k_pr, k_dc;       /* 0: 3 and 5, the papers' */
  clgan_kid_cfg kid;    /* 0s: 100 subsets of 1000 */
} clgan_eval_cfg;

typedef struct {
  int n_real, n_fake, dim;
  int k_pr, k_dc, kid_subsets, kid_subset_size;
  double fid, kid_mean, kid_std;
  clgan_prdc prdc;
  clgan_class_stats classes;
  double embed_s, fid_s, kid_s, prdc_s; /* seconds each part took */
} clgan_eval_result;

/* An evaluator holds a classifier (borrowed) and the features of a fixed set of real images,
 * so that many generators, or one generator at many steps, are judged against the same
 * reference. The reference is `count` images of the data set (all of them if it has fewer),
 * a subset drawn by Philox from a fixed key, so it does not change with a run's seed. */
typedef struct clgan_evaluator clgan_evaluator;
clgan_status clgan_evaluator_create(clgan_evaluator **out, clgan_device *dev, clgan_classifier *c,
                                    const clgan_dataset *real, int count,
                                    const clgan_eval_cfg *cfg);
void clgan_evaluator_free(clgan_evaluator *ev); /* accepts NULL */
/* The reference's features (n, dim), owned by the evaluator. */
const float *clgan_evaluator_real_features(const clgan_evaluator *ev, int *n, int *dim);

/* Judges count images against the reference: floats in [-1, 1] (count, rows * cols) as a
 * generator makes them, or uint8 pixels as IDX files hold them. features (count, dim) may be
 * NULL; when given it receives the images' features. Fewer images than max(k_pr, k_dc) + 1 is
 * CLGAN_INVALID_ARGUMENT. */
clgan_status clgan_evaluator_score(clgan_evaluator *ev, const float *images, int count,
                                   float *features, clgan_eval_result *r);
clgan_status clgan_evaluator_score_u8(clgan_evaluator *ev, const uint8_t *images, int count,
                                      float *features, clgan_eval_result *r);

#endif
