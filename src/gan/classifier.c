/* The domain classifier of issue 8 (include/clgan/eval.h): a clgan_net trained with softmax
 * cross-entropy on the labelled training set, whose late-layer features stand in for
 * Inception's when clgan judges a generator (FID, KID, precision / recall in metrics.c).
 *
 * Training is the GAN trainer's data path without the generator: the uint8 images are uploaded
 * once, each epoch's Philox permutation (and the labels in that order, as int32) is uploaded
 * once per epoch, and each batch is gathered, run forward and backward and stepped by Adam on
 * the device, the loss kernel reading its labels at the batch's offset. The host waits only at
 * progress reports and for a bounded number of steps in flight.
 *
 * Files are safetensors with the bare nn.Sequential names ("0.weight", "1.running_mean", ...),
 * no optimizer state, and the metadata that says what the classifier is and what it was trained
 * on; net_io.c moves the tensors, as for GAN checkpoints. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/eval.h"
#include "clgan/io.h"
#include "clgan/nn.h"
#include "gan/net_io.h"
#include "util/clock.h"

/* Embedding runs this many images per forward (and training allocates at least as much). */
enum { EMBED_BATCH = 256 };

/* Philox streams (the trainer uses 1..5 and 0x5A4D for its own). */
enum { STREAM_INIT = 0xC1A5, STREAM_SHUFFLE = 0xC1A6 };

#define KIND_KEY "clgan.kind"
#define KIND_VALUE "classifier"

struct clgan_classifier {
  clgan_device *dev;
  clgan_net net;
  char spec[1024];          /* canonical text (clgan_spec_format) */
  int rows, cols, classes, feature_dim;
  char fingerprint[CLGAN_FINGERPRINT_MAX];
  double test_accuracy;     /* NaN until measured */
  int epochs, batch;        /* how it was trained (0 when unknown, e.g. a PyTorch file) */
  double lr;
  uint64_t seed;
  clgan_buffer x;           /* (max_batch, rows * cols) input batch */
  float *host_x;            /* (max_batch, rows * cols) staging for embed */
  float *host_logits;       /* (max_batch, classes) */
};

void clgan_classifier_free(clgan_classifier *c) {
  if (!c) return;
  clgan_net_free(&c->net);
  clgan_buffer_free(&c->x);
  free(c->host_x);
  free(c->host_logits);
  free(c);
}

int clgan_classifier_feature_dim(const clgan_classifier *c) { return c->feature_dim; }
int clgan_classifier_classes(const clgan_classifier *c) { return c->classes; }
void clgan_classifier_image_size(const clgan_classifier *c, int *rows, int *cols) {
  *rows = c->rows;
  *cols = c->cols;
}
const char *clgan_classifier_fingerprint(const clgan_classifier *c) { return c->fingerprint; }
double clgan_classifier_test_accuracy(const clgan_classifier *c) { return c->test_accuracy; }
const char *clgan_classifier_spec(const clgan_classifier *c) { return c->spec; }

void clgan_classifier_cache_path(const char *fingerprint, char *path, size_t size) {
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  if (xdg && *xdg)
    snprintf(path, size, "%s/clgan/classifiers/%s.safetensors", xdg, fingerprint);
  else
    snprintf(path, size, "%s/.cache/clgan/classifiers/%s.safetensors",
             home && *home ? home : ".", fingerprint);
}

/* Parses the spec and builds the network for rows x cols images and `classes` classes: the
 * last layer must be linear with one output per class, and something must come before it (the
 * feature layer). `where` names the source in messages (a file, or "the classifier spec"). */
static clgan_status create(clgan_classifier **out, clgan_device *dev, const char *spec_text,
                           int rows, int cols, int classes, int max_batch, const char *where,
                           clgan_status bad) {
  clgan_status st = CLGAN_OK;
  clgan_net_spec spec;
  char err[256];
  *out = NULL;
  if ((st = clgan_spec_parse(spec_text, &spec, err, sizeof err))) {
    clgan_error("%s: bad classifier spec '%s': %s", where, spec_text, err);
    return bad;
  }
  const clgan_layer_spec *last = &spec.layers[spec.count - 1];
  if (spec.count < 2 || last->kind != CLGAN_LAYER_LINEAR || last->out != classes) {
    clgan_error("%s: the classifier spec '%s' must end in linear:%d (one logit per class, %d "
                "classes), after at least one feature layer", where, spec_text, classes,
                classes);
    return bad;
  }
  clgan_classifier *c = calloc(1, sizeof *c);
  if (!c) return CLGAN_HOST_OUT_OF_MEMORY;
  c->dev = dev;
  c->rows = rows;
  c->cols = cols;
  c->classes = classes;
  c->test_accuracy = NAN;
  clgan_spec_format(&spec, c->spec, sizeof c->spec);
  if ((st = clgan_net_create(&c->net, dev, &spec, 1, rows, cols, max_batch))) {
    clgan_error("%s: the classifier spec '%s' does not fit %dx%d images", where, spec_text, rows,
                cols);
    if (st == CLGAN_INVALID_ARGUMENT) st = bad;
    goto fail;
  }
  c->feature_dim = c->net.layers[c->net.count - 2].out;
  size_t dim = (size_t)rows * (size_t)cols;
  c->host_x = malloc((size_t)max_batch * dim * sizeof *c->host_x);
  c->host_logits = malloc((size_t)max_batch * (size_t)classes * sizeof *c->host_logits);
  if (!c->host_x || !c->host_logits) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto fail;
  }
  if ((st = clgan_buffer_alloc(dev, &c->x, (size_t)max_batch * dim * sizeof(float)))) goto fail;
  *out = c;
  return CLGAN_OK;
fail:
  clgan_classifier_free(c);
  return st;
}

/* ---- Embedding ------------------------------------------------------------------------------ */

/* The buffer holding layer i's output after a forward: its own, or for a view (flatten,
 * reshape) that of the nearest computing layer before it, or the input. */
static const clgan_buffer *layer_output(const clgan_net *net, int i, const clgan_buffer *x) {
  for (; i >= 0; i--)
    if (!clgan_layer_is_view(&net->layers[i])) return &net->layers[i].y;
  return x;
}

/* One batch already in c->x: a single eval-mode forward through every layer gives both the
 * logits and, still in the feature layer's buffer, the features (the same values a forward of
 * count - 1 layers would give, without running those layers twice). */
static clgan_status embed_batch(clgan_classifier *c, int n, float *features, int *pred,
                                float *conf) {
  clgan_status st;
  const clgan_buffer *logits = NULL;
  clgan_net *net = &c->net;
  if ((st = clgan_net_forward(net, &c->x, n, net->count, 0, &logits))) return st;
  if (features &&
      (st = clgan_buffer_read(c->dev, layer_output(net, net->count - 2, &c->x), 0,
                              (size_t)n * (size_t)c->feature_dim * sizeof(float), features)))
    return st;
  if (!pred && !conf) return CLGAN_OK;
  if ((st = clgan_buffer_read(c->dev, logits, 0, (size_t)n * (size_t)c->classes * sizeof(float),
                              c->host_logits)))
    return st;
  for (int i = 0; i < n; i++) {
    const float *z = c->host_logits + (size_t)i * (size_t)c->classes;
    int arg = 0;
    for (int k = 1; k < c->classes; k++)
      if (z[k] > z[arg]) arg = k; /* ties: the lowest index, as the loss kernel's count */
    double sum = 0.0;
    for (int k = 0; k < c->classes; k++) sum += exp((double)z[k] - z[arg]);
    if (pred) pred[i] = arg;
    if (conf) conf[i] = (float)(1.0 / sum);
  }
  return CLGAN_OK;
}

/* images: floats (u8 = NULL) or uint8 pixels (f = NULL). */
static clgan_status embed(clgan_classifier *c, const float *f, const uint8_t *u8, int count,
                          float *features, int *pred, float *conf) {
  clgan_status st = CLGAN_OK;
  if (count < 0) {
    clgan_error("clgan_classifier_embed: count %d is negative", count);
    return CLGAN_INVALID_ARGUMENT;
  }
  size_t dim = (size_t)c->rows * (size_t)c->cols;
  for (int first = 0; first < count && st == CLGAN_OK; first += c->net.max_batch) {
    int n = count - first < c->net.max_batch ? count - first : c->net.max_batch;
    size_t values = (size_t)n * dim;
    const float *src = f ? f + (size_t)first * dim : c->host_x;
    if (u8) {
      const uint8_t *p = u8 + (size_t)first * dim;
      for (size_t i = 0; i < values; i++) c->host_x[i] = clgan_pixel_to_unit(p[i]);
    }
    if ((st = clgan_buffer_write(c->dev, &c->x, 0, values * sizeof(float), src))) break;
    st = embed_batch(c, n, features ? features + (size_t)first * (size_t)c->feature_dim : NULL,
                     pred ? pred + first : NULL, conf ? conf + first : NULL);
  }
  return st;
}

clgan_status clgan_classifier_embed(clgan_classifier *c, const float *images, int count,
                                    float *features, int *pred, float *conf) {
  return embed(c, images, NULL, count, features, pred, conf);
}

clgan_status clgan_classifier_embed_u8(clgan_classifier *c, const uint8_t *images, int count,
                                       float *features, int *pred, float *conf) {
  return embed(c, NULL, images, count, features, pred, conf);
}

/* ---- Training ------------------------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void progress(const clgan_classifier_cfg *cfg, const char *fmt, ...) {
  if (!cfg->progress) return;
  char line[1400]; /* the first line holds the spec (up to 1024) */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  cfg->progress(line, cfg->user);
}

/* Epoch `epoch`'s order: the GAN trainer's shuffle (clgan_philox_shuffle keyed (seed, epoch))
 * on a stream of its own, and the labels in that order. */
static void shuffle(int32_t *perm, int32_t *labels, const uint8_t *all_labels, int n,
                    uint64_t seed, int epoch) {
  clgan_philox_shuffle(perm, n, seed, (uint32_t)epoch, STREAM_SHUFFLE);
  for (int i = 0; i < n; i++) labels[i] = all_labels[perm[i]];
}

static clgan_status check_data(const clgan_dataset *train, const clgan_dataset *test) {
  if (!train || !train->labels || train->count < 1 || !test || !test->labels ||
      test->count < 1) {
    clgan_error("a classifier needs labelled training and test images (%s has none)",
                !train || !train->labels || train->count < 1 ? "the training split"
                                                             : "the test split");
    return CLGAN_INVALID_ARGUMENT;
  }
  if (test->rows != train->rows || test->cols != train->cols) {
    clgan_error("the test images are %dx%d, the training images %dx%d", test->rows, test->cols,
                train->rows, train->cols);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (train->classes < 2 || test->classes > train->classes) {
    clgan_error("the training labels name %d classes and the test labels %d: a classifier "
                "needs at least 2, and no test class unseen in training", train->classes,
                test->classes);
    return CLGAN_INVALID_ARGUMENT;
  }
  return CLGAN_OK;
}

/* Every device resource of one training run beside the network's. */
typedef struct {
  clgan_buffer images;  /* (count, dim) uint8 */
  clgan_buffer perm;    /* (count) int32 */
  clgan_buffer labels;  /* (count) int32, in the epoch's order */
  clgan_buffer dz;      /* (batch, classes) */
  clgan_buffer loss;    /* (batch) */
  clgan_buffer correct; /* (batch) */
  clgan_buffer stats;   /* (2) loss sum, correct count since the last report */
  int32_t *perm_host, *labels_host;
  clgan_inflight in_flight;
} train_state;

static void train_state_free(train_state *s) {
  clgan_inflight_free(&s->in_flight);
  clgan_buffer *bufs[] = {&s->images, &s->perm, &s->labels, &s->dz,
                          &s->loss,   &s->correct, &s->stats};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) clgan_buffer_free(bufs[i]);
  free(s->perm_host);
  free(s->labels_host);
}

/* Reads and clears the loss and accuracy sums: the one place training waits for the device. */
static clgan_status take_stats(clgan_classifier *c, train_state *s, double *loss, double *acc,
                               long samples) {
  float sums[2];
  clgan_status st = clgan_buffer_read(c->dev, &s->stats, 0, sizeof sums, sums);
  if (st == CLGAN_OK) st = clgan_buffer_zero(c->dev, &s->stats);
  *loss = samples ? sums[0] / (double)samples : NAN;
  *acc = samples ? sums[1] / (double)samples : NAN;
  if (st == CLGAN_OK && !isfinite(*loss)) {
    clgan_error("the classifier's training loss is %g: diverged (a smaller learning rate may help)",
                *loss);
    st = CLGAN_NUMERIC;
  }
  return st;
}

/* One batch: gather, forward, loss, backward, Adam. Nothing here waits for the device except
 * the bound on steps in flight (PoCL slows down with hundreds of steps queued: trainer.c). */
static clgan_status train_step(clgan_classifier *c, train_state *s, const clgan_opt_cfg *opt,
                               int first, int batch) {
  clgan_status st;
  clgan_net *net = &c->net;
  const clgan_buffer *logits = NULL;
  clgan_xent_cfg xent = {.scale = 1.0f / (float)batch};
  clgan_backward_cfg back = {.layers = net->count, .batch = batch, .param_grads = 1};
  int dim = c->rows * c->cols;
  if ((st = clgan_gather_images(c->dev, &c->x, &s->images, &s->perm, first, batch, dim)) ||
      (st = clgan_net_forward(net, &c->x, batch, net->count, 1, &logits)) ||
      (st = clgan_softmax_xent(c->dev, &xent, &s->dz, &s->loss, &s->correct, logits, &s->labels,
                               first, batch, c->classes)) ||
      (st = clgan_reduce_sum(c->dev, &s->stats, 0, &s->loss, batch, 1)) ||
      (st = clgan_reduce_sum(c->dev, &s->stats, 1, &s->correct, batch, 1)) ||
      (st = clgan_net_backward(net, &back, &c->x, &s->dz, NULL)))
    return st;
  clgan_step_cfg step = {.opt = *opt};
  if ((st = clgan_net_step(net, &step))) return st;
  return clgan_inflight_step(c->dev, &s->in_flight, net->opt_t, 2);
}

/* The share of the test set classified correctly (eval mode). */
static clgan_status test_accuracy(clgan_classifier *c, const clgan_dataset *test, double *acc) {
  int *pred = malloc((size_t)test->count * sizeof *pred);
  if (!pred) return CLGAN_HOST_OUT_OF_MEMORY;
  clgan_status st = clgan_classifier_embed_u8(c, test->images, test->count, NULL, pred, NULL);
  long right = 0;
  for (int i = 0; st == CLGAN_OK && i < test->count; i++) right += pred[i] == test->labels[i];
  *acc = (double)right / test->count;
  free(pred);
  return st;
}

clgan_status clgan_classifier_train(clgan_classifier **out, clgan_device *dev,
                                    const clgan_classifier_cfg *cfg, const clgan_dataset *train,
                                    const clgan_dataset *test, double *test_acc) {
  clgan_status st;
  clgan_classifier *c = NULL;
  train_state s = {0};
  *out = NULL;
  if ((st = check_data(train, test))) return st;
  /* The defaults (eval.h), measured on Fashion-MNIST on a 2-core PoCL machine shared with
   * other jobs (release build): 4 epochs of 128 at lr 1e-3 with the cosine decay reach 91.70 %
   * and 91.89 % test accuracy (seeds 1 and 2) in 136 s and 120 s, 1,800 to 2,000 img/s. 3
   * epochs gave 91.24 %, 4 at a constant lr 91.38 %, and the default spec at half the channels
   * 90.97 % (in 100 s): the issue asks for 90 % in under 5 minutes. */
  int epochs = cfg->epochs ? cfg->epochs : CLGAN_CLASSIFIER_EPOCHS;
  int batch = cfg->batch ? cfg->batch : CLGAN_CLASSIFIER_BATCH;
  double lr = cfg->lr > 0 ? cfg->lr : CLGAN_CLASSIFIER_LR;
  if (epochs < 1 || batch < 2 || batch > train->count || !(lr > 0 && lr < 1)) {
    clgan_error("invalid classifier training setup: %d epochs, batch %d (2 to the %d training "
                "images; batch norm needs 2), lr %g", epochs, batch, train->count, lr);
    return CLGAN_INVALID_ARGUMENT;
  }
  int max_batch = batch > EMBED_BATCH ? batch : EMBED_BATCH;
  const char *spec = cfg->spec ? cfg->spec : CLGAN_CLASSIFIER_SPEC;
  if ((st = create(&c, dev, spec, train->rows, train->cols, train->classes, max_batch,
                   "clgan_classifier_train", CLGAN_INVALID_ARGUMENT)))
    return st;
  c->epochs = epochs;
  c->batch = batch;
  c->lr = lr;
  c->seed = cfg->seed;
  clgan_dataset_fingerprint(train, c->fingerprint, sizeof c->fingerprint);
  /* PyTorch's default initialisation for Conv2d and Linear, and torch.optim.Adam's defaults. */
  clgan_opt_cfg opt = {.kind = CLGAN_OPT_ADAM, .lr = lr, .beta1 = 0.9, .beta2 = 0.999,
                       .eps = 1e-8};
  int n = train->count, classes = c->classes;
  size_t fb = sizeof(float);
  s.perm_host = malloc((size_t)n * sizeof *s.perm_host);
  s.labels_host = malloc((size_t)n * sizeof *s.labels_host);
  if (!s.perm_host || !s.labels_host) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto fail;
  }
  if ((st = clgan_net_init(&c->net, CLGAN_INIT_TORCH, cfg->seed, STREAM_INIT)) ||
      (st = clgan_dataset_upload(dev, train, &s.images)) ||
      (st = clgan_buffer_alloc(dev, &s.perm, (size_t)n * sizeof(int32_t))) ||
      (st = clgan_buffer_alloc(dev, &s.labels, (size_t)n * sizeof(int32_t))) ||
      (st = clgan_buffer_alloc(dev, &s.dz, (size_t)batch * (size_t)classes * fb)) ||
      (st = clgan_buffer_alloc(dev, &s.loss, (size_t)batch * fb)) ||
      (st = clgan_buffer_alloc(dev, &s.correct, (size_t)batch * fb)) ||
      (st = clgan_buffer_alloc(dev, &s.stats, 2 * fb)) || (st = clgan_buffer_zero(dev, &s.stats)))
    goto fail;
  /* The last partial batch of an epoch is dropped (as DataLoader(drop_last=True)): a batch of
   * one would break batch norm, and the next epoch's shuffle brings those images back. */
  int steps = n / batch, report_every = steps >= 8 ? steps / 4 : steps;
  progress(cfg, "classifier: %d training images (%dx%d, %d classes), %d test images; %d epochs "
           "of %d batches of %d, Adam lr %g with cosine decay; spec %s", n, c->rows, c->cols,
           classes, test->count, epochs, steps, batch, lr, c->spec);
  double t_start = clgan_now_s();
  for (int epoch = 0; epoch < epochs; epoch++) {
    shuffle(s.perm_host, s.labels_host, train->labels, n, cfg->seed, epoch);
    if ((st = clgan_buffer_write(dev, &s.perm, 0, (size_t)n * sizeof(int32_t), s.perm_host)) ||
        (st = clgan_buffer_write(dev, &s.labels, 0, (size_t)n * sizeof(int32_t),
                                 s.labels_host)))
      goto fail;
    double t_window = clgan_now_s();
    int window = 0;
    for (int b = 0; b < steps; b++) {
      /* Cosine decay of the learning rate from lr to 0 over the run (Loshchilov & Hutter
       * 2017, SGDR without restarts): the last epoch's small steps settle the weights. */
      double done = (double)(epoch * steps + b) / ((double)epochs * steps);
      opt.lr = lr * 0.5 * (1.0 + cos(3.14159265358979323846 * done));
      if ((st = train_step(c, &s, &opt, b * batch, batch))) goto fail;
      window++;
      if ((b + 1) % report_every && b + 1 < steps) continue;
      double loss, acc, t = clgan_now_s();
      if ((st = take_stats(c, &s, &loss, &acc, (long)window * batch))) goto fail;
      progress(cfg, "epoch %d/%d, batch %d/%d: loss %.4f, train accuracy %.2f %%, %.0f img/s, "
               "%.1f s", epoch + 1, epochs, b + 1, steps, loss, 100.0 * acc,
               (double)window * batch / (t - t_window), t - t_start);
      t_window = t;
      window = 0;
    }
  }
  double t_train = clgan_now_s() - t_start;
  if ((st = test_accuracy(c, test, &c->test_accuracy))) goto fail;
  progress(cfg, "test accuracy %.2f %% (%d images); trained in %.1f s (%.0f img/s), tested in "
           "%.1f s", 100.0 * c->test_accuracy, test->count, t_train,
           (double)epochs * steps * batch / t_train, clgan_now_s() - t_start - t_train);
  if (test_acc) *test_acc = c->test_accuracy;
  train_state_free(&s);
  *out = c;
  return CLGAN_OK;
fail:
  train_state_free(&s);
  clgan_classifier_free(c);
  return st;
}

/* ---- Files ---------------------------------------------------------------------------------- */

clgan_status clgan_classifier_save(const clgan_classifier *c, const char *path) {
  clgan_status st;
  clgan_st_writer *w = NULL;
  ckpt_net_host h = {0};
  /* Reading the device state back does not change the classifier. */
  clgan_net *net = (clgan_net *)&c->net;
  if ((st = ckpt_net_read(net, &h)) || (st = clgan_st_writer_new(&w)) ||
      (st = ckpt_net_add(w, net, &h, NULL, NULL)))
    goto done;
  if ((st = clgan_st_add_meta(w, KIND_KEY, KIND_VALUE)) ||
      (st = clgan_st_add_meta(w, "spec", c->spec)) ||
      (st = ckpt_meta_printf(w, "rows", "%d", c->rows)) ||
      (st = ckpt_meta_printf(w, "cols", "%d", c->cols)) ||
      (st = ckpt_meta_printf(w, "classes", "%d", c->classes)) ||
      (st = clgan_st_add_meta(w, "fingerprint", c->fingerprint)) ||
      (st = ckpt_meta_printf(w, "test_accuracy", "%.17g", c->test_accuracy)) ||
      (st = ckpt_meta_printf(w, "epochs", "%d", c->epochs)) ||
      (st = ckpt_meta_printf(w, "batch", "%d", c->batch)) ||
      (st = ckpt_meta_printf(w, "lr", "%.17g", c->lr)) ||
      (st = ckpt_meta_printf(w, "seed", "%" PRIu64, c->seed)))
    goto done;
  st = clgan_st_write(w, path);
done:
  clgan_st_writer_free(w);
  ckpt_net_host_free(&h, c->net.count);
  return st;
}

/* A metadata integer in [lo, hi], or a report naming the file. */
static int meta_int(const clgan_st_file *f, const char *path, const char *key, int lo, int hi,
                    clgan_status *st) {
  const char *v = clgan_st_meta(f, key);
  char *end = NULL;
  errno = 0;
  long x = v ? strtol(v, &end, 10) : 0;
  if (*st == CLGAN_OK && (!v || errno || end == v || *end || x < lo || x > hi)) {
    clgan_error("%s: classifier metadata '%s' is %s%s%s (an integer in %d..%d)", path, key,
                v ? "'" : "missing", v ? v : "", v ? "'" : "", lo, hi);
    *st = CLGAN_BAD_FORMAT;
  }
  return (int)x;
}

clgan_status clgan_classifier_load(clgan_classifier **out, clgan_device *dev, const char *path) {
  clgan_st_file *f = NULL;
  clgan_classifier *c = NULL;
  ckpt_net_host h = {0};
  int layers = 0;
  *out = NULL;
  clgan_status st = clgan_st_open(path, &f);
  if (st != CLGAN_OK) return st;
  const char *kind = clgan_st_meta(f, KIND_KEY);
  if (!kind || strcmp(kind, KIND_VALUE) != 0) {
    const char *format = clgan_st_meta(f, "format");
    if (format && !strncmp(format, "clgan-checkpoint", 16))
      clgan_error("%s: this is a GAN checkpoint (%s), not a classifier (train one with clgan "
                  "classifier train)", path, format);
    else
      clgan_error("%s: not a clgan classifier (metadata '%s' is %s%s%s, '%s' expected)", path,
                  KIND_KEY, kind ? "'" : "missing", kind ? kind : "", kind ? "'" : "",
                  KIND_VALUE);
    st = CLGAN_BAD_FORMAT;
    goto done;
  }
  const char *spec = clgan_st_meta(f, "spec"), *fp = clgan_st_meta(f, "fingerprint");
  const char *acc = clgan_st_meta(f, "test_accuracy"), *lr = clgan_st_meta(f, "lr");
  const char *seed = clgan_st_meta(f, "seed");
  if (!spec || !fp || strlen(fp) >= CLGAN_FINGERPRINT_MAX) {
    clgan_error("%s: classifier metadata '%s' is missing or damaged", path,
                !spec ? "spec" : "fingerprint");
    st = CLGAN_BAD_FORMAT;
    goto done;
  }
  int rows = meta_int(f, path, "rows", 1, CLGAN_IDX_MAX_SIDE, &st);
  int cols = meta_int(f, path, "cols", 1, CLGAN_IDX_MAX_SIDE, &st);
  int classes = meta_int(f, path, "classes", 2, CLGAN_MAX_CLASSES, &st);
  if (st != CLGAN_OK) goto done;
  if ((st = create(&c, dev, spec, rows, cols, classes, EMBED_BATCH, path, CLGAN_BAD_FORMAT)))
    goto done;
  snprintf(c->fingerprint, sizeof c->fingerprint, "%s", fp);
  /* How it was trained is for the record; a file made elsewhere (PyTorch) may lack it. */
  c->test_accuracy = acc ? strtod(acc, NULL) : NAN;
  c->lr = lr ? strtod(lr, NULL) : 0.0;
  c->seed = seed ? strtoull(seed, NULL, 10) : 0;
  c->epochs = clgan_st_meta(f, "epochs") ? atoi(clgan_st_meta(f, "epochs")) : 0;
  c->batch = clgan_st_meta(f, "batch") ? atoi(clgan_st_meta(f, "batch")) : 0;
  layers = c->net.count;
  /* Every tensor validated on the host before anything reaches the device. Tensors that are
   * not the network's (a test fixture's inputs) are ignored, as a non-strict load_state_dict. */
  if ((st = ckpt_net_stage(f, path, &c->net, NULL, NULL, 0, &h)) ||
      (st = ckpt_net_upload(&c->net, &h)))
    goto done;
  *out = c;
  c = NULL;
done:
  ckpt_net_host_free(&h, layers);
  clgan_classifier_free(c);
  clgan_st_close(f);
  return st;
}
