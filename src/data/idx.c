/* IDX files (MNIST, Fashion-MNIST): reading plain or gzip with strict validation, writing
 * atomically, and finding a split's images and labels in a folder. See clgan/data.h.
 *
 * Reading goes through zlib's gz* functions, which read a plain file transparently; gzdirect()
 * then tells which it was, so a damaged .gz is reported as a corrupt gzip stream rather than as
 * a bad IDX magic. The element buffer grows as data arrives, capped at the size the header
 * announces: a corrupt header that claims a terabyte costs a failed read, not a failed malloc. */
#include "clgan/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data/source_internal.h"
#include "util/crc.h"
#include "util/fsutil.h"

#define BAD clgan_status_message(CLGAN_BAD_FORMAT)
#define IOERR clgan_status_message(CLGAN_IO_ERROR)

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

static const char *idx_type_name(int code) {
  switch (code) {
  case 0x08: return "uint8";
  case 0x09: return "int8";
  case 0x0B: return "int16";
  case 0x0C: return "int32";
  case 0x0D: return "float32";
  case 0x0E: return "float64";
  default: return "unknown";
  }
}

/* Reads up to n bytes; returns the count read, or -1 on a read or decompression error. */
static long long gz_read_full(gzFile gz, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    size_t chunk = n - got < (1u << 30) ? n - got : (1u << 30);
    int r = gzread(gz, (unsigned char *)buf + got, (unsigned)chunk);
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (long long)got;
}

/* Reports a zlib-level failure (errnum != Z_OK) once; returns the status to pass up. */
static clgan_status report_gz_error(gzFile gz, const char *path, int gzip, const char *during) {
  int errnum = Z_OK;
  const char *msg = gzerror(gz, &errnum);
  if (errnum == Z_ERRNO) {
    clgan_error("%s: error reading %s %s: %s", IOERR, path, during, strerror(errno));
    return CLGAN_IO_ERROR;
  }
  if (gzip && errnum == Z_BUF_ERROR)
    clgan_error("%s: %s: gzip stream ends early %s (file truncated during download?)", BAD, path,
                during);
  else if (gzip)
    clgan_error("%s: %s: corrupt gzip stream %s (%s)", BAD, path, during, msg);
  else
    clgan_error("%s: %s: read error %s (%s)", BAD, path, during, msg);
  return CLGAN_BAD_FORMAT;
}

static int gz_failed(gzFile gz) {
  int errnum = Z_OK;
  gzerror(gz, &errnum);
  return errnum != Z_OK;
}

/* 1 if f (from its start) is one or more complete gzip members, each ending with its trailer, as
 * zlib's own check of every member would find; 0 if the last one ends early; -1 out of memory.
 * Bytes after a complete member that do not start another one are ignored, as gzread does. */
static int gzip_members_complete(FILE *f) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return -1;
  static unsigned char in[1 << 16], out[1 << 16];
  int ended = 0;
  for (;;) {
    if (zs.avail_in == 0) {
      size_t got = fread(in, 1, sizeof in, f);
      if (got == 0) break;
      zs.next_in = in;
      zs.avail_in = (unsigned)got;
      if (ended) { /* another member, or bytes that gzread ignores */
        if (in[0] != 0x1f) break;
        inflateReset(&zs);
        ended = 0;
      }
    }
    zs.next_out = out;
    zs.avail_out = sizeof out;
    int ret = inflate(&zs, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) {
      ended = 1;
      if (zs.avail_in > 0) {
        if (zs.next_in[0] != 0x1f) break;
        inflateReset(&zs);
        ended = 0;
      }
    } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
      break;
    }
  }
  inflateEnd(&zs);
  return ended;
}

/* zlib's gzread checks a gzip trailer (CRC-32 and length of the data) when it reaches it, but a
 * file that ends inside the trailer, after the last data byte, ends a read that goes straight
 * into the caller's buffer without an error (issue 9: the 26 MB training images cut by 1 to 9
 * bytes were accepted). So the trailer is checked here: the last 8 bytes against the CRC and
 * length of what was read, and where they differ (a file of several gzip members, or bytes after
 * the end) every member is decompressed again to see that each one ends complete. */
static clgan_status check_gzip_trailer(const char *path, const unsigned char *head,
                                       size_t head_len, const uint8_t *data, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    clgan_error("%s: cannot reopen %s: %s", IOERR, path, strerror(errno));
    return CLGAN_IO_ERROR;
  }
  unsigned char t[8];
  int ok = fseek(f, -8, SEEK_END) == 0 && fread(t, 1, 8, f) == 8;
  if (ok) {
    unsigned long crc = clgan_crc32_update(clgan_crc32_update(0, head, head_len), data, n);
    unsigned long size = (unsigned long)((head_len + n) & 0xFFFFFFFFu);
    unsigned long tcrc = (unsigned long)t[0] | (unsigned long)t[1] << 8 |
                         (unsigned long)t[2] << 16 | (unsigned long)t[3] << 24;
    unsigned long tsize = (unsigned long)t[4] | (unsigned long)t[5] << 8 |
                          (unsigned long)t[6] << 16 | (unsigned long)t[7] << 24;
    ok = tcrc == crc && tsize == size;
  }
  int complete = 1;
  if (!ok) {
    rewind(f);
    complete = gzip_members_complete(f);
  }
  int read_error = ferror(f);
  fclose(f);
  if (complete < 0) return CLGAN_HOST_OUT_OF_MEMORY;
  if (read_error) {
    clgan_error("%s: error reading %s", IOERR, path);
    return CLGAN_IO_ERROR;
  }
  if (!complete) {
    clgan_error("%s: %s: truncated gzip trailer: the data is complete but the CRC-32 and length "
                "after it are missing or cut (file truncated during download?)",
                BAD, path);
    return CLGAN_BAD_FORMAT;
  }
  return CLGAN_OK;
}

/* Opens path for gz* reading after checking that it is a regular file (a device such as
 * /dev/zero would be read without end, a folder fails only later with a vaguer message). */
static clgan_status idx_open(const char *path, gzFile *gz) {
  struct stat sb;
  if (stat(path, &sb) != 0) {
    clgan_error("%s: cannot open %s: %s", IOERR, path, strerror(errno));
    return CLGAN_IO_ERROR;
  }
  if (!S_ISREG(sb.st_mode)) {
    clgan_error("%s: %s is not a regular file", IOERR, path);
    return CLGAN_IO_ERROR;
  }
  *gz = gzopen(path, "rb");
  if (!*gz) {
    clgan_error("%s: cannot open %s: %s", IOERR, path, errno ? strerror(errno) : "out of memory");
    return CLGAN_IO_ERROR;
  }
  gzbuffer(*gz, 1u << 18);
  return CLGAN_OK;
}

/* An open IDX file being read, and what its header said. */
typedef struct {
  gzFile gz;
  const char *path;
  int gzip;                      /* a gzip stream, not a plain file */
  unsigned char head[4 + 4 * 3]; /* the magic and the dimensions, as read */
  int nd;                        /* dimensions */
  size_t total;                  /* elements the header announces */
  const char *what;              /* "pixel", "label" or "element", for messages */
} idx_reader;

/* The magic: 00 00, the element type (uint8 only), and a dimension count that expect_dims
 * (0: 1 to 3) allows. */
static clgan_status idx_read_magic(idx_reader *r, int expect_dims) {
  const char *path = r->path;
  const unsigned char *head = r->head;
  long long got = gz_read_full(r->gz, r->head, 4);
  r->gzip = !gzdirect(r->gz);
  if (got < 0 || (got < 4 && gz_failed(r->gz)))
    return report_gz_error(r->gz, path, r->gzip, "in the IDX header");
  if (got < 4) {
    clgan_error("%s: %s: %lld bytes is too short for an IDX header", BAD, path, got);
    return CLGAN_BAD_FORMAT;
  }
  if (head[0] != 0 || head[1] != 0) {
    clgan_error("%s: %s: not an IDX file (starts with %02x %02x %02x %02x; IDX starts with "
                "00 00 08 0N)%s",
                BAD, path, head[0], head[1], head[2], head[3],
                !r->gzip && ends_with(path, ".gz")
                    ? "; the name ends in .gz but the file is not gzip"
                    : "");
    return CLGAN_BAD_FORMAT;
  }
  if (head[2] != 0x08) {
    clgan_error("%s: %s: IDX element type 0x%02x (%s); clgan reads uint8 (0x08) IDX files", BAD,
                path, head[2], idx_type_name(head[2]));
    return CLGAN_BAD_FORMAT;
  }
  r->nd = head[3];
  if ((expect_dims && r->nd != expect_dims) || r->nd < 1 || r->nd > 3) {
    const char *hint = expect_dims == 3   ? " (an images file holds count x rows x cols)"
                       : expect_dims == 1 ? " (a labels file holds one label per image)"
                                          : "";
    clgan_error("%s: %s: IDX magic 0x%02x%02x%02x%02x says %d dimensions, expected %s%d%s", BAD,
                path, head[0], head[1], head[2], head[3], r->nd, expect_dims ? "" : "1 to ",
                expect_dims ? expect_dims : 3, hint);
    return CLGAN_BAD_FORMAT;
  }
  return CLGAN_OK;
}

/* The dimensions after the magic, each within CLGAN_IDX_MAX_COUNT or _SIDE, into dims. */
static clgan_status idx_read_dims(idx_reader *r, int dims[3]) {
  const char *path = r->path;
  int nd = r->nd;
  long long got = gz_read_full(r->gz, r->head + 4, 4 * (size_t)nd);
  if (got < 0 || (got < 4 * nd && gz_failed(r->gz)))
    return report_gz_error(r->gz, path, r->gzip, "in the IDX header");
  if (got < 4 * nd) {
    clgan_error("%s: %s: truncated IDX header: %d dimensions need %d bytes, found %lld", BAD,
                path, nd, 4 * nd, got);
    return CLGAN_BAD_FORMAT;
  }
  r->total = 1;
  for (int i = 0; i < nd; i++) {
    const unsigned char *p = r->head + 4 + 4 * i;
    unsigned long v = (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
                      (unsigned long)p[2] << 8 | (unsigned long)p[3];
    unsigned long limit = i == 0 ? CLGAN_IDX_MAX_COUNT : CLGAN_IDX_MAX_SIDE;
    if (v == 0 || v > limit) {
      clgan_error("%s: %s: absurd IDX dimension %d: %lu (allowed 1 to %lu%s)", BAD, path, i, v,
                  limit, i == 0 ? " items" : " per side");
      return CLGAN_BAD_FORMAT;
    }
    dims[i] = (int)v;
    r->total *= (size_t)v;
  }
  return CLGAN_OK;
}

/* The elements into *out (malloc'd), the buffer grown as data arrives up to the total the
 * header announces; fewer is a truncated file. */
static clgan_status idx_read_data(idx_reader *r, uint8_t **out) {
  size_t total = r->total, cap = total < (1u << 24) ? total : (1u << 24), n = 0;
  uint8_t *buf = malloc(cap);
  *out = NULL;
  if (!buf) return CLGAN_HOST_OUT_OF_MEMORY;
  for (;;) {
    if (n == cap && cap < total) {
      size_t grown_cap = cap * 2 < total ? cap * 2 : total;
      uint8_t *grown = realloc(buf, grown_cap);
      if (!grown) {
        free(buf);
        return CLGAN_HOST_OUT_OF_MEMORY;
      }
      buf = grown;
      cap = grown_cap;
    }
    long long got = gz_read_full(r->gz, buf + n, cap - n);
    if (got < 0) {
      free(buf);
      return report_gz_error(r->gz, r->path, r->gzip, "in the data");
    }
    n += (size_t)got;
    if (n < cap || cap == total) break;
  }
  if (n < total) {
    clgan_status st;
    char during[128];
    snprintf(during, sizeof during, "after %zu of %zu %s bytes", n, total, r->what);
    if (gz_failed(r->gz)) {
      st = report_gz_error(r->gz, r->path, r->gzip, during);
    } else {
      clgan_error("%s: %s: truncated: expected %zu %s bytes, found %zu", BAD, r->path, total,
                  r->what, n);
      st = CLGAN_BAD_FORMAT;
    }
    free(buf);
    return st;
  }
  *out = buf;
  return CLGAN_OK;
}

/* Nothing after the data: one more read finds trailing bytes and, for gzip, mostly reaches the
 * trailer whose CRC zlib checks (not always: check_gzip_trailer, after the close). */
static clgan_status idx_check_end(idx_reader *r) {
  unsigned char extra[4096];
  long long more = gz_read_full(r->gz, extra, sizeof extra);
  if (more < 0 || gz_failed(r->gz))
    return report_gz_error(r->gz, r->path, r->gzip, "at the end of the data");
  if (more > 0) {
    long long got;
    while ((got = gz_read_full(r->gz, extra, sizeof extra)) > 0) more += got;
    clgan_error("%s: %s: %s%lld bytes after the last of the %zu %s bytes the header announces "
                "(header and data disagree)",
                BAD, r->path, got < 0 ? "at least " : "", more, r->total, r->what);
    return CLGAN_BAD_FORMAT;
  }
  return CLGAN_OK;
}

clgan_status clgan_idx_read(const char *path, int expect_dims, uint8_t **data, int dims[3],
                            int *ndims) {
  idx_reader r = {.path = path};
  uint8_t *buf = NULL;
  *data = NULL;
  *ndims = 0;
  if (expect_dims < 0 || expect_dims > 3) return CLGAN_INVALID_ARGUMENT;
  r.what = expect_dims == 1 ? "label" : expect_dims == 3 ? "pixel" : "element";
  clgan_status st = idx_open(path, &r.gz);
  if (st != CLGAN_OK) return st;
  if ((st = idx_read_magic(&r, expect_dims)) != CLGAN_OK ||
      (st = idx_read_dims(&r, dims)) != CLGAN_OK || (st = idx_read_data(&r, &buf)) != CLGAN_OK ||
      (st = idx_check_end(&r)) != CLGAN_OK)
    goto fail;
  int closed = gzclose_r(r.gz);
  r.gz = NULL;
  if (closed != Z_OK) {
    clgan_error("%s: %s: gzip stream ends early (file truncated?)", BAD, path);
    st = CLGAN_BAD_FORMAT;
    goto fail;
  }
  if (r.gzip) {
    st = check_gzip_trailer(path, r.head, 4 + 4 * (size_t)r.nd, buf, r.total);
    if (st != CLGAN_OK) goto fail;
  }
  *data = buf;
  *ndims = r.nd;
  return CLGAN_OK;
fail:
  free(buf);
  if (r.gz) gzclose_r(r.gz);
  return st;
}

/* ---- Writing -------------------------------------------------------------------------------- */

/* Feeds len bytes to a gzip deflate stream that writes into f; finish ends the stream. */
static int deflate_to(z_stream *zs, FILE *f, const void *src, size_t len, int finish) {
  unsigned char out[1 << 16];
  const unsigned char *p = src;
  for (;;) {
    size_t chunk = len < (1u << 30) ? len : (1u << 30);
    zs->next_in = (unsigned char *)(uintptr_t)p;
    zs->avail_in = (unsigned)chunk;
    int flush = finish && chunk == len ? Z_FINISH : Z_NO_FLUSH;
    int ret;
    do {
      zs->next_out = out;
      zs->avail_out = sizeof out;
      ret = deflate(zs, flush);
      if (ret == Z_STREAM_ERROR) return -1;
      size_t have = sizeof out - zs->avail_out;
      if (have && fwrite(out, 1, have, f) != have) return -1;
    } while (zs->avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
    p += chunk;
    len -= chunk;
    if (len == 0) return 0;
  }
}

clgan_status clgan_idx_write(const char *path, const uint8_t *data, const int *dims, int ndims) {
  if (!path || !data || !dims || ndims < 1 || ndims > 3) return CLGAN_INVALID_ARGUMENT;
  unsigned char head[4 + 4 * 3] = {0, 0, 0x08, (unsigned char)ndims};
  size_t total = 1;
  for (int i = 0; i < ndims; i++) {
    if (dims[i] <= 0) {
      clgan_error("%s: IDX dimension %d is %d for %s", clgan_status_message(CLGAN_INVALID_ARGUMENT),
                  i, dims[i], path);
      return CLGAN_INVALID_ARGUMENT;
    }
    unsigned long v = (unsigned long)dims[i];
    unsigned char *p = head + 4 + 4 * i;
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    total *= (size_t)dims[i];
  }
  size_t head_len = 4 + 4 * (size_t)ndims;

  clgan_atomic_file af;
  clgan_status st = clgan_atomic_open(&af, path, "wb");
  if (st != CLGAN_OK) return st;
  int failed;
  if (ends_with(path, ".gz")) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
      clgan_atomic_abort(&af);
      return CLGAN_HOST_OUT_OF_MEMORY;
    }
    failed = deflate_to(&zs, af.f, head, head_len, 0) != 0 ||
             deflate_to(&zs, af.f, data, total, 1) != 0;
    deflateEnd(&zs);
  } else {
    failed = fwrite(head, 1, head_len, af.f) != head_len || fwrite(data, 1, total, af.f) != total;
  }
  if (failed) {
    clgan_error("%s: writing %s failed: %s", clgan_status_message(CLGAN_WRITE_FAILED), path,
                strerror(errno));
    clgan_atomic_abort(&af);
    return CLGAN_WRITE_FAILED;
  }
  return clgan_atomic_commit(&af);
}

clgan_status clgan_idx_write_images(const char *path, const uint8_t *images, int count, int rows,
                                    int cols) {
  int dims[3] = {count, rows, cols};
  return clgan_idx_write(path, images, dims, 3);
}

/* ---- Data sets ------------------------------------------------------------------------------ */

/* See source_internal.h. */
clgan_status idx_find_split_file(const char *dir, const char *split, const char *kind,
                                 const char *idx, char *path, size_t size, char *looked,
                                 size_t looked_size) {
  const char *forms[] = {"%s/%s-%s-%s-ubyte", "%s/%s-%s-%s-ubyte.gz", "%s/%s-%s.%s-ubyte",
                         "%s/%s-%s.%s-ubyte.gz"};
  size_t used = 0;
  if (looked_size) looked[0] = '\0';
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    if (snprintf(path, size, forms[i], dir, split, kind, idx) >= (int)size)
      return CLGAN_INVALID_ARGUMENT;
    struct stat sb;
    if (stat(path, &sb) == 0) return CLGAN_OK;
    if (used < looked_size)
      used += (size_t)snprintf(looked + used, looked_size - used, "%s%s", i ? ", " : "", path);
  }
  path[0] = '\0';
  return CLGAN_IO_ERROR;
}

const char *clgan_data_dir(const char *given) {
  if (given && *given) return given;
  const char *env = getenv("CLGAN_DATA");
  return env && *env ? env : CLGAN_DATA_DIR_DEFAULT;
}

clgan_status clgan_dataset_load(const char *dir, const char *split, clgan_dataset *ds) {
  char images_path[4096], labels_path[4096], looked[4 * 4096 + 16];
  uint8_t *images = NULL, *labels = NULL;
  int idims[3], ldims[3], nd;
  memset(ds, 0, sizeof *ds);
  if (!dir || !dir[0] || !split || !split[0]) return CLGAN_INVALID_ARGUMENT;

  clgan_status st = idx_find_split_file(dir, split, "images", "idx3", images_path,
                                    sizeof images_path, looked, sizeof looked);
  if (st == CLGAN_IO_ERROR)
    clgan_error("%s: no '%s' images in %s: looked for %s", IOERR, split, dir, looked);
  if (st != CLGAN_OK) return st;
  st = clgan_idx_read(images_path, 3, &images, idims, &nd);
  if (st != CLGAN_OK) return st;

  st = idx_find_split_file(dir, split, "labels", "idx1", labels_path, sizeof labels_path, looked,
                       sizeof looked);
  if (st == CLGAN_OK) {
    st = clgan_idx_read(labels_path, 1, &labels, ldims, &nd);
    if (st != CLGAN_OK) goto fail;
    if (ldims[0] != idims[0]) {
      clgan_error("%s: %s holds %d labels but %s holds %d images", BAD, labels_path, ldims[0],
                  images_path, idims[0]);
      st = CLGAN_BAD_FORMAT;
      goto fail;
    }
  } else if (st != CLGAN_IO_ERROR) {
    goto fail;
  }
  ds->count = idims[0];
  ds->rows = idims[1];
  ds->cols = idims[2];
  ds->channels = 1;
  ds->images = images;
  ds->labels = labels;
  if (labels)
    for (int i = 0; i < ds->count; i++)
      if (labels[i] + 1 > ds->classes) ds->classes = labels[i] + 1;
  return CLGAN_OK;
fail:
  free(images);
  free(labels);
  return st;
}

void clgan_dataset_free(clgan_dataset *ds) {
  if (!ds) return;
  if (ds->map) {
    munmap(ds->map, ds->map_bytes);
  } else {
    free(ds->images);
    free(ds->labels);
  }
  memset(ds, 0, sizeof *ds);
}

size_t clgan_dataset_image_bytes(const clgan_dataset *ds) {
  return (size_t)(ds->channels > 1 ? ds->channels : 1) * (size_t)ds->rows * (size_t)ds->cols;
}

/* Gray data sets keep the fingerprint they had before colour; colour ones say their channels. */
void clgan_dataset_fingerprint(const clgan_dataset *ds, char *out, size_t size) {
  size_t pixels = (size_t)ds->count * clgan_dataset_image_bytes(ds);
  unsigned long start = crc32(0L, Z_NULL, 0);
  char labels[16] = "none";
  if (ds->labels)
    snprintf(labels, sizeof labels, "%08lx",
             clgan_crc32_update(start, ds->labels, (size_t)ds->count));
  unsigned long crc = clgan_crc32_update(start, ds->images, pixels);
  if (ds->channels > 1)
    snprintf(out, size, "%dx%dx%dx%d-%08lx-%s", ds->count, ds->channels, ds->rows, ds->cols, crc,
             labels);
  else
    snprintf(out, size, "%dx%dx%d-%08lx-%s", ds->count, ds->rows, ds->cols, crc, labels);
}
