/* NumPy .npy files of float32: reading 1-D and 2-D arrays (format versions 1.0 to 3.0) and
 * writing 2-D ones as version 1.0, the way numpy.save does. Used for reference tensors dumped
 * from PyTorch/NumPy and for evaluation statistics. See clgan/io.h.
 *
 * Format (numpy.lib.format): "\x93NUMPY", major, minor, header length (uint16 LE for 1.x,
 * uint32 LE for 2.x and 3.x), then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and ended by '\n' so the data start on a 64-byte boundary. The reader
 * parses exactly that dict (three keys, string / bool / tuple of ints) and refuses the rest. */
#include <errno.h>
#include <limits.h>
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

clgan_status clgan_npy_read_f32(const char *path, float **data, int *rows, int *cols) {
  *data = NULL;
  *rows = *cols = 0;
  unsigned char *buf = NULL;
  size_t len = 0;
  clgan_status st = clgan_read_file(path, &buf, &len);
  if (st != CLGAN_OK) return st;
  if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
    st = REFUSE(path, "not a .npy file (no \\x93NUMPY magic)");
    goto done;
  }
  int major = buf[6], minor = buf[7];
  if (major < 1 || major > 3 || minor != 0) {
    st = REFUSE(path, "format version %d.%d; clgan reads 1.0, 2.0 and 3.0", major, minor);
    goto done;
  }
  size_t hl, start;
  if (major == 1) {
    hl = (size_t)buf[8] | (size_t)buf[9] << 8;
    start = 10;
  } else {
    if (len < 12) {
      st = REFUSE(path, "truncated header");
      goto done;
    }
    hl = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    start = 12;
  }
  if (hl > len - start) {
    st = REFUSE(path, "header of %zu bytes runs past the end of the %zu-byte file", hl, len);
    goto done;
  }
  cursor c = {(const char *)buf + start, (const char *)buf + start + hl};
  char descr[64] = "";
  long long dims[8];
  int ndim = -1, fortran = -1;
  if (!take(&c, '{')) {
    st = REFUSE(path, "header is not a Python dict");
    goto done;
  }
  while (!take(&c, '}')) {
    char key[32];
    if (!pystring(&c, key, sizeof key) || !take(&c, ':')) {
      st = REFUSE(path, "malformed header dict");
      goto done;
    }
    int ok;
    if (!strcmp(key, "descr") && !descr[0]) {
      ok = pystring(&c, descr, sizeof descr) && descr[0];
    } else if (!strcmp(key, "fortran_order") && fortran < 0) {
      ok = (fortran = pyword(&c, "True")) == 1 || pyword(&c, "False");
    } else if (!strcmp(key, "shape") && ndim < 0) {
      ok = pytuple(&c, dims, &ndim);
    } else {
      st = REFUSE(path, "unexpected or repeated header key '%s'", key);
      goto done;
    }
    if (!ok) {
      st = REFUSE(path, "malformed value for '%s' in the header (a structured dtype?)", key);
      goto done;
    }
    if (!take(&c, ',')) {
      if (!take(&c, '}')) {
        st = REFUSE(path, "malformed header dict");
        goto done;
      }
      break;
    }
  }
  skip_ws(&c);
  if (c.s != c.end || !descr[0] || fortran < 0 || ndim < 0) {
    st = REFUSE(path, "header dict lacks descr, fortran_order or shape, or has trailing text");
    goto done;
  }
  if (strcmp(descr, "<f4") != 0) {
    const char *hint = !strcmp(descr, "<f8")   ? " (float64: save a.astype(numpy.float32))"
                       : !strcmp(descr, ">f4") ? " (big-endian float32)"
                                               : "";
    st = REFUSE(path, "holds dtype '%s'%s; clgan reads little-endian float32 ('<f4')", descr,
                hint);
    goto done;
  }
  if (ndim < 1 || ndim > 2) {
    st = REFUSE(path, "holds a %d-D array; clgan reads 1-D and 2-D arrays", ndim);
    goto done;
  }
  if (fortran && ndim == 2 && dims[0] > 1 && dims[1] > 1) {
    st = REFUSE(path, "is in Fortran order; save numpy.ascontiguousarray(a) instead");
    goto done;
  }
  long long r = ndim == 2 ? dims[0] : 1, k = ndim == 2 ? dims[1] : dims[0];
  size_t want = (size_t)r * (size_t)k * sizeof(float), have = len - start - hl;
  if (have != want) {
    st = REFUSE(path, "%s: shape (%lld, %lld) needs %zu data bytes, found %zu",
                have < want ? "truncated" : "trailing bytes", r, k, want, have);
    goto done;
  }
  float *out = malloc(want ? want : 1);
  if (!out) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  memcpy(out, buf + start + hl, want);
  *data = out;
  *rows = (int)r;
  *cols = (int)k;
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
