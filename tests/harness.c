/* See harness.h. */
#include "harness.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_failures;
int test_checks;

void test_fail_at(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  test_failures++;
  fprintf(stderr, "FAIL %s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int check_close(const char *what, const float *got, const float *want, size_t n, double atol,
                double rtol) {
  size_t worst = 0;
  double worst_ratio = 0.0;
  for (size_t i = 0; i < n; i++) {
    double diff = fabs((double)got[i] - (double)want[i]);
    double ratio = diff == 0.0 ? 0.0 : diff / (atol + rtol * fabs((double)want[i]));
    if (!(ratio <= worst_ratio)) { /* NaN lands here and stays worst */
      worst_ratio = isnan(ratio) ? INFINITY : ratio;
      worst = i;
    }
  }
  if (worst_ratio <= 1.0) return 1;
  fprintf(stderr, "  %s: element %zu of %zu: got %.9g want %.9g (error %.3g x tolerance)\n", what,
          worst, n, (double)got[worst], (double)want[worst], worst_ratio);
  return 0;
}

static int ci_requires_device(void) {
  const char *ci = getenv("CI");
  return ci && (!strcmp(ci, "true") || !strcmp(ci, "1") || !strcmp(ci, "yes"));
}

clgan_device *test_open_device_cfg(clgan_device_cfg cfg) {
  clgan_device *dev = NULL;
  clgan_device_cfg_from_env(&cfg);
  clgan_status st = clgan_device_open(&dev, &cfg);
  if (st == CLGAN_OK) return dev;
  if ((st == CLGAN_NO_PLATFORM || st == CLGAN_NO_DEVICE) && !ci_requires_device()) {
    fprintf(stderr, "SKIP: no OpenCL device (%s); with CI=true this is a failure\n",
            clgan_status_name(st));
    exit(77);
  }
  fprintf(stderr, "FAIL: cannot open the OpenCL device under test: %s\n", clgan_status_name(st));
  exit(1);
}

clgan_device *test_open_device(void) { return test_open_device_cfg((clgan_device_cfg){0}); }

void test_fill_uniform(float *x, size_t n, float lo, float hi, unsigned long long *state) {
  for (size_t i = 0; i < n; i++) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    double u = (double)(*state >> 11) / 9007199254740992.0;
    x[i] = (float)(lo + (hi - lo) * u);
  }
}

void test_gemm_case(clgan_device *dev, clgan_gemm_args g, unsigned long long *rng,
                    const char *what) {
  test_gemm_case_bias(dev, g, 0, rng, what);
}

void test_gemm_case_bias(clgan_device *dev, clgan_gemm_args g, int bias, unsigned long long *rng,
                         const char *what) {
  size_t arows = g.trans_a ? g.k : g.m, brows = g.trans_b ? g.n : g.k;
  size_t na = g.a_off + arows * g.lda, nb = g.b_off + brows * g.ldb, nc = g.c_off + g.m * g.ldc;
  float *a = malloc(na * 4), *b = malloc(nb * 4), *c = malloc(nc * 4), *want = malloc(nc * 4);
  test_fill_uniform(a, na, -1, 1, rng);
  test_fill_uniform(b, nb, -1, 1, rng);
  test_fill_uniform(c, nc, -1, 1, rng);
  memcpy(want, c, nc * 4);
  clgan_buffer da = {0}, db = {0}, dc = {0};
  CHECK(clgan_buffer_alloc(dev, &da, na * 4) == CLGAN_OK, "%s: alloc A", what);
  CHECK(clgan_buffer_alloc(dev, &db, nb * 4) == CLGAN_OK, "%s: alloc B", what);
  CHECK(clgan_buffer_alloc(dev, &dc, nc * 4) == CLGAN_OK, "%s: alloc C", what);
  clgan_buffer_write(dev, &da, 0, na * 4, a);
  clgan_buffer_write(dev, &db, 0, nb * 4, b);
  clgan_buffer_write(dev, &dc, 0, nc * 4, c);
  g.a = &da;
  g.b = &db;
  g.c = &dc;
  /* A bias, added after alpha and beta: bias[i] on row i (1) or bias[j] on column j (2). */
  size_t nbias = bias == 1 ? g.m : g.n;
  float *hb = malloc(nbias * 4);
  clgan_buffer dbias = {0};
  clgan_status st;
  if (bias) {
    test_fill_uniform(hb, nbias, -1, 1, rng);
    CHECK(clgan_buffer_alloc(dev, &dbias, nbias * 4) == CLGAN_OK, "%s: alloc bias", what);
    clgan_buffer_write(dev, &dbias, 0, nbias * 4, hb);
    clgan_gemm_layout l = {.bias = &dbias, .bias_columns = bias == 2};
    st = clgan_gemm_ex(dev, &g, &l);
  } else {
    st = clgan_gemm(dev, &g);
  }
  CHECK(st == CLGAN_OK, "%s: returned %s", what, clgan_status_name(st));
  CHECK(clgan_buffer_read(dev, &dc, 0, nc * 4, c) == CLGAN_OK, "%s: read", what);
  clgan_gemm_reference(&g, a, b, want);
  for (size_t i = 0; bias && i < g.m; i++)
    for (size_t j = 0; j < g.n; j++) want[g.c_off + i * g.ldc + j] += hb[bias == 1 ? i : j];
  if (bias) clgan_buffer_free(&dbias);
  free(hb);
  double atol, rtol;
  clgan_gemm_tolerance(g.k, &atol, &rtol);
  CHECK_CLOSE(what, c, want, nc, atol, rtol);
  clgan_buffer_free(&da);
  clgan_buffer_free(&db);
  clgan_buffer_free(&dc);
  free(a);
  free(b);
  free(c);
  free(want);
}

clgan_profile_entry test_profile_take(clgan_device *dev, const char *name, int *entries) {
  clgan_profile_entry *prof = NULL, found = {0};
  int n = 0;
  CHECK(clgan_profile_collect(dev, &prof, &n) == CLGAN_OK, "collect the profile");
  for (int i = 0; i < n; i++)
    if (!strcmp(prof[i].name, name)) found = prof[i];
  free(prof);
  if (entries) *entries = n;
  return found;
}

int test_finish(void) {
  if (test_checks == 0) {
    fprintf(stderr, "FAIL: the test made no checks\n");
    return 1;
  }
  if (test_failures) {
    fprintf(stderr, "%d of %d checks failed\n", test_failures, test_checks);
    return 1;
  }
  printf("all %d checks passed\n", test_checks);
  return 0;
}
