/* Nearest images of a data set: the usual check that a generator has not memorised its
 * training set, by finding the closest training image to each sample (Goodfellow et al. 2014
 * and most GAN papers since show such pairs). Host code: a few hundred queries against 60,000
 * images is a few seconds of plain loops. */
#include <float.h>
#include <math.h>

#include "clgan/gan.h"

void clgan_nearest_images(const float *queries, int nq, const uint8_t *set, int n, int dim,
                          int *index, float *dist) {
  for (int q = 0; q < nq; q++) {
    const float *x = queries + (size_t)q * dim;
    double best = DBL_MAX;
    int at = -1;
    for (int i = 0; i < n; i++) {
      const uint8_t *y = set + (size_t)i * dim;
      float d = 0.0f; /* float inner sums vectorise; 784 terms of at most 4 keep 1e-4 relative */
      for (int p = 0; p < dim; p++) {
        float e = x[p] - clgan_pixel_to_unit(y[p]);
        d += e * e;
      }
      if ((double)d < best) { /* strict: the lowest index wins a tie */
        best = d;
        at = i;
      }
    }
    index[q] = at;
    dist[q] = at >= 0 ? sqrtf((float)best) : 0.0f;
  }
}
