/* Critic losses for the Wasserstein family and least squares, and the WGAN-GP pieces (the
 * real/fake interpolation and the gradient penalty), with their C references.
 * Kernels: cl/gan_loss.cl. How the penalty's gradient reaches the critic's weights (the double
 * backward through linear, conv2d and leaky ReLU layers) is derived in docs/wgan-gp.md. */
#include <math.h>

#include "clgan/ops.h"
#include "ops/internal.h"

static clgan_status check_kind(clgan_critic_kind kind, const char *op) {
  if ((unsigned)kind < CLGAN_CRITIC_COUNT) return CLGAN_OK;
  clgan_error("%s: %s: unknown critic loss %d", clgan_status_message(CLGAN_INVALID_ARGUMENT), op,
              (int)kind);
  return CLGAN_INVALID_ARGUMENT;
}

clgan_status clgan_critic_loss(clgan_device *dev, const clgan_critic_loss_cfg *cfg,
                               clgan_buffer *dd, clgan_buffer *loss, const clgan_buffer *d,
                               int n) {
  static const char op[] = "clgan_critic_loss";
  clgan_status st;
  clgan_kernel *k = NULL;
  size_t bytes = (size_t)n * sizeof(float);
  if ((st = check_kind(cfg->kind, op)) || (st = ops_check_count(n, op, "n"))) return st;
  if (n == 0 || (!dd && !loss)) return CLGAN_OK;
  if ((st = ops_check_buf(d, bytes, op, "d")) ||
      (dd && (st = ops_check_buf(dd, bytes, op, "dd"))) ||
      (loss && (st = ops_check_buf(loss, bytes, op, "loss"))))
    return st;
  if ((st = ops_kernel_get(dev, "gan_loss.cl", "critic_loss", &k))) return st;
  /* An output not wanted gets d as a placeholder argument; the kernel never writes it. */
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(n), CLGAN_BUF(dd ? dd : d),
                      CLGAN_BUF(loss ? loss : d), CLGAN_BUF(d), CLGAN_INT(n),
                      CLGAN_INT(cfg->kind), CLGAN_FLOAT(cfg->sign), CLGAN_FLOAT(cfg->target),
                      CLGAN_FLOAT(cfg->scale), CLGAN_INT(dd != NULL), CLGAN_INT(loss != NULL));
}

void clgan_ref_critic_loss(const clgan_critic_loss_cfg *cfg, float *dd, float *loss,
                           const float *d, int n) {
  for (int i = 0; i < n; i++) {
    double v = d[i], l, g;
    switch (cfg->kind) {
      case CLGAN_CRITIC_WASSERSTEIN:
        l = cfg->sign * v;
        g = cfg->sign;
        break;
      case CLGAN_CRITIC_HINGE: {
        double m = 1.0 + cfg->sign * v;
        l = m > 0.0 ? m : 0.0;
        g = m > 0.0 ? cfg->sign : 0.0;
        break;
      }
      default: {
        double e = v - cfg->target;
        l = 0.5 * e * e;
        g = e;
        break;
      }
    }
    if (dd) dd[i] = (float)(cfg->scale * g);
    if (loss) loss[i] = (float)l;
  }
}

static clgan_status check_rows(int batch, int dim, const char *op) {
  clgan_status st;
  if ((st = ops_check_count(batch, op, "batch")) || (st = ops_check_count(dim, op, "dim")))
    return st;
  return ops_check_count((long long)batch * dim, op, "batch * dim");
}

clgan_status clgan_gp_interpolate(clgan_device *dev, clgan_buffer *x_hat,
                                  const clgan_buffer *real, const clgan_buffer *fake,
                                  const clgan_buffer *eps, int batch, int dim) {
  static const char op[] = "clgan_gp_interpolate";
  clgan_status st;
  clgan_kernel *k = NULL;
  size_t bytes = (size_t)batch * dim * sizeof(float);
  if ((st = check_rows(batch, dim, op))) return st;
  if (batch == 0 || dim == 0) return CLGAN_OK;
  if ((st = ops_check_buf(x_hat, bytes, op, "x_hat")) ||
      (st = ops_check_buf(real, bytes, op, "real")) ||
      (st = ops_check_buf(fake, bytes, op, "fake")) ||
      (st = ops_check_buf(eps, (size_t)batch * sizeof(float), op, "eps")))
    return st;
  if ((st = ops_kernel_get(dev, "gan_loss.cl", "gp_interpolate", &k))) return st;
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(batch * dim), CLGAN_BUF(x_hat), CLGAN_BUF(real),
                      CLGAN_BUF(fake), CLGAN_BUF(eps), CLGAN_INT(batch), CLGAN_INT(dim));
}

void clgan_ref_gp_interpolate(float *x_hat, const float *real, const float *fake,
                              const float *eps, int batch, int dim) {
  for (int b = 0; b < batch; b++)
    for (int j = 0; j < dim; j++) {
      size_t i = (size_t)b * dim + j;
      float e = eps[b], t1 = e * real[i], t2 = (1.0f - e) * fake[i];
      x_hat[i] = t1 + t2;
    }
}

clgan_status clgan_gp_penalty(clgan_device *dev, const clgan_gp_cfg *cfg, clgan_buffer *dg,
                              clgan_buffer *loss, clgan_buffer *norm, const clgan_buffer *g,
                              int batch, int dim) {
  static const char op[] = "clgan_gp_penalty";
  clgan_status st;
  clgan_kernel *k = NULL;
  size_t rows = (size_t)batch * sizeof(float), bytes = rows * (size_t)dim;
  if ((st = check_rows(batch, dim, op))) return st;
  if (batch == 0 || (!dg && !loss && !norm)) return CLGAN_OK;
  if ((dim > 0 && (st = ops_check_buf(g, bytes, op, "g"))) ||
      (dg && dim > 0 && (st = ops_check_buf(dg, bytes, op, "dg"))) ||
      (loss && (st = ops_check_buf(loss, rows, op, "loss"))) ||
      (norm && (st = ops_check_buf(norm, rows, op, "norm"))))
    return st;
  if ((st = ops_kernel_get(dev, "gan_loss.cl", "gp_penalty", &k))) return st;
  size_t local = ops_reduce_local(dev);
  clgan_range r = {.dims = 1, .global = {(size_t)batch * local, 1, 1}, .local = {local, 1, 1}};
  /* Outputs not wanted, and g when dim = 0 (never read), get a placeholder argument. */
  const clgan_buffer *any = dim > 0 ? g : loss ? loss : norm ? norm : dg;
  return CLGAN_LAUNCH(dev, k, r, CLGAN_BUF(dg && dim > 0 ? dg : any), CLGAN_BUF(loss ? loss : any),
                      CLGAN_BUF(norm ? norm : any), CLGAN_BUF(any), CLGAN_INT(dim),
                      CLGAN_FLOAT(cfg->lambda), CLGAN_FLOAT(cfg->scale),
                      CLGAN_INT(dg != NULL && dim > 0), CLGAN_INT(loss != NULL),
                      CLGAN_INT(norm != NULL), CLGAN_LOCAL(local * sizeof(float)));
}

void clgan_ref_gp_penalty(const clgan_gp_cfg *cfg, float *dg, float *loss, float *norm,
                          const float *g, int batch, int dim) {
  for (int b = 0; b < batch; b++) {
    const float *row = g + (size_t)b * dim;
    double s = 0.0;
    for (int j = 0; j < dim; j++) s += (double)row[j] * row[j];
    double nrm = sqrt(s);
    if (loss) loss[b] = (float)(cfg->lambda * (nrm - 1.0) * (nrm - 1.0));
    if (norm) norm[b] = (float)nrm;
    double f = nrm > 0.0 ? cfg->scale * 2.0 * cfg->lambda * (nrm - 1.0) / nrm : 0.0;
    for (int j = 0; dg && j < dim; j++) dg[(size_t)b * dim + j] = (float)(f * row[j]);
  }
}
