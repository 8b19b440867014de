/* Binary cross-entropy on logits (the GAN losses of Goodfellow et al. 2014 in their stable
 * form, as torch.nn.BCEWithLogitsLoss computes them) and softmax cross-entropy on class logits
 * (the domain classifier's loss, as torch.nn.CrossEntropyLoss), with their C references.
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
  if ((st = ops_kernel_get(dev, "loss.cl", "bce_logits", &k))) return st;
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

clgan_status clgan_softmax_xent(clgan_device *dev, const clgan_xent_cfg *cfg, clgan_buffer *dz,
                                clgan_buffer *loss, clgan_buffer *correct,
                                const clgan_buffer *z, const clgan_buffer *labels, int label_off,
                                int n, int classes) {
  static const char op[] = "clgan_softmax_xent";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = ops_check_count(n, op, "n")) || (st = ops_check_count(label_off, op, "label_off")) ||
      (st = ops_check_count((long long)n * classes, op, "n * classes")) ||
      (st = ops_check_count((long long)label_off + n, op, "label_off + n")))
    return st;
  if (classes < 1) {
    clgan_error("%s: %s: classes = %d, at least 1 is needed",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), op, classes);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (n == 0 || (!dz && !loss && !correct)) return CLGAN_OK;
  size_t row_bytes = (size_t)n * sizeof(float), all = row_bytes * (size_t)classes;
  if ((st = ops_check_buf(z, all, op, "z")) ||
      (st = ops_check_buf(labels, ((size_t)label_off + (size_t)n) * sizeof(int32_t), op,
                          "labels")) ||
      (dz && (st = ops_check_buf(dz, all, op, "dz"))) ||
      (loss && (st = ops_check_buf(loss, row_bytes, op, "loss"))) ||
      (correct && (st = ops_check_buf(correct, row_bytes, op, "correct"))))
    return st;
  if ((st = ops_kernel_get(dev, "loss.cl", "softmax_xent", &k))) return st;
  /* An output not wanted gets z as a placeholder argument; the kernel never writes it. */
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(n), CLGAN_BUF(dz ? dz : z),
                      CLGAN_BUF(loss ? loss : z), CLGAN_BUF(correct ? correct : z), CLGAN_BUF(z),
                      CLGAN_BUF(labels), CLGAN_INT(label_off), CLGAN_INT(n), CLGAN_INT(classes),
                      CLGAN_FLOAT(cfg->scale), CLGAN_INT(dz != NULL), CLGAN_INT(loss != NULL),
                      CLGAN_INT(correct != NULL));
}

void clgan_ref_softmax_xent(const clgan_xent_cfg *cfg, float *dz, float *loss, float *correct,
                            const float *z, const int32_t *labels, int label_off, int n,
                            int classes) {
  for (int i = 0; i < n; i++) {
    const float *row = z + (size_t)i * (size_t)classes;
    int label = labels[label_off + i], valid = label >= 0 && label < classes, arg = 0;
    double m = row[0], sum = 0.0;
    for (int c = 1; c < classes; c++)
      if (row[c] > m) m = row[c], arg = c;
    for (int c = 0; c < classes; c++) sum += exp(row[c] - m);
    if (loss) loss[i] = valid ? (float)(log(sum) - (row[label] - m)) : NAN;
    if (correct) correct[i] = valid && arg == label ? 1.0f : 0.0f;
    for (int c = 0; dz && c < classes; c++)
      dz[(size_t)i * (size_t)classes + c] =
          valid ? (float)(cfg->scale * (exp(row[c] - m) / sum - (c == label))) : NAN;
  }
}
