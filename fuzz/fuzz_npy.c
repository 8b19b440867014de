/* libFuzzer harness for the .npy reader: clgan_npy_read_f32; an accepted array's buffer must
 * hold rows * cols floats. */
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
  return 0;
}
