/* fill, axpby with b = 0 over NaN, and clip_by_norm fed by a device-side sum of squares, against
 * values computed here in double, on odd sizes; the transpose reference itself; the bound on
 * work in flight (clgan_inflight). axpby, clamp and transpose against the reference are rows of
 * tests/test_ops.c. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

static void check_size(clgan_device *dev, int n) {
  size_t un = (size_t)n;
  float *x = rand_floats(un, -2, 2), *y = rand_floats(un, -2, 2);
  float *got = malloc(un * 4), *want = malloc(un * 4);
  clgan_buffer xd = upload(dev, x, un), yd = upload(dev, y, un);
  char what[96];

  CHECK_OK(clgan_fill(dev, &yd, n, -0.375f));
  download(dev, &yd, got, un);
  int all = 1;
  for (size_t i = 0; i < un; i++) all &= got[i] == -0.375f;
  CHECK(all, "fill n=%d", n);

  CHECK_OK(clgan_fill(dev, &yd, n, NAN));
  CHECK_OK(clgan_axpby(dev, &yd, 2.0f, &xd, 0.0f, n));
  download(dev, &yd, got, un);
  for (size_t i = 0; i < un; i++) want[i] = 2.0f * x[i];
  snprintf(what, sizeof what, "axpby b=0 over NaN n=%d", n);
  CHECK_CLOSE(what, got, want, un, 0, 0);

  /* clip_by_norm from a device-side sum of squares in slot 2, as the trainer does it. */
  double ss = 0;
  for (size_t i = 0; i < un; i++) ss += (double)x[i] * x[i];
  double norm = sqrt(ss);
  clgan_buffer sq = upload(dev, NULL, 4);
  for (int clip = 1; clip >= 0; clip--) {
    float max_norm = (float)(clip ? 0.5 * norm : 2.0 * norm + 1e-3);
    clgan_buffer_write(dev, &xd, 0, un * 4, x);
    CHECK_OK(clgan_reduce_sumsq(dev, &sq, 2, &xd, n, 0));
    CHECK_OK(clgan_clip_by_norm(dev, &xd, n, &sq, 2, max_norm));
    download(dev, &xd, got, un);
    double coef = max_norm / (norm + 1e-6);
    for (size_t i = 0; i < un; i++) want[i] = coef < 1 ? (float)(x[i] * coef) : x[i];
    snprintf(what, sizeof what, "clip_by_norm n=%d %s", n, clip ? "clipping" : "below the limit");
    CHECK_CLOSE(what, got, want, un, 1e-7, 1e-5);
    if (clip) {
      double after = 0;
      for (size_t i = 0; i < un; i++) after += (double)got[i] * got[i];
      CHECK(fabs(sqrt(after) - max_norm) <= 1e-4 * max_norm, "norm after clipping %g, want %g",
            sqrt(after), (double)max_norm);
    }
  }
  clgan_buffer_free(&xd), clgan_buffer_free(&yd), clgan_buffer_free(&sq);
  free(x), free(y), free(got), free(want);
}

/* The transpose reference, checked here element by element; the device against it is a row of
 * tests/test_ops.c. */
static void check_transpose_reference(int rows, int cols) {
  size_t n = (size_t)rows * (size_t)cols;
  float *in = malloc(n * sizeof *in), *want = malloc(n * sizeof *want);
  for (size_t i = 0; i < n; i++) in[i] = (float)i;
  clgan_ref_transpose(want, in, rows, cols);
  CHECK(want[(size_t)(cols - 1) * rows] == (float)(cols - 1) && want[rows - 1] == (float)((rows - 1) * cols),
        "reference transpose %dx%d", rows, cols);
  free(in);
  free(want);
}

/* The bound on work in flight: after step s, min(s, depth) markers are outstanding (none at
 * depth 0, which only flushes), the work still lands, and a depth the ring cannot hold is
 * refused. */
static void check_inflight(clgan_device *dev) {
  clgan_buffer b = upload(dev, NULL, 64);
  for (int depth = 0; depth < CLGAN_INFLIGHT_MAX; depth += 2) {
    clgan_inflight w = {0};
    int bounded = 1;
    for (long step = 1; step <= 20; step++) {
      CHECK_OK(clgan_fill(dev, &b, 64, (float)step));
      CHECK_OK(clgan_inflight_step(dev, &w, step, depth));
      int outstanding = 0;
      for (int i = 0; i < CLGAN_INFLIGHT_MAX; i++) outstanding += w.slot[i] != NULL;
      bounded &= outstanding == (step < depth ? step : depth);
    }
    CHECK(bounded, "inflight depth %d: min(step, %d) markers outstanding after each step", depth,
          depth);
    float got[64];
    download(dev, &b, got, 64);
    CHECK(got[0] == 20.0f && got[63] == 20.0f, "inflight depth %d: the last step's work landed",
          depth);
    clgan_inflight_free(&w);
    int zeroed = 1;
    for (int i = 0; i < CLGAN_INFLIGHT_MAX; i++) zeroed &= w.slot[i] == NULL;
    CHECK(zeroed, "inflight depth %d: free leaves the ring zeroed", depth);
  }
  clgan_inflight w = {0};
  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_inflight_step(dev, &w, 1, CLGAN_INFLIGHT_MAX) == CLGAN_INVALID_ARGUMENT &&
            clgan_inflight_step(dev, &w, 1, -1) == CLGAN_INVALID_ARGUMENT,
        "an inflight depth the ring cannot hold is refused");
  clgan_set_log(NULL, NULL);
  clgan_buffer_free(&b);
}

int main(void) {
  clgan_device *dev = test_open_device();
  check_inflight(dev);
  check_transpose_reference(1, 1);
  check_transpose_reference(3, 5);
  check_transpose_reference(17, 33);
  check_transpose_reference(256, 784);
  check_transpose_reference(1, 128);
  static const int sizes[] = {1, 7, 1000, 4099};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) check_size(dev, sizes[s]);
  clgan_buffer b = upload(dev, NULL, 4);
  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_fill(dev, &b, 5, 0) == CLGAN_INVALID_ARGUMENT, "fill past the end is refused");
  CHECK(clgan_clip_by_norm(dev, &b, 4, &b, 4, 1) == CLGAN_INVALID_ARGUMENT,
        "a sumsq slot past the end is refused");
  clgan_set_log(NULL, NULL);
  clgan_buffer_free(&b);
  clgan_device_close(dev);
  return test_finish();
}
