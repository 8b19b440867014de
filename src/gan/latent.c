/* Walks through the latent space, the usual way to see whether a generator has learned a smooth
 * mapping rather than a lookup of memorised images (Radford et al. 2015, "walking in the latent
 * space"): rows of images from one latent vector to another. */
#include <math.h>
#include <stdlib.h>

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

/* BigGAN's truncation trick (Brock et al. 2019, sec. 3.1): every component with |z_i| > psi is
 * drawn again until it falls inside, so the vectors follow N(0, 1) truncated to [-psi, psi] per
 * component. Round r redraws the k components still outside, in index order, from Philox
 * (seed, step r, stream 0x5A4E): the same seed gives the same vectors everywhere, and the work
 * is count * dim / P(|z| <= psi) draws in all. */
clgan_status clgan_latent_truncate(float *z, int count, int dim, uint64_t seed, float psi) {
  if (!(psi > 0.0f) || !isfinite(psi)) return CLGAN_INVALID_ARGUMENT;
  size_t n = (size_t)count * (size_t)dim, k = 0;
  size_t *outside = malloc((n > 0 ? n : 1) * sizeof *outside);
  float *draw = malloc((n > 0 ? n : 1) * sizeof *draw);
  if (!outside || !draw) {
    free(outside);
    free(draw);
    return CLGAN_HOST_OUT_OF_MEMORY;
  }
  for (size_t i = 0; i < n; i++)
    if (!(fabsf(z[i]) <= psi)) outside[k++] = i;
  for (uint64_t round = 1; k > 0; round++) {
    clgan_ref_rand_normal(draw, (int)k, 0.0f, 1.0f, seed, round, 0x5A4E);
    size_t still = 0;
    for (size_t j = 0; j < k; j++) {
      z[outside[j]] = draw[j];
      if (!(fabsf(draw[j]) <= psi)) outside[still++] = outside[j];
    }
    k = still;
  }
  free(outside);
  free(draw);
  return CLGAN_OK;
}
