/* The statistics on features (src/gan/metrics.c): FID against SciPy's sqrtm on a fixture
 * (tests/fixtures/make_metrics_fixture.py) and against closed forms; KID, precision, recall,
 * density and coverage against double-precision brute forces written here, on the same subsets;
 * known answers (identical and far-apart sets), ties and duplicates, block boundaries, the class
 * histogram, and the refusals of bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/eval.h"
#include "clgan/io.h"
#include "gan/metrics_internal.h"
#include "harness.h"
#include "ops_testutil.h"

#define CHECK_NEAR(what, got, want, atol, rtol)                                             \
  do {                                                                                      \
    double got_ = (got), want_ = (want);                                                    \
    CHECK(fabs(got_ - want_) <= (atol) + (rtol) * fabs(want_), "%s: got %.15g, want %.15g", \
          what, got_, want_);                                                               \
  } while (0)

static char last_log[1024];
static void capture(const char *level, const char *text, void *user) {
  (void)level, (void)user;
  snprintf(last_log, sizeof last_log, "%s", text);
}

/* ---- References ----------------------------------------------------------------------------- */

static double ref_kernel(const float *x, const float *y, int dim) {
  double s = 0.0;
  for (int p = 0; p < dim; p++) s += (double)x[p] * y[p];
  double t = s / dim + 1.0;
  return t * t * t;
}

/* Unbiased MMD^2 of rows ia of a and rows ib of b (m each), straight from the definition. */
static double ref_mmd(const float *a, const int *ia, const float *b, const int *ib, int m,
                      int dim) {
  double kxx = 0.0, kyy = 0.0, kxy = 0.0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < m; j++) {
      const float *xi = a + (size_t)ia[i] * dim, *xj = a + (size_t)ia[j] * dim;
      const float *yi = b + (size_t)ib[i] * dim, *yj = b + (size_t)ib[j] * dim;
      if (i != j) {
        kxx += ref_kernel(xi, xj, dim);
        kyy += ref_kernel(yi, yj, dim);
      }
      kxy += ref_kernel(xi, yj, dim);
    }
  return (kxx + kyy) / ((double)m * (m - 1)) - 2.0 * kxy / ((double)m * m);
}

/* The reference's own squared distance, the same sum in the same order as the library's exact
 * one (so that ties fall the same way). */
static double ref_sqdist(const float *x, const float *y, int dim) {
  double s = 0.0;
  for (int p = 0; p < dim; p++) s += ((double)x[p] - y[p]) * ((double)x[p] - y[p]);
  return s;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Squared k-NN radius of every row among the other rows, by a full sort. */
static void ref_radii(const float *x, int n, int dim, int k, double *r) {
  double *d = malloc((size_t)n * sizeof *d);
  for (int i = 0; i < n; i++) {
    int c = 0;
    for (int j = 0; j < n; j++)
      if (j != i) d[c++] = ref_sqdist(x + (size_t)i * dim, x + (size_t)j * dim, dim);
    qsort(d, (size_t)c, sizeof *d, cmp_double);
    r[i] = d[k - 1];
  }
  free(d);
}

/* prdc's compute_prdc, with k_pr for precision / recall and k_dc for density / coverage. */
static clgan_prdc ref_prdc(const float *real, int nr, const float *fake, int nf, int dim, int k_pr,
                           int k_dc) {
  double *rpr = malloc((size_t)nr * sizeof *rpr), *rdc = malloc((size_t)nr * sizeof *rdc);
  double *fpr = malloc((size_t)nf * sizeof *fpr);
  ref_radii(real, nr, dim, k_pr, rpr);
  ref_radii(real, nr, dim, k_dc, rdc);
  ref_radii(fake, nf, dim, k_pr, fpr);
  long prec = 0, rec = 0, dens = 0, cover = 0;
  for (int j = 0; j < nf; j++) {
    int in = 0;
    for (int i = 0; i < nr; i++) {
      double d = ref_sqdist(real + (size_t)i * dim, fake + (size_t)j * dim, dim);
      in |= d < rpr[i];
      dens += d < rdc[i];
    }
    prec += in;
  }
  for (int i = 0; i < nr; i++) {
    int in = 0;
    double nearest = INFINITY;
    for (int j = 0; j < nf; j++) {
      double d = ref_sqdist(real + (size_t)i * dim, fake + (size_t)j * dim, dim);
      in |= d < fpr[j];
      nearest = d < nearest ? d : nearest;
    }
    rec += in;
    cover += nearest < rdc[i];
  }
  free(rpr);
  free(rdc);
  free(fpr);
  return (clgan_prdc){.precision = (double)prec / nf, .recall = (double)rec / nr,
                      .density = (double)dens / ((double)k_dc * nf),
                      .coverage = (double)cover / nr};
}

static void check_prdc(const char *what, clgan_prdc got, clgan_prdc want) {
  CHECK(fabs(got.precision - want.precision) < 1e-12 && fabs(got.recall - want.recall) < 1e-12 &&
            fabs(got.density - want.density) < 1e-12 &&
            fabs(got.coverage - want.coverage) < 1e-12,
        "%s: precision %.6f recall %.6f density %.6f coverage %.6f, want %.6f %.6f %.6f %.6f",
        what, got.precision, got.recall, got.density, got.coverage, want.precision, want.recall,
        want.density, want.coverage);
}

/* clgan_prdc_compute (one Gram block) and clgan_prdc_blocked with 7-row blocks, both against
 * the reference. */
static void prdc_case(clgan_device *dev, const char *what, const float *real, int nr,
                      const float *fake, int nf, int dim, int k_pr, int k_dc) {
  clgan_prdc want = ref_prdc(real, nr, fake, nf, dim, k_pr, k_dc), got = {0}, blocked = {0};
  char name[160];
  CHECK_OK(clgan_prdc_compute(dev, real, nr, fake, nf, dim, k_pr, k_dc, &got));
  snprintf(name, sizeof name, "%s (k_pr %d, k_dc %d)", what, k_pr, k_dc);
  check_prdc(name, got, want);
  int nmax = nr > nf ? nr : nf;
  CHECK_OK(clgan_prdc_blocked(dev, real, nr, fake, nf, dim, k_pr, k_dc,
                              (size_t)7 * nmax * sizeof(float), &blocked));
  snprintf(name, sizeof name, "%s (k_pr %d, k_dc %d, 7-row blocks)", what, k_pr, k_dc);
  check_prdc(name, blocked, want);
}

/* ---- FID ------------------------------------------------------------------------------------ */

static int read_expected(const char *name, double *v) {
  FILE *f = fopen(CLGAN_TEST_DATA_DIR "/metrics_expected.txt", "r");
  char key[64];
  double x;
  int found = 0;
  if (!f) return 0;
  while (!found && fscanf(f, "%63s %lf", key, &x) == 2)
    if (strcmp(key, name) == 0) {
      *v = x;
      found = 1;
    }
  fclose(f);
  CHECK(found, "metrics_expected.txt has no %s", name);
  return found;
}

static void test_fid_fixture(clgan_device *dev) {
  float *a = NULL, *b = NULL;
  int na = 0, nb = 0, da = 0, db = 0;
  CHECK_OK(clgan_npy_read_f32(CLGAN_TEST_DATA_DIR "/metrics_a.npy", &a, &na, &da));
  CHECK_OK(clgan_npy_read_f32(CLGAN_TEST_DATA_DIR "/metrics_b.npy", &b, &nb, &db));
  CHECK(a && b && na == 517 && nb == 389 && da == 37 && db == 37,
        "fixture shapes %dx%d and %dx%d, want 517x37 and 389x37", na, da, nb, db);
  if (!a || !b || da != db) goto done;
  double want = 0, want_ba = 0, fid = NAN, fid_ba = NAN, self = NAN;
  if (read_expected("fid", &want) && read_expected("fid_ba", &want_ba)) {
    CHECK_OK(clgan_fid(a, na, b, nb, da, &fid));
    CHECK_OK(clgan_fid(b, nb, a, na, da, &fid_ba));
    /* sqrtm's Schur method and the eigendecompositions differ by rounding only */
    CHECK_NEAR("FID against scipy.linalg.sqrtm", fid, want, 1e-9, 1e-9);
    CHECK_NEAR("FID(b, a) against scipy.linalg.sqrtm", fid_ba, want_ba, 1e-9, 1e-9);
  }
  CHECK_OK(clgan_fid(a, na, a, na, da, &self));
  CHECK(fabs(self) < 1e-9, "FID of a set with itself: %g", self);
  static const char *names[4] = {"precision_k3", "recall_k3", "density_k5", "coverage_k5"};
  double w[4];
  int have = 1;
  for (int t = 0; t < 4; t++) have &= read_expected(names[t], &w[t]);
  if (have) {
    clgan_prdc got = {0};
    CHECK_OK(clgan_prdc_compute(dev, a, na, b, nb, da, 3, 5, &got));
    check_prdc("prdc on the fixture against NumPy",
               got, (clgan_prdc){.precision = w[0], .recall = w[1], .density = w[2],
                                 .coverage = w[3]});
  }
done:
  free(a);
  free(b);
}

/* Rows mu +- s_q h_q for q < dim and `extra` rows at mu, h (dim, dim) orthonormal rows: mean mu
 * and covariance sum_q c_q h_q h_q^T with c_q = 2 s_q^2 / (n - 1), n = 2 dim + extra, exactly
 * (every value is a short dyadic fraction, so no sum rounds). */
static float *cross_set(int dim, const float *mu, const float *s, const float *h, int extra,
                        int *n) {
  *n = 2 * dim + extra;
  float *x = malloc((size_t)*n * dim * sizeof *x);
  for (int q = 0; q < dim; q++)
    for (int p = 0; p < dim; p++) {
      x[(size_t)(2 * q) * dim + p] = mu[p] + s[q] * h[q * dim + p];
      x[(size_t)(2 * q + 1) * dim + p] = mu[p] - s[q] * h[q * dim + p];
    }
  for (int e = 0; e < extra; e++) memcpy(x + (size_t)(2 * dim + e) * dim, mu, dim * sizeof *x);
  return x;
}

/* Two sets whose covariances share eigenvectors h (commuting): FID = |mu_a - mu_b|^2 +
 * sum_q (sqrt(c_aq) - sqrt(c_bq))^2. With h the identity the covariances are diagonal; with
 * block Hadamard rows / 2 (exact in binary) they are dense. */
static void test_fid_closed_form(void) {
  enum { D = 8 };
  float h[2][D * D] = {{0}};
  static const int had[4][4] = {{1, 1, 1, 1}, {1, -1, 1, -1}, {1, 1, -1, -1}, {1, -1, -1, 1}};
  for (int q = 0; q < D; q++) {
    h[0][q * D + q] = 1.0f;
    for (int p = 0; p < 4; p++) h[1][q * D + (q / 4) * 4 + p] = 0.5f * (float)had[q % 4][p];
  }
  float mua[D], mub[D], sa[D], sb[D];
  for (int p = 0; p < D; p++) {
    mua[p] = 0.25f * (float)(p % 5) - 0.5f;
    mub[p] = 0.125f * (float)(p % 3) + 0.75f;
    sa[p] = 0.5f + 0.125f * (float)p;
    sb[p] = 2.0f - 0.1875f * (float)p;
  }
  for (int c = 0; c < 2; c++) {
    int na = 0, nb = 0;
    float *a = cross_set(D, mua, sa, h[c], 3, &na), *b = cross_set(D, mub, sb, h[c], 0, &nb);
    double want = 0.0, fid = NAN;
    for (int p = 0; p < D; p++) {
      double ca = 2.0 * sa[p] * sa[p] / (na - 1), cb = 2.0 * sb[p] * sb[p] / (nb - 1);
      want += (double)(mua[p] - mub[p]) * (mua[p] - mub[p]);
      want += (sqrt(ca) - sqrt(cb)) * (sqrt(ca) - sqrt(cb));
    }
    CHECK_OK(clgan_fid(a, na, b, nb, D, &fid));
    CHECK_NEAR(c ? "FID, commuting dense covariances (Hadamard basis)"
                 : "FID, diagonal covariances",
               fid, want, 1e-12, 1e-12);
    free(a);
    free(b);
  }
}

/* ---- KID ------------------------------------------------------------------------------------ */

static void test_kid(clgan_device *dev, const float *a, int na, const float *b, int nb, int dim) {
  /* Subsets as large as both sets: every subset is the whole set, in some order. */
  double mean = NAN, std = NAN;
  int ia[64], ib[64];
  for (int i = 0; i < 64; i++) ia[i] = ib[i] = i;
  clgan_kid_cfg whole = {.subsets = 3, .seed = 5};
  CHECK_OK(clgan_kid(dev, a, nb, b, nb, dim, &whole, &mean, &std));
  double want = ref_mmd(a, ia, b, ib, nb, dim);
  CHECK_NEAR("KID, whole sets", mean, want, 2e-6, 1e-4);
  CHECK(std >= 0.0 && std < 1e-6, "KID, whole sets: std %g over reorderings of one set", std);

  /* Subsets of 17 of 53 and 41 rows, drawn as clgan_kid does. */
  enum { S = 5, M = 17 };
  clgan_kid_cfg cfg = {.subsets = S, .subset_size = M, .seed = 42};
  int scratch[64];
  double mmd[S], ref_mean = 0.0, ref_var = 0.0;
  for (int s = 0; s < S; s++) {
    clgan_kid_subset(ia, scratch, na, M, cfg.seed, s, 0);
    clgan_kid_subset(ib, scratch, nb, M, cfg.seed, s, 1);
    int ok = 1;
    for (int i = 0; i < M; i++) {
      ok &= ia[i] >= 0 && ia[i] < na && ib[i] >= 0 && ib[i] < nb;
      for (int j = 0; j < i; j++) ok &= ia[i] != ia[j] && ib[i] != ib[j];
    }
    CHECK(ok, "KID subset %d: %d distinct rows of each set", s, M);
    mmd[s] = ref_mmd(a, ia, b, ib, M, dim);
    ref_mean += mmd[s] / S;
  }
  for (int s = 0; s < S; s++) ref_var += (mmd[s] - ref_mean) * (mmd[s] - ref_mean) / S;
  CHECK_OK(clgan_kid(dev, a, na, b, nb, dim, &cfg, &mean, &std));
  CHECK_NEAR("KID mean over 5 subsets of 17", mean, ref_mean, 2e-6, 1e-4);
  CHECK_NEAR("KID population std over 5 subsets of 17", std, sqrt(ref_var), 2e-6, 1e-4);
  CHECK(sqrt(ref_var) > 1e-3, "the subsets differ (reference std %g)", sqrt(ref_var));

  double again = NAN, other = NAN;
  CHECK_OK(clgan_kid(dev, a, na, b, nb, dim, &cfg, &again, NULL));
  CHECK(again == mean, "KID with the same seed: %.17g then %.17g", mean, again);
  cfg.seed = 43;
  CHECK_OK(clgan_kid(dev, a, na, b, nb, dim, &cfg, &other, NULL));
  CHECK(other != mean, "KID with another seed draws other subsets");

  /* Defaults: 100 subsets of 1000, clamped to the 41 rows of b. */
  CHECK_OK(clgan_kid(dev, a, na, b, nb, dim, NULL, &mean, &std));
  CHECK(isfinite(mean) && isfinite(std) && std > 0.0, "KID with the defaults: %g +- %g", mean,
        std);
}

/* ---- Precision, recall, density, coverage ------------------------------------------------ */

static void test_prdc(clgan_device *dev, const float *real, int nr, const float *fake, int nf,
                      int dim) {
  prdc_case(dev, "prdc, two uniform sets", real, nr, fake, nf, dim, 3, 5);
  prdc_case(dev, "prdc, two uniform sets", real, nr, fake, nf, dim, 5, 2);
  prdc_case(dev, "prdc, two uniform sets", real, nr, fake, nf, dim, 1, 1);
  prdc_case(dev, "prdc, two uniform sets (quickselect for large k)", real, nr, fake, nf, dim, 40,
            33);

  /* A fake that copies a real lies exactly on the radius of every real whose k-th neighbour
   * that real is; a duplicated real is at distance 0 from its twin. */
  float *r2 = copy_floats(real, (size_t)nr * dim), *f2 = copy_floats(fake, (size_t)nf * dim);
  memcpy(r2 + 30 * dim, r2 + 3 * dim, dim * sizeof *r2);
  memcpy(r2 + 31 * dim, r2 + 3 * dim, dim * sizeof *r2);
  memcpy(f2, r2, (size_t)20 * dim * sizeof *f2);
  memcpy(f2 + 25 * dim, f2 + 24 * dim, dim * sizeof *f2);
  prdc_case(dev, "prdc, copied and duplicated rows", r2, nr, f2, nf, dim, 3, 5);
  prdc_case(dev, "prdc, copied and duplicated rows", r2, nr, f2, nf, dim, 2, 4);

  /* Points of the lattice {0, 1, 2}^3: ties everywhere and radii of 0 (more than k copies). */
  enum { LR = 61, LF = 47, LD = 3 };
  float lr[LR * LD], lf[LF * LD];
  unsigned long long s = 11;
  for (int i = 0; i < LR * LD + LF * LD; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    float v = (float)((s >> 33) % 3);
    if (i < LR * LD) lr[i] = v;
    else lf[i - LR * LD] = v;
  }
  prdc_case(dev, "prdc, lattice points", lr, LR, lf, LF, LD, 3, 5);

  /* Identical sets: every point is within its own radius, and (without ties) exactly k reals
   * are strictly within each real's k-NN radius (itself and k - 1 others), so density is 1. */
  clgan_prdc same = {0};
  CHECK_OK(clgan_prdc_compute(dev, real, nr, real, nr, dim, 3, 5, &same));
  CHECK(same.precision == 1.0 && same.recall == 1.0 && same.coverage == 1.0 &&
            fabs(same.density - 1.0) < 1e-12,
        "identical sets: precision %g recall %g density %g coverage %g, want 1 1 1 1",
        same.precision, same.recall, same.density, same.coverage);

  /* Far apart: nothing of one set is near the other. */
  float *far = copy_floats(fake, (size_t)nf * dim);
  for (int i = 0; i < nf * dim; i++) far[i] += 1000.0f;
  clgan_prdc apart = {.precision = -1, .recall = -1, .density = -1, .coverage = -1};
  CHECK_OK(clgan_prdc_compute(dev, real, nr, far, nf, dim, 3, 5, &apart));
  CHECK(apart.precision == 0.0 && apart.recall == 0.0 && apart.density == 0.0 &&
            apart.coverage == 0.0,
        "far-apart sets: precision %g recall %g density %g coverage %g, want 0 0 0 0",
        apart.precision, apart.recall, apart.density, apart.coverage);
  free(r2);
  free(f2);
  free(far);
}

/* ---- Class histogram ---------------------------------------------------------------------- */

static void test_class_stats(void) {
  const int pred[8] = {0, 1, 1, 2, 2, 2, 2, 7};
  const float conf[8] = {0.5f, 0.25f, 0.75f, 1.0f, 0.5f, 0.5f, 0.5f, 1.0f};
  clgan_class_stats s;
  clgan_class_stats_compute(&s, pred, conf, 8, 4);
  double want = -(1.0 / 7 * log(1.0 / 7) + 2.0 / 7 * log(2.0 / 7) + 4.0 / 7 * log(4.0 / 7));
  CHECK(s.classes == 4 && s.count == 8 && s.hist[0] == 1 && s.hist[1] == 2 && s.hist[2] == 4 &&
            s.hist[3] == 0,
        "class histogram %ld %ld %ld %ld of %d", s.hist[0], s.hist[1], s.hist[2], s.hist[3],
        s.count);
  CHECK_NEAR("class entropy (the out-of-range prediction in no bin)", s.entropy, want, 1e-15,
             1e-12);
  CHECK_NEAR("mean confidence", s.mean_conf, 5.0 / 8, 1e-15, 0);
  const int one[3] = {3, 3, 3};
  clgan_class_stats_compute(&s, one, NULL, 3, 10);
  CHECK(s.hist[3] == 3 && s.entropy == 0.0 && s.mean_conf == 0.0,
        "one class only: entropy %g, mean confidence %g", s.entropy, s.mean_conf);
}

/* ---- Refusals ----------------------------------------------------------------------------- */

static void test_refusals(clgan_device *dev, const float *a, int na, const float *b, int nb,
                          int dim) {
  float *bad = copy_floats(b, (size_t)nb * dim);
  bad[12 * dim + 4] = NAN;
  double v = 0.0;
  clgan_prdc p = {0};
  clgan_set_log(capture, NULL);
  last_log[0] = 0;
  CHECK(clgan_fid(a, na, bad, nb, dim, &v) == CLGAN_NUMERIC, "FID of a NaN feature: CLGAN_NUMERIC");
  CHECK(strstr(last_log, "feature row 12 of set b is not finite") != NULL,
        "FID names the row: \"%s\"", last_log);
  last_log[0] = 0;
  CHECK(clgan_kid(dev, bad, nb, a, na, dim, NULL, &v, NULL) == CLGAN_NUMERIC,
        "KID of a NaN feature: CLGAN_NUMERIC");
  CHECK(strstr(last_log, "feature row 12 of set a is not finite") != NULL,
        "KID names the row: \"%s\"", last_log);
  last_log[0] = 0;
  bad[12 * dim + 4] = INFINITY;
  CHECK(clgan_prdc_compute(dev, a, na, bad, nb, dim, 3, 5, &p) == CLGAN_NUMERIC,
        "prdc of an infinite feature: CLGAN_NUMERIC");
  CHECK(strstr(last_log, "feature row 12 of the fake features is not finite") != NULL,
        "prdc names the row: \"%s\"", last_log);
  CHECK(clgan_fid(a, 1, b, nb, dim, &v) == CLGAN_INVALID_ARGUMENT, "FID of one row");
  CHECK(clgan_fid(a, na, b, nb, 0, &v) == CLGAN_INVALID_ARGUMENT, "FID of dimension 0");
  CHECK(clgan_kid(dev, a, na, b, 1, dim, NULL, &v, NULL) == CLGAN_INVALID_ARGUMENT,
        "KID of one row");
  last_log[0] = 0;
  CHECK(clgan_prdc_compute(dev, a, 5, b, nb, dim, 3, 5, &p) == CLGAN_INVALID_ARGUMENT,
        "prdc with 5 real rows and k_dc 5");
  CHECK(strstr(last_log, "the real features has 5 rows; it needs at least 6") != NULL,
        "prdc says how many rows it needs: \"%s\"", last_log);
  CHECK(clgan_prdc_compute(dev, a, na, b, 3, dim, 3, 1, &p) == CLGAN_INVALID_ARGUMENT,
        "prdc with 3 fake rows and k_pr 3");
  CHECK(clgan_prdc_compute(dev, a, na, b, nb, dim, -1, 5, &p) == CLGAN_INVALID_ARGUMENT,
        "prdc with k_pr -1");
  clgan_set_log(NULL, NULL);
  CHECK_OK(clgan_prdc_compute(dev, a, 6, b, 6, dim, 3, 5, &p)); /* the least that works */
  free(bad);
}

int main(void) {
  clgan_device *dev = test_open_device();
  enum { NR = 53, NF = 41, DIM = 7 };
  float *real = rand_floats((size_t)NR * DIM, -1.0f, 1.0f);
  float *fake = rand_floats((size_t)NF * DIM, -0.7f, 1.3f);
  test_fid_fixture(dev);
  test_fid_closed_form();
  test_kid(dev, real, NR, fake, NF, DIM);
  test_prdc(dev, real, NR, fake, NF, DIM);
  test_class_stats();
  test_refusals(dev, real, NR, fake, NF, DIM);
  free(real);
  free(fake);
  clgan_device_close(dev);
  return test_finish();
}
