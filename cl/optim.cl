/* Optimizer updates over a whole parameter arena (src/ops/optim.c), written in the operation
 * order of torch.optim 1.13's single-tensor implementations. Scalars that depend on the step
 * count (bias corrections) arrive precomputed from the host, in double rounded to float. */

/* Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * w -= step_size * m / (sqrt(v) / bc2_sqrt + eps), step_size = lr / (1 - b1^t),
 * bc2_sqrt = sqrt(1 - b2^t). */
__kernel void adam_step(__global float *w, __global const float *g, __global float *m,
                        __global float *v, int n, float step_size, float bc2_sqrt, float beta1,
                        float one_minus_beta1, float beta2, float one_minus_beta2, float eps) {
  int i = get_global_id(0);
  if (i >= n) return;
  float gi = g[i];
  float mi = beta1 * m[i] + one_minus_beta1 * gi;
  float vi = beta2 * v[i] + one_minus_beta2 * (gi * gi);
  float denom = sqrt(vi) / bc2_sqrt + eps;
  m[i] = mi;
  v[i] = vi;
  w[i] = w[i] - step_size * (mi / denom);
}

/* RMSprop (not centred, no momentum): v = alpha v + (1-alpha) g^2; w -= lr g / (sqrt(v) + eps). */
__kernel void rmsprop_step(__global float *w, __global const float *g, __global float *v, int n,
                           float lr, float alpha, float one_minus_alpha, float eps) {
  int i = get_global_id(0);
  if (i >= n) return;
  float gi = g[i];
  float vi = alpha * v[i] + one_minus_alpha * (gi * gi);
  v[i] = vi;
  w[i] = w[i] - lr * (gi / (sqrt(vi) + eps));
}

/* SGD with momentum (no dampening, not Nesterov): torch starts the buffer as a copy of the
 * first gradient, then buf = momentum buf + g; w -= lr buf. */
__kernel void sgd_momentum_step(__global float *w, __global const float *g, __global float *buf,
                                int n, float lr, float momentum, int first) {
  int i = get_global_id(0);
  if (i >= n) return;
  float b = first ? g[i] : momentum * buf[i] + g[i];
  buf[i] = b;
  w[i] = w[i] - lr * b;
}

__kernel void sgd_step(__global float *w, __global const float *g, int n, float lr) {
  int i = get_global_id(0);
  if (i >= n) return;
  w[i] = w[i] - lr * g[i];
}
