/* Data set upload: the images land on the device as one uint8 buffer, byte for byte; bad
 * arguments are refused and leave the buffer zeroed. Needs an OpenCL device. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/data.h"
#include "harness.h"

int main(void) {
  clgan_device *dev = test_open_device();
  enum { N = 37, R = 11, C = 13 };
  clgan_dataset ds = {.count = N, .rows = R, .cols = C, .images = malloc(N * R * C), .channels = 1};
  for (int i = 0; i < N * R * C; i++) ds.images[i] = (uint8_t)(i * 131 + i / 7);
  clgan_buffer buf;
  CHECK(clgan_dataset_upload(dev, &ds, &buf) == CLGAN_OK, "upload");
  CHECK(buf.bytes == (size_t)N * R * C, "buffer of %zu bytes", buf.bytes);
  uint8_t *back = calloc(N * R * C, 1);
  CHECK(clgan_buffer_read(dev, &buf, 0, (size_t)N * R * C, back) == CLGAN_OK, "read back");
  CHECK(!memcmp(back, ds.images, (size_t)N * R * C), "device bytes equal host bytes");
  clgan_buffer_free(&buf);

  clgan_dataset empty = {0};
  CHECK(clgan_dataset_upload(dev, &empty, &buf) == CLGAN_INVALID_ARGUMENT, "empty data set");
  CHECK(buf.mem == NULL && buf.bytes == 0, "buffer zeroed after a refusal");
  free(back);
  clgan_dataset_free(&ds);
  clgan_device_close(dev);
  return test_finish();
}
