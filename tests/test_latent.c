/* clgan_latent_interpolate: every step against slerp computed here in double (the angle from
 * atan2 of the Gram-Schmidt components, not from acos of the cosine as latent.c does), on vectors
 * of equal and unequal norms, nearly opposite ones and a 2-d case worked by hand; the ends are
 * the given vectors, equal norms stay equal along the way (the point of a great circle), the
 * angle advances evenly, and parallel vectors fall back to a straight line. Host code only: no
 * device needed. */
#define _DEFAULT_SOURCE /* M_PI */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "harness.h"

static double dot(const float *x, const float *y, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)x[i] * y[i];
  return s;
}

/* slerp(a, b; t) = sin((1-t) w) / sin w * a + sin(t w) / sin w * b (Shoemake 1985; White 2016,
 * "Sampling Generative Networks", for latent walks), w the angle between a and b. */
static void slerp_ref(double *out, const float *a, const float *b, int n, int steps) {
  double aa = dot(a, a, n), ab = dot(a, b, n), bb = dot(b, b, n);
  /* b's component orthogonal to a, squared: |b|^2 - (a.b)^2 / |a|^2 */
  double perp = sqrt(fmax(0.0, bb - ab * ab / aa)), w = atan2(perp, ab / sqrt(aa));
  for (int s = 0; s < steps; s++) {
    double t = steps > 1 ? (double)s / (steps - 1) : 0.0;
    double wa = sin((1 - t) * w) / sin(w), wb = sin(t * w) / sin(w);
    for (int i = 0; i < n; i++) out[(size_t)s * n + i] = wa * a[i] + wb * b[i];
  }
}

/* out against slerp_ref, step by step: |got - want| <= 1e-5 * (|a| + |b|) per element. */
static void check_against_ref(const char *what, const float *a, const float *b, int n, int steps) {
  float *got = malloc((size_t)steps * n * sizeof *got);
  double *want = malloc((size_t)steps * n * sizeof *want);
  clgan_latent_interpolate(got, a, b, n, steps);
  slerp_ref(want, a, b, n, steps);
  double tol = 1e-5 * (sqrt(dot(a, a, n)) + sqrt(dot(b, b, n))), worst = 0;
  int at = 0;
  for (int i = 0; i < steps * n; i++) {
    double e = fabs(got[i] - want[i]);
    if (!(e <= worst)) worst = e, at = i; /* NaN becomes the worst */
  }
  CHECK(worst <= tol, "%s: step %d element %d is %.7g, slerp gives %.7g (error %.3g > %.3g)",
        what, at / n, at % n, (double)got[at], want[at], worst, tol);
  free(got);
  free(want);
}

/* The truncation trick: every component inside [-psi, psi], those already inside untouched, the
 * same vectors for the same seed, and the variance of N(0, 1) truncated to [-psi, psi]:
 * 1 - 2 psi phi(psi) / (2 Phi(psi) - 1). */
static void test_truncation(void) {
  enum { N = 2000, DIM = 100 };
  float *z = malloc((size_t)N * DIM * sizeof *z), *orig = malloc((size_t)N * DIM * sizeof *z);
  float *again = malloc((size_t)N * DIM * sizeof *z);
  const float psis[] = {0.5f, 1.0f, 2.0f};
  for (int p = 0; p < 3; p++) {
    float psi = psis[p];
    clgan_fixed_latent(orig, N, DIM, 7);
    clgan_fixed_latent(z, N, DIM, 7);
    clgan_fixed_latent(again, N, DIM, 7);
    CHECK(clgan_latent_truncate(z, N, DIM, 7, psi) == CLGAN_OK, "truncate %g", (double)psi);
    CHECK(clgan_latent_truncate(again, N, DIM, 7, psi) == CLGAN_OK, "again");
    int outside = 0, changed_inside = 0, redrawn = 0;
    double s = 0, ss = 0;
    for (int i = 0; i < N * DIM; i++) {
      if (!(fabsf(z[i]) <= psi)) outside++;
      if (fabsf(orig[i]) <= psi && z[i] != orig[i]) changed_inside++;
      if (fabsf(orig[i]) > psi) redrawn++;
      s += z[i];
      ss += (double)z[i] * z[i];
    }
    double n = (double)N * DIM, mean = s / n, var = ss / n - mean * mean;
    double phi = exp(-0.5 * psi * psi) / sqrt(2 * M_PI), cdf = 0.5 * erfc(-psi / sqrt(2.0));
    double want = 1.0 - 2.0 * psi * phi / (2.0 * cdf - 1.0);
    CHECK(outside == 0, "psi %g: %d components outside", (double)psi, outside);
    CHECK(changed_inside == 0, "psi %g: components already inside are kept", (double)psi);
    CHECK(redrawn > 0, "psi %g: some components needed redrawing", (double)psi);
    CHECK(fabs(mean) < 0.01, "psi %g: mean %.4f", (double)psi, mean);
    CHECK(fabs(var - want) < 0.01 * want, "psi %g: variance %.4f, truncated normal %.4f",
          (double)psi, var, want);
    CHECK(memcmp(z, again, (size_t)N * DIM * sizeof *z) == 0, "psi %g: deterministic",
          (double)psi);
  }
  const float bad[] = {0.0f, -1.0f, NAN, INFINITY};
  for (int i = 0; i < 4; i++)
    CHECK(clgan_latent_truncate(z, 1, DIM, 7, bad[i]) == CLGAN_INVALID_ARGUMENT,
          "psi %g refused", (double)bad[i]);
  free(z);
  free(orig);
  free(again);
}

int main(void) {
  test_truncation();
  /* Worked by hand: a = (1, 0), b = (0, 2), w = 90 degrees; at t = 1/3 the weights are
   * sin(60)/1 and sin(30)/1, so the point is (sqrt(3)/2, 2 * 1/2) = (0.8660254, 1). */
  {
    const float a2[2] = {1, 0}, b2[2] = {0, 2};
    float o2[8];
    clgan_latent_interpolate(o2, a2, b2, 2, 4);
    const float want2[8] = {1, 0, 0.8660254f, 1.0f, 0.5f, 1.7320508f, 0, 2};
    CHECK_CLOSE("(1,0) to (0,2) in 4 steps, by hand", o2, want2, 8, 1e-6, 1e-6);
  }
  {
    enum { D = 64, S = 7 };
    float x[D], y[D];
    clgan_fixed_latent(x, 1, D, 21);
    clgan_fixed_latent(y, 1, D, 22);
    check_against_ref("unequal norms, 7 steps", x, y, D, S);
    for (int i = 0; i < D; i++) y[i] = 3.0f * y[i];
    check_against_ref("b three times longer, 7 steps", x, y, D, S);
    clgan_fixed_latent(y, 1, D, 23);
    for (int i = 0; i < D; i++) y[i] = -x[i] + 0.01f * y[i]; /* 179.4 degrees: sin w ~ 0.01 */
    check_against_ref("nearly opposite, 7 steps", x, y, D, S);
    clgan_fixed_latent(y, 1, D, 24);
    check_against_ref("two steps are the ends", x, y, D, 2);
  }

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
