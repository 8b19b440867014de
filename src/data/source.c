/* Data sources behind one door (issue 13): clgan_dataset_open decides what a --data path is
 * (IDX folder, CIFAR-10 folder, .npy file, folder of images), reads it with the matching
 * reader, then crops, resizes and converts channels as asked. See clgan/data.h. */
#define _DEFAULT_SOURCE /* strdup */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clgan/data.h"
#include "clgan/io.h"
#include "data/source_internal.h"

const char *clgan_source_kind_name(clgan_source_kind kind) {
  static const char *const names[] = {"IDX", "image folder", "CIFAR-10", ".npy array"};
  return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

void source_summary_class(clgan_data_summary *sum, size_t *used, int k, const char *name) {
  size_t size = sizeof sum->classes;
  if (*used >= size - 4) return;
  int n = snprintf(sum->classes + *used, size - *used, "%s%d %s", *used ? ", " : "", k, name);
  if (n < 0 || (size_t)n >= size - *used - 4) {
    sum->classes[size - 4] = '\0';
    snprintf(sum->classes + size - 4, 4, "...");
    *used = size;
    return;
  }
  *used += (size_t)n;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

static int exists(const char *dir, const char *name) {
  char path[4096];
  struct stat sb;
  return snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path &&
         stat(path, &sb) == 0;
}

static int is_idx_dir(const char *dir, const char *split) {
  char path[4096];
  return idx_find_split_file(dir, split, "images", "idx3", path, sizeof path, NULL, 0) ==
         CLGAN_OK;
}

static int is_batch_name(const char *name) {
  return !strncmp(name, "data_batch_", 11) && ends_with(name, ".bin");
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* data_batch_*.bin of dir, sorted; *n 0 when there are none. */
static clgan_status cifar_batches(const char *dir, char ***names, int *n) {
  *names = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return CLGAN_OK;
  clgan_status st = CLGAN_OK;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (!is_batch_name(e->d_name)) continue;
    char **p = realloc(*names, (size_t)(*n + 1) * sizeof *p);
    if (!p || !(p[*n] = strdup(e->d_name))) {
      if (p) *names = p;
      st = CLGAN_HOST_OUT_OF_MEMORY;
      break;
    }
    *names = p;
    (*n)++;
  }
  closedir(d);
  if (*n) qsort(*names, (size_t)*n, sizeof **names, cmp_str);
  return st;
}

/* batches.meta.txt: one class name a line. */
static void cifar_class_names(const char *dir, clgan_data_summary *sum) {
  char path[4096], line[128];
  size_t used = 0;
  if (snprintf(path, sizeof path, "%s/batches.meta.txt", dir) >= (int)sizeof path) return;
  FILE *f = fopen(path, "r");
  if (!f) return;
  for (int k = 0; k < 10 && fgets(line, sizeof line, f);) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!line[0]) continue;
    source_summary_class(sum, &used, k++, line);
  }
  fclose(f);
}

static clgan_status source_cifar(const char *dir, const char *split, char **names, int n,
                                 clgan_dataset *ds, clgan_data_summary *sum) {
  static char *test_name[] = {"test_batch.bin"};
  int train = !strcmp(split, "train");
  if (!train) {
    names = test_name;
    n = 1;
  }
  uint8_t *images = NULL, *labels = NULL;
  int count = 0;
  clgan_status st = CLGAN_OK;
  for (int i = 0; i < n; i++) {
    char path[4096];
    uint8_t *im = NULL, *lb = NULL;
    int c = 0;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if ((st = clgan_cifar10_read(path, &im, &lb, &c))) break;
    if (count > CLGAN_IDX_MAX_COUNT - c) {
      free(im);
      free(lb);
      clgan_error("%s: more than %d images in %s", clgan_status_message(CLGAN_BAD_FORMAT),
                  CLGAN_IDX_MAX_COUNT, dir);
      st = CLGAN_BAD_FORMAT;
      break;
    }
    uint8_t *pi = realloc(images, (size_t)(count + c) * 3072), *pl = NULL;
    if (pi) images = pi;
    if (pi) pl = realloc(labels, (size_t)(count + c));
    if (pl) labels = pl;
    if (!pi || !pl) {
      free(im);
      free(lb);
      st = CLGAN_HOST_OUT_OF_MEMORY;
      break;
    }
    memcpy(images + (size_t)count * 3072, im, (size_t)c * 3072);
    memcpy(labels + count, lb, (size_t)c);
    count += c;
    sum->files++;
    free(im);
    free(lb);
  }
  if (st != CLGAN_OK) {
    free(images);
    free(labels);
    return st;
  }
  *ds = (clgan_dataset){.count = count, .rows = 32, .cols = 32, .channels = 3, .images = images,
                        .labels = labels, .classes = 0};
  for (int i = 0; i < count; i++)
    if (labels[i] + 1 > ds->classes) ds->classes = labels[i] + 1;
  cifar_class_names(dir, sum);
  return CLGAN_OK;
}

static clgan_status source_npy(const char *path, const char *split, clgan_dataset *ds,
                               clgan_data_summary *sum) {
  if (strcmp(split, "train") != 0) {
    clgan_error("%s: %s is one array: it has no '%s' split", clgan_status_message(CLGAN_IO_ERROR),
                path, split);
    return CLGAN_IO_ERROR;
  }
  uint8_t *raw = NULL, *labels = NULL;
  int dims[4] = {0}, nd = 0, nl = 0;
  clgan_status st = clgan_npy_read_u8(path, &raw, dims, &nd);
  if (st != CLGAN_OK) return st;
  int c = nd == 4 ? dims[3] : 1;
  if ((nd != 3 && nd != 4) || (c != 1 && c != 3 && c != 4)) {
    st = clgan_refuse_file(".npy file", path, "holds a %d-D array of last dimension %d; images "
                           "are (N, H, W) or (N, H, W, C) with C 1, 3 or 4", nd,
                           nd ? dims[nd - 1] : 0);
    goto fail;
  }
  if (dims[0] < 1 || dims[1] < 1 || dims[2] < 1 || dims[0] > CLGAN_IDX_MAX_COUNT ||
      dims[1] > CLGAN_IDX_MAX_SIDE || dims[2] > CLGAN_IDX_MAX_SIDE) {
    st = clgan_refuse_file(".npy file", path, "shape (%d, %d, %d): the count must be 1..%d and "
                           "the sides 1..%d", dims[0], dims[1], dims[2], CLGAN_IDX_MAX_COUNT,
                           CLGAN_IDX_MAX_SIDE);
    goto fail;
  }
  int n = dims[0], h = dims[1], w = dims[2], out_c = c == 4 ? 3 : c;
  size_t plane = (size_t)h * w;
  uint8_t *images = raw;
  if (c > 1) {
    /* (N, H, W, C) interleaved to (N, C, H, W) planes; alpha composited over white, as a
     * PNG's. */
    images = malloc((size_t)n * out_c * plane);
    if (!images) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto fail;
    }
    for (int i = 0; i < n; i++)
      for (int k = 0; k < out_c; k++)
        for (size_t p = 0; p < plane; p++) {
          const uint8_t *px = raw + ((size_t)i * plane + p) * c;
          unsigned v = px[k], a = c == 4 ? px[3] : 255u;
          images[((size_t)i * out_c + k) * plane + p] =
              (uint8_t)((v * a + 255u * (255u - a) + 127u) / 255u);
        }
    free(raw);
    raw = NULL;
  }
  char lpath[4096];
  struct stat sb;
  int len = (int)strlen(path) - 4;
  if (snprintf(lpath, sizeof lpath, "%.*s_labels.npy", len, path) < (int)sizeof lpath &&
      stat(lpath, &sb) == 0) {
    if ((st = clgan_npy_read_labels(lpath, &labels, &nl))) {
      free(images);
      return st;
    }
    if (nl != n) {
      clgan_error("%s: %s holds %d labels but %s holds %d images",
                  clgan_status_message(CLGAN_BAD_FORMAT), lpath, nl, path, n);
      free(images);
      free(labels);
      return CLGAN_BAD_FORMAT;
    }
  }
  *ds = (clgan_dataset){.count = n, .rows = h, .cols = w, .channels = out_c, .images = images,
                        .labels = labels};
  for (int i = 0; labels && i < n; i++)
    if (labels[i] + 1 > ds->classes) ds->classes = labels[i] + 1;
  sum->files = 1;
  return CLGAN_OK;
fail:
  free(raw);
  return st;
}

/* Adds a file to a cache fingerprint: its path, size and modification time (as folder.c's);
 * a file that is not there adds its path alone. */
static void key_add_file(cache_key *k, const char *path) {
  struct stat sb;
  long long f[2] = {-1, -1};
  if (stat(path, &sb) == 0) {
    f[0] = (long long)sb.st_size;
    f[1] = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
  }
  cache_key_add(k, path, strlen(path) + 1);
  cache_key_add(k, f, sizeof f);
}

/* The decode cache of a CIFAR-10 folder or a .npy array (issue 13): what it holds is already
 * converted (--image-size, --channels) and laid out in planes, so a later run maps it and
 * reads, transposes and resizes nothing. The fingerprint: the source kind, the files read (for
 * CIFAR-10 also batches.meta.txt, the class names), the split and the options. 1 and the cache
 * file's path in sum->cache when caching is on. */
static int source_cache_key(clgan_source_kind kind, const char *path, const char *split,
                            char **batches, int nb, const clgan_data_opts *o,
                            clgan_data_summary *sum, char key_text[CACHE_KEY_TEXT]) {
  cache_key key;
  char p[4096];
  int head[3] = {(int)kind, o->image_size, o->channels};
  cache_key_init(&key);
  cache_key_add(&key, head, sizeof head);
  cache_key_add(&key, split, strlen(split) + 1);
  if (kind == CLGAN_SOURCE_NPY) {
    key_add_file(&key, path);
    snprintf(p, sizeof p, "%.*s_labels.npy", (int)strlen(path) - 4, path);
    key_add_file(&key, p);
  } else {
    for (int i = 0; i < nb; i++) {
      snprintf(p, sizeof p, "%s/%s", path, batches[i]);
      key_add_file(&key, p);
    }
    snprintf(p, sizeof p, "%s/test_batch.bin", path);
    key_add_file(&key, p);
    snprintf(p, sizeof p, "%s/batches.meta.txt", path);
    key_add_file(&key, p);
  }
  cache_key_text(&key, key_text);
  if (cache_path(o, key_text, sum->cache, sizeof sum->cache)) return 1;
  sum->cache[0] = '\0';
  return 0;
}

/* The decode cache of a gzip'd IDX split (issue 11's start-up): inflating Fashion-MNIST's 26 MB of
 * training images took 0.17-0.20 s of a warm 0.5-0.6 s launch on the 2-core machine, and mapping
 * the inflated copy costs one CRC pass. Only splits whose images file (the spelling the IDX
 * reader takes) is gzip'd and at least IDX_CACHE_MIN_BYTES on disk are cached (plain IDX is read
 * as it is; a small set inflates faster than a cache is written). The fingerprint: the images
 * and labels files the reader takes (path, size, modification time), the split and the
 * options. */
enum { IDX_CACHE_MIN_BYTES = 4 << 20 };
static int idx_cache_key(const char *dir, const char *split, const clgan_data_opts *o,
                         clgan_data_summary *sum, char key_text[CACHE_KEY_TEXT]) {
  char images[4096], labels[4096];
  struct stat sb;
  if (idx_find_split_file(dir, split, "images", "idx3", images, sizeof images, NULL, 0) ||
      !ends_with(images, ".gz") || stat(images, &sb) != 0 || sb.st_size < IDX_CACHE_MIN_BYTES)
    return 0;
  if (idx_find_split_file(dir, split, "labels", "idx1", labels, sizeof labels, NULL, 0))
    labels[0] = '\0';
  cache_key key;
  int head[3] = {(int)CLGAN_SOURCE_IDX, o->image_size, o->channels};
  cache_key_init(&key);
  cache_key_add(&key, head, sizeof head);
  cache_key_add(&key, split, strlen(split) + 1);
  key_add_file(&key, images);
  key_add_file(&key, labels);
  cache_key_text(&key, key_text);
  if (cache_path(o, key_text, sum->cache, sizeof sum->cache)) return 1;
  sum->cache[0] = '\0';
  return 0;
}

clgan_status clgan_dataset_open(const char *path, const char *split, const clgan_data_opts *opts,
                                clgan_dataset *ds, clgan_data_summary *sum) {
  clgan_data_summary local;
  clgan_data_opts none = {0};
  if (!sum) sum = &local;
  if (!opts) opts = &none;
  memset(ds, 0, sizeof *ds);
  memset(sum, 0, sizeof *sum);
  if (!path || !path[0] || !split || !split[0]) return CLGAN_INVALID_ARGUMENT;
  if (opts->image_size < 0 || opts->image_size > CLGAN_IMAGE_SIZE_MAX) {
    clgan_error("--image-size %d: out of range (allowed: 1..%d)", opts->image_size,
                CLGAN_IMAGE_SIZE_MAX);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (opts->channels != 0 && opts->channels != 1 && opts->channels != 3) {
    clgan_error("--channels %d: use 1 (gray) or 3 (RGB)", opts->channels);
    return CLGAN_INVALID_ARGUMENT;
  }
  struct stat sb;
  if (stat(path, &sb) != 0) {
    clgan_error("%s: %s: %s", clgan_status_message(CLGAN_IO_ERROR), path, strerror(errno));
    return CLGAN_IO_ERROR;
  }
  clgan_status st;
  char **batches = NULL, key_text[CACHE_KEY_TEXT];
  int nb = 0, cached = 0;
  if (S_ISREG(sb.st_mode) && ends_with(path, ".npy")) {
    sum->kind = CLGAN_SOURCE_NPY;
    if (!strcmp(split, "train") &&
        (cached = source_cache_key(sum->kind, path, split, NULL, 0, opts, sum, key_text)) &&
        cache_load(sum->cache, key_text, ds, sum))
      return CLGAN_OK;
    st = source_npy(path, split, ds, sum);
  } else if (!S_ISDIR(sb.st_mode)) {
    clgan_error("%s: %s is neither a folder nor a .npy file", clgan_status_message(CLGAN_IO_ERROR),
                path);
    return CLGAN_IO_ERROR;
  } else if (is_idx_dir(path, split) || (strcmp(split, "train") != 0 &&
                                         !exists(path, "test_batch.bin"))) {
    /* Splits other than train exist only for IDX and CIFAR-10; the IDX reader says what it
     * looked for. */
    sum->kind = CLGAN_SOURCE_IDX;
    if ((cached = idx_cache_key(path, split, opts, sum, key_text)) &&
        cache_load(sum->cache, key_text, ds, sum))
      return CLGAN_OK;
    st = clgan_dataset_load(path, split, ds);
    if (st == CLGAN_OK) sum->files = 1;
  } else if ((st = cifar_batches(path, &batches, &nb)) == CLGAN_OK &&
             (nb > 0 || (strcmp(split, "train") != 0))) {
    sum->kind = CLGAN_SOURCE_CIFAR10;
    if ((cached = source_cache_key(sum->kind, path, split, batches, nb, opts, sum, key_text)) &&
        cache_load(sum->cache, key_text, ds, sum)) {
      for (int i = 0; i < nb; i++) free(batches[i]);
      free(batches);
      return CLGAN_OK;
    }
    st = source_cifar(path, split, batches, nb, ds, sum);
  } else if (st == CLGAN_OK) {
    sum->kind = CLGAN_SOURCE_FOLDER;
    st = source_folder(path, opts, ds, sum);
  }
  for (int i = 0; i < nb; i++) free(batches[i]);
  free(batches);
  if (st != CLGAN_OK) {
    clgan_dataset_free(ds);
    return st;
  }
  if (!sum->src_rows) {
    sum->src_rows = ds->rows;
    sum->src_cols = ds->cols;
    if (opts->image_size && (ds->rows != opts->image_size || ds->cols != opts->image_size))
      sum->resized = ds->count;
  }
  if ((st = clgan_dataset_convert(ds, opts))) {
    clgan_dataset_free(ds);
    return st;
  }
  if (cached) cache_store(sum->cache, key_text, ds, sum);
  return CLGAN_OK;
}
