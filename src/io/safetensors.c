/* safetensors checkpoints: a writer that lays tensors out in the order they were added, and a
 * strict reader that loads the whole file and validates it before handing out a single tensor.
 * See clgan/io.h for the format. The header is parsed by a small JSON parser that accepts
 * exactly what safetensors needs (objects, strings with escapes, arrays of non-negative
 * integers) and nothing else, so a damaged or hostile header is refused, never half-read.
 *
 * The reader's rules follow the reference implementation (huggingface/safetensors, validate()):
 * tensors cover the data buffer exactly, without gaps or overlaps, each tensor's byte count
 * matches its shape and dtype, names are unique. On top of that the "clgan.crc32" metadata
 * entry, when present, must match the content (see canonical_crc). Data are little-endian as
 * the format says; clgan runs on little-endian hosts only (checked at open and write). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clgan/io.h"
#include "util/crc.h"
#include "util/fsutil.h"

#define BAD clgan_status_message(CLGAN_BAD_FORMAT)
#define REFUSE(...) clgan_refuse_file("safetensors file", __VA_ARGS__)
#define INVAL clgan_status_message(CLGAN_INVALID_ARGUMENT)

/* The reference implementation refuses headers above 100 MB; so do we. */
#define ST_MAX_HEADER (100u * 1000 * 1000)

static const struct {
  const char *name;
  size_t size;
} dtypes[] = {
#define CLGAN_X_ST_INFO(name, size) {#name, size},
    CLGAN_ST_DTYPE_TABLE(CLGAN_X_ST_INFO)
#undef CLGAN_X_ST_INFO
};

const char *clgan_st_dtype_name(clgan_st_dtype dtype) {
  return (unsigned)dtype < CLGAN_ST_DTYPE_COUNT ? dtypes[dtype].name : "?";
}

size_t clgan_st_dtype_size(clgan_st_dtype dtype) {
  return (unsigned)dtype < CLGAN_ST_DTYPE_COUNT ? dtypes[dtype].size : 0;
}

static int host_is_little_endian(void) {
  const uint16_t one = 1;
  unsigned char b;
  memcpy(&b, &one, 1);
  return b == 1;
}

/* Element count times element size, or -1 on a negative size or overflow past 2^62. */
static long long shape_bytes(const int64_t *shape, int ndim, size_t elem) {
  unsigned long long total = elem;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0) return -1;
    if (shape[i] == 0) total = 0;
    else if (total > (1ull << 62) / (unsigned long long)shape[i]) return -1;
    else total *= (unsigned long long)shape[i];
  }
  return (long long)total;
}

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t len;
    unsigned min, cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, min = 0x10000, cp = c & 0x07;
    } else {
      return 0;
    }
    if (n - i < len) return 0;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += len;
  }
  return 1;
}

/* ---- Growing text buffer (header building) ----------------------------------------------- */

typedef struct {
  char *s;
  size_t len, cap;
  int failed;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n + 1) cap *= 2;
    char *grown = realloc(b->s, cap);
    if (!grown) {
      b->failed = 1;
      return;
    }
    b->s = grown;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void sb_printf(sbuf *b, const char *fmt, ...) {
  char tmp[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0 || n >= (int)sizeof tmp) b->failed = 1;
  else sb_put(b, tmp, (size_t)n);
}

static void sb_json_string(sbuf *b, const char *s) {
  sb_put(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    const char *shortcut = c ? strchr("\"\\\b\f\n\r\t", c) : NULL;
    if (shortcut) { /* the short escapes, as Python's json.dumps writes them */
      char esc[2] = {'\\', "\"\\bfnrt"[shortcut - "\"\\\b\f\n\r\t"]};
      sb_put(b, esc, 2);
    } else if (c < 0x20) {
      sb_printf(b, "\\u%04x", c);
    } else {
      sb_put(b, (const char *)&c, 1);
    }
  }
  sb_put(b, "\"", 1);
}

/* ---- Writer ---------------------------------------------------------------------------------- */

struct clgan_st_writer {
  clgan_st_tensor *entries;
  int count, cap;
  char **meta; /* key, value, key, value, ... */
  int nmeta, meta_cap;
  clgan_status error; /* first failed add: makes clgan_st_write fail too */
};

static clgan_status add_meta_entry(clgan_st_writer *w, const char *key, const char *value);

clgan_status clgan_st_writer_new(clgan_st_writer **w) {
  *w = calloc(1, sizeof **w);
  if (!*w) return CLGAN_HOST_OUT_OF_MEMORY;
  clgan_status st = add_meta_entry(*w, CLGAN_ST_VERSION_KEY, CLGAN_VERSION);
  if (st != CLGAN_OK) {
    clgan_st_writer_free(*w);
    *w = NULL;
  }
  return st;
}

void clgan_st_writer_free(clgan_st_writer *w) {
  if (!w) return;
  for (int i = 0; i < w->count; i++) free((char *)w->entries[i].name);
  for (int i = 0; i < 2 * w->nmeta; i++) free(w->meta[i]);
  free(w->entries);
  free(w->meta);
  free(w);
}

static clgan_status writer_refuse(clgan_st_writer *w, clgan_status st) {
  if (w->error == CLGAN_OK) w->error = st;
  return st;
}

clgan_status clgan_st_add(clgan_st_writer *w, const char *name, clgan_st_dtype dtype,
                          const int64_t *shape, int ndim, const void *data) {
  if (!w) return CLGAN_INVALID_ARGUMENT;
  if (!name || !name[0] || !strcmp(name, "__metadata__") ||
      !utf8_valid((const unsigned char *)name, strlen(name))) {
    clgan_error("%s: safetensors tensor name '%s' is empty, reserved or not UTF-8", INVAL,
                name ? name : "(null)");
    return writer_refuse(w, CLGAN_INVALID_ARGUMENT);
  }
  long long nbytes = (unsigned)dtype < CLGAN_ST_DTYPE_COUNT && ndim >= 0 &&
                             ndim <= CLGAN_ST_MAX_DIMS && (shape || ndim == 0)
                         ? shape_bytes(shape, ndim, dtypes[dtype].size)
                         : -1;
  if (nbytes < 0 || (nbytes > 0 && !data)) {
    clgan_error("%s: safetensors tensor '%s': bad dtype, shape (%d dims) or missing data", INVAL,
                name, ndim);
    return writer_refuse(w, CLGAN_INVALID_ARGUMENT);
  }
  for (int i = 0; i < w->count; i++)
    if (!strcmp(w->entries[i].name, name)) {
      clgan_error("%s: safetensors tensor '%s' added twice", INVAL, name);
      return writer_refuse(w, CLGAN_INVALID_ARGUMENT);
    }
  if (w->count == w->cap) {
    int cap = w->cap ? 2 * w->cap : 32;
    clgan_st_tensor *grown = realloc(w->entries, sizeof *grown * (size_t)cap);
    if (!grown) return writer_refuse(w, CLGAN_HOST_OUT_OF_MEMORY);
    w->entries = grown;
    w->cap = cap;
  }
  clgan_st_tensor *e = &w->entries[w->count];
  memset(e, 0, sizeof *e);
  char *copy = strdup(name);
  if (!copy) return writer_refuse(w, CLGAN_HOST_OUT_OF_MEMORY);
  e->name = copy;
  e->dtype = dtype;
  e->ndim = ndim;
  for (int i = 0; i < ndim; i++) e->shape[i] = shape[i];
  e->data = data;
  e->nbytes = (size_t)nbytes;
  w->count++;
  return CLGAN_OK;
}

clgan_status clgan_st_add_meta(clgan_st_writer *w, const char *key, const char *value) {
  if (!w) return CLGAN_INVALID_ARGUMENT;
  if (!key || !key[0] || !value || !strcmp(key, CLGAN_ST_CRC_KEY) ||
      !strcmp(key, CLGAN_ST_VERSION_KEY) ||
      !utf8_valid((const unsigned char *)key, strlen(key)) ||
      !utf8_valid((const unsigned char *)value, strlen(value))) {
    clgan_error("%s: safetensors metadata key '%s': empty, reserved, or key or value not UTF-8",
                INVAL, key ? key : "(null)");
    return writer_refuse(w, CLGAN_INVALID_ARGUMENT);
  }
  for (int i = 0; i < w->nmeta; i++)
    if (!strcmp(w->meta[2 * i], key)) {
      clgan_error("%s: safetensors metadata key '%s' added twice", INVAL, key);
      return writer_refuse(w, CLGAN_INVALID_ARGUMENT);
    }
  return add_meta_entry(w, key, value);
}

static clgan_status add_meta_entry(clgan_st_writer *w, const char *key, const char *value) {
  if (w->nmeta == w->meta_cap) {
    int cap = w->meta_cap ? 2 * w->meta_cap : 16;
    char **grown = realloc(w->meta, sizeof *grown * 2 * (size_t)cap);
    if (!grown) return writer_refuse(w, CLGAN_HOST_OUT_OF_MEMORY);
    w->meta = grown;
    w->meta_cap = cap;
  }
  char *k = strdup(key), *v = strdup(value);
  if (!k || !v) {
    free(k);
    free(v);
    return writer_refuse(w, CLGAN_HOST_OUT_OF_MEMORY);
  }
  w->meta[2 * w->nmeta] = k;
  w->meta[2 * w->nmeta + 1] = v;
  w->nmeta++;
  return CLGAN_OK;
}

static int tensor_name_cmp(const void *a, const void *b) {
  return strcmp((*(const clgan_st_tensor *const *)a)->name,
                (*(const clgan_st_tensor *const *)b)->name);
}

static int meta_key_cmp(const void *a, const void *b) {
  return strcmp(**(char **const *)a, **(char **const *)b);
}

/* The "clgan.crc32" value: CRC-32 over a canonical form of the content, so it covers names,
 * dtypes, shapes and metadata as well as the bytes, yet survives a re-save by another tool that
 * keeps tensors and metadata but orders or spaces the header differently. The form: for each
 * tensor in name order (strcmp), name NUL dtype NUL dims joined by ',' NUL data bytes; then
 * for each metadata entry except clgan.crc32 in key order, key NUL value NUL.
 * tests/tools/check_safetensors.py computes the same in Python. Returns 0 on success. */
static int canonical_crc(const clgan_st_tensor *t, int count, char **meta, int nmeta,
                         unsigned long *out) {
  const clgan_st_tensor **tp = malloc(sizeof *tp * (count > 0 ? (size_t)count : 1));
  char ***mp = malloc(sizeof *mp * (nmeta > 0 ? (size_t)nmeta : 1));
  if (!tp || !mp) {
    free(tp);
    free(mp);
    return -1;
  }
  int nm = 0;
  for (int i = 0; i < count; i++) tp[i] = &t[i];
  for (int i = 0; i < nmeta; i++)
    if (strcmp(meta[2 * i], CLGAN_ST_CRC_KEY) != 0) mp[nm++] = &meta[2 * i];
  qsort(tp, (size_t)count, sizeof *tp, tensor_name_cmp);
  qsort(mp, (size_t)nm, sizeof *mp, meta_key_cmp);
  unsigned long crc = crc32(0L, Z_NULL, 0);
  for (int i = 0; i < count; i++) {
    char dims[CLGAN_ST_MAX_DIMS * 21 + 1] = "";
    size_t used = 0;
    for (int d = 0; d < tp[i]->ndim; d++)
      used += (size_t)snprintf(dims + used, sizeof dims - used, "%s%lld", d ? "," : "",
                               (long long)tp[i]->shape[d]);
    const char *dt = dtypes[tp[i]->dtype].name;
    crc = clgan_crc32_update(crc, tp[i]->name, strlen(tp[i]->name) + 1);
    crc = clgan_crc32_update(crc, dt, strlen(dt) + 1);
    crc = clgan_crc32_update(crc, dims, used + 1);
    crc = clgan_crc32_update(crc, tp[i]->data, tp[i]->nbytes);
  }
  for (int i = 0; i < nm; i++) {
    crc = clgan_crc32_update(crc, mp[i][0], strlen(mp[i][0]) + 1);
    crc = clgan_crc32_update(crc, mp[i][1], strlen(mp[i][1]) + 1);
  }
  free(tp);
  free(mp);
  *out = crc & 0xFFFFFFFFul;
  return 0;
}

clgan_status clgan_st_write(clgan_st_writer *w, const char *path) {
  if (!w || !path) return CLGAN_INVALID_ARGUMENT;
  if (w->error != CLGAN_OK) {
    clgan_error("%s: not writing %s: an earlier tensor or metadata entry was refused",
                clgan_status_message(w->error), path);
    return w->error;
  }
  if (!host_is_little_endian()) {
    clgan_error("%s: safetensors %s: big-endian hosts are not supported",
                clgan_status_message(CLGAN_UNSUPPORTED), path);
    return CLGAN_UNSUPPORTED;
  }
  unsigned long crc;
  if (canonical_crc(w->entries, w->count, w->meta, w->nmeta, &crc) != 0)
    return CLGAN_HOST_OUT_OF_MEMORY;

  sbuf h = {0};
  sb_put(&h, "{\"__metadata__\":{", 17);
  for (int i = 0; i < w->nmeta; i++) {
    sb_json_string(&h, w->meta[2 * i]);
    sb_put(&h, ":", 1);
    sb_json_string(&h, w->meta[2 * i + 1]);
    sb_put(&h, ",", 1);
  }
  sb_printf(&h, "\"%s\":\"%08lx\"}", CLGAN_ST_CRC_KEY, crc & 0xFFFFFFFFul);
  size_t offset = 0;
  for (int i = 0; i < w->count; i++) {
    const clgan_st_tensor *e = &w->entries[i];
    sb_put(&h, ",", 1);
    sb_json_string(&h, e->name);
    sb_printf(&h, ":{\"dtype\":\"%s\",\"shape\":[", dtypes[e->dtype].name);
    for (int d = 0; d < e->ndim; d++) sb_printf(&h, "%s%lld", d ? "," : "", (long long)e->shape[d]);
    sb_printf(&h, "],\"data_offsets\":[%zu,%zu]}", offset, offset + e->nbytes);
    offset += e->nbytes;
  }
  sb_put(&h, "}", 1);
  while (!h.failed && h.len % 8 != 0) sb_put(&h, " ", 1);
  if (h.failed) {
    free(h.s);
    return CLGAN_HOST_OUT_OF_MEMORY;
  }

  unsigned char len8[8];
  for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((unsigned long long)h.len >> (8 * i));
  clgan_atomic_file af;
  clgan_status st = clgan_atomic_open(&af, path, "wb");
  if (st != CLGAN_OK) {
    free(h.s);
    return st;
  }
  int failed = fwrite(len8, 1, 8, af.f) != 8 || fwrite(h.s, 1, h.len, af.f) != h.len;
  for (int i = 0; i < w->count && !failed; i++)
    failed = w->entries[i].nbytes &&
             fwrite(w->entries[i].data, 1, w->entries[i].nbytes, af.f) != w->entries[i].nbytes;
  free(h.s);
  if (failed) {
    clgan_error("%s: writing %s failed: %s", clgan_status_message(CLGAN_WRITE_FAILED), path,
                strerror(errno));
    clgan_atomic_abort(&af);
    return CLGAN_WRITE_FAILED;
  }
  return clgan_atomic_commit(&af);
}

/* ---- Strict JSON for the header ---------------------------------------------------------- */

typedef struct {
  const char *s;
  size_t len, pos;
  char err[200];
} json;

static int jfail(json *j, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static int jfail(json *j, const char *fmt, ...) {
  if (!j->err[0]) {
    char what[150];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(j->err, sizeof j->err, "header JSON: %s at byte %zu of %zu", what, j->pos, j->len);
  }
  return -1;
}

static void jws(json *j) {
  while (j->pos < j->len && (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' ||
                             j->s[j->pos] == '\n' || j->s[j->pos] == '\r'))
    j->pos++;
}

/* Skips whitespace, then consumes c or fails. */
static int jexpect(json *j, char c) {
  jws(j);
  if (j->pos >= j->len) return jfail(j, "unexpected end, expected '%c'", c);
  if (j->s[j->pos] != c) return jfail(j, "expected '%c', found '%c'", c, j->s[j->pos]);
  j->pos++;
  return 0;
}

/* Skips whitespace; returns the next character without consuming it, or 0 at the end. */
static char jpeek(json *j) {
  jws(j);
  return j->pos < j->len ? j->s[j->pos] : 0;
}

/* After a member or an element: 1 at the closing character, 0 after a comma, -1 on error. */
static int jsep(json *j, char close, const char *where) {
  char c = jpeek(j);
  if (c == 0) return jfail(j, "unexpected end in %s", where);
  if (c != close && c != ',') return jfail(j, "expected ',' or '%c' in %s", close, where);
  j->pos++;
  return c == close;
}

static int jhex4(json *j, unsigned *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    if (j->pos >= j->len) return jfail(j, "unexpected end in a \\u escape");
    char c = j->s[j->pos++];
    unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                 : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                 : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                        : 16u;
    if (d == 16) return jfail(j, "bad hex digit in a \\u escape");
    *v = *v << 4 | d;
  }
  return 0;
}

/* Parses a string into a malloc'd, NUL-terminated UTF-8 copy. */
static int jstring(json *j, char **out) {
  *out = NULL;
  if (jexpect(j, '"') != 0) return -1;
  size_t end = j->pos;
  while (end < j->len && j->s[end] != '"') end += j->s[end] == '\\' ? 2 : 1;
  if (end >= j->len) return jfail(j, "unterminated string");
  char *o = malloc(end - j->pos + 1);
  if (!o) return jfail(j, "out of memory");
  size_t n = 0;
  while (j->s[j->pos] != '"') {
    unsigned char c = (unsigned char)j->s[j->pos++];
    if (c < 0x20) {
      free(o);
      return jfail(j, "control character 0x%02x in a string", c);
    }
    if (c != '\\') {
      o[n++] = (char)c;
      continue;
    }
    char e = j->s[j->pos++];
    const char *simple = strchr("\"\\/bfnrt", e);
    if (e && simple) {
      o[n++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
      continue;
    }
    if (e != 'u') {
      free(o);
      return jfail(j, "bad escape '\\%c'", e);
    }
    unsigned cp, lo;
    if (jhex4(j, &cp) != 0) {
      free(o);
      return -1;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (j->pos + 6 > end || j->s[j->pos] != '\\' || j->s[j->pos + 1] != 'u') {
        free(o);
        return jfail(j, "unpaired surrogate \\u%04x", cp);
      }
      j->pos += 2;
      if (jhex4(j, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
        free(o);
        return jfail(j, "bad low surrogate after \\u%04x", cp);
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      free(o);
      return jfail(j, "unpaired surrogate \\u%04x", cp);
    }
    if (cp == 0) {
      free(o);
      return jfail(j, "\\u0000 in a string");
    }
    if (cp < 0x80) {
      o[n++] = (char)cp;
    } else if (cp < 0x800) {
      o[n++] = (char)(0xC0 | cp >> 6);
      o[n++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      o[n++] = (char)(0xE0 | cp >> 12);
      o[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
      o[n++] = (char)(0x80 | (cp & 0x3F));
    } else {
      o[n++] = (char)(0xF0 | cp >> 18);
      o[n++] = (char)(0x80 | (cp >> 12 & 0x3F));
      o[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
      o[n++] = (char)(0x80 | (cp & 0x3F));
    }
  }
  j->pos++;
  o[n] = '\0';
  *out = o;
  return 0;
}

/* A non-negative integer without sign, fraction, exponent or leading zeros, below 2^53. */
static int juint(json *j, int64_t *out) {
  jws(j);
  size_t start = j->pos;
  uint64_t v = 0;
  while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9') {
    v = v * 10 + (uint64_t)(j->s[j->pos] - '0');
    if (v >= (1ull << 53)) return jfail(j, "integer too large");
    j->pos++;
  }
  if (j->pos == start) return jfail(j, "expected a non-negative integer");
  if (j->s[start] == '0' && j->pos - start > 1) return jfail(j, "integer with a leading zero");
  if (j->pos < j->len && strchr(".eE", j->s[j->pos])) return jfail(j, "expected an integer");
  *out = (int64_t)v;
  return 0;
}

static int juint_array(json *j, int64_t *vals, int max, int *n) {
  *n = 0;
  if (jexpect(j, '[') != 0) return -1;
  if (jpeek(j) == ']') {
    j->pos++;
    return 0;
  }
  for (;;) {
    if (*n == max) return jfail(j, "array longer than %d", max);
    if (juint(j, &vals[(*n)++]) != 0) return -1;
    int r = jsep(j, ']', "an array");
    if (r != 0) return r > 0 ? 0 : -1;
  }
}

/* ---- Reader ---------------------------------------------------------------------------------- */

struct clgan_st_file {
  char *path;
  unsigned char *buf; /* the whole file */
  clgan_st_tensor *tensors;
  int count, cap;
  int *by_name; /* indices sorted by name, for lookup */
  int64_t *begin; /* data_offsets begin per tensor */
  char **meta;    /* key, value, ... */
  int nmeta, meta_cap;
  void **copies; /* aligned copies of misaligned tensors */
  int ncopies;
};

void clgan_st_close(clgan_st_file *f) {
  if (!f) return;
  for (int i = 0; i < f->count; i++) free((char *)f->tensors[i].name);
  for (int i = 0; i < 2 * f->nmeta; i++) free(f->meta[i]);
  for (int i = 0; i < f->ncopies; i++) free(f->copies[i]);
  free(f->tensors);
  free(f->by_name);
  free(f->begin);
  free(f->meta);
  free(f->copies);
  free(f->buf);
  free(f->path);
  free(f);
}

static int dtype_from_name(const char *s) {
  for (int i = 0; i < CLGAN_ST_DTYPE_COUNT; i++)
    if (!strcmp(dtypes[i].name, s)) return i;
  return -1;
}

static int parse_metadata(json *j, clgan_st_file *f) {
  if (jexpect(j, '{') != 0) return -1;
  if (jpeek(j) == '}') {
    j->pos++;
    return 0;
  }
  for (;;) {
    char *k = NULL, *v = NULL;
    if (jstring(j, &k) != 0) return -1;
    for (int i = 0; i < f->nmeta; i++)
      if (!strcmp(f->meta[2 * i], k)) {
        free(k);
        return jfail(j, "duplicate metadata key '%s'", f->meta[2 * i]);
      }
    if (jexpect(j, ':') != 0 || jpeek(j) != '"') {
      free(k);
      return jfail(j, "metadata values must be strings");
    }
    if (jstring(j, &v) != 0) {
      free(k);
      return -1;
    }
    if (f->nmeta == f->meta_cap) {
      int cap = f->meta_cap ? 2 * f->meta_cap : 16;
      char **grown = realloc(f->meta, sizeof *grown * 2 * (size_t)cap);
      if (!grown) {
        free(k);
        free(v);
        return jfail(j, "out of memory");
      }
      f->meta = grown;
      f->meta_cap = cap;
    }
    f->meta[2 * f->nmeta] = k;
    f->meta[2 * f->nmeta + 1] = v;
    f->nmeta++;
    int r = jsep(j, '}', "__metadata__");
    if (r != 0) return r > 0 ? 0 : -1;
  }
}

/* Parses {"dtype": .., "shape": [..], "data_offsets": [b, e]} into t; offsets into off[2]. */
static int parse_tensor(json *j, clgan_st_tensor *t, int64_t off[2]) {
  int seen_dtype = 0, seen_shape = 0, seen_offsets = 0;
  if (jexpect(j, '{') != 0) return -1;
  for (;;) {
    char *key = NULL;
    if (jstring(j, &key) != 0) return -1;
    int r = jexpect(j, ':');
    if (r == 0 && !strcmp(key, "dtype") && !seen_dtype) {
      char *name = NULL;
      seen_dtype = 1;
      r = jstring(j, &name);
      int d = r == 0 ? dtype_from_name(name) : -1;
      if (r == 0 && d < 0) r = jfail(j, "unknown dtype '%.40s'", name);
      t->dtype = (clgan_st_dtype)d;
      free(name);
    } else if (r == 0 && !strcmp(key, "shape") && !seen_shape) {
      seen_shape = 1;
      r = juint_array(j, t->shape, CLGAN_ST_MAX_DIMS, &t->ndim);
    } else if (r == 0 && !strcmp(key, "data_offsets") && !seen_offsets) {
      int n = 0;
      seen_offsets = 1;
      r = juint_array(j, off, 2, &n);
      if (r == 0 && n != 2) r = jfail(j, "data_offsets must hold 2 integers, not %d", n);
    } else if (r == 0) {
      r = jfail(j, "unexpected or repeated key '%.40s' in a tensor entry", key);
    }
    free(key);
    if (r != 0) return -1;
    r = jsep(j, '}', "a tensor entry");
    if (r < 0) return -1;
    if (r > 0) break;
  }
  if (!seen_dtype || !seen_shape || !seen_offsets)
    return jfail(j, "tensor entry lacks %s", !seen_dtype ? "dtype" : !seen_shape ? "shape" : "data_offsets");
  return 0;
}

static int parse_header(json *j, clgan_st_file *f, int64_t **ends) {
  int seen_meta = 0;
  if (jexpect(j, '{') != 0) return -1;
  if (jpeek(j) == '}') {
    j->pos++;
  } else {
    for (;;) {
      char *name = NULL;
      if (jstring(j, &name) != 0) return -1;
      if (jexpect(j, ':') != 0) {
        free(name);
        return -1;
      }
      if (!strcmp(name, "__metadata__")) {
        free(name);
        if (seen_meta++) return jfail(j, "__metadata__ appears twice");
        if (parse_metadata(j, f) != 0) return -1;
      } else {
        if (f->count == f->cap) {
          int cap = f->cap ? 2 * f->cap : 64;
          clgan_st_tensor *t = realloc(f->tensors, sizeof *t * (size_t)cap);
          int64_t *b = t ? realloc(f->begin, sizeof *b * (size_t)cap) : NULL;
          int64_t *e = b ? realloc(*ends, sizeof *e * (size_t)cap) : NULL;
          if (t) f->tensors = t;
          if (b) f->begin = b;
          if (e) *ends = e;
          if (!e) {
            free(name);
            return jfail(j, "out of memory");
          }
          f->cap = cap;
        }
        clgan_st_tensor *t = &f->tensors[f->count];
        memset(t, 0, sizeof *t);
        t->name = name;
        f->count++;
        int64_t off[2];
        if (parse_tensor(j, t, off) != 0) return -1;
        f->begin[f->count - 1] = off[0];
        (*ends)[f->count - 1] = off[1];
      }
      int r = jsep(j, '}', "the header object");
      if (r < 0) return -1;
      if (r > 0) break;
    }
  }
  jws(j);
  if (j->pos != j->len) return jfail(j, "unexpected '%c' after the header object", j->s[j->pos]);
  return 0;
}

/* What qsort needs to order tensors by name or by offsets without a context argument. */
typedef struct {
  const char *name;
  int64_t begin, end;
  int index;
} sort_key;

static int by_name_cmp(const void *a, const void *b) {
  return strcmp(((const sort_key *)a)->name, ((const sort_key *)b)->name);
}

static int by_offset_cmp(const void *a, const void *b) {
  const sort_key *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return x->index - y->index;
}

/* Offsets, sizes, coverage, unique names; fills data pointers. */
static clgan_status validate(clgan_st_file *f, const int64_t *ends, const unsigned char *data,
                             size_t data_len) {
  const char *path = f->path;
  sort_key *keys = malloc(sizeof *keys * (f->count > 0 ? (size_t)f->count : 1));
  f->by_name = malloc(sizeof *f->by_name * (f->count > 0 ? (size_t)f->count : 1));
  if (!keys || !f->by_name) {
    free(keys);
    return CLGAN_HOST_OUT_OF_MEMORY;
  }
  clgan_status st = CLGAN_OK;
  for (int i = 0; i < f->count; i++) {
    clgan_st_tensor *t = &f->tensors[i];
    long long want = shape_bytes(t->shape, t->ndim, dtypes[t->dtype].size);
    if (ends[i] < f->begin[i]) {
      st = REFUSE(path, "tensor '%s': data_offsets [%lld, %lld] end before they begin", t->name,
                  (long long)f->begin[i], (long long)ends[i]);
      goto done;
    }
    if (want < 0) {
      st = REFUSE(path, "tensor '%s': shape too large", t->name);
      goto done;
    }
    if (ends[i] - f->begin[i] != want) {
      st = REFUSE(path, "tensor '%s': %s with %d dims needs %lld bytes, data_offsets give %lld",
                  t->name, dtypes[t->dtype].name, t->ndim, want,
                  (long long)(ends[i] - f->begin[i]));
      goto done;
    }
    if ((uint64_t)ends[i] > data_len) {
      st = REFUSE(path, "tensor '%s': data_offsets [%lld, %lld] run past the %zu-byte data buffer",
                  t->name, (long long)f->begin[i], (long long)ends[i], data_len);
      goto done;
    }
    keys[i] = (sort_key){t->name, f->begin[i], ends[i], i};
  }
  qsort(keys, (size_t)f->count, sizeof *keys, by_name_cmp);
  for (int i = 0; i < f->count; i++) {
    f->by_name[i] = keys[i].index;
    if (i > 0 && !strcmp(keys[i].name, keys[i - 1].name)) {
      st = REFUSE(path, "tensor name '%s' appears twice", keys[i].name);
      goto done;
    }
  }
  qsort(keys, (size_t)f->count, sizeof *keys, by_offset_cmp);
  int64_t covered = 0;
  for (int k = 0; k < f->count; k++) {
    if (keys[k].begin != covered) {
      st = REFUSE(path, "tensor '%s' starts at byte %lld of the data buffer, expected %lld (%s)",
                  keys[k].name, (long long)keys[k].begin, (long long)covered,
                  keys[k].begin < covered ? "it overlaps another tensor" : "a gap before it");
      goto done;
    }
    covered = keys[k].end;
  }
  if ((uint64_t)covered != data_len) {
    st = REFUSE(path, "tensors cover %lld bytes but the data buffer holds %zu", (long long)covered,
                data_len);
    goto done;
  }
  f->copies = malloc(sizeof *f->copies * (f->count > 0 ? (size_t)f->count : 1));
  if (!f->copies) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  for (int i = 0; i < f->count; i++) {
    clgan_st_tensor *t = &f->tensors[i];
    const unsigned char *p = data + f->begin[i];
    size_t align = dtypes[t->dtype].size;
    t->nbytes = (size_t)(ends[i] - f->begin[i]);
    t->data = p;
    if (t->nbytes > 0 && (uintptr_t)p % align != 0) { /* keep typed access well-defined */
      void *copy = malloc(t->nbytes);
      if (!copy) {
        st = CLGAN_HOST_OUT_OF_MEMORY;
        goto done;
      }
      memcpy(copy, p, t->nbytes);
      f->copies[f->ncopies++] = copy;
      t->data = copy;
    }
  }
done:
  free(keys);
  return st;
}

static int hex_value(const char *s, unsigned long *v) {
  *v = 0;
  if (strlen(s) != 8) return -1;
  for (int i = 0; i < 8; i++) {
    char c = s[i];
    unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                 : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                        : 16u; /* lowercase only, as written: one spelling */
    if (d == 16) return -1;
    *v = *v << 4 | d;
  }
  return 0;
}

clgan_status clgan_st_open(const char *path, clgan_st_file **file) {
  *file = NULL;
  if (!host_is_little_endian()) {
    clgan_error("%s: safetensors %s: big-endian hosts are not supported",
                clgan_status_message(CLGAN_UNSUPPORTED), path);
    return CLGAN_UNSUPPORTED;
  }
  clgan_st_file *f = calloc(1, sizeof *f);
  int64_t *ends = NULL;
  size_t len = 0;
  if (!f || !(f->path = strdup(path))) {
    free(f);
    return CLGAN_HOST_OUT_OF_MEMORY;
  }
  clgan_status st = clgan_read_file(path, &f->buf, &len);
  if (st != CLGAN_OK) goto fail;
  if (len < 8) {
    st = REFUSE(path, "%zu bytes is shorter than the 8-byte header length", len);
    goto fail;
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | f->buf[i];
  if (n > len - 8) {
    st = REFUSE(path, "header length %llu runs past the end of the %zu-byte file (truncated?)",
                (unsigned long long)n, len);
    goto fail;
  }
  if (n > ST_MAX_HEADER || n < 2) {
    st = REFUSE(path, "header length %llu is outside 2 to %u bytes", (unsigned long long)n,
                ST_MAX_HEADER);
    goto fail;
  }
  const char *text = (const char *)f->buf + 8;
  if (text[0] != '{' || !utf8_valid(f->buf + 8, (size_t)n)) {
    st = REFUSE(path, "header is not a UTF-8 JSON object");
    goto fail;
  }
  json j = {text, (size_t)n, 0, ""};
  if (parse_header(&j, f, &ends) != 0) {
    st = REFUSE(path, "%s", j.err);
    goto fail;
  }
  const unsigned char *data = f->buf + 8 + n;
  size_t data_len = len - 8 - (size_t)n;
  st = validate(f, ends, data, data_len);
  if (st != CLGAN_OK) goto fail;
  const char *stored = clgan_st_meta(f, CLGAN_ST_CRC_KEY);
  if (!stored && clgan_st_meta(f, CLGAN_ST_VERSION_KEY)) {
    st = REFUSE(path, "written by clgan (%s) but without its %s checksum: the header is damaged "
                "(a file edited on purpose by another tool must drop both entries)",
                CLGAN_ST_VERSION_KEY, CLGAN_ST_CRC_KEY);
    goto fail;
  }
  if (stored) {
    unsigned long want, got;
    if (canonical_crc(f->tensors, f->count, f->meta, f->nmeta, &got) != 0) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto fail;
    }
    if (hex_value(stored, &want) != 0) {
      st = REFUSE(path, "metadata %s is '%.20s', not 8 lowercase hex digits", CLGAN_ST_CRC_KEY,
                  stored);
      goto fail;
    }
    if (want != got) {
      st = REFUSE(path, "checksum mismatch: %s says %08lx, the content gives %08lx (the file "
                  "was corrupted or modified after writing)", CLGAN_ST_CRC_KEY, want, got);
      goto fail;
    }
  }
  free(ends);
  *file = f;
  return CLGAN_OK;
fail:
  free(ends);
  clgan_st_close(f);
  return st;
}

int clgan_st_count(const clgan_st_file *f) { return f ? f->count : 0; }

const clgan_st_tensor *clgan_st_at(const clgan_st_file *f, int i) {
  return f && i >= 0 && i < f->count ? &f->tensors[i] : NULL;
}

const clgan_st_tensor *clgan_st_find(const clgan_st_file *f, const char *name) {
  if (!f || !name) return NULL;
  int lo = 0, hi = f->count - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    const clgan_st_tensor *t = &f->tensors[f->by_name[mid]];
    int c = strcmp(t->name, name);
    if (c == 0) return t;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return NULL;
}

static void shape_text(char *out, size_t size, const int64_t *shape, int ndim) {
  size_t used = (size_t)snprintf(out, size, "[");
  for (int i = 0; i < ndim && used < size; i++)
    used += (size_t)snprintf(out + used, size - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (used < size) snprintf(out + used, size - used, "]");
}

clgan_status clgan_st_expect(const clgan_st_file *f, const char *name, clgan_st_dtype dtype,
                             const int64_t *shape, int ndim, const void **data) {
  *data = NULL;
  const clgan_st_tensor *t = clgan_st_find(f, name);
  if (!t) return REFUSE(f ? f->path : "(null)", "has no tensor '%s'", name);
  int same = t->ndim == ndim;
  for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
  if (t->dtype != dtype || !same) {
    char got[200], want[200];
    shape_text(got, sizeof got, t->shape, t->ndim);
    shape_text(want, sizeof want, shape, ndim);
    return REFUSE(f->path, "tensor '%s' is %s %s, expected %s %s", name, dtypes[t->dtype].name,
                  got, clgan_st_dtype_name(dtype), want);
  }
  *data = t->data;
  return CLGAN_OK;
}

const char *clgan_st_meta(const clgan_st_file *f, const char *key) {
  for (int i = 0; f && key && i < f->nmeta; i++)
    if (!strcmp(f->meta[2 * i], key)) return f->meta[2 * i + 1];
  return NULL;
}

int clgan_st_meta_count(const clgan_st_file *f) { return f ? f->nmeta : 0; }

int clgan_st_meta_at(const clgan_st_file *f, int i, const char **key, const char **value) {
  if (!f || i < 0 || i >= f->nmeta) return 0;
  *key = f->meta[2 * i];
  *value = f->meta[2 * i + 1];
  return 1;
}
