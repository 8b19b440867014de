/* clgan eval: how good a generator is. Samples from a checkpoint (or an IDX file of images) and
 * real images are embedded by a domain classifier trained by clgan; FID, KID, precision /
 * recall, density / coverage and the class histogram compare the two sets, and a floor line
 * gives the same figures for the real test split against the training split: the scale every
 * figure is read against. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/evalcli.h"
#include "clgan/data.h"
#include "clgan/gan.h"
#include "clgan/io.h"
#include "util/fsutil.h"
#include "util/clock.h"

/* The images to judge: count floats per pixel in [-1, 1] from a checkpoint's generator, or the
 * uint8 images of an IDX file (the first count of them, or all when count is 0). */
typedef struct {
  float *images;
  uint8_t *bytes;
  int count, rows, cols;
} sample_set;

/* How to draw from a checkpoint's generator: which one, the latent seed and truncation. */
typedef struct {
  long seed;
  int no_ema, trunc_given;
  float truncation;
} draw_opts;

static clgan_status samples_from_checkpoint(clgan_device *dev, const char *path, int count,
                                            const draw_opts *d, sample_set *s, int *is_ema) {
  clgan_net g = {0};
  clgan_train_cfg cfg;
  float *z = NULL;
  clgan_status st = clgan_checkpoint_load_generator(path, dev, &g, &cfg, &s->rows, &s->cols, 500,
                                                    d->no_ema ? CLGAN_GEN_RAW : CLGAN_GEN_AUTO,
                                                    is_ema);
  if (st) return st;
  if (cfg.channels > 1) {
    fprintf(stderr, "clgan eval: error: %s makes colour images; clgan eval judges gray ones (its "
                    "feature network is a gray classifier; README: Your own images)\n", path);
    clgan_net_free(&g);
    return CLGAN_INVALID_ARGUMENT;
  }
  s->count = count;
  z = malloc((size_t)count * (size_t)cfg.latent * sizeof *z);
  s->images = malloc((size_t)count * (size_t)(s->rows * s->cols) * sizeof *s->images);
  if (!z || !s->images) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  clgan_fixed_latent(z, count, cfg.latent, (uint64_t)d->seed);
  if (d->trunc_given &&
      (st = clgan_latent_truncate(z, count, cfg.latent, (uint64_t)d->seed, d->truncation)))
    goto done;
  st = clgan_generate(&g, z, count, cfg.latent, s->images);
done:
  free(z);
  clgan_net_free(&g);
  return st;
}

static clgan_status samples_from_idx(const char *path, int count, sample_set *s) {
  int dims[3], ndims = 0;
  clgan_status st = clgan_idx_read(path, 3, &s->bytes, dims, &ndims);
  if (st) return st;
  s->count = count > 0 && count < dims[0] ? count : dims[0];
  s->rows = dims[1];
  s->cols = dims[2];
  return CLGAN_OK;
}

static clgan_status write_features(const char *dir, const char *name, const float *f, int n,
                                   int dim) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s.npy", dir, name);
  return clgan_npy_write_f32(path, f, n, dim);
}

static clgan_status write_json(const char *path, const char *source, const char *data_dir,
                               const char *fp, const char *classifier, double accuracy,
                               const clgan_eval_result *r, const clgan_eval_result *floor_r,
                               double sample_s) {
  clgan_atomic_file af;
  clgan_status st = clgan_atomic_open(&af, path, "w");
  if (st) return st;
  FILE *f = af.f;
  /* Paths are written as given; a quote or backslash in one is escaped. */
  const char *strings[] = {source, data_dir, fp, classifier};
  char esc[4][2100];
  for (int i = 0; i < 4; i++) {
    size_t o = 0;
    for (const char *p = strings[i]; *p && o + 3 < sizeof esc[i]; p++) {
      if (*p == '"' || *p == '\\') esc[i][o++] = '\\';
      esc[i][o++] = (unsigned char)*p < 0x20 ? '?' : *p;
    }
    esc[i][o] = '\0';
  }
  fprintf(f, "{\n  \"samples\": \"%s\",\n  \"data\": \"%s\",\n  \"data_fingerprint\": \"%s\",\n"
             "  \"classifier\": {\"path\": \"%s\", \"test_accuracy\": %.17g},\n"
             "  \"sample_seconds\": %.3f,\n  \"metrics\": ",
          esc[0], esc[1], esc[2], esc[3], accuracy, sample_s);
  cli_json_eval(f, r, 2);
  if (floor_r) {
    fprintf(f, ",\n  \"floor\": ");
    cli_json_eval(f, floor_r, 2);
  }
  fprintf(f, "\n}\n");
  return clgan_atomic_commit(&af);
}

/* What can be refused before anything is read: 0, or the exit code. */
static int check_options(const char *ckpt, const char *samples, int count) {
  if (!ckpt == !samples) {
    fprintf(stderr, "clgan eval: error: give one of --checkpoint and --samples (see --help)\n");
    return CLGAN_EXIT_USAGE;
  }
  if (count < 6 || count > 1000000) {
    fprintf(stderr, "clgan eval: error: --count %d: precision / recall and density / coverage "
                    "need at least 6 samples (k + 1, k = 5); at most 1000000\n", count);
    return CLGAN_EXIT_USAGE;
  }
  return 0;
}

/* The figures, the floor's (fr may be NULL) and, unless quiet, where the time went; seconds:
 * sampling, the reference's features, the floor. */
static void print_report(const char *source, const char *dir, const char *where,
                         const clgan_classifier *clf, const clgan_eval_result *r,
                         const clgan_eval_result *fr, const double seconds[3], int quiet) {
  printf("clgan eval: %d samples from %s against %d training images of %s\n"
         "  classifier %s (test accuracy %.2f %%, %d features)\n",
         r->n_fake, source, r->n_real, dir, where, 100 * clgan_classifier_test_accuracy(clf),
         r->dim);
  cli_print_eval(stdout, r, 2);
  if (fr) {
    printf("  floor: %d real test images against the same training images\n", fr->n_fake);
    cli_print_eval(stdout, fr, 4);
  }
  if (quiet) return;
  printf("  time: samples %.2f s, features %.2f s (reference %.2f s), FID %.2f s, KID %.2f s, "
         "precision/recall/density/coverage %.2f s", seconds[0], r->embed_s, seconds[1], r->fid_s,
         r->kid_s, r->prdc_s);
  if (fr) printf(", floor %.2f s", seconds[2]);
  printf("\n");
}

/* --features DIR: real.npy, samples.npy and, with test_f, test.npy. */
static clgan_status write_feature_files(const char *dir, const clgan_evaluator *ev,
                                        const float *fake_f, int n_fake, const float *test_f,
                                        int n_test) {
  int nr = 0, dim = 0;
  const float *real_f = clgan_evaluator_real_features(ev, &nr, &dim);
  clgan_status st;
  if ((st = clgan_make_dirs(dir)) || (st = write_features(dir, "real", real_f, nr, dim)) ||
      (st = write_features(dir, "samples", fake_f, n_fake, dim)) ||
      (test_f && (st = write_features(dir, "test", test_f, n_test, dim))))
    return st;
  printf("  features -> %s/{real,samples%s}.npy\n", dir, test_f ? ",test" : "");
  return CLGAN_OK;
}

/* --cas: the task-based figures of a conditional generator (clgan_cas). */
typedef struct {
  int on, epochs;
} cas_opts;

static void print_cas(const char *ckpt, const char *dir, const char *where,
                      const clgan_classifier *judge, const clgan_cas_result *r, int epochs,
                      double seconds) {
  printf("clgan eval --cas: %s, %d classes; %d samples (balanced) and %d real training images "
         "of %s; classifiers of %d epochs tested on the t10k split\n",
         ckpt, r->classes, r->count, r->count, dir, epochs);
  printf("  CAS (trained on the samples only)   %6.2f %%\n", 100 * r->cas);
  printf("  trained on as many real images      %6.2f %%\n", 100 * r->real);
  printf("  real + samples (augmentation)       %6.2f %%\n", 100 * r->augmented);
  printf("  conditional accuracy                %6.2f %%  (the judge, %s, %.2f %% on t10k, "
         "assigns a sample of class k to k)\n", 100 * r->cond_accuracy, where,
         100 * clgan_classifier_test_accuracy(judge));
  printf("  per class: accuracy %%, FID against that class's real images\n");
  for (int c = 0; c < r->classes; c++)
    printf("    %3d  %6.2f  %8.3f\n", c, 100 * r->class_accuracy[c], r->class_fid[c]);
  printf("  time %.1f s\n", seconds);
}

static clgan_status write_cas_json(const char *path, const char *ckpt, const clgan_cas_result *r) {
  clgan_atomic_file af;
  clgan_status st = clgan_atomic_open(&af, path, "w");
  if (st) return st;
  FILE *f = af.f;
  fprintf(f, "{\n  \"checkpoint\": \"");
  for (const char *p = ckpt; *p; p++) fprintf(f, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
  fprintf(f, "\",\n  \"count\": %d,\n  \"classes\": %d,\n  \"cas\": %.17g,\n  \"real\": %.17g,\n"
             "  \"augmented\": %.17g,\n  \"conditional_accuracy\": %.17g,\n  \"per_class\": [",
          r->count, r->classes, r->cas, r->real, r->augmented, r->cond_accuracy);
  for (int c = 0; c < r->classes; c++)
    fprintf(f, "%s\n    {\"class\": %d, \"accuracy\": %.17g, \"fid\": %.17g}", c ? "," : "", c,
            r->class_accuracy[c], r->class_fid[c]);
  fprintf(f, "\n  ]\n}\n");
  return clgan_atomic_commit(&af);
}

static int run_cas(const char *ckpt, const char *data_opt, const char *device,
                   const char *classifier_path, const char *json, int count, long seed,
                   const cas_opts *co, int quiet) {
  const char *dir = clgan_data_dir(data_opt);
  clgan_status st;
  clgan_device *dev = NULL;
  clgan_dataset train = {0}, test = {0};
  clgan_classifier *judge = NULL;
  clgan_net g = {0};
  clgan_train_cfg cfg;
  int rows = 0, cols = 0;
  char where[1024];
  if ((st = clgan_checkpoint_cfg(ckpt, &cfg, &rows, &cols))) goto done;
  if (cfg.channels > 1) {
    fprintf(stderr, "clgan eval: error: --cas: %s makes colour images; the score is computed on "
                    "gray ones\n", ckpt);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if (cfg.classes == 0) {
    fprintf(stderr, "clgan eval: error: --cas: %s holds an unconditional generator (trained "
                    "without --conditional); the Classification Accuracy Score needs one that "
                    "makes the class asked for\n", ckpt);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if ((st = clgan_dataset_load(dir, "train", &train))) goto done;
  if (clgan_dataset_load(dir, "t10k", &test) != CLGAN_OK || !train.labels || !test.labels) {
    fprintf(stderr, "clgan eval: error: --cas needs labelled train and t10k splits in %s\n", dir);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if (train.rows != rows || train.cols != cols || train.classes > cfg.classes ||
      count > train.count || count < 2 * cfg.classes) {
    fprintf(stderr, "clgan eval: error: --cas: %s (%dx%d images, %d classes, %d training images) "
                    "does not fit the generator (%dx%d, %d classes) and --count %d (%d to %d)\n",
            dir, train.rows, train.cols, train.classes, train.count, rows, cols, cfg.classes,
            count, 2 * cfg.classes, train.count);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if ((st = cli_open_device(device, 0, &dev))) goto done;
  if ((st = clgan_checkpoint_load_generator(ckpt, dev, &g, &cfg, &rows, &cols, 500,
                                            CLGAN_GEN_AUTO, NULL)) ||
      (st = cli_classifier_for_data(dev, classifier_path, dir, &train, quiet, &judge, where,
                                    sizeof where)))
    goto done;
  clgan_cas_cfg cc = {.count = count, .seed = (uint64_t)seed,
                      .classifier = {.epochs = co->epochs, .seed = 1}};
  clgan_cas_result r;
  double t0 = clgan_now_s();
  if ((st = clgan_cas(dev, &g, cfg.latent, &train, &test, judge, &cc, &r))) goto done;
  print_cas(ckpt, dir, where, judge, &r, co->epochs ? co->epochs : CLGAN_CLASSIFIER_EPOCHS,
            clgan_now_s() - t0);
  if (json) st = write_cas_json(json, ckpt, &r);
done:
  clgan_net_free(&g);
  clgan_classifier_free(judge);
  clgan_dataset_free(&train);
  clgan_dataset_free(&test);
  clgan_device_close(dev);
  return cli_exit_code(st);
}

int cmd_eval(int argc, char **argv) {
  const char *ckpt = NULL, *samples = NULL, *data_opt = NULL, *json = NULL, *features = NULL;
  const char *classifier_path = NULL, *device = NULL;
  int count = 10000, count_given = 0, no_floor = 0, quiet = 0;
  draw_opts draw = {.seed = 1};
  cas_opts cas = {0};
  const cli_opt opts[] = {
      {"checkpoint", "PATH", CLI_STR, &ckpt, "judge the generator of this checkpoint (or --samples)", NULL},
      {"samples", "FILE.idx[.gz]", CLI_STR, &samples, "judge the uint8 images of this IDX file (clgan sample --out x.idx writes one)", NULL},
      {"data", "DIR", CLI_STR, &data_opt, "the real images: DIR's train split is the reference, its t10k split the floor (default $CLGAN_DATA, else " CLGAN_DATA_DIR_DEFAULT ")", NULL},
      {"count", "N", CLI_INT, &count, "samples to generate, and real images in the reference; with --samples, at most N of the file's images (default 10000; all of a file's)", &count_given},
      {"seed", "S", CLI_LONG, &draw.seed, "seed of the latent vectors (those clgan sample --seed S draws)", NULL},
      {"truncation", "PSI", CLI_FLOAT, &draw.truncation, "with --checkpoint: redraw latent components with |z| > PSI (clgan sample --truncation)", &draw.trunc_given},
      {"no-ema", NULL, CLI_FLAG, &draw.no_ema, "with --checkpoint: judge the trained generator, not the EMA one a checkpoint trained with --ema holds", NULL},
      {"classifier", "PATH", CLI_STR, &classifier_path, "the feature network (default: the one cached for DIR's data, trained first if there is none)", NULL},
      {"json", "FILE", CLI_STR, &json, "also write every figure to FILE as JSON", NULL},
      {"features", "DIR", CLI_STR, &features, "write the feature matrices as float32 .npy files into DIR: real.npy, samples.npy (and test.npy for the floor)", NULL},
      {"cas", NULL, CLI_FLAG, &cas.on, "with the --checkpoint of a conditional generator: the task-based figures instead: the Classification Accuracy Score (the classifier trained on --count samples, tested on real t10k), beside as many real images and real + samples; the conditional accuracy and per-class FID", NULL},
      {"cas-epochs", "E", CLI_INT, &cas.epochs, "with --cas: epochs of each classifier trained (default the domain classifier's)", NULL},
      {"no-floor", NULL, CLI_FLAG, &no_floor, "skip the floor (the test split against the reference)", NULL},
      {"quiet", NULL, CLI_FLAG, &quiet, "only the figures", NULL},
      {"device", "SEL", CLI_STR, &device, "OpenCL device (index, P:D, type or name; $CLGAN_DEVICE)", NULL},
  };
  int rc = cli_parse(
      "eval",
      "Judges a generator: FID, KID, precision / recall (k = 3), density / coverage (k = 5) and\n"
      "the class histogram of its samples, computed on the features of a classifier trained by\n"
      "clgan on the data (Inception's are made for 299x299 photographs), and the same figures\n"
      "for real test images (the floor: what a perfect generator would score).",
      opts, (int)(sizeof opts / sizeof opts[0]), argc, argv);
  if (rc) return rc < 0 ? 0 : rc;
  if ((rc = check_options(ckpt, samples, count))) return rc;
  if (cas.on || cas.epochs) {
    if (!cas.on || !ckpt || draw.trunc_given || draw.no_ema || features || cas.epochs < 0 ||
        cas.epochs > 100) {
      fprintf(stderr, "clgan eval: error: --cas goes with --checkpoint (not --samples, "
                      "--truncation, --no-ema or --features), --cas-epochs with --cas (0..100)\n");
      return CLGAN_EXIT_USAGE;
    }
    return run_cas(ckpt, data_opt, device, classifier_path, json, count, draw.seed, &cas, quiet);
  }
  if (draw.trunc_given && cli_check_truncation("eval", draw.truncation)) return CLGAN_EXIT_USAGE;
  if ((draw.trunc_given || draw.no_ema) && !ckpt) {
    fprintf(stderr, "clgan eval: error: --truncation and --no-ema go with --checkpoint\n");
    return CLGAN_EXIT_USAGE;
  }
  const char *dir = clgan_data_dir(data_opt);
  clgan_status st = CLGAN_OK;
  clgan_device *dev = NULL;
  clgan_dataset train = {0}, test = {0};
  clgan_classifier *clf = NULL;
  clgan_evaluator *ev = NULL;
  sample_set s = {0};
  float *fake_f = NULL, *test_f = NULL;
  clgan_eval_result r, fr;
  char where[1024], fp[CLGAN_FINGERPRINT_MAX];

  /* Everything that can be refused without a device or a classifier comes first. */
  if (samples && (st = samples_from_idx(samples, count_given ? count : 0, &s))) goto done;
  if (samples && s.count < 6) {
    fprintf(stderr, "clgan eval: error: %s holds %d images; precision / recall and density / "
                    "coverage need at least 6 (k + 1, k = 5)\n", samples, s.count);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if ((st = clgan_dataset_load(dir, "train", &train))) goto done;
  if (!no_floor && clgan_dataset_load(dir, "t10k", &test) != CLGAN_OK) {
    fprintf(stderr, "clgan eval: error: %s has no test split (t10k-images-idx3-ubyte[.gz]) for "
                    "the floor; add it, or pass --no-floor\n", dir);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if (samples && (s.rows != train.rows || s.cols != train.cols)) {
    fprintf(stderr, "clgan eval: error: %s holds %dx%d images; the data in %s are %dx%d\n",
            samples, s.rows, s.cols, dir, train.rows, train.cols);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if ((st = cli_open_device(device, 0, &dev))) goto done;
  double t0 = clgan_now_s();
  int is_ema = 0;
  if (ckpt && (st = samples_from_checkpoint(dev, ckpt, count, &draw, &s, &is_ema))) goto done;
  double sample_s = clgan_now_s() - t0;
  if (ckpt && (s.rows != train.rows || s.cols != train.cols)) {
    fprintf(stderr, "clgan eval: error: the generator of %s makes %dx%d images; the data in %s "
                    "are %dx%d\n", ckpt, s.rows, s.cols, dir, train.rows, train.cols);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if ((st = cli_classifier_for_data(dev, classifier_path, dir, &train, quiet, &clf, where,
                                    sizeof where)))
    goto done;
  clgan_eval_cfg ecfg = {0};
  t0 = clgan_now_s();
  if ((st = clgan_evaluator_create(&ev, dev, clf, &train, count, &ecfg))) goto done;
  double real_s = clgan_now_s() - t0;
  int dim = clgan_classifier_feature_dim(clf);
  if (features) {
    fake_f = malloc((size_t)s.count * (size_t)dim * sizeof *fake_f);
    test_f = malloc((size_t)(test.count ? test.count : 1) * (size_t)dim * sizeof *test_f);
    if (!fake_f || !test_f) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto done;
    }
  }
  st = s.images ? clgan_evaluator_score(ev, s.images, s.count, fake_f, &r)
                : clgan_evaluator_score_u8(ev, s.bytes, s.count, fake_f, &r);
  if (st) goto done;
  int n_test = 0;
  double floor_s = 0;
  if (!no_floor) {
    n_test = test.count < count ? test.count : count;
    t0 = clgan_now_s();
    if ((st = clgan_evaluator_score_u8(ev, test.images, n_test, test_f, &fr))) goto done;
    floor_s = clgan_now_s() - t0;
  }
  clgan_dataset_fingerprint(&train, fp, sizeof fp);
  char source[1200];
  snprintf(source, sizeof source, "%s%s", ckpt ? ckpt : samples, is_ema ? " (EMA generator)" : "");
  double seconds[3] = {sample_s, real_s, floor_s};
  print_report(source, dir, where, clf, &r, no_floor ? NULL : &fr, seconds, quiet);
  if (json && (st = write_json(json, ckpt ? ckpt : samples, dir, fp, where, clgan_classifier_test_accuracy(clf),
                               &r, no_floor ? NULL : &fr, sample_s)))
    goto done;
  if (features &&
      (st = write_feature_files(features, ev, fake_f, s.count, no_floor ? NULL : test_f, n_test)))
    goto done;
done:
  free(fake_f);
  free(test_f);
  free(s.images);
  free(s.bytes);
  clgan_evaluator_free(ev);
  clgan_classifier_free(clf);
  clgan_dataset_free(&train);
  clgan_dataset_free(&test);
  clgan_device_close(dev);
  /* Non-finite features come from the samples (a generator that makes NaN): bad input here. */
  return st == CLGAN_NUMERIC ? CLGAN_EXIT_USAGE : cli_exit_code(st);
}
