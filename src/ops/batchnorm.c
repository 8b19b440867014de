/* Batch normalisation (training and eval forward, backward) over (N, C, S) tensors with
 * PyTorch's semantics (torch.nn.BatchNorm1d/2d): biased batch variance to normalise, unbiased
 * variance in the running estimate, momentum = weight of the new batch. C references in double.
 * Kernels: cl/batchnorm.cl. */
#include <math.h>

#include "clgan/ops.h"
#include "ops/internal.h"

/* One work-group per channel (cl/batchnorm.cl), of a power-of-two size no wider than the
 * channel's n*s values, so that short channels leave few idle. CPU devices run a group's
 * work-items one after another, and there wide groups only cost: on PoCL, dcgan's convolutional
 * batch norms took 14.5 ms/step with groups of 16 (about the same with 1 or 4), 17 ms with 256.
 * GPUs take up to 256. */
static clgan_range channel_range(clgan_device *dev, const clgan_bn_shape *sh) {
  size_t local = ops_reduce_local(dev), m = (size_t)sh->n * sh->s;
  if (clgan_device_get_info(dev)->type == CLGAN_DEVICE_CPU && local > 16) local = 16;
  while (local > 16 && local / 2 >= m) local /= 2;
  return (clgan_range){.dims = 1, .global = {(size_t)sh->c * local, 1, 1}, .local = {local, 1, 1}};
}

static clgan_status check_shape(const clgan_bn_shape *sh, const char *op) {
  clgan_status st;
  if ((st = ops_check_count(sh->n, op, "n")) || (st = ops_check_count(sh->c, op, "c")) ||
      (st = ops_check_count(sh->s, op, "s")))
    return st;
  return ops_check_count((long long)sh->n * sh->c * sh->s, op, "n * c * s");
}

clgan_status clgan_bn_forward_train(clgan_device *dev, const clgan_bn_shape *sh, clgan_buffer *y,
                                    clgan_buffer *mean, clgan_buffer *invstd,
                                    clgan_buffer *running_mean, clgan_buffer *running_var,
                                    const clgan_buffer *x, const clgan_buffer *gamma,
                                    const clgan_buffer *beta) {
  static const char op[] = "clgan_bn_forward_train";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = check_shape(sh, op))) return st;
  if (sh->c == 0) return CLGAN_OK;
  /* As torch: "Expected more than 1 value per channel when training". */
  if ((long long)sh->n * sh->s < 2) {
    clgan_error("%s: %s: training needs more than one value per channel (n=%d, s=%d)",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), op, sh->n, sh->s);
    return CLGAN_INVALID_ARGUMENT;
  }
  size_t total = (size_t)sh->n * sh->c * sh->s * sizeof(float), pc = (size_t)sh->c * sizeof(float);
  if ((st = ops_check_buf(y, total, op, "y")) || (st = ops_check_buf(x, total, op, "x")) ||
      (st = ops_check_buf(mean, pc, op, "mean")) ||
      (st = ops_check_buf(invstd, pc, op, "invstd")) ||
      (st = ops_check_buf(running_mean, pc, op, "running_mean")) ||
      (st = ops_check_buf(running_var, pc, op, "running_var")) ||
      (st = ops_check_buf(gamma, pc, op, "gamma")) || (st = ops_check_buf(beta, pc, op, "beta")))
    return st;
  if (sh->s == 1) { /* dense layer: one work-item per channel (cl/batchnorm.cl says why) */
    if ((st = ops_kernel_get(dev, "batchnorm.cl", "bn_forward_train_dense", &k))) return st;
    return CLGAN_LAUNCH(dev, k, ops_vec_range(dev, sh->c), CLGAN_BUF(y), CLGAN_BUF(mean),
                        CLGAN_BUF(invstd), CLGAN_BUF(running_mean), CLGAN_BUF(running_var),
                        CLGAN_BUF(x), CLGAN_BUF(gamma), CLGAN_BUF(beta), CLGAN_INT(sh->n),
                        CLGAN_INT(sh->c), CLGAN_FLOAT(sh->eps), CLGAN_FLOAT(sh->momentum));
  }
  if ((st = ops_kernel_get(dev, "batchnorm.cl", "bn_forward_train", &k))) return st;
  clgan_range r = channel_range(dev, sh);
  return CLGAN_LAUNCH(dev, k, r, CLGAN_BUF(y), CLGAN_BUF(mean), CLGAN_BUF(invstd),
                      CLGAN_BUF(running_mean), CLGAN_BUF(running_var), CLGAN_BUF(x),
                      CLGAN_BUF(gamma), CLGAN_BUF(beta), CLGAN_INT(sh->n), CLGAN_INT(sh->c),
                      CLGAN_INT(sh->s), CLGAN_FLOAT(sh->eps), CLGAN_FLOAT(sh->momentum),
                      CLGAN_LOCAL(r.local[0] * sizeof(float)));
}

clgan_status clgan_bn_forward_eval(clgan_device *dev, const clgan_bn_shape *sh, clgan_buffer *y,
                                   const clgan_buffer *running_mean,
                                   const clgan_buffer *running_var, const clgan_buffer *x,
                                   const clgan_buffer *gamma, const clgan_buffer *beta) {
  static const char op[] = "clgan_bn_forward_eval";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = check_shape(sh, op))) return st;
  int total = sh->n * sh->c * sh->s;
  if (total == 0) return CLGAN_OK;
  size_t pc = (size_t)sh->c * sizeof(float);
  if ((st = ops_check_buf(y, (size_t)total * sizeof(float), op, "y")) ||
      (st = ops_check_buf(x, (size_t)total * sizeof(float), op, "x")) ||
      (st = ops_check_buf(running_mean, pc, op, "running_mean")) ||
      (st = ops_check_buf(running_var, pc, op, "running_var")) ||
      (st = ops_check_buf(gamma, pc, op, "gamma")) || (st = ops_check_buf(beta, pc, op, "beta")))
    return st;
  if ((st = ops_kernel_get(dev, "batchnorm.cl", "bn_forward_eval", &k))) return st;
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(total), CLGAN_BUF(y), CLGAN_BUF(x),
                      CLGAN_BUF(running_mean), CLGAN_BUF(running_var), CLGAN_BUF(gamma),
                      CLGAN_BUF(beta), CLGAN_INT(sh->n), CLGAN_INT(sh->c), CLGAN_INT(sh->s),
                      CLGAN_FLOAT(sh->eps));
}

clgan_status clgan_bn_backward(clgan_device *dev, const clgan_bn_shape *sh, clgan_buffer *dx,
                               clgan_buffer *dgamma, clgan_buffer *dbeta, const clgan_buffer *dy,
                               const clgan_buffer *x, const clgan_buffer *mean,
                               const clgan_buffer *invstd, const clgan_buffer *gamma,
                               int accumulate) {
  static const char op[] = "clgan_bn_backward";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = check_shape(sh, op))) return st;
  if (sh->c == 0) return CLGAN_OK;
  if ((long long)sh->n * sh->s < 1) {
    clgan_error("%s: %s: empty batch (n=%d, s=%d)", clgan_status_message(CLGAN_INVALID_ARGUMENT),
                op, sh->n, sh->s);
    return CLGAN_INVALID_ARGUMENT;
  }
  size_t total = (size_t)sh->n * sh->c * sh->s * sizeof(float), pc = (size_t)sh->c * sizeof(float);
  if ((st = ops_check_buf(dx, total, op, "dx")) || (st = ops_check_buf(dy, total, op, "dy")) ||
      (st = ops_check_buf(x, total, op, "x")) ||
      (dgamma && (st = ops_check_buf(dgamma, pc, op, "dgamma"))) ||
      (dbeta && (st = ops_check_buf(dbeta, pc, op, "dbeta"))) ||
      (st = ops_check_buf(mean, pc, op, "mean")) ||
      (st = ops_check_buf(invstd, pc, op, "invstd")) ||
      (st = ops_check_buf(gamma, pc, op, "gamma")))
    return st;
  if (!dgamma != !dbeta) {
    clgan_error("%s: %s: dgamma and dbeta are both given or both NULL",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), op);
    return CLGAN_INVALID_ARGUMENT;
  }
  /* Without parameter gradients, dx stands in for them; the kernel does not write them. */
  if (sh->s == 1) {
    if ((st = ops_kernel_get(dev, "batchnorm.cl", "bn_backward_dense", &k))) return st;
    return CLGAN_LAUNCH(dev, k, ops_vec_range(dev, sh->c), CLGAN_BUF(dx),
                        CLGAN_BUF(dgamma ? dgamma : dx), CLGAN_BUF(dbeta ? dbeta : dx),
                        CLGAN_BUF(dy), CLGAN_BUF(x), CLGAN_BUF(mean), CLGAN_BUF(invstd),
                        CLGAN_BUF(gamma), CLGAN_INT(sh->n), CLGAN_INT(sh->c),
                        CLGAN_INT(accumulate != 0), CLGAN_INT(dgamma != NULL));
  }
  if ((st = ops_kernel_get(dev, "batchnorm.cl", "bn_backward", &k))) return st;
  clgan_range r = channel_range(dev, sh);
  return CLGAN_LAUNCH(dev, k, r, CLGAN_BUF(dx), CLGAN_BUF(dgamma ? dgamma : dx),
                      CLGAN_BUF(dbeta ? dbeta : dx), CLGAN_BUF(dy), CLGAN_BUF(x), CLGAN_BUF(mean),
                      CLGAN_BUF(invstd), CLGAN_BUF(gamma), CLGAN_INT(sh->n), CLGAN_INT(sh->c),
                      CLGAN_INT(sh->s), CLGAN_INT(accumulate != 0), CLGAN_INT(dgamma != NULL),
                      CLGAN_LOCAL(r.local[0] * sizeof(float)));
}

/* Index of element (b, ch, j). */
static size_t at(const clgan_bn_shape *sh, int b, int ch, int j) {
  return ((size_t)b * sh->c + ch) * sh->s + j;
}

void clgan_ref_bn_forward_train(const clgan_bn_shape *sh, float *y, float *mean, float *invstd,
                                float *running_mean, float *running_var, const float *x,
                                const float *gamma, const float *beta) {
  double m = (double)sh->n * sh->s;
  for (int ch = 0; ch < sh->c; ch++) {
    double sum = 0.0, ss = 0.0;
    for (int b = 0; b < sh->n; b++)
      for (int j = 0; j < sh->s; j++) sum += x[at(sh, b, ch, j)];
    double mu = sum / m;
    for (int b = 0; b < sh->n; b++)
      for (int j = 0; j < sh->s; j++) {
        double d = x[at(sh, b, ch, j)] - mu;
        ss += d * d;
      }
    double var = ss / m, is = 1.0 / sqrt(var + sh->eps);
    for (int b = 0; b < sh->n; b++)
      for (int j = 0; j < sh->s; j++) {
        size_t i = at(sh, b, ch, j);
        y[i] = (float)(gamma[ch] * ((x[i] - mu) * is) + beta[ch]);
      }
    mean[ch] = (float)mu;
    invstd[ch] = (float)is;
    double unbiased = m > 1 ? var * m / (m - 1) : var;
    running_mean[ch] = (float)((1.0 - sh->momentum) * running_mean[ch] + sh->momentum * mu);
    running_var[ch] = (float)((1.0 - sh->momentum) * running_var[ch] + sh->momentum * unbiased);
  }
}

void clgan_ref_bn_forward_eval(const clgan_bn_shape *sh, float *y, const float *running_mean,
                               const float *running_var, const float *x, const float *gamma,
                               const float *beta) {
  for (int ch = 0; ch < sh->c; ch++) {
    double is = 1.0 / sqrt((double)running_var[ch] + sh->eps);
    for (int b = 0; b < sh->n; b++)
      for (int j = 0; j < sh->s; j++) {
        size_t i = at(sh, b, ch, j);
        y[i] = (float)(gamma[ch] * ((x[i] - running_mean[ch]) * is) + beta[ch]);
      }
  }
}

void clgan_ref_bn_backward(const clgan_bn_shape *sh, float *dx, float *dgamma, float *dbeta,
                           const float *dy, const float *x, const float *mean,
                           const float *invstd, const float *gamma, int accumulate) {
  double m = (double)sh->n * sh->s;
  for (int ch = 0; ch < sh->c; ch++) {
    double mu = mean[ch], is = invstd[ch], sdy = 0.0, sdyx = 0.0;
    for (int b = 0; b < sh->n; b++)
      for (int j = 0; j < sh->s; j++) {
        size_t i = at(sh, b, ch, j);
        sdy += dy[i];
        sdyx += dy[i] * ((x[i] - mu) * is);
      }
    dbeta[ch] = (float)(accumulate ? dbeta[ch] + sdy : sdy);
    dgamma[ch] = (float)(accumulate ? dgamma[ch] + sdyx : sdyx);
    double k = gamma[ch] * is / m;
    for (int b = 0; b < sh->n; b++)
      for (int j = 0; j < sh->s; j++) {
        size_t i = at(sh, b, ch, j);
        dx[i] = (float)(k * (m * dy[i] - sdy - (x[i] - mu) * is * sdyx));
      }
  }
}
