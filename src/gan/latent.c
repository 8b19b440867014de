/* Walks through the latent space, the usual way to see whether a generator has learned a smooth
 * mapping rather than a lookup of memorised images (Radford et al. 2015, "walking in the latent
 * space"): rows of images from one latent vector to another. */
#include <math.h>

#include "clgan/gan.h"

/* Spherical interpolation (White 2016, "Sampling Generative Networks"): for N(0, 1) latents a
 * straight line passes through vectors of unusually small norm near its middle, which the
 * generator rarely saw; the great circle keeps the norm. Computed in double. */
void clgan_latent_interpolate(float *out, const float *a, const float *b, int dim, int steps) {
  double dot = 0.0, na = 0.0, nb = 0.0;
  for (int i = 0; i < dim; i++) {
    dot += (double)a[i] * b[i];
    na += (double)a[i] * a[i];
    nb += (double)b[i] * b[i];
  }
  double c = na > 0.0 && nb > 0.0 ? dot / sqrt(na * nb) : 1.0;
  c = c > 1.0 ? 1.0 : c < -1.0 ? -1.0 : c;
  double omega = acos(c), so = sin(omega);
  for (int s = 0; s < steps; s++) {
    double t = steps > 1 ? (double)s / (double)(steps - 1) : 0.0, wa, wb;
    if (so < 1e-6) { /* (anti)parallel: the great circle is undefined; a straight line */
      wa = 1.0 - t;
      wb = t;
    } else {
      wa = sin((1.0 - t) * omega) / so;
      wb = sin(t * omega) / so;
    }
    for (int i = 0; i < dim; i++) out[(size_t)s * dim + i] = (float)(wa * a[i] + wb * b[i]);
  }
}
