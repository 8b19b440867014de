/* --flip's gather (issue 13): the device's flipped batch equals the C reference bit for bit,
 * and the reference equals a mirror written out pixel by pixel, per channel, on odd widths;
 * unflipped samples equal clgan_gather_images'. The flips of an epoch are the same for the same
 * (seed, epoch), differ across epochs, and are about half ones. */
#include <stdio.h>
#include <string.h>

#include "ops_testutil.h"

static void check_case(clgan_device *dev, int nimages, int c, int h, int w, int first, int batch) {
  int dim = c * h * w;
  size_t nb = (size_t)nimages * dim, nout = (size_t)batch * dim;
  uint8_t *images = malloc(nb), *flips = malloc((size_t)nimages);
  int32_t *index = malloc((size_t)nimages * sizeof *index);
  float *got = malloc(nout * 4), *ref = malloc(nout * 4), *mirror = malloc(nout * 4);
  for (size_t i = 0; i < nb; i++) {
    ops_rng = ops_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    images[i] = (uint8_t)(ops_rng >> 56);
  }
  for (int i = 0; i < nimages; i++) index[i] = (i * 7 + 3) % nimages;
  clgan_flip_bits(flips, nimages, 42, 3, 10);
  clgan_buffer img = upload_bytes(dev, images, nb);
  clgan_buffer idx = upload_bytes(dev, index, (size_t)nimages * sizeof *index);
  clgan_buffer fl = upload_bytes(dev, flips, (size_t)nimages);
  clgan_buffer out = upload(dev, NULL, nout);
  CHECK_OK(clgan_gather_images_flip(dev, &out, &img, &idx, &fl, first, batch, dim, w));
  download(dev, &out, got, nout);
  clgan_ref_gather_images_flip(ref, images, index, flips, first, batch, dim, w);
  for (int b = 0; b < batch; b++) {
    const uint8_t *src = images + (size_t)index[first + b] * dim;
    for (int k = 0; k < c; k++)
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
          int sx = flips[first + b] ? w - 1 - x : x;
          mirror[(size_t)b * dim + ((size_t)k * h + y) * w + x] =
              clgan_pixel_to_unit(src[((size_t)k * h + y) * w + sx]);
        }
  }
  char what[128];
  snprintf(what, sizeof what, "flipped gather, device vs reference (%dx%dx%d, first %d, batch %d)",
           c, h, w, first, batch);
  CHECK(!memcmp(got, ref, nout * 4), "%s", what);
  snprintf(what, sizeof what, "flip reference vs mirror (%dx%dx%d)", c, h, w);
  CHECK(!memcmp(ref, mirror, nout * 4), "%s", what);
  clgan_buffer_free(&img), clgan_buffer_free(&idx), clgan_buffer_free(&fl), clgan_buffer_free(&out);
  free(images), free(flips), free(index), free(got), free(ref), free(mirror);
}

int main(void) {
  clgan_device *dev = test_open_device();
  check_case(dev, 37, 3, 5, 7, 4, 16);
  check_case(dev, 20, 1, 28, 28, 0, 20);
  check_case(dev, 9, 3, 2, 1, 2, 5);
  enum { N = 4000 };
  uint8_t *a = malloc(N), *b = malloc(N), *e = malloc(N);
  clgan_flip_bits(a, N, 7, 2, 10);
  clgan_flip_bits(b, N, 7, 2, 10);
  clgan_flip_bits(e, N, 7, 3, 10);
  int ones = 0, same = 0;
  for (int i = 0; i < N; i++) ones += a[i], same += a[i] == e[i];
  CHECK(!memcmp(a, b, N), "the same (seed, epoch) draws the same flips");
  CHECK(ones > N * 45 / 100 && ones < N * 55 / 100, "%d of %d flipped", ones, N);
  CHECK(same < N * 55 / 100, "another epoch draws other flips (%d of %d agree)", same, N);
  /* A width that does not divide the image is refused. */
  clgan_buffer o = upload(dev, NULL, 12), i8 = upload_bytes(dev, a, 12);
  clgan_buffer ix = upload_bytes(dev, (int32_t[]){0, 0}, 8);
  CHECK(clgan_gather_images_flip(dev, &o, &i8, &ix, &i8, 0, 1, 12, 5) == CLGAN_INVALID_ARGUMENT,
        "width 5 of 12 refused");
  clgan_buffer_free(&o), clgan_buffer_free(&i8), clgan_buffer_free(&ix);
  free(a), free(b), free(e);
  clgan_device_close(dev);
  return test_finish();
}
