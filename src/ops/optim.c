/* Optimizer steps over a parameter arena in one launch: Adam, RMSprop and SGD (with or without
 * momentum), following torch.optim 1.13 without weight decay, with their C references.
 * The step-dependent scalars are computed here in double and passed as floats, as torch
 * computes them in Python floats. Kernels: cl/optim.cl. */
#include <math.h>
#include <string.h>

#include "clgan/ops.h"
#include "ops/internal.h"
#include "util/names.h"

static const char *const opt_names[] = {
#define X(e, name) name,
    CLGAN_OPT_TABLE(X)
#undef X
};

const char *clgan_opt_name(clgan_opt_kind kind) {
  return (unsigned)kind < CLGAN_OPT_COUNT ? opt_names[kind] : NULL;
}

int clgan_opt_parse(const char *name, clgan_opt_kind *kind) {
  int i = clgan_name_index(opt_names, CLGAN_OPT_COUNT, name);
  if (i >= 0) *kind = (clgan_opt_kind)i;
  return i >= 0;
}

/* Host-side scalars of one step, shared by the device op and the reference. */
typedef struct {
  float step_size, bc2_sqrt, one_minus_beta1, one_minus_beta2, one_minus_alpha;
} step_scalars;

static step_scalars scalars(const clgan_opt_cfg *cfg, long t) {
  step_scalars s = {0};
  s.step_size = (float)((double)cfg->lr / (1.0 - pow((double)cfg->beta1, (double)t)));
  s.bc2_sqrt = (float)sqrt(1.0 - pow((double)cfg->beta2, (double)t));
  s.one_minus_beta1 = (float)(1.0 - (double)cfg->beta1);
  s.one_minus_beta2 = (float)(1.0 - (double)cfg->beta2);
  s.one_minus_alpha = (float)(1.0 - (double)cfg->alpha);
  return s;
}

clgan_status clgan_opt_step(clgan_device *dev, const clgan_opt_cfg *cfg, long t, clgan_buffer *w,
                            const clgan_buffer *g, clgan_buffer *state1, clgan_buffer *state2,
                            int n) {
  static const char op[] = "clgan_opt_step";
  clgan_status st;
  clgan_kernel *k = NULL;
  size_t bytes = (size_t)n * sizeof(float);
  if ((unsigned)cfg->kind >= CLGAN_OPT_COUNT) {
    clgan_error("%s: %s: unknown optimizer %d", clgan_status_message(CLGAN_INVALID_ARGUMENT), op,
                (int)cfg->kind);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (t < 1) {
    clgan_error("%s: %s: step count t = %ld, must start at 1",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), op, t);
    return CLGAN_INVALID_ARGUMENT;
  }
  if ((st = ops_check_count(n, op, "n"))) return st;
  if (n == 0) return CLGAN_OK;
  if ((st = ops_check_buf(w, bytes, op, "w")) || (st = ops_check_buf(g, bytes, op, "g")))
    return st;
  step_scalars s = scalars(cfg, t);
  clgan_range r = ops_vec_range(dev, n);
  switch (cfg->kind) {
    case CLGAN_OPT_ADAM:
      if ((st = ops_check_buf(state1, bytes, op, "state1 (adam m)")) ||
          (st = ops_check_buf(state2, bytes, op, "state2 (adam v)")) ||
          (st = ops_kernel_get(dev, "optim.cl", "adam_step", &k)))
        return st;
      return CLGAN_LAUNCH(dev, k, r, CLGAN_BUF(w), CLGAN_BUF(g), CLGAN_BUF(state1),
                          CLGAN_BUF(state2), CLGAN_INT(n), CLGAN_FLOAT(s.step_size),
                          CLGAN_FLOAT(s.bc2_sqrt), CLGAN_FLOAT(cfg->beta1),
                          CLGAN_FLOAT(s.one_minus_beta1), CLGAN_FLOAT(cfg->beta2),
                          CLGAN_FLOAT(s.one_minus_beta2), CLGAN_FLOAT(cfg->eps));
    case CLGAN_OPT_RMSPROP:
      if ((st = ops_check_buf(state1, bytes, op, "state1 (rmsprop v)")) ||
          (st = ops_kernel_get(dev, "optim.cl", "rmsprop_step", &k)))
        return st;
      return CLGAN_LAUNCH(dev, k, r, CLGAN_BUF(w), CLGAN_BUF(g), CLGAN_BUF(state1), CLGAN_INT(n),
                          CLGAN_FLOAT(cfg->lr), CLGAN_FLOAT(cfg->alpha),
                          CLGAN_FLOAT(s.one_minus_alpha), CLGAN_FLOAT(cfg->eps));
    default:
      if (cfg->momentum == 0.0f) { /* torch keeps no buffer then; state1 may be NULL */
        if ((st = ops_kernel_get(dev, "optim.cl", "sgd_step", &k))) return st;
        return CLGAN_LAUNCH(dev, k, r, CLGAN_BUF(w), CLGAN_BUF(g), CLGAN_INT(n),
                            CLGAN_FLOAT(cfg->lr));
      }
      if ((st = ops_check_buf(state1, bytes, op, "state1 (sgd momentum buffer)")) ||
          (st = ops_kernel_get(dev, "optim.cl", "sgd_momentum_step", &k)))
        return st;
      return CLGAN_LAUNCH(dev, k, r, CLGAN_BUF(w), CLGAN_BUF(g), CLGAN_BUF(state1), CLGAN_INT(n),
                          CLGAN_FLOAT(cfg->lr), CLGAN_FLOAT(cfg->momentum), CLGAN_INT(t == 1));
  }
}

/* The same float operations as the kernels, one per statement (no fma contraction in ISO C). */
void clgan_ref_opt_step(const clgan_opt_cfg *cfg, long t, float *w, const float *g, float *state1,
                        float *state2, int n) {
  step_scalars s = scalars(cfg, t);
  /* The kernels receive the hyper-parameters as floats. */
  const float beta1 = (float)cfg->beta1, beta2 = (float)cfg->beta2, alpha = (float)cfg->alpha;
  const float eps = (float)cfg->eps, lr = (float)cfg->lr, momentum = (float)cfg->momentum;
  for (int i = 0; i < n; i++) {
    float gi = g[i], a, b, upd;
    switch (cfg->kind) {
      case CLGAN_OPT_ADAM: {
        a = beta1 * state1[i];
        b = s.one_minus_beta1 * gi;
        float mi = a + b;
        a = beta2 * state2[i];
        b = gi * gi;
        b = s.one_minus_beta2 * b;
        float vi = a + b;
        float denom = sqrtf(vi) / s.bc2_sqrt;
        denom = denom + eps;
        state1[i] = mi;
        state2[i] = vi;
        upd = mi / denom;
        upd = s.step_size * upd;
        break;
      }
      case CLGAN_OPT_RMSPROP: {
        a = alpha * state1[i];
        b = gi * gi;
        b = s.one_minus_alpha * b;
        float vi = a + b;
        state1[i] = vi;
        float denom = sqrtf(vi) + eps;
        upd = gi / denom;
        upd = lr * upd;
        break;
      }
      default:
        if (momentum != 0.0f) {
          float bi = gi;
          if (t != 1) {
            bi = momentum * state1[i];
            bi = bi + gi;
          }
          state1[i] = bi;
          upd = lr * bi;
        } else {
          upd = lr * gi;
        }
        break;
    }
    w[i] = w[i] - upd;
  }
}
