/* Elementwise activations (identity, ReLU, leaky ReLU, tanh, sigmoid), forward and backward,
 * with their C references. Kernels: cl/activation.cl, one per activation and direction. */
#include <math.h>
#include <string.h>

#include "clgan/ops.h"
#include "ops/internal.h"
#include "util/names.h"

static clgan_status check_act(clgan_act act, const char *op) {
  if ((unsigned)act < CLGAN_ACT_COUNT) return CLGAN_OK;
  clgan_error("%s: %s: unknown activation %d", clgan_status_message(CLGAN_INVALID_ARGUMENT), op,
              (int)act);
  return CLGAN_INVALID_ARGUMENT;
}

/* Names and kernel names by clgan_act (check_act first), from CLGAN_ACT_TABLE. */
static const char *const act_names[] = {
#define X(e, name) name,
    CLGAN_ACT_TABLE(X)
#undef X
};
static const char *const forward_kernels[] = {
#define X(e, name) "act_forward_" name,
    CLGAN_ACT_TABLE(X)
#undef X
};
static const char *const backward_kernels[] = {
#define X(e, name) "act_backward_" name,
    CLGAN_ACT_TABLE(X)
#undef X
};

const char *clgan_act_name(clgan_act act) {
  return (unsigned)act < CLGAN_ACT_COUNT ? act_names[act] : NULL;
}

int clgan_act_parse(const char *name, clgan_act *act) {
  int i = clgan_name_index(act_names, CLGAN_ACT_COUNT, name);
  if (i >= 0) *act = (clgan_act)i;
  return i >= 0;
}

clgan_status clgan_act_forward(clgan_device *dev, clgan_act act, float param, clgan_buffer *y,
                               const clgan_buffer *x, int n) {
  static const char op[] = "clgan_act_forward";
  clgan_status st;
  clgan_kernel *k = NULL;
  size_t bytes = (size_t)n * sizeof(float);
  if ((st = check_act(act, op)) || (st = ops_check_count(n, op, "n"))) return st;
  if (n == 0) return CLGAN_OK;
  if ((st = ops_check_buf(y, bytes, op, "y")) || (st = ops_check_buf(x, bytes, op, "x")))
    return st;
  if ((st = ops_kernel_get(dev, "activation.cl", forward_kernels[act], &k))) return st;
  return CLGAN_LAUNCH(dev, k, ops_vec_range(dev, n), CLGAN_BUF(y), CLGAN_BUF(x), CLGAN_INT(n),
                      CLGAN_FLOAT(param));
}

clgan_status clgan_act_backward(clgan_device *dev, clgan_act act, float param, clgan_buffer *dx,
                                const clgan_buffer *dy, const clgan_buffer *x,
                                const clgan_buffer *y, int n) {
  static const char op[] = "clgan_act_backward";
  clgan_status st;
  clgan_kernel *k = NULL;
  size_t bytes = (size_t)n * sizeof(float);
  if ((st = check_act(act, op)) || (st = ops_check_count(n, op, "n"))) return st;
  if (n == 0) return CLGAN_OK;
  /* Each activation reads only the input it needs; the other may be NULL. */
  int uses_y = act == CLGAN_ACT_TANH || act == CLGAN_ACT_SIGMOID;
  int uses_x = act == CLGAN_ACT_RELU || act == CLGAN_ACT_LRELU;
  if ((st = ops_check_buf(dx, bytes, op, "dx")) || (st = ops_check_buf(dy, bytes, op, "dy")) ||
      (uses_x && (st = ops_check_buf(x, bytes, op, "x"))) ||
      (uses_y && (st = ops_check_buf(y, bytes, op, "y"))))
    return st;
  if ((st = ops_kernel_get(dev, "activation.cl", backward_kernels[act], &k))) return st;
  return CLGAN_LAUNCH(dev, k, ops_vec_range(dev, n), CLGAN_BUF(dx), CLGAN_BUF(dy),
                      CLGAN_BUF(uses_x ? x : dy), CLGAN_BUF(uses_y ? y : dy), CLGAN_INT(n),
                      CLGAN_FLOAT(param));
}

static float ref_sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  float e = expf(x);
  return e / (1.0f + e);
}

void clgan_ref_act_forward(clgan_act act, float param, float *y, const float *x, int n) {
  for (int i = 0; i < n; i++) {
    float v = x[i];
    switch (act) {
      case CLGAN_ACT_RELU: v = v > 0.0f || isnan(v) ? v : 0.0f; break;
      case CLGAN_ACT_LRELU: v = v > 0.0f ? v : param * v; break;
      case CLGAN_ACT_TANH: v = tanhf(v); break;
      case CLGAN_ACT_SIGMOID: v = ref_sigmoid(v); break;
      default: break;
    }
    y[i] = v;
  }
}

void clgan_ref_act_backward(clgan_act act, float param, float *dx, const float *dy,
                            const float *x, const float *y, int n) {
  for (int i = 0; i < n; i++) {
    float g = dy[i];
    switch (act) {
      case CLGAN_ACT_RELU: g = x[i] > 0.0f ? g : 0.0f; break;
      case CLGAN_ACT_LRELU: g = x[i] > 0.0f ? g : param * g; break;
      case CLGAN_ACT_TANH: g = g * (1.0f - y[i] * y[i]); break;
      case CLGAN_ACT_SIGMOID: g = g * (y[i] * (1.0f - y[i])); break;
      default: break;
    }
    dx[i] = g;
  }
}
