/* libFuzzer harness for the decoders a data folder's scan calls (clgan_png_decode,
 * clgan_jpeg_decode: clgan's wrappers around libpng and libjpeg, their longjmp paths and
 * limits) and the resize every decoded image goes through. The first byte picks the decoder,
 * so one corpus holds both formats. An accepted image's buffer must hold w x h x 3 bytes. */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include "clgan/data.h"
#include "clgan/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *path = fuzz_file(data + 1, size - 1);
  uint8_t *rgb = NULL;
  int w = -1, h = -1;
  char why[300];
  clgan_status st = (data[0] & 1) ? clgan_jpeg_decode(path, &rgb, &w, &h, why, sizeof why)
                                  : clgan_png_decode(path, 3, &rgb, &w, &h, why, sizeof why);
  if (st == CLGAN_OK) {
    if (!rgb || w < 1 || h < 1) abort();
    fuzz_touch(rgb, (size_t)w * (size_t)h * 3);
    /* The red plane of a small crop through the resize: every tap inside the source. */
    size_t px = (size_t)w * (size_t)h;
    uint8_t *plane = malloc(px), out[8 * 8];
    if (!plane) abort();
    for (size_t p = 0; p < px; p++) plane[p] = rgb[3 * p];
    if (w <= 4096 && h <= 4096) clgan_image_resize(out, 1 + data[0] / 2 % 8, plane, w, h);
    free(plane);
  } else if (rgb) {
    abort();
  } else {
    volatile size_t n = strlen(why);
    (void)n;
  }
  free(rgb);
  return 0;
}
