/* Bias add and its gradient for row-major (rows, cols) matrices (src/ops/bias.c). */

__kernel void bias_forward(__global float *y, __global const float *b, int rows, int cols) {
  int i = get_global_id(0);
  if (i >= rows * cols) return;
  y[i] += b[i % cols];
}

/* One work-item per column, summing down the rows in order: deterministic without atomics.
 * rows is the batch (tens to hundreds), so the serial loop is short. */
__kernel void bias_backward(__global float *db, __global const float *dy, int rows, int cols,
                            int accumulate) {
  int c = get_global_id(0);
  if (c >= cols) return;
  float s = 0.0f;
  for (int r = 0; r < rows; r++) s += dy[r * cols + c];
  db[c] = accumulate ? db[c] + s : s;
}
