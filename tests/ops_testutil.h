/* Helpers shared by the tests/test_ops_*.c executables: host arrays to device buffers and back,
 * random host arrays, and double-precision central differences. Header-only (static inline) so
 * that each test stays one file and CMake needs no entry for it. */
#ifndef CLGAN_OPS_TESTUTIL_H
#define CLGAN_OPS_TESTUTIL_H

#include <stdlib.h>
#include <string.h>

#include "clgan/ops.h"
#include "harness.h"

static unsigned long long ops_rng = 0x9e3779b97f4a7c15ULL;

/* malloc'd floats uniform in [lo, hi); never NULL (a test cannot go on without memory). */
static inline float *rand_floats(size_t n, float lo, float hi) {
  float *x = malloc((n ? n : 1) * sizeof *x);
  if (!x) abort();
  test_fill_uniform(x, n, lo, hi, &ops_rng);
  return x;
}

static inline float *copy_floats(const float *x, size_t n) {
  float *y = malloc((n ? n : 1) * sizeof *y);
  if (!y) abort();
  if (n) memcpy(y, x, n * sizeof *y);
  return y;
}

/* A device buffer holding bytes of src (or zeros for src NULL). */
static inline clgan_buffer upload_bytes(clgan_device *dev, const void *src, size_t bytes) {
  clgan_buffer b = {0};
  clgan_status st = clgan_buffer_alloc(dev, &b, bytes ? bytes : 4);
  CHECK(st == CLGAN_OK, "buffer_alloc(%zu): %s", bytes, clgan_status_name(st));
  if (st != CLGAN_OK) return b;
  if (src && bytes) st = clgan_buffer_write(dev, &b, 0, bytes, src);
  else st = clgan_buffer_zero(dev, &b);
  CHECK(st == CLGAN_OK, "buffer write: %s", clgan_status_name(st));
  return b;
}

static inline clgan_buffer upload(clgan_device *dev, const float *x, size_t n) {
  return upload_bytes(dev, x, n * sizeof(float));
}

static inline void download(clgan_device *dev, const clgan_buffer *b, float *x, size_t n) {
  if (!n) return;
  clgan_status st = clgan_buffer_read(dev, b, 0, n * sizeof(float), x);
  CHECK(st == CLGAN_OK, "buffer read: %s", clgan_status_name(st));
}

/* Install with clgan_set_log(quiet_log, NULL) around calls that are meant to fail. */
static inline void quiet_log(const char *level, const char *text, void *user) {
  (void)level, (void)text, (void)user;
}

#define CHECK_OK(call)                                                                   \
  do {                                                                                   \
    clgan_status check_ok_st_ = (call);                                                  \
    CHECK(check_ok_st_ == CLGAN_OK, "%s returned %s", #call, clgan_status_name(check_ok_st_)); \
  } while (0)

#endif
