/* libFuzzer harness for the IDX reader (plain and gzip): clgan_idx_read with every
 * expect_dims the library uses (0, 1, 3); an accepted file's buffer must hold exactly the
 * elements its dimensions announce. */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include "clgan/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(data, size);
  static const int expect[] = {0, 1, 3};
  for (size_t e = 0; e < sizeof expect / sizeof expect[0]; e++) {
    uint8_t *elems = NULL;
    int dims[3] = {0, 0, 0}, ndims = -1;
    clgan_status st = clgan_idx_read(path, expect[e], &elems, dims, &ndims);
    if (st == CLGAN_OK) {
      if (ndims < 1 || ndims > 3 || (expect[e] && ndims != expect[e]) || !elems) abort();
      size_t total = 1;
      for (int i = 0; i < ndims; i++) {
        if (dims[i] < 1) abort();
        total *= (size_t)dims[i];
      }
      fuzz_touch(elems, total);
    } else if (elems || ndims != 0) {
      abort(); /* a refusal hands nothing back */
    }
    free(elems);
  }
  return 0;
}
