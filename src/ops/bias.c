/* Bias add (forward) and its column-sum gradient (backward) for the dense layers, with their
 * C references. Kernels: cl/bias.cl. */
#include "clgan/ops.h"
#include "ops/internal.h"

static clgan_status check_shape(int rows, int cols, const char *op) {
  clgan_status st;
  if ((st = ops_check_count(rows, op, "rows")) || (st = ops_check_count(cols, op, "cols")))
    return st;
  return ops_check_count((long long)rows * cols, op, "rows * cols");
}

clgan_status clgan_bias_forward(clgan_device *dev, clgan_buffer *y, const clgan_buffer *b,
                                int rows, int cols) {
  static const char op[] = "clgan_bias_forward";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = check_shape(rows, cols, op))) return st;
  if (rows == 0 || cols == 0) return CLGAN_OK;
  if ((st = ops_check_buf(y, (size_t)rows * cols * sizeof(float), op, "y")) ||
      (st = ops_check_buf(b, (size_t)cols * sizeof(float), op, "b")))
    return st;
  if ((st = ops_kernel_get(dev, "bias.cl", "bias_forward", &k))) return st;
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(rows * cols), CLGAN_BUF(y), CLGAN_BUF(b),
                      CLGAN_INT(rows), CLGAN_INT(cols));
}

clgan_status clgan_bias_backward(clgan_device *dev, clgan_buffer *db, const clgan_buffer *dy,
                                 int rows, int cols, int accumulate) {
  static const char op[] = "clgan_bias_backward";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = check_shape(rows, cols, op))) return st;
  if (cols == 0) return CLGAN_OK;
  if ((st = ops_check_buf(db, (size_t)cols * sizeof(float), op, "db"))) return st;
  if (rows > 0 && (st = ops_check_buf(dy, (size_t)rows * cols * sizeof(float), op, "dy")))
    return st;
  if ((st = ops_kernel_get(dev, "bias.cl", "bias_backward", &k))) return st;
  /* With rows == 0 the kernel never reads dy; db still needs a valid argument. */
  return CLGAN_LAUNCH(dev, k, ops_vec_range(dev, cols), CLGAN_BUF(db), CLGAN_BUF(rows ? dy : db),
                      CLGAN_INT(rows), CLGAN_INT(cols), CLGAN_INT(accumulate != 0));
}

void clgan_ref_bias_forward(float *y, const float *b, int rows, int cols) {
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) y[(size_t)r * cols + c] += b[c];
}

void clgan_ref_bias_backward(float *db, const float *dy, int rows, int cols, int accumulate) {
  for (int c = 0; c < cols; c++) {
    double s = 0.0;
    for (int r = 0; r < rows; r++) s += dy[(size_t)r * cols + c];
    db[c] = accumulate ? (float)(db[c] + s) : (float)s;
  }
}
