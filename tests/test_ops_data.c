/* Batch gather against p / 127.5 - 1 in double, through a permutation, at several offsets and
 * odd sizes; endpoints map to exactly -1 and 1; an index outside the image set gives NaN
 * instead of reading out of bounds. Bitwise against the C reference it is rows of
 * tests/test_ops.c. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

static void check_case(clgan_device *dev, int nimages, int dim, int first, int batch) {
  size_t nb = (size_t)nimages * dim, nout = (size_t)batch * dim;
  uint8_t *images = malloc(nb);
  int32_t *index = malloc((size_t)nimages * sizeof *index);
  float *got = malloc(nout * 4), *exact = malloc(nout * 4);
  for (size_t i = 0; i < nb; i++) {
    ops_rng = ops_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    images[i] = (uint8_t)(ops_rng >> 56);
  }
  images[0] = 0, images[nb - 1] = 255;
  for (int i = 0; i < nimages; i++) index[i] = i;
  for (int i = nimages - 1; i > 0; i--) { /* Fisher-Yates */
    ops_rng = ops_rng * 6364136223846793005ULL + 1442695040888963407ULL;
    int j = (int)((ops_rng >> 33) % (unsigned long long)(i + 1));
    int32_t t = index[i];
    index[i] = index[j], index[j] = t;
  }
  clgan_buffer img = upload_bytes(dev, images, nb);
  clgan_buffer idx = upload_bytes(dev, index, (size_t)nimages * sizeof *index);
  clgan_buffer out = upload(dev, NULL, nout);
  CHECK_OK(clgan_gather_images(dev, &out, &img, &idx, first, batch, dim));
  download(dev, &out, got, nout);
  for (int b = 0; b < batch; b++)
    for (int j = 0; j < dim; j++)
      exact[(size_t)b * dim + j] =
          (float)(images[(size_t)index[first + b] * dim + j] / 127.5 - 1.0);
  char what[128];
  snprintf(what, sizeof what, "gather vs p/127.5-1 (images=%d dim=%d first=%d batch=%d)", nimages,
           dim, first, batch);
  CHECK_CLOSE(what, got, exact, nout, 1.2e-7, 0);
  clgan_buffer_free(&img), clgan_buffer_free(&idx), clgan_buffer_free(&out);
  free(images), free(index), free(got), free(exact);
}

int main(void) {
  clgan_device *dev = test_open_device();
  check_case(dev, 37, 784, 0, 16);
  check_case(dev, 37, 784, 5, 7);
  check_case(dev, 37, 784, 36, 1);
  check_case(dev, 11, 5, 3, 8);
  check_case(dev, 1, 1, 0, 1);

  /* Every pixel value, endpoints exact. */
  uint8_t ramp[256];
  int32_t zero = 0;
  float got[256];
  for (int i = 0; i < 256; i++) ramp[i] = (uint8_t)i;
  clgan_buffer img = upload_bytes(dev, ramp, 256), idx = upload_bytes(dev, &zero, 4);
  clgan_buffer out = upload(dev, NULL, 256);
  CHECK_OK(clgan_gather_images(dev, &out, &img, &idx, 0, 1, 256));
  download(dev, &out, got, 256);
  int monotone = 1;
  for (int i = 1; i < 256; i++) monotone &= got[i] > got[i - 1];
  CHECK(got[0] == -1.0f && got[255] == 1.0f && monotone, "0 -> %g, 255 -> %g, increasing",
        (double)got[0], (double)got[255]);
  clgan_buffer_free(&out);

  /* An index past the image set: NaN, not a read out of bounds. */
  int32_t bad[2] = {0, 1};
  clgan_buffer badidx = upload_bytes(dev, bad, sizeof bad);
  out = upload(dev, NULL, 512);
  CHECK_OK(clgan_gather_images(dev, &out, &img, &badidx, 0, 2, 256));
  float both[512];
  download(dev, &out, both, 512);
  CHECK(both[0] == -1.0f && isnan(both[256]) && isnan(both[511]), "bad index row reads as NaN");
  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_gather_images(dev, &out, &img, &badidx, 1, 2, 256) == CLGAN_INVALID_ARGUMENT,
        "first + batch past the index buffer is refused");
  clgan_set_log(NULL, NULL);
  clgan_buffer_free(&img), clgan_buffer_free(&idx), clgan_buffer_free(&out),
      clgan_buffer_free(&badidx);
  clgan_device_close(dev);
  return test_finish();
}
