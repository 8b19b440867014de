/* libFuzzer harness for the .npy readers: clgan_npy_read_f32 (an accepted array's buffer must
 * hold rows * cols floats), clgan_npy_read_u8 (the product of its dims bytes) and
 * clgan_npy_read_labels (count bytes). */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include "clgan/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(data, size);
  float *values = NULL;
  int rows = -1, cols = -1;
  clgan_status st = clgan_npy_read_f32(path, &values, &rows, &cols);
  if (st == CLGAN_OK) {
    if (!values || rows < 0 || cols < 0) abort();
    fuzz_touch(values, (size_t)rows * (size_t)cols * sizeof(float));
  } else if (values) {
    abort();
  }
  free(values);

  uint8_t *bytes = NULL;
  int dims[4] = {0}, ndim = -1;
  if (clgan_npy_read_u8(path, &bytes, dims, &ndim) == CLGAN_OK) {
    if (!bytes || ndim < 1 || ndim > 4) abort();
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)dims[i];
    fuzz_touch(bytes, n);
  } else if (bytes) {
    abort();
  }
  free(bytes);
  bytes = NULL;
  int count = -1;
  if (clgan_npy_read_labels(path, &bytes, &count) == CLGAN_OK) {
    if (!bytes || count < 0) abort();
    fuzz_touch(bytes, (size_t)count);
  } else if (bytes) {
    abort();
  }
  free(bytes);
  return 0;
}
