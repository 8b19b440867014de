/* Batch gather: a slice of the epoch's permutation turns rows of the uint8 training set, held
 * on the device for the whole run, into a float batch in [-1, 1], with its C reference.
 * Kernels: cl/data.cl (which says why the scaling is written as a multiplication). */
#include <math.h>

#include "clgan/ops.h"
#include "ops/internal.h"

/* The counts both gathers take: rows [first, first + batch) of images of dim bytes. */
static clgan_status gather_counts(const char *op, int first, int batch, int dim) {
  clgan_status st;
  if ((st = ops_check_count(first, op, "first")) || (st = ops_check_count(batch, op, "batch")) ||
      (st = ops_check_count(dim, op, "dim")) ||
      (st = ops_check_count((long long)batch * dim, op, "batch * dim")) ||
      (st = ops_check_count((long long)first + batch, op, "first + batch")))
    return st;
  return CLGAN_OK;
}

/* The images the kernels may index (their bound on index[]), clamped to an int. */
static int gather_nimages(const clgan_buffer *images, int dim) {
  size_t n = images->bytes / (size_t)dim;
  return n > 2147483647u ? 2147483647 : (int)n;
}

clgan_status clgan_gather_images(clgan_device *dev, clgan_buffer *out, const clgan_buffer *images,
                                 const clgan_buffer *index, int first, int batch, int dim) {
  static const char op[] = "clgan_gather_images";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = gather_counts(op, first, batch, dim))) return st;
  if (batch == 0 || dim == 0) return CLGAN_OK;
  if ((st = ops_check_buf(out, (size_t)batch * dim * sizeof(float), op, "out")) ||
      (st = ops_check_buf(index, ((size_t)first + batch) * sizeof(int32_t), op, "index")) ||
      (st = ops_check_buf(images, (size_t)dim, op, "images")))
    return st;
  if ((st = ops_kernel_get(dev, "data.cl", "gather_images", &k))) return st;
  size_t v = (size_t)clgan_device_vec_width(dev);
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_2D(((size_t)dim + v - 1) / v, batch), CLGAN_BUF(out),
                      CLGAN_BUF(images),
                      CLGAN_BUF(index), CLGAN_INT(first), CLGAN_INT(batch), CLGAN_INT(dim),
                      CLGAN_INT(gather_nimages(images, dim)));
}

clgan_status clgan_gather_images_flip(clgan_device *dev, clgan_buffer *out,
                                      const clgan_buffer *images, const clgan_buffer *index,
                                      const clgan_buffer *flips, int first, int batch, int dim,
                                      int width) {
  static const char op[] = "clgan_gather_images_flip";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = gather_counts(op, first, batch, dim))) return st;
  if (width < 1 || dim % width != 0) {
    clgan_error("%s: width %d does not divide the image size %d", op, width, dim);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (batch == 0 || dim == 0) return CLGAN_OK;
  if ((st = ops_check_buf(out, (size_t)batch * dim * sizeof(float), op, "out")) ||
      (st = ops_check_buf(index, ((size_t)first + batch) * sizeof(int32_t), op, "index")) ||
      (st = ops_check_buf(flips, (size_t)first + batch, op, "flips")) ||
      (st = ops_check_buf(images, (size_t)dim, op, "images")))
    return st;
  if ((st = ops_kernel_get(dev, "data.cl", "gather_images_flip", &k))) return st;
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(batch * dim), CLGAN_BUF(out), CLGAN_BUF(images),
                      CLGAN_BUF(index), CLGAN_BUF(flips), CLGAN_INT(first), CLGAN_INT(batch),
                      CLGAN_INT(dim), CLGAN_INT(gather_nimages(images, dim)),
                      CLGAN_INT(width));
}

void clgan_ref_gather_images_flip(float *out, const uint8_t *images, const int32_t *index,
                                  const uint8_t *flips, int first, int batch, int dim, int width) {
  for (int b = 0; b < batch; b++) {
    const uint8_t *row = images + (size_t)index[first + b] * dim;
    for (int j = 0; j < dim; j++) {
      int x = j % width, src = flips[first + b] ? j - x + (width - 1 - x) : j;
      out[(size_t)b * dim + j] = clgan_pixel_to_unit(row[src]);
    }
  }
}

void clgan_flip_bits(uint8_t *flips, int n, uint64_t seed, uint32_t epoch, uint32_t stream) {
  uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, out[4];
  for (int p = 0; p < n; p++) {
    uint32_t ctr[4] = {(uint32_t)p, epoch, stream, 0};
    clgan_philox4x32(ctr, key, out);
    flips[p] = (uint8_t)(out[0] & 1u);
  }
}

void clgan_ref_gather_images(float *out, const uint8_t *images, const int32_t *index, int first,
                             int batch, int dim) {
  for (int b = 0; b < batch; b++) {
    const uint8_t *row = images + (size_t)index[first + b] * dim;
    for (int j = 0; j < dim; j++) out[(size_t)b * dim + j] = clgan_pixel_to_unit(row[j]);
  }
}
