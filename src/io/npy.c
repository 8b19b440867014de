/* NumPy .npy files: float32 1-D and 2-D arrays read (format versions 1.0 to 3.0) and 2-D ones
 * written as version 1.0, the way numpy.save does (reference tensors dumped from PyTorch/NumPy,
 * evaluation statistics); uint8 image arrays of 1 to 4 dimensions and 1-D label arrays read
 * (training data prepared in Python, issue 13). See clgan/io.h.
 *
 * Format (numpy.lib.format): "\x93NUMPY", major, minor, header length (uint16 LE for 1.x,
 * uint32 LE for 2.x and 3.x), then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and ended by '\n' so the data start on a 64-byte boundary. The reader
 * parses exactly that dict (three keys, string / bool / tuple of ints) and refuses the rest. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "util/fsutil.h"

#define BAD clgan_status_message(CLGAN_BAD_FORMAT)
#define REFUSE(...) clgan_refuse_file(".npy file", __VA_ARGS__)

typedef struct {
  const char *s, *end;
} cursor;

static void skip_ws(cursor *c) {
  while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r'))
    c->s++;
}

static int take(cursor *c, char ch) {
  skip_ws(c);
  if (c->s < c->end && *c->s == ch) {
    c->s++;
    return 1;
  }
  return 0;
}

/* A Python string literal in ' or " quotes, without escapes (numpy writes none here). */
static int pystring(cursor *c, char *out, size_t size) {
  skip_ws(c);
  if (c->s >= c->end || (*c->s != '\'' && *c->s != '"')) return 0;
  char q = *c->s++;
  size_t n = 0;
  while (c->s < c->end && *c->s != q) {
    if (*c->s == '\\' || n + 1 >= size) return 0;
    out[n++] = *c->s++;
  }
  if (c->s >= c->end) return 0;
  c->s++;
  out[n] = '\0';
  return 1;
}

static int pyword(cursor *c, const char *word) {
  skip_ws(c);
  size_t n = strlen(word);
  if ((size_t)(c->end - c->s) < n || strncmp(c->s, word, n) != 0) return 0;
  c->s += n;
  return 1;
}

/* (a, b), (a,) or (): up to 8 non-negative ints; *ndim gets the count. */
static int pytuple(cursor *c, long long *dims, int *ndim) {
  *ndim = 0;
  if (!take(c, '(')) return 0;
  for (;;) {
    if (take(c, ')')) return 1;
    skip_ws(c);
    long long v = 0;
    const char *start = c->s;
    while (c->s < c->end && *c->s >= '0' && *c->s <= '9') {
      v = v * 10 + (*c->s++ - '0');
      if (v > INT_MAX) return 0;
    }
    if (c->s == start || *ndim == 8) return 0;
    dims[(*ndim)++] = v;
    if (take(c, ')')) return 1;
    if (!take(c, ',')) return 0;
  }
}

/* A parsed header: the dict's three keys and where the data start. */
typedef struct {
  char descr[64];
  long long dims[8];
  int ndim, fortran;
  size_t start, have; /* data offset and bytes after it */
} npy_header;

static clgan_status parse_header(const char *path, const unsigned char *buf, size_t len,
                                 npy_header *h) {
  memset(h, 0, sizeof *h);
  h->ndim = h->fortran = -1;
  if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
    return REFUSE(path, "not a .npy file (no \\x93NUMPY magic)");
  int major = buf[6], minor = buf[7];
  if (major < 1 || major > 3 || minor != 0)
    return REFUSE(path, "format version %d.%d; clgan reads 1.0, 2.0 and 3.0", major, minor);
  size_t hl, start;
  if (major == 1) {
    hl = (size_t)buf[8] | (size_t)buf[9] << 8;
    start = 10;
  } else {
    if (len < 12) return REFUSE(path, "truncated header");
    hl = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    start = 12;
  }
  if (hl > len - start)
    return REFUSE(path, "header of %zu bytes runs past the end of the %zu-byte file", hl, len);
  cursor c = {(const char *)buf + start, (const char *)buf + start + hl};
  if (!take(&c, '{')) return REFUSE(path, "header is not a Python dict");
  while (!take(&c, '}')) {
    char key[32];
    if (!pystring(&c, key, sizeof key) || !take(&c, ':'))
      return REFUSE(path, "malformed header dict");
    int ok;
    if (!strcmp(key, "descr") && !h->descr[0]) {
      ok = pystring(&c, h->descr, sizeof h->descr) && h->descr[0];
    } else if (!strcmp(key, "fortran_order") && h->fortran < 0) {
      ok = (h->fortran = pyword(&c, "True")) == 1 || pyword(&c, "False");
    } else if (!strcmp(key, "shape") && h->ndim < 0) {
      ok = pytuple(&c, h->dims, &h->ndim);
    } else {
      return REFUSE(path, "unexpected or repeated header key '%s'", key);
    }
    if (!ok) return REFUSE(path, "malformed value for '%s' in the header (a structured dtype?)", key);
    if (!take(&c, ',')) {
      if (!take(&c, '}')) return REFUSE(path, "malformed header dict");
      break;
    }
  }
  skip_ws(&c);
  if (c.s != c.end || !h->descr[0] || h->fortran < 0 || h->ndim < 0)
    return REFUSE(path, "header dict lacks descr, fortran_order or shape, or has trailing text");
  h->start = start + hl;
  h->have = len - h->start;
  return CLGAN_OK;
}

/* Fortran order matters only when two dimensions exceed 1. */
static int is_fortran(const npy_header *h) {
  int big = 0;
  for (int i = 0; i < h->ndim; i++) big += h->dims[i] > 1;
  return h->fortran && big > 1;
}

/* The element count of h's shape in elem-byte elements, checked against the data: 0 on
 * success (with *bytes), else the refusal's status. */
static clgan_status data_bytes(const char *path, const npy_header *h, size_t elem, size_t *bytes) {
  size_t n = elem;
  for (int i = 0; i < h->ndim; i++) {
    if (h->dims[i] != 0 && n > SIZE_MAX / 2 / (size_t)h->dims[i])
      return REFUSE(path, "shape too large");
    n *= (size_t)h->dims[i];
  }
  if (h->have != n)
    return REFUSE(path, "%s: the shape needs %zu data bytes, found %zu",
                  h->have < n ? "truncated" : "trailing bytes", n, h->have);
  *bytes = n;
  return CLGAN_OK;
}

clgan_status clgan_npy_read_f32(const char *path, float **data, int *rows, int *cols) {
  *data = NULL;
  *rows = *cols = 0;
  unsigned char *buf = NULL;
  size_t len = 0;
  clgan_status st = clgan_read_file(path, &buf, &len);
  if (st != CLGAN_OK) return st;
  npy_header h;
  if ((st = parse_header(path, buf, len, &h))) goto done;
  if (strcmp(h.descr, "<f4") != 0) {
    const char *hint = !strcmp(h.descr, "<f8")   ? " (float64: save a.astype(numpy.float32))"
                       : !strcmp(h.descr, ">f4") ? " (big-endian float32)"
                                                 : "";
    st = REFUSE(path, "holds dtype '%s'%s; clgan reads little-endian float32 ('<f4')", h.descr,
                hint);
    goto done;
  }
  if (h.ndim < 1 || h.ndim > 2) {
    st = REFUSE(path, "holds a %d-D array; clgan reads 1-D and 2-D arrays", h.ndim);
    goto done;
  }
  if (is_fortran(&h)) {
    st = REFUSE(path, "is in Fortran order; save numpy.ascontiguousarray(a) instead");
    goto done;
  }
  long long r = h.ndim == 2 ? h.dims[0] : 1, k = h.ndim == 2 ? h.dims[1] : h.dims[0];
  size_t want = (size_t)r * (size_t)k * sizeof(float);
  if (h.have != want) {
    st = REFUSE(path, "%s: shape (%lld, %lld) needs %zu data bytes, found %zu",
                h.have < want ? "truncated" : "trailing bytes", r, k, want, h.have);
    goto done;
  }
  float *out = malloc(want ? want : 1);
  if (!out) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  memcpy(out, buf + h.start, want);
  *data = out;
  *rows = (int)r;
  *cols = (int)k;
done:
  free(buf);
  return st;
}

clgan_status clgan_npy_read_u8(const char *path, uint8_t **data, int dims[4], int *ndim) {
  *data = NULL;
  *ndim = 0;
  unsigned char *buf = NULL;
  size_t len = 0, bytes = 0;
  clgan_status st = clgan_read_file(path, &buf, &len);
  if (st != CLGAN_OK) return st;
  npy_header h;
  if ((st = parse_header(path, buf, len, &h))) goto done;
  if (strcmp(h.descr, "|u1") != 0 && strcmp(h.descr, "<u1") != 0) {
    st = REFUSE(path, "holds dtype '%s'; image arrays must be uint8 ('|u1': save "
                      "a.astype(numpy.uint8))", h.descr);
    goto done;
  }
  if (h.ndim < 1 || h.ndim > 4) {
    st = REFUSE(path, "holds a %d-D array; clgan reads 1-D to 4-D uint8 arrays", h.ndim);
    goto done;
  }
  if (is_fortran(&h)) {
    st = REFUSE(path, "is in Fortran order; save numpy.ascontiguousarray(a) instead");
    goto done;
  }
  if ((st = data_bytes(path, &h, 1, &bytes))) goto done;
  uint8_t *out = malloc(bytes ? bytes : 1);
  if (!out) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  memcpy(out, buf + h.start, bytes);
  *data = out;
  *ndim = h.ndim;
  for (int i = 0; i < h.ndim; i++) dims[i] = (int)h.dims[i];
done:
  free(buf);
  return st;
}

clgan_status clgan_npy_read_labels(const char *path, uint8_t **labels, int *count) {
  *labels = NULL;
  *count = 0;
  unsigned char *buf = NULL;
  size_t len = 0, bytes = 0;
  clgan_status st = clgan_read_file(path, &buf, &len);
  if (st != CLGAN_OK) return st;
  npy_header h;
  if ((st = parse_header(path, buf, len, &h))) goto done;
  size_t elem = !strcmp(h.descr, "|u1") || !strcmp(h.descr, "<u1") ? 1
                : !strcmp(h.descr, "<i4")                          ? 4
                : !strcmp(h.descr, "<i8")                          ? 8
                                                                   : 0;
  if (!elem) {
    st = REFUSE(path, "holds labels of dtype '%s'; clgan reads uint8, int32 or int64 labels",
                h.descr);
    goto done;
  }
  if (h.ndim != 1) {
    st = REFUSE(path, "holds a %d-D array; labels must be 1-D", h.ndim);
    goto done;
  }
  if ((st = data_bytes(path, &h, elem, &bytes))) goto done;
  size_t n = bytes / elem;
  uint8_t *out = malloc(n ? n : 1);
  if (!out) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    const unsigned char *p = buf + h.start + i * elem;
    long long v = 0;
    for (size_t b = elem; b-- > 0;) v = (long long)((unsigned long long)v << 8 | p[b]);
    if (elem == 4) v = (int32_t)(uint32_t)v;
    if (v < 0 || v > 255) {
      st = REFUSE(path, "label %lld at index %zu is outside 0..255", v, i);
      free(out);
      goto done;
    }
    out[i] = (uint8_t)v;
  }
  *labels = out;
  *count = (int)n;
done:
  free(buf);
  return st;
}

clgan_status clgan_npy_write_f32(const char *path, const float *data, int rows, int cols) {
  if (!path || rows < 0 || cols < 0 || (!data && rows && cols)) return CLGAN_INVALID_ARGUMENT;
  char header[128];
  int n = snprintf(header, sizeof header,
                   "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols);
  /* numpy pads with spaces so that magic + length + header + '\n' is a multiple of 64. */
  while ((10 + n + 1) % 64 != 0) header[n++] = ' ';
  header[n++] = '\n';
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 0xFF),
                           (unsigned char)(n >> 8)};
  size_t bytes = (size_t)rows * (size_t)cols * sizeof(float);
  clgan_atomic_file af;
  clgan_status st = clgan_atomic_open(&af, path, "wb");
  if (st != CLGAN_OK) return st;
  if (fwrite(pre, 1, 10, af.f) != 10 || fwrite(header, 1, (size_t)n, af.f) != (size_t)n ||
      (bytes && fwrite(data, 1, bytes, af.f) != bytes)) {
    clgan_error("%s: writing %s failed: %s", clgan_status_message(CLGAN_WRITE_FAILED), path,
                strerror(errno));
    clgan_atomic_abort(&af);
    return CLGAN_WRITE_FAILED;
  }
  return clgan_atomic_commit(&af);
}
