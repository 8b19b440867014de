/* CIFAR-10's binary format (https://www.cs.toronto.edu/~kriz/cifar.html, "Binary version"):
 * each batch file is a run of 3,073-byte records, one label byte (0..9) then 1,024 red, 1,024
 * green and 1,024 blue bytes of a 32x32 image in row-major order. That is clgan's own
 * (channels, rows, cols) layout, so a record's image is copied as it is. */
#include <stdlib.h>
#include <string.h>

#include "clgan/data.h"
#include "util/fsutil.h"

#define CIFAR_RECORD 3073
#define CIFAR_IMAGE 3072

clgan_status clgan_cifar10_read(const char *path, uint8_t **images, uint8_t **labels,
                                int *count) {
  *images = *labels = NULL;
  *count = 0;
  unsigned char *buf = NULL;
  size_t len = 0;
  clgan_status st = clgan_read_file(path, &buf, &len);
  if (st != CLGAN_OK) return st;
  if (len == 0 || len % CIFAR_RECORD != 0 || len / CIFAR_RECORD > CLGAN_IDX_MAX_COUNT) {
    st = clgan_refuse_file("CIFAR-10 batch", path,
                           "%zu bytes is not a whole number of 3,073-byte records (%zu records "
                           "and %zu bytes over: truncated?)",
                           len, len / CIFAR_RECORD, len % CIFAR_RECORD);
    goto done;
  }
  size_t n = len / CIFAR_RECORD;
  for (size_t i = 0; i < n; i++) {
    if (buf[i * CIFAR_RECORD] > 9) {
      st = clgan_refuse_file("CIFAR-10 batch", path,
                             "record %zu has label %d; CIFAR-10's are 0..9 (CIFAR-100 "
                             "records have two label bytes and are not read)",
                             i, buf[i * CIFAR_RECORD]);
      goto done;
    }
  }
  uint8_t *im = malloc(n * CIFAR_IMAGE), *lb = malloc(n);
  if (!im || !lb) {
    free(im);
    free(lb);
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    lb[i] = buf[i * CIFAR_RECORD];
    memcpy(im + i * CIFAR_IMAGE, buf + i * CIFAR_RECORD + 1, CIFAR_IMAGE);
  }
  *images = im;
  *labels = lb;
  *count = (int)n;
done:
  free(buf);
  return st;
}
