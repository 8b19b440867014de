/* Deterministic reductions (sum, sum of squares, threshold count) into a slot of a device
 * buffer, for the loss/accuracy metrics and gradient norms, with their C references.
 * One work-group and a fixed tree (cl/reduce.cl): no atomics, bitwise reproducible on a given
 * device. One group is plenty for the sizes involved (a batch of losses, a parameter arena of
 * a few million floats read once per step). */
#include "clgan/ops.h"
#include "ops/internal.h"

static clgan_status launch_reduce(clgan_device *dev, const char *op, const char *kernel,
                                  clgan_buffer *out, int slot, const clgan_buffer *x, int n,
                                  int accumulate, int count, float threshold, int negate) {
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = ops_check_count(n, op, "n")) || (st = ops_check_count(slot, op, "slot")) ||
      (st = ops_check_buf(out, ((size_t)slot + 1) * sizeof(float), op, "out")))
    return st;
  if (n > 0 && (st = ops_check_buf(x, (size_t)n * sizeof(float), op, "x"))) return st;
  if ((st = ops_kernel_get(dev, "reduce.cl", kernel, &k))) return st;
  size_t local = ops_reduce_local(dev);
  clgan_range r = {.dims = 1, .global = {local, 1, 1}, .local = {local, 1, 1}};
  /* n == 0 still runs: the slot gets 0 (or keeps its value with accumulate). */
  const clgan_buffer *xs = n > 0 ? x : out;
  if (count)
    return CLGAN_LAUNCH(dev, k, r, CLGAN_BUF(out), CLGAN_INT(slot), CLGAN_BUF(xs), CLGAN_INT(n),
                        CLGAN_FLOAT(threshold), CLGAN_INT(negate != 0),
                        CLGAN_INT(accumulate != 0), CLGAN_LOCAL(local * sizeof(float)));
  return CLGAN_LAUNCH(dev, k, r, CLGAN_BUF(out), CLGAN_INT(slot), CLGAN_BUF(xs), CLGAN_INT(n),
                      CLGAN_INT(accumulate != 0), CLGAN_LOCAL(local * sizeof(float)));
}

clgan_status clgan_reduce_sum(clgan_device *dev, clgan_buffer *out, int slot,
                              const clgan_buffer *x, int n, int accumulate) {
  return launch_reduce(dev, "clgan_reduce_sum", "reduce_sum", out, slot, x, n, accumulate, 0, 0,
                       0);
}

clgan_status clgan_reduce_sumsq(clgan_device *dev, clgan_buffer *out, int slot,
                                const clgan_buffer *x, int n, int accumulate) {
  return launch_reduce(dev, "clgan_reduce_sumsq", "reduce_sumsq", out, slot, x, n, accumulate, 0,
                       0, 0);
}

clgan_status clgan_reduce_count_above(clgan_device *dev, clgan_buffer *out, int slot,
                                      const clgan_buffer *x, int n, float threshold, int negate,
                                      int accumulate) {
  return launch_reduce(dev, "clgan_reduce_count_above", "reduce_count_above", out, slot, x, n,
                       accumulate, 1, threshold, negate);
}

/* The references sum in double: the device's float tree is checked against the exact-ish sum
 * with a tolerance, and against itself bitwise. */
void clgan_ref_reduce_sum(float *out, int slot, const float *x, int n, int accumulate) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += x[i];
  out[slot] = (float)(accumulate ? out[slot] + s : s);
}

void clgan_ref_reduce_sumsq(float *out, int slot, const float *x, int n, int accumulate) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += (double)x[i] * x[i];
  out[slot] = (float)(accumulate ? out[slot] + s : s);
}

void clgan_ref_reduce_count_above(float *out, int slot, const float *x, int n, float threshold,
                                  int negate, int accumulate) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += (negate ? x[i] <= threshold : x[i] > threshold) ? 1.0 : 0.0;
  out[slot] = (float)(accumulate ? out[slot] + s : s);
}
