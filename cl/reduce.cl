/* Deterministic reductions into one slot of a small device buffer (src/ops/reduce.c).
 * Launched as exactly one work-group whose size L is a power of two: work-item l sums
 * x[l], x[l + L], x[l + 2L], ... in order, then the preamble's fixed pairwise tree in local
 * memory (clgan_tree_sum, src/ops/preamble.c). Same device, same n: the same additions in the
 * same order, so bitwise the same result. */

static void store(__global float *out, int slot, int accumulate, float s) {
  if (get_local_id(0) == 0) out[slot] = accumulate ? out[slot] + s : s;
}

__kernel void reduce_sum(__global float *out, int slot, __global const float *x, int n,
                         int accumulate, __local float *scratch) {
  float s = 0.0f;
  for (int i = get_local_id(0); i < n; i += get_local_size(0)) s += x[i];
  store(out, slot, accumulate, clgan_tree_sum(scratch, s));
}

__kernel void reduce_sumsq(__global float *out, int slot, __global const float *x, int n,
                           int accumulate, __local float *scratch) {
  float s = 0.0f;
  for (int i = get_local_id(0); i < n; i += get_local_size(0)) s += x[i] * x[i];
  store(out, slot, accumulate, clgan_tree_sum(scratch, s));
}

/* Counts x > threshold, or x <= threshold with negate (NaN counts in neither). Counts are
 * summed as floats: exact while n < 2^24, far more than a batch. */
__kernel void reduce_count_above(__global float *out, int slot, __global const float *x, int n,
                                 float threshold, int negate, int accumulate,
                                 __local float *scratch) {
  float s = 0.0f;
  for (int i = get_local_id(0); i < n; i += get_local_size(0)) {
    float v = x[i];
    s += (negate ? v <= threshold : v > threshold) ? 1.0f : 0.0f;
  }
  store(out, slot, accumulate, clgan_tree_sum(scratch, s));
}
