/* clgan sample: images from a checkpoint's generator, as a PNG grid or an IDX file, from a seed,
 * from latent vectors in a .npy file, or along great circles between random latent vectors
 * (--interpolate); optionally the raw float outputs as .npy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "clgan/data.h"
#include "clgan/gan.h"
#include "clgan/io.h"

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

static void mean_min(const float *d, int n, double *mean, double *min) {
  *mean = 0.0;
  *min = n ? d[0] : 0.0;
  for (int i = 0; i < n; i++) {
    *mean += d[i] / n;
    if (d[i] < *min) *min = d[i];
  }
}

/* --nearest: each sample beside its nearest training image, and the distances against those of
 * as many test images (the t10k split, which the folder must hold): samples much closer to the
 * training set than unseen real images are would be copies. */
static clgan_status nearest_check(const char *png, const char *dir, const float *images,
                                  int count, int rows, int width) {
  if (count > 256) {
    fprintf(stderr, "clgan sample: error: --nearest compares at most 256 samples (%d asked)\n",
            count);
    return CLGAN_INVALID_ARGUMENT;
  }
  dir = cli_data_dir(dir);
  clgan_dataset train = {0}, test = {0};
  clgan_status st = clgan_dataset_load(dir, "train", &train);
  if (st) return st;
  int dim = rows * width;
  if (train.rows != rows || train.cols != width) {
    fprintf(stderr, "clgan sample: error: %s holds %dx%d images; the generator makes %dx%d\n",
            dir, train.rows, train.cols, rows, width);
    clgan_dataset_free(&train);
    return CLGAN_INVALID_ARGUMENT;
  }
  /* Without the test split the distances have no scale to be judged by: that is a failed
   * check (exit 2), not a pass (issue 9, finding 7: it printed an error and exited 0), found
   * before the grid is written. */
  if ((st = clgan_dataset_load(dir, "t10k", &test))) {
    fprintf(stderr, "clgan sample: error: --nearest needs the t10k test images in %s to judge "
                    "the distances by\n", dir);
    clgan_dataset_free(&train);
    return st;
  }
  if (test.rows != rows || test.cols != width) {
    fprintf(stderr, "clgan sample: error: the t10k images in %s are %dx%d; the generator makes "
                    "%dx%d\n", dir, test.rows, test.cols, rows, width);
    clgan_dataset_free(&train);
    clgan_dataset_free(&test);
    return CLGAN_INVALID_ARGUMENT;
  }
  int *index = malloc((size_t)count * 2 * sizeof *index);
  float *dist = malloc((size_t)count * 2 * sizeof *dist);
  float *pairs = malloc((size_t)count * 2 * (size_t)dim * sizeof *pairs);
  if (!index || !dist || !pairs) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  clgan_nearest_images(images, count, train.images, train.count, dim, index, dist);
  for (int q = 0; q < count; q++) {
    float *pair = pairs + (size_t)2 * q * dim;
    memcpy(pair, images + (size_t)q * dim, (size_t)dim * sizeof *pair);
    const uint8_t *y = train.images + (size_t)index[q] * dim;
    for (int p = 0; p < dim; p++) pair[dim + p] = clgan_pixel_to_unit(y[p]);
  }
  int per_row = 8;
  while (per_row > 1 && per_row * per_row > count) per_row /= 2;
  if ((st = clgan_png_write_grid(png, pairs, 2 * count, 1, rows, width, 2 * per_row, 2)))
    goto done;
  double mean, min;
  mean_min(dist, count, &mean, &min);
  printf("nearest training image (%d of %s, Euclidean, pixels in [-1, 1]):\n"
         "  %d samples:     mean distance %.2f, smallest %.2f -> %s (sample | nearest pairs)\n",
         train.count, dir, count, mean, min, png);
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
  /* The same for unseen real images: the scale a sample's distance is judged by. */
  int n = test.count < count ? test.count : count;
  for (size_t i = 0; i < (size_t)n * dim; i++) pairs[i] = clgan_pixel_to_unit(test.images[i]);
  clgan_nearest_images(pairs, n, train.images, train.count, dim, index + count, dist + count);
  mean_min(dist + count, n, &mean, &min);
  printf("  %d test images: mean distance %.2f, smallest %.2f (samples far closer than these "
         "would be copies)\n", n, mean, min);
done:
  free(index);
  free(dist);
  free(pairs);
  clgan_dataset_free(&train);
  clgan_dataset_free(&test);
  return st;
}

int cmd_sample(int argc, char **argv) {
  const char *ckpt = NULL, *out = NULL, *latent_path = NULL, *raw = NULL, *device = NULL;
  const char *nearest = NULL, *data_dir = NULL;
  int count = 64, cols = 0, interpolate = 0, rows_given = 0, walk_rows = 8;
  long seed = 1;
  int seed_given = 0;
  const cli_opt opts[] = {
      {"checkpoint", "PATH", CLI_STR, &ckpt, "checkpoint written by clgan train (required)", NULL},
      {"out", "FILE", CLI_STR, &out, "output: FILE.png (a grid), FILE.idx or FILE.idx.gz (uint8 images) (required)", NULL},
      {"count", "N", CLI_INT, &count, "number of images (ignored with --latent)", NULL},
      {"seed", "S", CLI_LONG, &seed, "seed of the latent vectors N(0, 1) (1)", &seed_given},
      {"latent", "FILE.npy", CLI_STR, &latent_path, "take the latent vectors from a float32 (N, latent) .npy file", NULL},
      {"raw", "FILE.npy", CLI_STR, &raw, "also write the generator's float outputs (N, pixels) to .npy", NULL},
      {"cols", "N", CLI_INT, &cols, "grid columns (default: square grid)", NULL},
      {"interpolate", "K", CLI_INT, &interpolate, "rows of K images each, walking on a great circle from one random latent vector to another (K in 2..64; replaces --count)", NULL},
      {"rows", "R", CLI_INT, &walk_rows, "with --interpolate: the number of walks (1..256; 8)", &rows_given},
      {"nearest", "FILE.png", CLI_STR, &nearest, "memorisation check: a grid pairing each sample with its nearest training image, and their distances against test images' (at most 256 samples)", NULL},
      {"data", "DIR", CLI_STR, &data_dir, "with --nearest: the data set folder (default $CLGAN_DATA, else /usr/share/datasets/fashion-mnist)", NULL},
      {"device", "SEL", CLI_STR, &device, "OpenCL device (index, P:D, type or name; $CLGAN_DEVICE)", NULL},
  };
  int rc = cli_parse("sample", "Generates images with the generator of a checkpoint (batch norm "
                     "in eval mode, using its\nrunning statistics).",
                     opts, (int)(sizeof opts / sizeof opts[0]), argc, argv);
  if (rc) return rc < 0 ? 0 : rc;
  if (!ckpt || !out) {
    fprintf(stderr, "clgan sample: error: --checkpoint and --out are required (see --help)\n");
    return CLGAN_EXIT_USAGE;
  }
  int png = ends_with(out, ".png"), idx = ends_with(out, ".idx") || ends_with(out, ".idx.gz");
  if (!png && !idx) {
    fprintf(stderr, "clgan sample: error: --out '%s': the name must end in .png, .idx or .idx.gz\n",
            out);
    return CLGAN_EXIT_USAGE;
  }
  if (raw && !ends_with(raw, ".npy")) {
    fprintf(stderr, "clgan sample: error: --raw '%s': the name must end in .npy\n", raw);
    return CLGAN_EXIT_USAGE;
  }
  if (latent_path && seed_given) {
    fprintf(stderr, "clgan sample: error: --latent and --seed exclude each other\n");
    return CLGAN_EXIT_USAGE;
  }
  if (interpolate && (interpolate < 2 || interpolate > 64 || walk_rows < 1 || walk_rows > 256)) {
    fprintf(stderr, "clgan sample: error: --interpolate must be in 2..64 and --rows in 1..256\n");
    return CLGAN_EXIT_USAGE;
  }
  if (interpolate && latent_path) {
    fprintf(stderr, "clgan sample: error: --interpolate and --latent exclude each other\n");
    return CLGAN_EXIT_USAGE;
  }
  if (nearest && !ends_with(nearest, ".png")) {
    fprintf(stderr, "clgan sample: error: --nearest '%s': the name must end in .png\n", nearest);
    return CLGAN_EXIT_USAGE;
  }
  if (nearest && !latent_path && (interpolate ? walk_rows * interpolate : count) > 256) {
    fprintf(stderr, "clgan sample: error: --nearest compares at most 256 samples (%d asked)\n",
            interpolate ? walk_rows * interpolate : count);
    return CLGAN_EXIT_USAGE;
  }
  if (data_dir && !nearest) {
    fprintf(stderr, "clgan sample: error: --data goes with --nearest\n");
    return CLGAN_EXIT_USAGE;
  }
  if (rows_given && !interpolate) {
    fprintf(stderr, "clgan sample: error: --rows goes with --interpolate\n");
    return CLGAN_EXIT_USAGE;
  }
  if (count < 1 || count > 1000000 || cols < 0) {
    fprintf(stderr, "clgan sample: error: --count must be in 1..1000000 and --cols >= 0\n");
    return CLGAN_EXIT_USAGE;
  }
  clgan_status st = CLGAN_OK;
  clgan_device *dev = NULL;
  clgan_net g = {0};
  clgan_train_cfg cfg;
  float *z = NULL, *images = NULL;
  uint8_t *bytes = NULL;
  int rows = 0, width = 0;
  if ((st = cli_open_device(device, 0, &dev))) goto done;
  if ((st = clgan_checkpoint_load_generator(ckpt, dev, &g, &cfg, &rows, &width, 256))) goto done;
  if (latent_path) {
    int n = 0, dim = 0;
    if ((st = clgan_npy_read_f32(latent_path, &z, &n, &dim))) goto done;
    if (n < 1) { /* refused before anything is written (it used to write --raw first) */
      fprintf(stderr, "clgan sample: error: %s holds no latent vectors (0 rows)\n", latent_path);
      st = CLGAN_INVALID_ARGUMENT;
      goto done;
    }
    if (dim != cfg.latent) {
      fprintf(stderr, "clgan sample: error: %s holds vectors of %d values; the generator takes "
                      "%d\n", latent_path, dim, cfg.latent);
      st = CLGAN_INVALID_ARGUMENT;
      goto done;
    }
    count = n;
  } else if (interpolate) {
    /* Row r walks from endpoint 2r to endpoint 2r + 1 of the seed's fixed latent batch. */
    count = walk_rows * interpolate;
    if (cols == 0) cols = interpolate;
    float *ends = malloc((size_t)2 * walk_rows * (size_t)cfg.latent * sizeof *ends);
    z = malloc((size_t)count * (size_t)cfg.latent * sizeof *z);
    if (!ends || !z) {
      free(ends);
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto done;
    }
    clgan_fixed_latent(ends, 2 * walk_rows, cfg.latent, (uint64_t)seed);
    for (int r = 0; r < walk_rows; r++)
      clgan_latent_interpolate(z + (size_t)r * interpolate * cfg.latent,
                               ends + (size_t)2 * r * cfg.latent,
                               ends + (size_t)(2 * r + 1) * cfg.latent, cfg.latent, interpolate);
    free(ends);
  } else {
    z = malloc((size_t)count * (size_t)cfg.latent * sizeof *z);
    if (!z) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto done;
    }
    clgan_fixed_latent(z, count, cfg.latent, (uint64_t)seed);
  }
  int dim = rows * width;
  images = malloc((size_t)count * (size_t)dim * sizeof *images);
  if (!images) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  if ((st = clgan_generate(&g, z, count, cfg.latent, images))) goto done;
  if (raw && (st = clgan_npy_write_f32(raw, images, count, dim))) goto done;
  if (png) {
    int c = cols;
    if (c == 0)
      while (c * c < count) c++;
    st = clgan_png_write_grid(out, images, count, 1, rows, width, c, 2);
  } else {
    bytes = malloc((size_t)count * (size_t)dim);
    if (!bytes) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto done;
    }
    for (size_t i = 0; i < (size_t)count * (size_t)dim; i++) {
      float v = (images[i] + 1.0f) * 127.5f;
      bytes[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
    }
    st = clgan_idx_write_images(out, bytes, count, rows, width);
  }
  if (st == CLGAN_OK)
    printf("clgan sample: %d images (%dx%d) from %s -> %s%s%s\n", count, rows, width, ckpt, out,
           raw ? ", raw floats -> " : "", raw ? raw : "");
  if (st == CLGAN_OK && nearest) st = nearest_check(nearest, data_dir, images, count, rows, width);
done:
  free(z);
  free(images);
  free(bytes);
  clgan_net_free(&g);
  clgan_device_close(dev);
  return cli_exit_code(st);
}
