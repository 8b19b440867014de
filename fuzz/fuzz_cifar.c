/* libFuzzer harness for the CIFAR-10 batch reader: clgan_cifar10_read; an accepted file's
 * buffers must hold count images of 3x32x32 bytes and count labels in 0..9. */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include "clgan/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(data, size);
  uint8_t *images = NULL, *labels = NULL;
  int count = -1;
  clgan_status st = clgan_cifar10_read(path, &images, &labels, &count);
  if (st == CLGAN_OK) {
    if (!images || !labels || count < 1) abort();
    fuzz_touch(images, (size_t)count * 3072);
    for (int i = 0; i < count; i++)
      if (labels[i] > 9) abort();
  } else if (images || labels) {
    abort();
  }
  free(images);
  free(labels);
  return 0;
}
