/* Elementwise utilities: fill, axpby, clamp (WGAN weight clipping) and clipping by global
 * norm (torch.nn.utils.clip_grad_norm_). ops.h declares no C references for these one-liners;
 * tests/test_ops_elementwise.c computes the expected values inline. Kernels:
 * cl/elementwise.cl. */
#include "clgan/ops.h"
#include "ops/internal.h"

static clgan_status prepare(clgan_device *dev, const char *op, const char *name, int n,
                            const clgan_buffer *x, const char *xname, clgan_kernel **k) {
  clgan_status st;
  if ((st = ops_check_count(n, op, "n"))) return st;
  if (n == 0) return CLGAN_OK;
  if ((st = ops_check_buf(x, (size_t)n * sizeof(float), op, xname))) return st;
  return ops_kernel_get(dev, "elementwise.cl", name, k);
}

clgan_status clgan_fill(clgan_device *dev, clgan_buffer *x, int n, float value) {
  clgan_kernel *k = NULL;
  clgan_status st = prepare(dev, "clgan_fill", "fill", n, x, "x", &k);
  if (st || n == 0) return st;
  return CLGAN_LAUNCH(dev, k, ops_vec_range(dev, n), CLGAN_BUF(x), CLGAN_INT(n), CLGAN_FLOAT(value));
}

clgan_status clgan_axpby(clgan_device *dev, clgan_buffer *y, float a, const clgan_buffer *x,
                         float b, int n) {
  clgan_kernel *k = NULL;
  clgan_status st = prepare(dev, "clgan_axpby", "axpby", n, y, "y", &k);
  if (st || n == 0) return st;
  if ((st = ops_check_buf(x, (size_t)n * sizeof(float), "clgan_axpby", "x"))) return st;
  return CLGAN_LAUNCH(dev, k, ops_vec_range(dev, n), CLGAN_BUF(y), CLGAN_FLOAT(a), CLGAN_BUF(x),
                      CLGAN_FLOAT(b), CLGAN_INT(n));
}

clgan_status clgan_transpose(clgan_device *dev, clgan_buffer *out, const clgan_buffer *in,
                             int rows, int cols) {
  clgan_kernel *k = NULL;
  clgan_status st;
  if ((st = ops_check_count(rows, "clgan_transpose", "rows")) ||
      (st = ops_check_count(cols, "clgan_transpose", "cols")))
    return st;
  if (rows == 0 || cols == 0) return CLGAN_OK;
  size_t bytes = (size_t)rows * (size_t)cols * sizeof(float);
  if ((st = ops_check_buf(in, bytes, "clgan_transpose", "in")) ||
      (st = ops_check_buf(out, bytes, "clgan_transpose", "out")) ||
      (st = ops_kernel_get(dev, "elementwise.cl", "transpose_tiled", &k)))
    return st;
  clgan_range r = {.dims = 2, .global = {(size_t)cols, (size_t)rows, 1}, .local = {16, 16, 1}};
  return CLGAN_LAUNCH(dev, k, r, CLGAN_BUF(out), CLGAN_BUF(in), CLGAN_INT(rows), CLGAN_INT(cols));
}

void clgan_ref_transpose(float *out, const float *in, int rows, int cols) {
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) out[(size_t)c * rows + r] = in[(size_t)r * cols + c];
}

clgan_status clgan_clamp(clgan_device *dev, clgan_buffer *x, int n, float c) {
  clgan_kernel *k = NULL;
  clgan_status st = prepare(dev, "clgan_clamp", "clamp_values", n, x, "x", &k);
  if (st || n == 0) return st;
  return CLGAN_LAUNCH(dev, k, ops_vec_range(dev, n), CLGAN_BUF(x), CLGAN_INT(n), CLGAN_FLOAT(c));
}

clgan_status clgan_clip_by_norm(clgan_device *dev, clgan_buffer *x, int n,
                                const clgan_buffer *sumsq, int slot, float max_norm) {
  static const char op[] = "clgan_clip_by_norm";
  clgan_kernel *k = NULL;
  clgan_status st = prepare(dev, op, "clip_by_norm", n, x, "x", &k);
  if (st || n == 0) return st;
  if ((st = ops_check_count(slot, op, "slot")) ||
      (st = ops_check_buf(sumsq, ((size_t)slot + 1) * sizeof(float), op, "sumsq")))
    return st;
  return CLGAN_LAUNCH(dev, k, ops_vec_range(dev, n), CLGAN_BUF(x), CLGAN_INT(n), CLGAN_BUF(sumsq),
                      CLGAN_INT(slot), CLGAN_FLOAT(max_norm));
}
