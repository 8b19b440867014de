/* Elementwise activations and their gradients (src/ops/activation.c). `act` takes the values of
 * clgan_act (include/clgan/ops.h); param is the leaky-ReLU negative slope. */

#define ACT_IDENTITY 0
#define ACT_RELU 1
#define ACT_LRELU 2
#define ACT_TANH 3
#define ACT_SIGMOID 4

/* exp of a non-positive number only, so large |x| never overflows. */
static float sigmoidf(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
  float e = exp(x);
  return e / (1.0f + e);
}

__kernel void act_forward(__global float *y, __global const float *x, int n, int act,
                          float param) {
  int i = get_global_id(0);
  if (i >= n) return;
  float v = x[i];
  switch (act) {
    case ACT_RELU: v = v > 0.0f ? v : 0.0f; break;
    case ACT_LRELU: v = v > 0.0f ? v : param * v; break;
    case ACT_TANH: v = tanh(v); break;
    case ACT_SIGMOID: v = sigmoidf(v); break;
    default: break;
  }
  y[i] = v;
}

/* tanh and sigmoid take their derivative from the saved output y, the others from x. */
__kernel void act_backward(__global float *dx, __global const float *dy, __global const float *x,
                           __global const float *y, int n, int act, float param) {
  int i = get_global_id(0);
  if (i >= n) return;
  float g = dy[i];
  switch (act) {
    case ACT_RELU: g = x[i] > 0.0f ? g : 0.0f; break;
    case ACT_LRELU: g = x[i] > 0.0f ? g : param * g; break;
    case ACT_TANH: g = g * (1.0f - y[i] * y[i]); break;
    case ACT_SIGMOID: g = g * (y[i] * (1.0f - y[i])); break;
    default: break;
  }
  dx[i] = g;
}
