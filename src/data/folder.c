/* A folder of PNG and JPEG images as a data set (issue 13): the recursive scan, the
 * ImageFolder labels, and the decode of every file into (count, 3, S, S) uint8 planes, then
 * reduced to one plane when no image had colour or one was asked for. See clgan/data.h. */
#define _DEFAULT_SOURCE /* strdup, strcasecmp */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "clgan/data.h"
#include "clgan/io.h"
#include "data/source_internal.h"

#define SCAN_MAX_DEPTH 32
#define SCAN_MAX_FILES 10000000

typedef struct {
  char **paths;
  long long *sizes, *mtimes; /* st_size, st_mtim in ns: the decode cache's fingerprint */
  int *top; /* index of the file's top-level subfolder in `tops`, or -1 directly in the root */
  int count, cap;
  char **tops;
  int ntops, tops_cap;
  int root_files; /* image files directly in the root */
} scan;

static void scan_free(scan *s) {
  for (int i = 0; i < s->count; i++) free(s->paths[i]);
  for (int i = 0; i < s->ntops; i++) free(s->tops[i]);
  free(s->paths);
  free(s->sizes);
  free(s->mtimes);
  free(s->top);
  free(s->tops);
  memset(s, 0, sizeof *s);
}

static int has_image_name(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static clgan_status add_file(scan *s, const char *path, int top, const struct stat *sb) {
  if (s->count == s->cap) {
    int cap = s->cap ? 2 * s->cap : 256;
    if (cap > SCAN_MAX_FILES) {
      clgan_error("more than %d image files: split the data set", SCAN_MAX_FILES);
      return CLGAN_INVALID_ARGUMENT;
    }
    char **p = realloc(s->paths, (size_t)cap * sizeof *p);
    if (p) s->paths = p;
    int *t = realloc(s->top, (size_t)cap * sizeof *t);
    if (t) s->top = t;
    long long *z = realloc(s->sizes, (size_t)cap * sizeof *z);
    if (z) s->sizes = z;
    long long *m = realloc(s->mtimes, (size_t)cap * sizeof *m);
    if (m) s->mtimes = m;
    if (!p || !t || !z || !m) return CLGAN_HOST_OUT_OF_MEMORY;
    s->cap = cap;
  }
  if (!(s->paths[s->count] = strdup(path))) return CLGAN_HOST_OUT_OF_MEMORY;
  s->sizes[s->count] = (long long)sb->st_size;
  s->mtimes[s->count] = (long long)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
  s->top[s->count++] = top;
  return CLGAN_OK;
}

/* The entries of dir, sorted by name, hidden ones left out. */
static clgan_status list_dir(const char *dir, char ***names, int *n) {
  *names = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) {
    clgan_error("%s: cannot open the folder %s: %s", clgan_status_message(CLGAN_IO_ERROR), dir,
                strerror(errno));
    return CLGAN_IO_ERROR;
  }
  int cap = 0;
  clgan_status st = CLGAN_OK;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.') continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 64;
      char **p = realloc(*names, (size_t)cap * sizeof *p);
      if (!p) {
        st = CLGAN_HOST_OUT_OF_MEMORY;
        break;
      }
      *names = p;
    }
    if (!((*names)[*n] = strdup(e->d_name))) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      break;
    }
    (*n)++;
  }
  closedir(d);
  if (*n) qsort(*names, (size_t)*n, sizeof **names, cmp_str);
  return st;
}

static clgan_status walk(scan *s, const char *dir, int depth, int top) {
  char **names = NULL;
  int n = 0;
  clgan_status st = list_dir(dir, &names, &n);
  for (int i = 0; st == CLGAN_OK && i < n; i++) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path) continue;
    struct stat sb;
    if (stat(path, &sb) != 0) continue; /* a dangling link: nothing to read */
    if (S_ISDIR(sb.st_mode)) {
      if (depth + 1 >= SCAN_MAX_DEPTH) {
        clgan_warn("%s: deeper than %d folders, not searched", path, SCAN_MAX_DEPTH);
        continue;
      }
      int t = top;
      if (depth == 0) {
        if (s->ntops == s->tops_cap) {
          int cap = s->tops_cap ? 2 * s->tops_cap : 16;
          char **p = realloc(s->tops, (size_t)cap * sizeof *p);
          if (!p) {
            st = CLGAN_HOST_OUT_OF_MEMORY;
            break;
          }
          s->tops = p;
          s->tops_cap = cap;
        }
        if (!(s->tops[s->ntops] = strdup(names[i]))) {
          st = CLGAN_HOST_OUT_OF_MEMORY;
          break;
        }
        t = s->ntops++;
      }
      st = walk(s, path, depth + 1, t);
    } else if (S_ISREG(sb.st_mode) && has_image_name(names[i])) {
      st = add_file(s, path, top, &sb);
      if (depth == 0) s->root_files++;
    }
  }
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
  return st;
}

/* Decodes one file to interleaved RGB by its first bytes; the reason in why on failure. */
static clgan_status decode(const char *path, uint8_t **rgb, int *w, int *h, char *why,
                           size_t why_size) {
  unsigned char head[8] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(why, why_size, "cannot open: %s", strerror(errno));
    return CLGAN_IO_ERROR;
  }
  size_t got = fread(head, 1, sizeof head, f);
  fclose(f);
  if (got == 8 && !memcmp(head, "\x89PNG\r\n\x1a\n", 8))
    return clgan_png_decode(path, 3, rgb, w, h, why, why_size);
  if (got >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF)
    return clgan_jpeg_decode(path, rgb, w, h, why, why_size);
  snprintf(why, why_size, "neither PNG nor JPEG by its content%s", got < 8 ? " (too short)" : "");
  return CLGAN_BAD_FORMAT;
}

/* The ImageFolder labels when the layout has them: the classes are the subfolders that hold
 * images, in name order. */
static void make_labels(scan *s, int *file_class, int *nclasses, clgan_data_summary *sum) {
  *nclasses = 0;
  int *map = malloc((size_t)(s->ntops ? s->ntops : 1) * sizeof *map);
  if (!map || s->root_files || s->ntops == 0) {
    for (int i = 0; i < s->count; i++) file_class[i] = -1;
    free(map);
    return;
  }
  for (int t = 0; t < s->ntops; t++) map[t] = -1;
  for (int i = 0; i < s->count; i++)
    if (map[s->top[i]] < 0) map[s->top[i]] = 0;
  size_t used = 0;
  for (int t = 0; t < s->ntops; t++) {
    if (map[t] < 0) continue;
    map[t] = (*nclasses)++;
    source_summary_class(sum, &used, map[t], s->tops[t]);
  }
  for (int i = 0; i < s->count; i++) file_class[i] = map[s->top[i]];
  free(map);
}

clgan_status source_folder(const char *dir, const clgan_data_opts *o, clgan_dataset *ds,
                           clgan_data_summary *sum) {
  scan s = {0};
  uint8_t *images = NULL, *labels = NULL, *rgb = NULL, *planes = NULL;
  int *file_class = NULL;
  clgan_status st = walk(&s, dir, 0, -1);
  if (st != CLGAN_OK) goto done;
  sum->files = s.count;
  if (s.count == 0) {
    clgan_error("%s: %s holds no PNG or JPEG file (.png, .jpg, .jpeg, searched recursively), "
                "no IDX train-images file and no CIFAR-10 data_batch_*.bin",
                clgan_status_message(CLGAN_BAD_FORMAT), dir);
    st = CLGAN_BAD_FORMAT;
    goto done;
  }
  int nclasses = 0;
  file_class = malloc((size_t)s.count * sizeof *file_class);
  if (!file_class) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  make_labels(&s, file_class, &nclasses, sum);
  if (nclasses > 256) {
    clgan_error("%s: %s has %d class subfolders; labels are bytes, so at most 256 classes "
                "(group the images in fewer subfolders)", clgan_status_message(CLGAN_BAD_FORMAT),
                dir, nclasses);
    st = CLGAN_BAD_FORMAT;
    goto done;
  }
  /* The decode cache: the fingerprint of every file and the options. */
  cache_key key;
  char key_text[CACHE_KEY_TEXT];
  cache_key_init(&key);
  int opt[2] = {o->image_size, o->channels};
  cache_key_add(&key, opt, sizeof opt);
  for (int i = 0; i < s.count; i++) {
    cache_key_add(&key, s.paths[i], strlen(s.paths[i]) + 1);
    cache_key_add(&key, &s.sizes[i], sizeof s.sizes[i]);
    cache_key_add(&key, &s.mtimes[i], sizeof s.mtimes[i]);
  }
  cache_key_text(&key, key_text);
  int cached = cache_path(o, key_text, sum->cache, sizeof sum->cache);
  if (!cached) sum->cache[0] = '\0';
  if (cached && cache_load(sum->cache, key_text, ds, sum)) goto done;
  int size = o->image_size, rows = 0, cols = 0, n = 0, colour = 0;
  size_t plane = 0, scratch_px = 0;
  for (int i = 0; i < s.count; i++) {
    char why[300] = "";
    int w = 0, h = 0;
    if (o->progress && i % 64 == 0) o->progress(o->user, i, s.count);
    if ((st = decode(s.paths[i], &rgb, &w, &h, why, sizeof why)) != CLGAN_OK) {
      if (st == CLGAN_HOST_OUT_OF_MEMORY) goto done;
      clgan_warn("skipped %s: %s", s.paths[i], why);
      sum->skipped++;
      st = CLGAN_OK;
      continue;
    }
    if (!images) {
      sum->src_rows = h;
      sum->src_cols = w;
      rows = size ? size : h;
      cols = size ? size : w;
      plane = (size_t)rows * cols;
      images = malloc((size_t)s.count * 3 * plane);
      scratch_px = (size_t)w * h;
      planes = malloc(3 * scratch_px);
      labels = nclasses ? malloc((size_t)s.count) : NULL;
      if (!images || !planes || (nclasses && !labels)) {
        st = CLGAN_HOST_OUT_OF_MEMORY;
        goto done;
      }
    } else if (!size && (w != cols || h != rows)) {
      clgan_error("%s: %s is %dx%d but %s's images so far are %dx%d: give --image-size S to "
                  "crop and resize every image to S x S", clgan_status_message(CLGAN_BAD_FORMAT),
                  s.paths[i], w, h, dir, cols, rows);
      st = CLGAN_BAD_FORMAT;
      goto done;
    }
    size_t px = (size_t)w * h;
    if (px > scratch_px) {
      uint8_t *p = realloc(planes, 3 * px);
      if (!p) {
        st = CLGAN_HOST_OUT_OF_MEMORY;
        goto done;
      }
      planes = p;
      scratch_px = px;
    }
    for (size_t p = 0; p < px; p++) {
      planes[p] = rgb[3 * p];
      planes[px + p] = rgb[3 * p + 1];
      planes[2 * px + p] = rgb[3 * p + 2];
      colour |= rgb[3 * p] != rgb[3 * p + 1] || rgb[3 * p + 1] != rgb[3 * p + 2];
    }
    free(rgb);
    rgb = NULL;
    uint8_t *dst = images + (size_t)n * 3 * plane;
    if (size && (w != size || h != size)) {
      for (int k = 0; k < 3; k++) clgan_image_resize(dst + k * plane, size, planes + k * px, w, h);
      sum->resized++;
    } else {
      memcpy(dst, planes, 3 * plane);
    }
    if (labels) labels[n] = (uint8_t)file_class[i];
    n++;
  }
  if (o->progress) o->progress(o->user, s.count, s.count);
  if (n == 0) {
    clgan_error("%s: none of the %d image files in %s could be read (each is named in a "
                "warning above)", clgan_status_message(CLGAN_BAD_FORMAT), s.count, dir);
    st = CLGAN_BAD_FORMAT;
    goto done;
  }
  int c = o->channels ? o->channels : colour ? 3 : 1;
  if (c == 1) {
    /* Planes in place: image i's gray plane goes to offset i * plane, never past its source. */
    for (int i = 0; i < n; i++) {
      const uint8_t *src = images + (size_t)i * 3 * plane;
      uint8_t *g = images + (size_t)i * plane;
      for (size_t p = 0; p < plane; p++)
        g[p] = clgan_rgb_to_gray(src[p], src[plane + p], src[2 * plane + p]);
    }
  }
  ds->count = n;
  ds->rows = rows;
  ds->cols = cols;
  ds->channels = c;
  ds->images = images;
  ds->labels = labels;
  ds->classes = nclasses;
  images = labels = NULL;
  if (cached) cache_store(sum->cache, key_text, ds, sum);
done:
  free(images);
  free(labels);
  free(rgb);
  free(planes);
  free(file_class);
  scan_free(&s);
  return st;
}
