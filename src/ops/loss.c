/* Binary cross-entropy on logits (the GAN losses of Goodfellow et al. 2014 in their stable
 * form, as torch.nn.BCEWithLogitsLoss computes them), with its C reference.
 * Kernels: cl/loss.cl. */
#include <math.h>

#include "clgan/ops.h"
#include "ops/internal.h"

clgan_status clgan_bce_logits(clgan_device *dev, const clgan_bce_cfg *cfg, clgan_buffer *dz,
                              clgan_buffer *loss, clgan_buffer *prob, const clgan_buffer *z,
                              int n) {
  static const char op[] = "clgan_bce_logits";
  clgan_status st;
  clgan_kernel *k = NULL;
  size_t bytes = (size_t)n * sizeof(float);
  if ((st = ops_check_count(n, op, "n"))) return st;
  if (n == 0 || (!dz && !loss && !prob)) return CLGAN_OK;
  if ((st = ops_check_buf(z, bytes, op, "z")) ||
      (dz && (st = ops_check_buf(dz, bytes, op, "dz"))) ||
      (loss && (st = ops_check_buf(loss, bytes, op, "loss"))) ||
      (prob && (st = ops_check_buf(prob, bytes, op, "prob"))))
    return st;
  if ((st = clgan_kernel_get(dev, "loss.cl", "bce_logits", &k))) return st;
  /* An output not wanted gets z as a placeholder argument; the kernel never writes it. */
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(n), CLGAN_BUF(dz ? dz : z),
                      CLGAN_BUF(loss ? loss : z), CLGAN_BUF(prob ? prob : z), CLGAN_BUF(z),
                      CLGAN_INT(n), CLGAN_FLOAT(cfg->target), CLGAN_FLOAT(cfg->scale),
                      CLGAN_FLOAT(cfg->sign), CLGAN_INT(dz != NULL), CLGAN_INT(loss != NULL),
                      CLGAN_INT(prob != NULL));
}

void clgan_ref_bce_logits(const clgan_bce_cfg *cfg, float *dz, float *loss, float *prob,
                          const float *z, int n) {
  for (int i = 0; i < n; i++) {
    double v = z[i], e = exp(-fabs(v));
    double p = v >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    if (dz) dz[i] = (float)(cfg->sign * cfg->scale * (p - cfg->target));
    if (loss) loss[i] = (float)(cfg->sign * (fmax(v, 0.0) - v * cfg->target + log1p(e)));
    if (prob) prob[i] = (float)p;
  }
}
