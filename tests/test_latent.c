/* clgan_latent_interpolate: the ends are the given vectors, equal norms stay equal along the
 * way (the point of a great circle), the angle advances evenly, and parallel vectors fall back
 * to a straight line. Host code only: no device needed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clgan/gan.h"
#include "harness.h"

static double dot(const float *x, const float *y, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)x[i] * y[i];
  return s;
}

int main(void) {
  enum { DIM = 100, STEPS = 9 };
  float a[DIM], b[DIM], out[STEPS * DIM];
  clgan_fixed_latent(a, 1, DIM, 11);
  clgan_fixed_latent(b, 1, DIM, 12);
  /* b rescaled to a's norm, so that every point of the great circle has that norm too */
  double na = sqrt(dot(a, a, DIM)), nb = sqrt(dot(b, b, DIM));
  for (int i = 0; i < DIM; i++) b[i] = (float)(b[i] * na / nb);
  clgan_latent_interpolate(out, a, b, DIM, STEPS);
  CHECK_CLOSE("first step is a", out, a, DIM, 1e-6, 1e-6);
  CHECK_CLOSE("last step is b", out + (STEPS - 1) * DIM, b, DIM, 1e-6, 1e-6);
  double omega = acos(dot(a, b, DIM) / (na * na));
  for (int s = 0; s < STEPS; s++) {
    const float *v = out + s * DIM;
    double nv = sqrt(dot(v, v, DIM));
    CHECK(fabs(nv - na) < 1e-4 * na, "step %d keeps the norm: %.6f vs %.6f", s, nv, na);
    double angle = acos(fmin(1.0, dot(a, v, DIM) / (na * nv)));
    CHECK(fabs(angle - omega * s / (STEPS - 1)) < 1e-4, "step %d at angle %.6f of %.6f", s, angle,
          omega);
  }
  /* A straight line would shrink the middle: the test above can tell the two apart. */
  double mid_line = 0;
  for (int i = 0; i < DIM; i++) mid_line += 0.25 * ((double)a[i] + b[i]) * ((double)a[i] + b[i]);
  CHECK(sqrt(mid_line) < 0.9 * na, "the straight midpoint is shorter (%.3f vs %.3f)",
        sqrt(mid_line), na);
  /* Parallel vectors: a straight line from a to 2a. */
  float two[DIM];
  for (int i = 0; i < DIM; i++) two[i] = 2 * a[i];
  clgan_latent_interpolate(out, a, two, DIM, 3);
  float want[DIM];
  for (int i = 0; i < DIM; i++) want[i] = 1.5f * a[i];
  CHECK_CLOSE("parallel: the midpoint of a and 2a is 1.5a", out + DIM, want, DIM, 1e-6, 1e-6);
  /* One step: just a. */
  clgan_latent_interpolate(out, a, b, DIM, 1);
  CHECK_CLOSE("one step is a", out, a, DIM, 0, 0);
  return test_finish();
}
