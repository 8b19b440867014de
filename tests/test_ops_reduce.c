/* Reductions: bitwise determinism (two runs, memcmp) on sizes around the work-group size, into a
 * slot of a larger buffer with accumulate on and off; counts of D outputs; refusals. Against the
 * C reference (sums within tolerance, counts exact, other slots untouched) they are rows of
 * tests/test_ops.c. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

enum { SLOTS = 8, SLOT = 3 };

typedef enum { SUM, SUMSQ, COUNT, COUNT_NEG } which;
static const char *names[] = {"sum", "sumsq", "count_above", "count_above negate"};

static clgan_status run(clgan_device *dev, which w, clgan_buffer *out, const clgan_buffer *x,
                        int n, int acc) {
  switch (w) {
    case SUM: return clgan_reduce_sum(dev, out, SLOT, x, n, acc);
    case SUMSQ: return clgan_reduce_sumsq(dev, out, SLOT, x, n, acc);
    case COUNT: return clgan_reduce_count_above(dev, out, SLOT, x, n, 0.5f, 0, acc);
    default: return clgan_reduce_count_above(dev, out, SLOT, x, n, 0.5f, 1, acc);
  }
}

static void check_size(clgan_device *dev, int n) {
  size_t un = (size_t)n;
  float *x = rand_floats(un, -0.7f, 1.3f);
  for (size_t i = 0; i < un; i += 17) x[i] = 0.5f; /* ties with the threshold */
  clgan_buffer xd = upload(dev, x, un);
  for (which w = SUM; w <= COUNT_NEG; w++) {
    for (int acc = 0; acc <= 1; acc++) {
      float init[SLOTS], got[SLOTS], again[SLOTS];
      for (int i = 0; i < SLOTS; i++) init[i] = (float)(i + 1) * 0.25f;
      clgan_buffer out = upload(dev, init, SLOTS);
      CHECK_OK(run(dev, w, &out, &xd, n, acc));
      download(dev, &out, got, SLOTS);
      clgan_buffer_write(dev, &out, 0, sizeof init, init);
      CHECK_OK(run(dev, w, &out, &xd, n, acc));
      download(dev, &out, again, SLOTS);
      CHECK(memcmp(got, again, sizeof got) == 0,
            "%s n=%d accumulate=%d: two runs differ (%.9g, %.9g)", names[w], n, acc,
            (double)got[SLOT], (double)again[SLOT]);
      clgan_buffer_free(&out);
    }
  }
  clgan_buffer_free(&xd);
  free(x);
}

int main(void) {
  clgan_device *dev = test_open_device();
  static const int sizes[] = {0, 1, 7, 255, 256, 257, 1000, 4099, 100003};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) check_size(dev, sizes[s]);

  /* Counting real D outputs: prob > 0.5 on real, prob <= 0.5 on fake, together all of them. */
  float p[5] = {0.1f, 0.5f, 0.50001f, 0.9f, 0.49f}, out[2];
  clgan_buffer pd = upload(dev, p, 5), od = upload(dev, NULL, 2);
  CHECK_OK(clgan_reduce_count_above(dev, &od, 0, &pd, 5, 0.5f, 0, 0));
  CHECK_OK(clgan_reduce_count_above(dev, &od, 1, &pd, 5, 0.5f, 1, 0));
  download(dev, &od, out, 2);
  CHECK(out[0] == 2.0f && out[1] == 3.0f, "counts above/at-or-below 0.5: %g %g", (double)out[0],
        (double)out[1]);

  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_reduce_sum(dev, &od, 2, &pd, 5, 0) == CLGAN_INVALID_ARGUMENT,
        "a slot past the end of out is refused");
  CHECK(clgan_reduce_sum(dev, &od, 0, &pd, 6, 0) == CLGAN_INVALID_ARGUMENT,
        "n past the end of x is refused");
  clgan_set_log(NULL, NULL);
  clgan_buffer_free(&pd), clgan_buffer_free(&od);
  clgan_device_close(dev);
  return test_finish();
}
