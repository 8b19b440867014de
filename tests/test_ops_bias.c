/* Bias forward and backward against the C reference on odd shapes, accumulate on and off, and
 * the backward against central differences of the reference forward. */
#include <stdio.h>

#include "ops_testutil.h"

static void check_shape(clgan_device *dev, int rows, int cols) {
  size_t nm = (size_t)rows * cols;
  float *y = rand_floats(nm, -1, 1), *b = rand_floats((size_t)cols, -1, 1);
  float *dy = rand_floats(nm, -1, 1), *db = rand_floats((size_t)cols, -1, 1);
  float *want = copy_floats(y, nm), *got = malloc(nm * sizeof *got);
  float *dbwant = copy_floats(db, (size_t)cols), *dbgot = malloc((size_t)cols * sizeof *dbgot);
  clgan_buffer dy_d = upload(dev, y, nm), b_d = upload(dev, b, (size_t)cols);
  clgan_buffer ddy = upload(dev, dy, nm), ddb = upload(dev, db, (size_t)cols);
  char what[96];

  CHECK_OK(clgan_bias_forward(dev, &dy_d, &b_d, rows, cols));
  clgan_ref_bias_forward(want, b, rows, cols);
  download(dev, &dy_d, got, nm);
  snprintf(what, sizeof what, "bias_forward rows=%d cols=%d", rows, cols);
  CHECK_CLOSE(what, got, want, nm, 1e-7, 1e-6);

  for (int acc = 1; acc >= 0; acc--) { /* accumulate onto the random db, then overwrite */
    CHECK_OK(clgan_bias_backward(dev, &ddb, &ddy, rows, cols, acc));
    clgan_ref_bias_backward(dbwant, dy, rows, cols, acc);
    download(dev, &ddb, dbgot, (size_t)cols);
    snprintf(what, sizeof what, "bias_backward rows=%d cols=%d accumulate=%d", rows, cols, acc);
    CHECK_CLOSE(what, dbgot, dbwant, (size_t)cols, 1e-5, 1e-5);
  }

  /* Central differences of L = sum(y .* dy), y = x + b, on the reference forward. */
  if (nm <= 64) {
    float *x = rand_floats(nm, -1, 1), *yp = malloc(nm * sizeof *yp);
    float *fd = malloc((size_t)cols * sizeof *fd);
    const double h = 1e-2;
    for (int c = 0; c < cols; c++) {
      double l[2];
      for (int side = 0; side < 2; side++) {
        float *bb = copy_floats(b, (size_t)cols);
        bb[c] = (float)(b[c] + (side ? -h : h));
        memcpy(yp, x, nm * sizeof *yp);
        clgan_ref_bias_forward(yp, bb, rows, cols);
        l[side] = 0.0;
        for (size_t i = 0; i < nm; i++) l[side] += (double)yp[i] * dy[i];
        free(bb);
      }
      fd[c] = (float)((l[0] - l[1]) / (2 * h));
    }
    snprintf(what, sizeof what, "bias_backward vs finite differences rows=%d cols=%d", rows, cols);
    CHECK_CLOSE(what, dbgot, fd, (size_t)cols, 1e-3, 1e-3);
    free(x);
    free(yp);
    free(fd);
  }
  clgan_buffer_free(&dy_d);
  clgan_buffer_free(&b_d);
  clgan_buffer_free(&ddy);
  clgan_buffer_free(&ddb);
  free(y), free(b), free(dy), free(db), free(want), free(got), free(dbwant), free(dbgot);
}

int main(void) {
  clgan_device *dev = test_open_device();
  static const int shapes[][2] = {{3, 5}, {1, 1}, {1, 7}, {7, 1}, {13, 29}, {128, 784}, {3, 4099}};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    check_shape(dev, shapes[i][0], shapes[i][1]);

  clgan_buffer small = {0};
  CHECK_OK(clgan_buffer_alloc(dev, &small, 4 * sizeof(float)));
  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_bias_forward(dev, &small, &small, 2, 3) == CLGAN_INVALID_ARGUMENT,
        "a y buffer too small is refused");
  CHECK(clgan_bias_backward(dev, &small, &small, -1, 3, 0) == CLGAN_INVALID_ARGUMENT,
        "negative rows are refused");
  clgan_set_log(NULL, NULL);
  clgan_buffer_free(&small);
  clgan_device_close(dev);
  return test_finish();
}
