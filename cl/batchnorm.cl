/* Batch normalisation over (N, C, S) tensors, element (n, c, s) at n*C*S + c*S + s
 * (src/ops/batchnorm.c). Training kernels (but the dense ones at the end, for S = 1) run one
 * work-group per channel (size L, a power of two). The channel's M = N*S values, in (n, s)
 * order, are cut into L equal chunks; work-item l sums chunk l in order, then a fixed pairwise
 * tree in local memory (clgan_tree_sum, the ops preamble) combines the L partial sums. No atomics: the same additions in the same
 * order on every run, so bitwise reproducible on a device; the tree is also closer to exact
 * than one long running sum. Contiguous chunks (rather than every L-th value) suit CPU devices
 * such as PoCL, which run a group's work-items one after another: each walks runs of adjacent
 * floats. The same group then writes its channel's outputs, so statistics and the elementwise
 * pass need one launch. */

/* Work-item l's chunk [*q0, *q1) of the channel's m values. */
static void bn_chunk(int m, int *q0, int *q1) {
  int per = (m + (int)get_local_size(0) - 1) / (int)get_local_size(0);
  *q0 = min((int)get_local_id(0) * per, m);
  *q1 = min(*q0 + per, m);
}

/* Walks chunk [q0, q1) as runs of adjacent floats: one image's part of the channel at a time.
 * BODY sees i, the element's offset from the channel's first element. */
#define BN_FOR_CHUNK(q0, q1, s, cs, BODY)                                                        \
  for (int q_ = (q0); q_ < (q1);) {                                                             \
    int b_ = q_ / (s), j_ = q_ - b_ * (s), run_ = min((s) - j_, (q1) - q_);                     \
    size_t base_ = (size_t)b_ * (cs) + j_;                                                       \
    for (int t_ = 0; t_ < run_; t_++) {                                                          \
      size_t i = base_ + t_;                                                                     \
      BODY                                                                                       \
    }                                                                                            \
    q_ += run_;                                                                                  \
  }

/* Batch mean and biased variance (two passes, so no cancellation in E[x^2] - E[x]^2), the
 * saved invstd, PyTorch's running statistics with the unbiased variance, and y. */
__kernel void bn_forward_train(__global float *y, __global float *mean, __global float *invstd,
                               __global float *running_mean, __global float *running_var,
                               __global const float *x, __global const float *gamma,
                               __global const float *beta, int n, int c, int s, float eps,
                               float momentum, __local float *scratch) {
  int ch = get_group_id(0);
  int m = n * s;
  size_t cs = (size_t)c * s;
  __global const float *xc = x + (size_t)ch * s;
  __global float *yc = y + (size_t)ch * s;
  int q0, q1;
  bn_chunk(m, &q0, &q1);
  float sum = 0.0f;
  BN_FOR_CHUNK(q0, q1, s, cs, sum += xc[i];)
  float mu = clgan_tree_sum(scratch, sum) / (float)m;
  float ss = 0.0f;
  BN_FOR_CHUNK(q0, q1, s, cs, float d = xc[i] - mu; ss += d * d;)
  float var = clgan_tree_sum(scratch, ss) / (float)m;
  float is = 1.0f / sqrt(var + eps);
  float g = gamma[ch], bt = beta[ch];
  BN_FOR_CHUNK(q0, q1, s, cs, yc[i] = g * ((xc[i] - mu) * is) + bt;)
  if (get_local_id(0) == 0) {
    mean[ch] = mu;
    invstd[ch] = is;
    float unbiased = var * ((float)m / (float)(m - 1));
    running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mu;
    running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * unbiased;
  }
}

__kernel void bn_forward_eval(__global float *y, __global const float *x,
                              __global const float *running_mean,
                              __global const float *running_var, __global const float *gamma,
                              __global const float *beta, int n, int c, int s, float eps) {
  int i = get_global_id(0);
  if (i >= n * c * s) return;
  int ch = (i / s) % c;
  float inv = 1.0f / sqrt(running_var[ch] + eps);
  y[i] = gamma[ch] * ((x[i] - running_mean[ch]) * inv) + beta[ch];
}

/* One work-group per channel: the two batch sums, then dx from them, with
 * xhat = (x - mean) * invstd:
 *   dbeta = sum dy, dgamma = sum dy*xhat,
 *   dx = gamma*invstd/M * (M*dy - dbeta - xhat*dgamma).
 * dx needs this batch's sums even when dgamma and dbeta accumulate, hence one kernel. */
__kernel void bn_backward(__global float *dx, __global float *dgamma, __global float *dbeta,
                          __global const float *dy, __global const float *x,
                          __global const float *mean, __global const float *invstd,
                          __global const float *gamma, int n, int c, int s, int accumulate,
                          int write_params, __local float *scratch) {
  int ch = get_group_id(0);
  size_t cs = (size_t)c * s, off = (size_t)ch * s;
  __global const float *dyc = dy + off, *xc = x + off;
  __global float *dxc = dx + off;
  float mu = mean[ch], is = invstd[ch];
  float sdy = 0.0f, sdyx = 0.0f;
  int q0, q1;
  bn_chunk(n * s, &q0, &q1);
  BN_FOR_CHUNK(q0, q1, s, cs, float g = dyc[i]; sdy += g; sdyx += g * ((xc[i] - mu) * is);)
  sdy = clgan_tree_sum(scratch, sdy);
  sdyx = clgan_tree_sum(scratch, sdyx);
  if (write_params && get_local_id(0) == 0) {
    dbeta[ch] = accumulate ? dbeta[ch] + sdy : sdy;
    dgamma[ch] = accumulate ? dgamma[ch] + sdyx : sdyx;
  }
  float m = (float)(n * s);
  float k = gamma[ch] * is / m;
  BN_FOR_CHUNK(q0, q1, s, cs, float xhat = (xc[i] - mu) * is;
               dxc[i] = k * (m * dyc[i] - sdy - xhat * sdyx);)
}

/* Dense layers (s = 1): a channel's n values lie c floats apart, so a group per channel would
 * gather scattered floats. One work-item per CLGAN_VEC channels instead (CLGAN_EACH, the ops
 * preamble: 16 on CPU devices, a float16 a row): neighbouring work-items read neighbouring
 * floats, and a sum runs over one batch (tens to hundreds of values) in order, the same
 * operations for each channel at any width. Same results as above up to the order of the sums;
 * deterministic likewise. */
#define BN_FORWARD_DENSE(T, LD, ST)                                                             \
  T sum = 0.0f;                                                                                 \
  for (int b = 0; b < n; b++) sum += LD(x + (size_t)b * c);                                     \
  T mu = sum / (float)n;                                                                        \
  T ss = 0.0f;                                                                                  \
  for (int b = 0; b < n; b++) {                                                                 \
    T d = LD(x + (size_t)b * c) - mu;                                                           \
    ss += d * d;                                                                                \
  }                                                                                             \
  T var = ss / (float)n;                                                                        \
  T is = 1.0f / sqrt(var + eps);                                                                \
  T g = LD(gamma), bt = LD(beta);                                                               \
  for (int b = 0; b < n; b++)                                                                   \
    ST(y + (size_t)b * c, g * ((LD(x + (size_t)b * c) - mu) * is) + bt);                        \
  ST(mean, mu);                                                                                 \
  ST(invstd, is);                                                                               \
  T unbiased = var * ((float)n / (float)(n - 1));                                               \
  ST(running_mean, (1.0f - momentum) * LD(running_mean) + momentum * mu);                       \
  ST(running_var, (1.0f - momentum) * LD(running_var) + momentum * unbiased);

__kernel void bn_forward_train_dense(__global float *y, __global float *mean,
                                     __global float *invstd, __global float *running_mean,
                                     __global float *running_var, __global const float *x,
                                     __global const float *gamma, __global const float *beta,
                                     int n, int c, float eps, float momentum) {
  CLGAN_EACH(c, BN_FORWARD_DENSE);
}

#define BN_BACKWARD_DENSE(T, LD, ST)                                                            \
  T mu = LD(mean), is = LD(invstd);                                                             \
  T sdy = 0.0f, sdyx = 0.0f;                                                                    \
  for (int b = 0; b < n; b++) {                                                                 \
    T g = LD(dy + (size_t)b * c);                                                               \
    sdy += g;                                                                                   \
    sdyx += g * ((LD(x + (size_t)b * c) - mu) * is);                                            \
  }                                                                                             \
  if (write_params) {                                                                           \
    ST(dbeta, accumulate ? LD(dbeta) + sdy : sdy);                                              \
    ST(dgamma, accumulate ? LD(dgamma) + sdyx : sdyx);                                          \
  }                                                                                             \
  float m = (float)n;                                                                           \
  T k = LD(gamma) * is / m;                                                                     \
  for (int b = 0; b < n; b++) {                                                                 \
    T xhat = (LD(x + (size_t)b * c) - mu) * is;                                                 \
    ST(dx + (size_t)b * c, k * (m * LD(dy + (size_t)b * c) - sdy - xhat * sdyx));               \
  }

__kernel void bn_backward_dense(__global float *dx, __global float *dgamma, __global float *dbeta,
                                __global const float *dy, __global const float *x,
                                __global const float *mean, __global const float *invstd,
                                __global const float *gamma, int n, int c, int accumulate,
                                int write_params) {
  CLGAN_EACH(c, BN_BACKWARD_DENSE);
}
