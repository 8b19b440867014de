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
