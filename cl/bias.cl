/* Bias add and its gradient for row-major (rows, cols) matrices (src/ops/bias.c). */

__kernel void bias_forward(__global float *y, __global const float *b, int rows, int cols) {
  int i = get_global_id(0);
  if (i >= rows * cols) return;
  y[i] += b[i % cols];
}

/* One work-item per CLGAN_VEC columns (CLGAN_EACH, the ops preamble), summing down the rows
 * in order: deterministic without atomics, the same operations for each column at any width.
 * rows is the batch (tens to hundreds), so the serial loop is short. */
#define BIAS_BACKWARD(T, LD, ST)                                                               \
  T s = 0.0f;                                                                                  \
  for (int r = 0; r < rows; r++) s += LD(dy + (size_t)r * cols);                               \
  ST(db, accumulate ? LD(db) + s : s);

__kernel void bias_backward(__global float *db, __global const float *dy, int rows, int cols,
                            int accumulate) {
  CLGAN_EACH(cols, BIAS_BACKWARD);
}
