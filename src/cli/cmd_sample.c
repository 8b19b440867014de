/* clgan sample: images from a checkpoint's generator, as a PNG grid or an IDX file, from a seed,
 * from latent vectors in a .npy file, or along great circles between random latent vectors
 * (--interpolate); optionally the raw float outputs as .npy. A conditional generator (issue
 * 12) makes one class (--class), a class grid (the default PNG: a row per class, the same
 * latent vector down each column), or a labelled synthetic set (IDX with --labels, classes
 * balanced or as --class-weights asks). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "clgan/data.h"
#include "clgan/gan.h"
#include "clgan/io.h"
#include "util/fsutil.h"

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

/* An IDX file's name: .idx, or MNIST's own spelling (train-labels-idx1-ubyte), maybe .gz. */
static int idx_name(const char *s) {
  return ends_with(s, ".idx") || ends_with(s, ".idx.gz") || ends_with(s, "-ubyte") ||
         ends_with(s, "-ubyte.gz");
}

static void mean_min(const float *d, int n, double *mean, double *min) {
  *mean = 0.0;
  *min = n ? d[0] : 0.0;
  for (int i = 0; i < n; i++) {
    *mean += d[i] / n;
    if (d[i] < *min) *min = d[i];
  }
}

/* The options, and what they decide: png is the output's kind (else IDX). */
typedef struct {
  const char *ckpt, *out, *latent_path, *raw, *device, *nearest, *data_dir;
  int count, cols, interpolate, rows_given, walk_rows;
  long seed;
  int seed_given;
  int png, folder; /* folder: --out DIR/, one PNG per image */
  int no_ema, trunc_given;
  float truncation;
  /* Conditional generators. */
  int klass, class_given, count_given;
  const char *labels_out, *class_weights;
  int scale, scale_given; /* grids' pixel scale; 0: clgan_grid_auto_scale */
  /* --nearest's data, read as clgan train read it (0: the data's own size and channels). */
  int image_size, data_channels, image_size_given, data_channels_given;
} sample_opts;

/* The split --nearest judges distances by, for a training set of this kind: IDX's t10k,
 * CIFAR-10's test_batch.bin (any split but "train"), else none (a folder of images or a .npy
 * array holds one set). */
static const char *reference_split(clgan_source_kind kind) {
  return kind == CLGAN_SOURCE_IDX ? "t10k" : kind == CLGAN_SOURCE_CIFAR10 ? "test" : NULL;
}

/* A data set of the generator's shape, or CLGAN_INVALID_ARGUMENT with a message naming both. */
static clgan_status check_shape(const sample_opts *o, const char *what, const clgan_dataset *ds,
                                int channels, int rows, int width) {
  int c = ds->channels > 1 ? ds->channels : 1;
  if (c == channels && ds->rows == rows && ds->cols == width) return CLGAN_OK;
  fprintf(stderr, "clgan sample: error: the generator of %s makes %dx%dx%d images, and %s holds "
                  "%dx%dx%d: give --data, --image-size and --channels as clgan train was given "
                  "them\n", o->ckpt, channels, rows, width, what, c, ds->rows, ds->cols);
  return CLGAN_INVALID_ARGUMENT;
}

/* --nearest: each sample beside its nearest training image over all channels (a colour grid
 * for a colour generator), and the distances against a scale: as many test images' (IDX's
 * t10k split or CIFAR-10's test batch, which the data must then hold), else, for a folder of
 * images or a .npy array, as many training images' distances to the other training images.
 * Samples much closer to the training set than that would be copies. The data is read as
 * clgan train reads it (clgan_dataset_open with --image-size and --channels). */
static clgan_status nearest_check(const sample_opts *o, const float *images, int channels,
                                  int rows, int width) {
  int count = o->count;
  if (count > 256) {
    fprintf(stderr, "clgan sample: error: --nearest compares at most 256 samples (%d asked)\n",
            count);
    return CLGAN_INVALID_ARGUMENT;
  }
  const char *dir = clgan_data_dir(o->data_dir);
  clgan_data_opts dopts = {.image_size = o->image_size, .channels = o->data_channels};
  clgan_data_summary sum;
  clgan_dataset train = {0}, test = {0};
  int *index = NULL, *skip = NULL;
  float *dist = NULL, *pairs = NULL;
  clgan_status st = clgan_dataset_open(dir, "train", &dopts, &train, &sum);
  if (st) return st;
  if ((st = check_shape(o, dir, &train, channels, rows, width))) goto done;
  /* Without a scale the distances cannot be judged: that is a failed check (exit 2), not a
   * pass (issue 9, finding 7: it printed an error and exited 0), found before the grid is
   * written. */
  const char *split = reference_split(sum.kind);
  if (split && (st = clgan_dataset_open(dir, split, &dopts, &test, NULL))) {
    fprintf(stderr, "clgan sample: error: --nearest needs the %s in %s to judge the distances "
                    "by\n", sum.kind == CLGAN_SOURCE_IDX ? "t10k test images"
                                                          : "test batch (test_batch.bin)", dir);
    goto done;
  }
  if (split && (st = check_shape(o, "its test split", &test, channels, rows, width))) goto done;
  if (!split && train.count < 2) {
    fprintf(stderr, "clgan sample: error: --nearest needs at least 2 images in %s (%d found): "
                    "without a test split, the distances are judged by each training image's "
                    "to the others\n", dir, train.count);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  size_t dim = clgan_dataset_image_bytes(&train);
  index = malloc((size_t)count * 2 * sizeof *index);
  skip = malloc((size_t)count * sizeof *skip);
  dist = malloc((size_t)count * 2 * sizeof *dist);
  pairs = malloc((size_t)count * 2 * dim * sizeof *pairs);
  if (!index || !skip || !dist || !pairs) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  clgan_nearest_images(images, count, &train, NULL, index, dist);
  for (int q = 0; q < count; q++) {
    float *pair = pairs + (size_t)2 * q * dim;
    memcpy(pair, images + (size_t)q * dim, dim * sizeof *pair);
    const uint8_t *y = train.images + (size_t)index[q] * dim;
    for (size_t p = 0; p < dim; p++) pair[dim + p] = clgan_pixel_to_unit(y[p]);
  }
  int per_row = 8;
  while (per_row > 1 && per_row * per_row > count) per_row /= 2;
  int scale = o->scale ? o->scale : clgan_grid_auto_scale(2 * count, width, 2 * per_row, 2);
  if ((st = clgan_png_write_grid_scaled(o->nearest, pairs, 2 * count, channels, rows, width,
                                        2 * per_row, 2, scale)))
    goto done;
  double mean, min;
  mean_min(dist, count, &mean, &min);
  printf("nearest training image (%d of %s, %s; Euclidean over %dx%dx%d values in [-1, 1]):\n"
         "  %d samples:     mean distance %.2f, smallest %.2f -> %s (sample | nearest pairs)\n",
         train.count, dir, clgan_source_kind_name(sum.kind), channels, rows, width, count, mean,
         min, o->nearest);
  /* Which classes the samples' neighbours belong to: a crude coverage check (a collapsed
   * generator's samples all sit near one or two classes). */
  if (train.labels && train.classes > 0 && train.classes <= 256) {
    int hist[256] = {0}, present = 0;
    for (int q = 0; q < count; q++) hist[train.labels[index[q]]]++;
    printf("  their neighbours' classes:");
    for (int c = 0; c < train.classes; c++) {
      printf(" %d:%d", c, hist[c]);
      present += hist[c] > 0;
    }
    printf(" (%d of %d classes)\n", present, train.classes);
  }
  /* The same for real images the samples' distances are judged by: unseen test images, or
   * training images spread over the set, each against the others. */
  const clgan_dataset *ref = split ? &test : &train;
  int n = ref->count < count ? ref->count : count;
  for (int q = 0; q < n; q++) {
    int at = split ? q : (int)((long long)q * train.count / n);
    skip[q] = split ? -1 : at;
    for (size_t p = 0; p < dim; p++)
      pairs[(size_t)q * dim + p] = clgan_pixel_to_unit(ref->images[(size_t)at * dim + p]);
  }
  clgan_nearest_images(pairs, n, &train, skip, index + count, dist + count);
  mean_min(dist + count, n, &mean, &min);
  if (split)
    printf("  %d test images: mean distance %.2f, smallest %.2f (samples far closer than these "
           "would be copies)\n", n, mean, min);
  else
    printf("  %d training images, each against the others: mean distance %.2f, smallest %.2f "
           "(samples far closer than these would be copies)\n", n, mean, min);
done:
  free(index);
  free(skip);
  free(dist);
  free(pairs);
  clgan_dataset_free(&train);
  clgan_dataset_free(&test);
  return st;
}

/* The checks that need no device: 0, or CLGAN_EXIT_USAGE with the message printed. */
static int check_options(sample_opts *o) {
  if (!o->ckpt || !o->out) {
    fprintf(stderr, "clgan sample: error: --checkpoint and --out are required (see --help)\n");
    return CLGAN_EXIT_USAGE;
  }
  o->png = ends_with(o->out, ".png");
  o->folder = ends_with(o->out, "/");
  int idx = idx_name(o->out);
  if (!o->png && !idx && !o->folder) {
    fprintf(stderr, "clgan sample: error: --out '%s': the name must end in .png, .idx, .idx.gz "
                    "or MNIST's -ubyte, -ubyte.gz, or in / (a folder of PNGs)\n", o->out);
    return CLGAN_EXIT_USAGE;
  }
  if (o->raw && !ends_with(o->raw, ".npy")) {
    fprintf(stderr, "clgan sample: error: --raw '%s': the name must end in .npy\n", o->raw);
    return CLGAN_EXIT_USAGE;
  }
  if (o->trunc_given && cli_check_truncation("sample", o->truncation)) return CLGAN_EXIT_USAGE;
  if (o->scale_given && cli_check_scale("sample", o->scale)) return CLGAN_EXIT_USAGE;
  if (o->trunc_given && o->latent_path) {
    fprintf(stderr, "clgan sample: error: --truncation applies to drawn latent vectors, not to "
                    "--latent's\n");
    return CLGAN_EXIT_USAGE;
  }
  if (o->latent_path && o->seed_given) {
    fprintf(stderr, "clgan sample: error: --latent and --seed exclude each other\n");
    return CLGAN_EXIT_USAGE;
  }
  if (o->interpolate && (o->interpolate < 2 || o->interpolate > 64 || o->walk_rows < 1 ||
                         o->walk_rows > 256)) {
    fprintf(stderr, "clgan sample: error: --interpolate must be in 2..64 and --rows in 1..256\n");
    return CLGAN_EXIT_USAGE;
  }
  if (o->interpolate && o->latent_path) {
    fprintf(stderr, "clgan sample: error: --interpolate and --latent exclude each other\n");
    return CLGAN_EXIT_USAGE;
  }
  if (o->nearest && !ends_with(o->nearest, ".png")) {
    fprintf(stderr, "clgan sample: error: --nearest '%s': the name must end in .png\n",
            o->nearest);
    return CLGAN_EXIT_USAGE;
  }
  int asked = o->interpolate ? o->walk_rows * o->interpolate : o->count;
  if (o->nearest && !o->latent_path && asked > 256) {
    fprintf(stderr, "clgan sample: error: --nearest compares at most 256 samples (%d asked)\n",
            asked);
    return CLGAN_EXIT_USAGE;
  }
  if (!o->nearest && (o->data_dir || o->image_size_given || o->data_channels_given)) {
    fprintf(stderr, "clgan sample: error: %s goes with --nearest\n",
            o->data_dir ? "--data" : o->image_size_given ? "--image-size" : "--channels");
    return CLGAN_EXIT_USAGE;
  }
  if (cli_check_image_opts("sample", o->image_size, o->data_channels)) return CLGAN_EXIT_USAGE;
  if (o->rows_given && !o->interpolate) {
    fprintf(stderr, "clgan sample: error: --rows goes with --interpolate\n");
    return CLGAN_EXIT_USAGE;
  }
  if (o->labels_out && !idx_name(o->labels_out)) {
    fprintf(stderr, "clgan sample: error: --labels '%s': the name must end in .idx, .idx.gz or "
                    "MNIST's -ubyte, -ubyte.gz\n", o->labels_out);
    return CLGAN_EXIT_USAGE;
  }
  if (o->labels_out && (o->png || o->folder)) {
    fprintf(stderr, "clgan sample: error: --labels goes with an IDX --out (a labelled data set), "
                    "not a PNG grid\n");
    return CLGAN_EXIT_USAGE;
  }
  if (o->class_weights && o->class_given) {
    fprintf(stderr, "clgan sample: error: --class and --class-weights exclude each other\n");
    return CLGAN_EXIT_USAGE;
  }
  if (o->class_given && o->klass < 0) {
    fprintf(stderr, "clgan sample: error: --class %d: classes count from 0\n", o->klass);
    return CLGAN_EXIT_USAGE;
  }
  if (o->count < 1 || o->count > 1000000 || o->cols < 0) {
    fprintf(stderr, "clgan sample: error: --count must be in 1..1000000 and --cols >= 0\n");
    return CLGAN_EXIT_USAGE;
  }
  return 0;
}

/* The latent vectors (*z, malloc'd): from --latent (which sets the count), along --interpolate's
 * great circles (which set the count and the default columns), or from the seed. */
static clgan_status make_latents(sample_opts *o, int latent, float **z) {
  *z = NULL;
  if (o->latent_path) {
    int n = 0, dim = 0;
    clgan_status st = clgan_npy_read_f32(o->latent_path, z, &n, &dim);
    if (st) return st;
    if (n < 1) { /* refused before anything is written (it used to write --raw first) */
      fprintf(stderr, "clgan sample: error: %s holds no latent vectors (0 rows)\n",
              o->latent_path);
      return CLGAN_INVALID_ARGUMENT;
    }
    if (dim != latent) {
      fprintf(stderr, "clgan sample: error: %s holds vectors of %d values; the generator takes "
                      "%d\n", o->latent_path, dim, latent);
      return CLGAN_INVALID_ARGUMENT;
    }
    o->count = n;
  } else if (o->interpolate) {
    /* Row r walks from endpoint 2r to endpoint 2r + 1 of the seed's fixed latent batch. */
    int k = o->interpolate, walks = o->walk_rows;
    o->count = walks * k;
    if (o->cols == 0) o->cols = k;
    float *ends = malloc((size_t)2 * walks * (size_t)latent * sizeof *ends);
    *z = malloc((size_t)o->count * (size_t)latent * sizeof **z);
    if (!ends || !*z) {
      free(ends);
      return CLGAN_HOST_OUT_OF_MEMORY;
    }
    clgan_fixed_latent(ends, 2 * walks, latent, (uint64_t)o->seed);
    clgan_status st = o->trunc_given ? clgan_latent_truncate(ends, 2 * walks, latent,
                                                             (uint64_t)o->seed, o->truncation)
                                     : CLGAN_OK;
    if (st) {
      free(ends);
      return st;
    }
    for (int r = 0; r < walks; r++)
      clgan_latent_interpolate(*z + (size_t)r * k * latent, ends + (size_t)2 * r * latent,
                               ends + (size_t)(2 * r + 1) * latent, latent, k);
    free(ends);
  } else {
    *z = malloc((size_t)o->count * (size_t)latent * sizeof **z);
    if (!*z) return CLGAN_HOST_OUT_OF_MEMORY;
    clgan_fixed_latent(*z, o->count, latent, (uint64_t)o->seed);
    if (o->trunc_given)
      return clgan_latent_truncate(*z, o->count, latent, (uint64_t)o->seed, o->truncation);
  }
  return CLGAN_OK;
}

/* The images in [-1, 1] to --out: a PNG grid, a folder of PNGs (000000.png, ...), or uint8
 * IDX (gray only: IDX files here hold count x rows x cols). */
static clgan_status write_images(const sample_opts *o, const float *images, int channels,
                                 int rows, int width) {
  int count = o->count;
  size_t n = (size_t)count * (size_t)(rows * width);
  if (o->png) {
    int c = o->cols;
    if (c == 0)
      while (c * c < count) c++;
    int scale = o->scale ? o->scale : clgan_grid_auto_scale(count, width, c, 2);
    return clgan_png_write_grid_scaled(o->out, images, count, channels, rows, width, c, 2, scale);
  }
  if (o->folder) {
    clgan_status st = clgan_make_dirs(o->out);
    size_t dim = (size_t)channels * rows * width;
    for (int i = 0; st == CLGAN_OK && i < count; i++) {
      char path[4200];
      snprintf(path, sizeof path, "%s%06d.png", o->out, i);
      st = clgan_png_write_grid(path, images + (size_t)i * dim, 1, channels, rows, width, 1, 0);
    }
    return st;
  }
  if (channels > 1) {
    clgan_error("%s: the generator makes colour images, and IDX output holds gray ones: write "
                "a .png grid or a folder (--out DIR/)", o->out);
    return CLGAN_INVALID_ARGUMENT;
  }
  uint8_t *bytes = malloc(n);
  if (!bytes) return CLGAN_HOST_OUT_OF_MEMORY;
  for (size_t i = 0; i < n; i++) {
    float v = (images[i] + 1.0f) * 127.5f;
    bytes[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
  }
  clgan_status st = clgan_idx_write_images(o->out, bytes, count, rows, width);
  free(bytes);
  return st;
}

/* The checks of the conditional options against the checkpoint: CLGAN_INVALID_ARGUMENT (exit
 * 2) with the message printed. */
static clgan_status check_conditional(const sample_opts *o, const clgan_train_cfg *cfg) {
  const char *given = o->class_given ? "--class" : o->labels_out ? "--labels"
                      : o->class_weights ? "--class-weights" : NULL;
  if (cfg->classes == 0 && given) {
    fprintf(stderr, "clgan sample: error: %s: %s holds an unconditional generator (trained "
                    "without --conditional), which has no classes\n", given, o->ckpt);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (o->class_given && o->klass >= cfg->classes) {
    fprintf(stderr, "clgan sample: error: --class %d: the generator of %s knows classes "
                    "0..%d\n", o->klass, o->ckpt, cfg->classes - 1);
    return CLGAN_INVALID_ARGUMENT;
  }
  return CLGAN_OK;
}

/* A conditional checkpoint's default picture: the class grid. */
static int class_grid(const sample_opts *o, const clgan_train_cfg *cfg) {
  return cfg->classes > 0 && o->png && !o->class_given && !o->count_given && !o->latent_path &&
         !o->interpolate && !o->class_weights;
}

static clgan_status make_class_grid(sample_opts *o, const clgan_train_cfg *cfg, float **z,
                                    int32_t **labels) {
  if (o->cols == 0) o->cols = 8;
  if (o->cols > 256) o->cols = 256;
  o->count = cfg->classes * o->cols;
  *z = malloc((size_t)o->count * (size_t)cfg->latent * sizeof **z);
  *labels = malloc((size_t)o->count * sizeof **labels);
  if (!*z || !*labels) return CLGAN_HOST_OUT_OF_MEMORY;
  clgan_class_grid(*z, *labels, cfg->classes, o->cols, cfg->latent, (uint64_t)o->seed);
  if (o->trunc_given) {
    /* Truncate the first row's vectors, then copy them down the columns again. */
    clgan_status st = clgan_latent_truncate(*z, o->cols, cfg->latent, (uint64_t)o->seed,
                                            o->truncation);
    if (st) return st;
    for (int k = 1; k < cfg->classes; k++)
      memcpy(*z + (size_t)k * o->cols * cfg->latent, *z,
             (size_t)o->cols * cfg->latent * sizeof **z);
  }
  return CLGAN_OK;
}

/* --class-weights: classes numbers >= 0, not all 0. */
static clgan_status parse_weights(const char *text, int classes, double *w) {
  const char *p = text;
  int n = 0;
  double total = 0.0;
  while (n < classes) {
    char *end = NULL;
    errno = 0;
    double v = strtod(p, &end);
    if (end == p || errno || !isfinite(v) || v < 0) break;
    w[n++] = v;
    total += v;
    p = end;
    if (*p != ',') break;
    p++;
  }
  if (n != classes || *p || !(total > 0)) {
    fprintf(stderr, "clgan sample: error: --class-weights '%s': give %d numbers >= 0 (one per "
                    "class, not all 0), separated by commas\n", text, classes);
    return CLGAN_INVALID_ARGUMENT;
  }
  return CLGAN_OK;
}

/* The samples' classes: --class, else exact shares (largest remainders) of the weights or of
 * balanced classes, in an order shuffled from the seed. */
static clgan_status make_labels(const sample_opts *o, int classes, int32_t **labels) {
  clgan_status st = CLGAN_OK;
  int n = o->count;
  double *w = calloc((size_t)classes, sizeof *w);
  int *quota = calloc((size_t)classes, sizeof *quota);
  int32_t *order = malloc((size_t)n * sizeof *order);
  *labels = malloc((size_t)n * sizeof **labels);
  if (!w || !quota || !order || !*labels) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  if (o->class_given) {
    for (int i = 0; i < n; i++) (*labels)[i] = o->klass;
    goto done;
  }
  if (o->class_weights) {
    if ((st = parse_weights(o->class_weights, classes, w))) goto done;
  } else {
    for (int k = 0; k < classes; k++) w[k] = 1.0;
  }
  double total = 0.0;
  for (int k = 0; k < classes; k++) total += w[k];
  int given = 0;
  for (int k = 0; k < classes; k++) given += quota[k] = (int)floor(n * w[k] / total);
  while (given < n) { /* the largest remainders, the lowest class first on a tie */
    int best = -1;
    double best_r = -1.0;
    for (int k = 0; k < classes; k++) {
      double r = n * w[k] / total - quota[k];
      if (w[k] > 0 && r > best_r) best = k, best_r = r;
    }
    quota[best]++;
    given++;
  }
  clgan_philox_shuffle(order, n, (uint64_t)o->seed, 0, 0x4C42);
  for (int k = 0, i = 0; k < classes; k++)
    for (int j = 0; j < quota[k]; j++) (*labels)[order[i++]] = k;
done:
  free(w);
  free(quota);
  free(order);
  return st;
}

static clgan_status write_labels(const char *path, const int32_t *labels, int count) {
  uint8_t *bytes = malloc((size_t)count);
  if (!bytes) return CLGAN_HOST_OUT_OF_MEMORY;
  for (int i = 0; i < count; i++) bytes[i] = (uint8_t)labels[i];
  int dims[1] = {count};
  clgan_status st = clgan_idx_write(path, bytes, dims, 1);
  free(bytes);
  return st;
}

int cmd_sample(int argc, char **argv) {
  sample_opts o = {.count = 64, .walk_rows = 8, .seed = 1};
  const cli_opt opts[] = {
      {"checkpoint", "PATH", CLI_STR, &o.ckpt, "checkpoint written by clgan train (required)", NULL},
      {"out", "FILE", CLI_STR, &o.out, "output: FILE.png (a grid, RGB for a colour model), DIR/ (a folder of PNGs, one per image), FILE.idx or FILE.idx.gz (uint8 images; also MNIST's names, train-images-idx3-ubyte[.gz]) (required)", NULL},
      {"count", "N", CLI_INT, &o.count, "number of images (ignored with --latent)", &o.count_given},
      {"class", "K", CLI_INT, &o.klass, "conditional checkpoint: every image of class K (default for a PNG: the class grid, a row per class)", &o.class_given},
      {"labels", "FILE.idx.gz", CLI_STR, &o.labels_out, "conditional checkpoint: write the images' classes as an IDX labels file beside an IDX --out (a labelled synthetic data set)", NULL},
      {"class-weights", "W0,W1,..", CLI_STR, &o.class_weights, "conditional checkpoint: the classes' shares of the images (default balanced); one weight >= 0 per class", NULL},
      {"seed", "S", CLI_LONG, &o.seed, "seed of the latent vectors N(0, 1) (1)", &o.seed_given},
      {"latent", "FILE.npy", CLI_STR, &o.latent_path, "take the latent vectors from a float32 (N, latent) .npy file", NULL},
      {"raw", "FILE.npy", CLI_STR, &o.raw, "also write the generator's float outputs (N, pixels) to .npy", NULL},
      {"cols", "N", CLI_INT, &o.cols, "grid columns (default: square grid)", NULL},
      {"scale", "N", CLI_INT, &o.scale, CLI_SCALE_HELP, &o.scale_given},
      {"interpolate", "K", CLI_INT, &o.interpolate, "rows of K images each, walking on a great circle from one random latent vector to another (K in 2..64; replaces --count)", NULL},
      {"rows", "R", CLI_INT, &o.walk_rows, "with --interpolate: the number of walks (1..256; 8)", &o.rows_given},
      {"nearest", "FILE.png", CLI_STR, &o.nearest, "memorisation check, gray or colour: a grid pairing each sample with its nearest training image (over all channels; RGB for a colour model), and their distances against test images' (IDX t10k, CIFAR-10 test_batch.bin) or, for a folder of images or a .npy, training images' to the others (at most 256 samples)", NULL},
      {"data", "PATH", CLI_STR, &o.data_dir, "with --nearest: the training data, any source clgan train reads (IDX folder, folder of PNG/JPEG, CIFAR-10 folder, .npy; default $CLGAN_DATA, else " CLGAN_DATA_DIR_DEFAULT ")", NULL},
      {"image-size", "S", CLI_INT, &o.image_size, "with --nearest: resize --data to S x S as clgan train --image-size S did (0 keeps the data's size)", &o.image_size_given},
      {"channels", "C", CLI_INT, &o.data_channels, "with --nearest: read --data with C channels as clgan train --channels C did (1 or 3; 0 keeps the data's)", &o.data_channels_given},
      {"truncation", "PSI", CLI_FLOAT, &o.truncation, "truncation trick: redraw each latent component with |z| > PSI (> 0; BigGAN's resampling): fidelity for diversity", &o.trunc_given},
      {"no-ema", NULL, CLI_FLAG, &o.no_ema, "use the trained generator, not the EMA one a checkpoint trained with --ema holds", NULL},
      {"device", "SEL", CLI_STR, &o.device, "OpenCL device (index, P:D, type or name; $CLGAN_DEVICE)", NULL},
  };
  int rc = cli_parse("sample", "Generates images with the generator of a checkpoint (batch norm "
                     "in eval mode, using its\nrunning statistics).",
                     opts, (int)(sizeof opts / sizeof opts[0]), argc, argv);
  if (rc) return rc < 0 ? 0 : rc;
  if ((rc = check_options(&o))) return rc;
  clgan_status st = CLGAN_OK;
  clgan_device *dev = NULL;
  clgan_net g = {0};
  clgan_train_cfg cfg;
  float *z = NULL, *images = NULL;
  int32_t *labels = NULL;
  int rows = 0, width = 0;
  if ((st = cli_open_device(o.device, 0, &dev))) goto done;
  int is_ema = 0;
  if ((st = clgan_checkpoint_load_generator(o.ckpt, dev, &g, &cfg, &rows, &width, 256,
                                            o.no_ema ? CLGAN_GEN_RAW : CLGAN_GEN_AUTO, &is_ema)))
    goto done;
  if ((st = check_conditional(&o, &cfg))) goto done;
  if (class_grid(&o, &cfg)) {
    if ((st = make_class_grid(&o, &cfg, &z, &labels))) goto done;
  } else if ((st = make_latents(&o, cfg.latent, &z)) ||
             (cfg.classes > 0 && (st = make_labels(&o, cfg.classes, &labels)))) {
    goto done;
  }
  int channels = cfg.channels > 1 ? cfg.channels : 1;
  int dim = channels * rows * width;
  images = malloc((size_t)o.count * (size_t)dim * sizeof *images);
  if (!images) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  if ((st = clgan_generate_labels(&g, z, labels, o.count, cfg.latent, images))) goto done;
  if (o.raw && (st = clgan_npy_write_f32(o.raw, images, o.count, dim))) goto done;
  st = write_images(&o, images, channels, rows, width);
  if (st == CLGAN_OK && o.labels_out) st = write_labels(o.labels_out, labels, o.count);
  if (st == CLGAN_OK)
    printf("clgan sample: %d images (%s%dx%d) from %s%s -> %s%s%s\n", o.count,
           channels > 1 ? "RGB " : "", rows, width, o.ckpt,
           is_ema ? " (EMA generator)" : "", o.out, o.raw ? ", raw floats -> " : "",
           o.raw ? o.raw : "");
  if (st == CLGAN_OK && o.nearest) st = nearest_check(&o, images, channels, rows, width);
done:
  free(z);
  free(labels);
  free(images);
  clgan_net_free(&g);
  clgan_device_close(dev);
  return cli_exit_code(st);
}
