/* The decode cache of image folders (issue 13): the first run decodes the folder into one file
 * of uint8 (N, C, H, W) images and labels under $XDG_CACHE_HOME/clgan/data/ (else
 * ~/.cache/clgan/data/), named by a fingerprint of what went into it; later runs map that file
 * and decode nothing. The fingerprint covers every image file's path, size and modification
 * time (to the nanosecond), the options (--image-size, --channels) and the cache format, so a
 * file added, removed, replaced or touched, or other options, make another fingerprint and a
 * fresh decode. A file that fails its checks (size, header, CRC-32 of the data) is decoded
 * again with a warning and rewritten; a cache that cannot be written only warns.
 *
 * Layout (host byte order, little-endian on every platform clgan builds for): a 4,096-byte
 * header, so the images start page-aligned in the mapping, then the images, then the labels.
 *   0 "CLGANDC1"   8 u32 version   12 u32 count, channels, rows, cols, classes, has_labels,
 *   files, skipped, src_rows, src_cols, resized   56 fingerprint (32 bytes, NUL-padded)
 *   88 u32 CRC-32 of the data   92 u64 data bytes   100 the summary's class list (512 bytes) */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clgan/data.h"
#include "data/source_internal.h"
#include "util/crc.h"
#include "util/fsutil.h"

#define HEADER 4096
/* In the fingerprint too: bump it when the layout or what decoding makes of a file changes
 * (2: transparency composited over white), so no run maps data decoded by older rules. */
#define VERSION 2
enum { F_COUNT, F_CHANNELS, F_ROWS, F_COLS, F_CLASSES, F_LABELS, F_FILES, F_SKIPPED, F_SRC_ROWS,
       F_SRC_COLS, F_RESIZED, F_N };

void cache_key_init(cache_key *k) {
  k->fnv = 1469598103934665603ULL;
  k->crc = 0;
  const uint32_t version = VERSION;
  cache_key_add(k, &version, sizeof version);
}

void cache_key_add(cache_key *k, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) k->fnv = (k->fnv ^ p[i]) * 1099511628211ULL;
  k->crc = clgan_crc32_update(k->crc, data, n);
}

void cache_key_text(const cache_key *k, char out[CACHE_KEY_TEXT]) {
  snprintf(out, CACHE_KEY_TEXT, "%016llx%08lx", k->fnv, k->crc & 0xFFFFFFFFul);
}

int cache_path(const clgan_data_opts *o, const char *key, char *path, size_t size) {
  if (o->no_cache) return 0;
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  int n;
  if (o->cache_dir && *o->cache_dir)
    n = snprintf(path, size, "%s/%s.clgandata", o->cache_dir, key);
  else if (xdg && *xdg)
    n = snprintf(path, size, "%s/clgan/data/%s.clgandata", xdg, key);
  else if (home && *home)
    n = snprintf(path, size, "%s/.cache/clgan/data/%s.clgandata", home, key);
  else
    return 0;
  return n > 0 && (size_t)n < size;
}

static uint32_t u32_at(const unsigned char *h, size_t off) {
  uint32_t v;
  memcpy(&v, h + off, sizeof v);
  return v;
}

/* NULL when the header and the size agree, else what is wrong. */
static const char *check_header(const unsigned char *h, size_t len, const char *key,
                                uint32_t f[F_N], size_t *data_bytes) {
  if (len < HEADER) return "shorter than its header";
  if (memcmp(h, "CLGANDC1", 8) != 0 || u32_at(h, 8) != VERSION) return "not a clgan data cache";
  for (int i = 0; i < F_N; i++) f[i] = u32_at(h, 12 + 4 * (size_t)i);
  if (strncmp((const char *)h + 56, key, 32) != 0) return "another fingerprint";
  if (f[F_COUNT] < 1 || f[F_COUNT] > CLGAN_IDX_MAX_COUNT ||
      (f[F_CHANNELS] != 1 && f[F_CHANNELS] != 3) ||
      f[F_ROWS] < 1 || f[F_ROWS] > 32768 || f[F_COLS] < 1 || f[F_COLS] > 32768 ||
      f[F_CLASSES] > 256 || f[F_LABELS] > 1 || (f[F_LABELS] && f[F_CLASSES] < 1))
    return "a header out of range";
  uint64_t bytes;
  memcpy(&bytes, h + 92, sizeof bytes);
  uint64_t want = (uint64_t)f[F_COUNT] * f[F_CHANNELS] * f[F_ROWS] * f[F_COLS] +
                  (f[F_LABELS] ? f[F_COUNT] : 0);
  if (bytes != want || len - HEADER != want) return "a size that does not match its header";
  if (h[100 + CLGAN_SUMMARY_CLASSES_MAX - 1] != '\0') return "a damaged class list";
  *data_bytes = (size_t)want;
  return NULL;
}

int cache_load(const char *path, const char *key, clgan_dataset *ds, clgan_data_summary *sum) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return 0; /* no cache yet */
  struct stat sb;
  const char *why = NULL;
  void *map = MAP_FAILED;
  size_t len = 0, bytes = 0;
  if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    why = "not a regular file";
  } else if ((len = (size_t)sb.st_size) < HEADER) {
    why = "shorter than its header";
  } else if ((map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fileno(fp), 0)) == MAP_FAILED) {
    why = strerror(errno);
  }
  fclose(fp);
  uint32_t f[F_N];
  const unsigned char *h = map == MAP_FAILED ? NULL : map;
  if (!why) why = check_header(h, len, key, f, &bytes);
  if (!why && (clgan_crc32_update(0, h + HEADER, bytes) &
               0xFFFFFFFFul) != u32_at(h, 88))
    why = "a CRC-32 that does not match its data";
  size_t n_img = why ? 0 : bytes - (f[F_LABELS] ? f[F_COUNT] : 0);
  for (size_t i = 0; !why && f[F_LABELS] && i < f[F_COUNT]; i++)
    if (h[HEADER + n_img + i] >= f[F_CLASSES]) why = "a label past its class count";
  if (why) {
    clgan_warn("the data cache %s has %s: decoding the images again", path, why);
    if (map != MAP_FAILED) munmap(map, len);
    return 0;
  }
  *ds = (clgan_dataset){.count = (int)f[F_COUNT], .rows = (int)f[F_ROWS], .cols = (int)f[F_COLS],
                        .channels = (int)f[F_CHANNELS], .classes = (int)f[F_CLASSES],
                        .images = (uint8_t *)h + HEADER,
                        .labels = f[F_LABELS] ? (uint8_t *)h + HEADER + n_img : NULL,
                        .map = map, .map_bytes = len};
  sum->files = (int)f[F_FILES];
  sum->skipped = (int)f[F_SKIPPED];
  sum->src_rows = (int)f[F_SRC_ROWS];
  sum->src_cols = (int)f[F_SRC_COLS];
  sum->resized = (int)f[F_RESIZED];
  memcpy(sum->classes, h + 100, CLGAN_SUMMARY_CLASSES_MAX);
  sum->cached = 1;
  return 1;
}

void cache_store(const char *path, const char *key, const clgan_dataset *ds,
                 const clgan_data_summary *sum) {
  unsigned char *h = calloc(1, HEADER);
  if (!h) return;
  size_t n_img = (size_t)ds->count * clgan_dataset_image_bytes(ds);
  size_t n_lab = ds->labels ? (size_t)ds->count : 0;
  uint32_t f[F_N] = {(uint32_t)ds->count, (uint32_t)(ds->channels > 1 ? ds->channels : 1),
                     (uint32_t)ds->rows, (uint32_t)ds->cols, (uint32_t)ds->classes,
                     ds->labels != NULL, (uint32_t)sum->files, (uint32_t)sum->skipped,
                     (uint32_t)sum->src_rows, (uint32_t)sum->src_cols, (uint32_t)sum->resized};
  memcpy(h, "CLGANDC1", 8);
  uint32_t version = VERSION;
  memcpy(h + 8, &version, 4);
  memcpy(h + 12, f, sizeof f);
  snprintf((char *)h + 56, 32, "%s", key);
  unsigned long crc = clgan_crc32_update(0, ds->images, n_img);
  if (n_lab) crc = clgan_crc32_update(crc, ds->labels, n_lab);
  uint32_t crc32 = (uint32_t)(crc & 0xFFFFFFFFul);
  uint64_t bytes = n_img + n_lab;
  memcpy(h + 88, &crc32, 4);
  memcpy(h + 92, &bytes, 8);
  memcpy(h + 100, sum->classes, CLGAN_SUMMARY_CLASSES_MAX);
  h[100 + CLGAN_SUMMARY_CLASSES_MAX - 1] = '\0';
  clgan_atomic_file af;
  clgan_status st = clgan_make_parent_dirs(path);
  if (st == CLGAN_OK) st = clgan_atomic_open(&af, path, "wb");
  if (st == CLGAN_OK) {
    if (fwrite(h, 1, HEADER, af.f) != HEADER || fwrite(ds->images, 1, n_img, af.f) != n_img ||
        (n_lab && fwrite(ds->labels, 1, n_lab, af.f) != n_lab)) {
      clgan_atomic_abort(&af);
      st = CLGAN_WRITE_FAILED;
    } else {
      st = clgan_atomic_commit(&af);
    }
  }
  if (st != CLGAN_OK)
    clgan_warn("the data cache %s could not be written: the next run decodes the images again",
               path);
  free(h);
}
