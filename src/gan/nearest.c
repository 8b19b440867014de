/* Nearest images of a data set: the usual check that a generator has not memorised its
 * training set, by finding the closest training image to each sample (Goodfellow et al. 2014
 * and most GAN papers since show such pairs). Gray or colour: an image is compared over all of
 * its channels x rows x cols values, in the (C, H, W) planes a clgan_dataset holds and a
 * generator writes. Host code: a few hundred queries against 60,000 images of 784 pixels, or
 * 50,000 of 3,072 (CIFAR-10), is seconds of plain loops. */
#include <float.h>
#include <math.h>

#include "clgan/gan.h"

/* Values summed in float before the running sum takes them in double: a block of 256 terms
 * of at most 4 keeps 1e-5 relative however large the image (64x64 RGB is 12,288 terms). Within
 * a block, LANES independent float sums let the compiler vectorise without fast-math (a single
 * running sum may not be reordered). clgan sample --nearest with 64 samples (128 queries with
 * the scale's) against 50,000 images of 3x32x32 from a .npy: 33.6 s wall with one sum, 12.0 s
 * with 8 (same figures and grid; 2 shared cores, load 5, sampling alone 0.8 s). */
enum { BLOCK = 256, LANES = 8 };

void clgan_nearest_images(const float *queries, int nq, const clgan_dataset *set,
                          const int *skip, int *index, float *dist) {
  size_t dim = clgan_dataset_image_bytes(set);
  for (int q = 0; q < nq; q++) {
    const float *x = queries + (size_t)q * dim;
    double best = DBL_MAX;
    int at = -1;
    for (int i = 0; i < set->count; i++) {
      if (skip && skip[q] == i) continue;
      const uint8_t *y = set->images + (size_t)i * dim;
      double d = 0.0;
      for (size_t p0 = 0; p0 < dim; p0 += BLOCK) {
        size_t end = p0 + BLOCK < dim ? p0 + BLOCK : dim, p = p0;
        float s[LANES] = {0};
        for (; p + LANES <= end; p += LANES)
          for (int k = 0; k < LANES; k++) {
            float e = x[p + k] - clgan_pixel_to_unit(y[p + k]);
            s[k] += e * e;
          }
        for (; p < end; p++) {
          float e = x[p] - clgan_pixel_to_unit(y[p]);
          s[0] += e * e;
        }
        float sum = 0.0f;
        for (int k = 0; k < LANES; k++) sum += s[k];
        d += sum;
      }
      if (d < best) { /* strict: the lowest index wins a tie */
        best = d;
        at = i;
      }
    }
    index[q] = at;
    dist[q] = at >= 0 ? (float)sqrt(best) : 0.0f;
  }
}
