/* Optimizer updates over a whole parameter arena (src/ops/optim.c), written in the operation
 * order of torch.optim 1.13's single-tensor implementations. Scalars that depend on the step
 * count (bias corrections) arrive precomputed from the host, in double rounded to float. */

/* Each kernel's BODY(T, LD, ST) runs on CLGAN_VEC elements at once (CLGAN_EACH, the ops
 * preamble): float16 on CPU devices, where it ran Adam 3x faster than one float a work-item. */

/* Adam: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * w -= step_size * m / (sqrt(v) / bc2_sqrt + eps), step_size = lr / (1 - b1^t),
 * bc2_sqrt = sqrt(1 - b2^t). */
#define ADAM(T, LD, ST)                                                                        \
  T gi = LD(g);                                                                                \
  T mi = beta1 * LD(m) + one_minus_beta1 * gi;                                                 \
  T vi = beta2 * LD(v) + one_minus_beta2 * (gi * gi);                                          \
  T denom = sqrt(vi) / bc2_sqrt + eps;                                                         \
  ST(m, mi);                                                                                   \
  ST(v, vi);                                                                                   \
  ST(w, LD(w) - step_size * (mi / denom));

__kernel void adam_step(__global float *w, __global const float *g, __global float *m,
                        __global float *v, int n, float step_size, float bc2_sqrt, float beta1,
                        float one_minus_beta1, float beta2, float one_minus_beta2, float eps) {
  CLGAN_EACH(n, ADAM);
}

/* RMSprop (not centred, no momentum): v = alpha v + (1-alpha) g^2; w -= lr g / (sqrt(v) + eps). */
#define RMSPROP(T, LD, ST)                                                                     \
  T gi = LD(g);                                                                                \
  T vi = alpha * LD(v) + one_minus_alpha * (gi * gi);                                          \
  ST(v, vi);                                                                                   \
  ST(w, LD(w) - lr * (gi / (sqrt(vi) + eps)));

__kernel void rmsprop_step(__global float *w, __global const float *g, __global float *v, int n,
                           float lr, float alpha, float one_minus_alpha, float eps) {
  CLGAN_EACH(n, RMSPROP);
}

/* SGD with momentum (no dampening, not Nesterov): torch starts the buffer as a copy of the
 * first gradient, then buf = momentum buf + g; w -= lr buf. */
#define SGD_MOMENTUM(T, LD, ST)                                                                \
  T b = first ? LD(g) : momentum * LD(buf) + LD(g);                                            \
  ST(buf, b);                                                                                  \
  ST(w, LD(w) - lr * b);

__kernel void sgd_momentum_step(__global float *w, __global const float *g, __global float *buf,
                                int n, float lr, float momentum, int first) {
  CLGAN_EACH(n, SGD_MOMENTUM);
}

#define SGD(T, LD, ST) ST(w, LD(w) - lr * LD(g));

__kernel void sgd_step(__global float *w, __global const float *g, int n, float lr) {
  CLGAN_EACH(n, SGD);
}
