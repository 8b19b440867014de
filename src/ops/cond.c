/* Class conditioning ops with their C references (include/clgan/ops.h, "Conditioning"):
 * one-hot concatenation and its slice, the projection discriminator's inner product and its
 * gradients, and the batch's labels (gathered with the images, or drawn for the fake batch).
 * Kernels: cl/cond.cl. */
#include <math.h>

#include "clgan/ops.h"
#include "ops/internal.h"

static clgan_status check_shape(const char *op, int batch, int n, int classes) {
  clgan_status st;
  if ((st = ops_check_count(batch, op, "batch")) || (st = ops_check_count(n, op, "n")) ||
      (st = ops_check_count(classes, op, "classes")) ||
      (st = ops_check_count((long long)batch * ((long long)n + classes), op, "batch * width")))
    return st;
  return CLGAN_OK;
}

clgan_status clgan_cond_concat(clgan_device *dev, clgan_buffer *out, const clgan_buffer *x,
                               const clgan_buffer *labels, int batch, int n, int classes) {
  static const char op[] = "clgan_cond_concat";
  clgan_status st;
  clgan_kernel *k = NULL;
  int onehot = labels != NULL;
  if ((st = check_shape(op, batch, n, classes))) return st;
  if (batch == 0 || n + classes == 0) return CLGAN_OK;
  size_t fb = sizeof(float);
  if ((st = ops_check_buf(out, (size_t)batch * (size_t)(n + classes) * fb, op, "out")) ||
      (st = ops_check_buf(x, (size_t)batch * (size_t)n * fb, op, "x")) ||
      (onehot && (st = ops_check_buf(labels, (size_t)batch * sizeof(int32_t), op, "labels"))) ||
      (st = ops_kernel_get(dev, "cond.cl", "cond_concat", &k)))
    return st;
  /* Without labels the kernel never reads them: x stands in for the argument. */
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(batch * (n + classes)), CLGAN_BUF(out),
                      CLGAN_BUF(x), CLGAN_BUF(onehot ? labels : x), CLGAN_INT(batch),
                      CLGAN_INT(n), CLGAN_INT(classes), CLGAN_INT(onehot));
}

void clgan_ref_cond_concat(float *out, const float *x, const int32_t *labels, int batch, int n,
                           int classes) {
  int width = n + classes;
  for (int b = 0; b < batch; b++) {
    for (int j = 0; j < n; j++) out[(size_t)b * width + j] = x[(size_t)b * n + j];
    for (int k = 0; k < classes; k++) {
      int y = labels ? labels[b] : -1;
      float v = labels && (y < 0 || y >= classes) ? NAN : (y == k ? 1.0f : 0.0f);
      out[(size_t)b * width + n + k] = v;
    }
  }
}

clgan_status clgan_cond_slice(clgan_device *dev, clgan_buffer *out, const clgan_buffer *in,
                              int batch, int n, int stride) {
  static const char op[] = "clgan_cond_slice";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = check_shape(op, batch, stride, 0))) return st;
  if (n < 0 || n > stride) {
    clgan_error("%s: n = %d is not in 0..stride (%d)", op, n, stride);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (batch == 0 || n == 0) return CLGAN_OK;
  size_t fb = sizeof(float);
  if ((st = ops_check_buf(out, (size_t)batch * (size_t)n * fb, op, "out")) ||
      (st = ops_check_buf(in, (size_t)batch * (size_t)stride * fb, op, "in")) ||
      (st = ops_kernel_get(dev, "cond.cl", "cond_slice", &k)))
    return st;
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(batch * n), CLGAN_BUF(out), CLGAN_BUF(in),
                      CLGAN_INT(batch), CLGAN_INT(n), CLGAN_INT(stride));
}

void clgan_ref_cond_slice(float *out, const float *in, int batch, int n, int stride) {
  for (int b = 0; b < batch; b++)
    for (int j = 0; j < n; j++) out[(size_t)b * n + j] = in[(size_t)b * stride + j];
}

static clgan_status proj_check(const char *op, const clgan_proj_shape *sh,
                               const clgan_buffer *embed, const clgan_buffer *labels) {
  clgan_status st;
  if ((st = check_shape(op, sh->batch, sh->features, 0)) ||
      (st = check_shape(op, sh->classes, sh->features, 0)))
    return st;
  if (sh->batch == 0 || sh->features == 0 || sh->classes == 0) return CLGAN_OK;
  if ((st = ops_check_buf(embed, (size_t)sh->classes * (size_t)sh->features * sizeof(float), op,
                          "embed")) ||
      (st = ops_check_buf(labels, (size_t)sh->batch * sizeof(int32_t), op, "labels")))
    return st;
  return CLGAN_OK;
}

clgan_status clgan_proj_forward(clgan_device *dev, const clgan_proj_shape *sh, clgan_buffer *y,
                                const clgan_buffer *h, const clgan_buffer *embed,
                                const clgan_buffer *labels) {
  static const char op[] = "clgan_proj_forward";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = proj_check(op, sh, embed, labels))) return st;
  if (sh->batch == 0 || sh->features == 0 || sh->classes == 0) return CLGAN_OK;
  size_t fb = sizeof(float);
  if ((st = ops_check_buf(y, (size_t)sh->batch * fb, op, "y")) ||
      (st = ops_check_buf(h, (size_t)sh->batch * (size_t)sh->features * fb, op, "h")) ||
      (st = ops_kernel_get(dev, "cond.cl", "proj_forward", &k)))
    return st;
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(sh->batch), CLGAN_BUF(y), CLGAN_BUF(h),
                      CLGAN_BUF(embed), CLGAN_BUF(labels), CLGAN_INT(sh->batch),
                      CLGAN_INT(sh->features), CLGAN_INT(sh->classes));
}

clgan_status clgan_proj_backward(clgan_device *dev, const clgan_proj_shape *sh, clgan_buffer *dh,
                                 clgan_buffer *dembed, const clgan_buffer *dy,
                                 const clgan_buffer *h, const clgan_buffer *embed,
                                 const clgan_buffer *labels, int accumulate) {
  static const char op[] = "clgan_proj_backward";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = proj_check(op, sh, embed, labels))) return st;
  if (sh->batch == 0 || sh->features == 0 || sh->classes == 0) return CLGAN_OK;
  size_t fb = sizeof(float), nh = (size_t)sh->batch * (size_t)sh->features * fb;
  if ((st = ops_check_buf(dy, (size_t)sh->batch * fb, op, "dy"))) return st;
  if (dh) {
    if ((st = ops_check_buf(dh, nh, op, "dh")) ||
        (st = ops_kernel_get(dev, "cond.cl", "proj_backward_input", &k)) ||
        (st = CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(sh->batch * sh->features), CLGAN_BUF(dh),
                           CLGAN_BUF(dy), CLGAN_BUF(embed), CLGAN_BUF(labels),
                           CLGAN_INT(sh->batch), CLGAN_INT(sh->features),
                           CLGAN_INT(sh->classes))))
      return st;
  }
  if (!dembed) return CLGAN_OK;
  if ((st = ops_check_buf(h, nh, op, "h")) ||
      (st = ops_check_buf(dembed, (size_t)sh->classes * (size_t)sh->features * fb, op,
                          "dembed")) ||
      (st = ops_kernel_get(dev, "cond.cl", "proj_backward_embed", &k)))
    return st;
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(sh->classes * sh->features), CLGAN_BUF(dembed),
                      CLGAN_BUF(dy), CLGAN_BUF(h), CLGAN_BUF(labels), CLGAN_INT(sh->batch),
                      CLGAN_INT(sh->features), CLGAN_INT(sh->classes), CLGAN_INT(accumulate));
}

void clgan_ref_proj_forward(const clgan_proj_shape *sh, float *y, const float *h,
                            const float *embed, const int32_t *labels) {
  for (int b = 0; b < sh->batch; b++) {
    int c = labels[b];
    if (c < 0 || c >= sh->classes) {
      y[b] = NAN;
      continue;
    }
    double s = 0.0;
    for (int j = 0; j < sh->features; j++)
      s += (double)embed[(size_t)c * sh->features + j] * h[(size_t)b * sh->features + j];
    y[b] += (float)s;
  }
}

void clgan_ref_proj_backward(const clgan_proj_shape *sh, float *dh, float *dembed,
                             const float *dy, const float *h, const float *embed,
                             const int32_t *labels, int accumulate) {
  size_t f = (size_t)sh->features;
  for (int b = 0; dh && b < sh->batch; b++) {
    int c = labels[b];
    for (size_t j = 0; j < f; j++)
      dh[b * f + j] += (c < 0 || c >= sh->classes) ? NAN : dy[b] * embed[(size_t)c * f + j];
  }
  for (int k = 0; dembed && k < sh->classes; k++)
    for (size_t j = 0; j < f; j++) {
      double s = accumulate ? dembed[k * f + j] : 0.0;
      for (int b = 0; b < sh->batch; b++)
        if (labels[b] == k) s += (double)dy[b] * h[b * f + j];
      dembed[k * f + j] = (float)s;
    }
}

clgan_status clgan_gather_labels(clgan_device *dev, clgan_buffer *out, const clgan_buffer *labels,
                                 const clgan_buffer *index, int first, int batch) {
  static const char op[] = "clgan_gather_labels";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = ops_check_count(first, op, "first")) || (st = ops_check_count(batch, op, "batch")) ||
      (st = ops_check_count((long long)first + batch, op, "first + batch")))
    return st;
  if (batch == 0) return CLGAN_OK;
  if ((st = ops_check_buf(out, (size_t)batch * sizeof(int32_t), op, "out")) ||
      (st = ops_check_buf(index, ((size_t)first + batch) * sizeof(int32_t), op, "index")) ||
      (st = ops_check_buf(labels, 1, op, "labels")) ||
      (st = ops_kernel_get(dev, "cond.cl", "gather_labels", &k)))
    return st;
  size_t n = labels->bytes;
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(batch), CLGAN_BUF(out), CLGAN_BUF(labels),
                      CLGAN_BUF(index), CLGAN_INT(first), CLGAN_INT(batch),
                      CLGAN_INT(n > 2147483647u ? 2147483647 : (int)n));
}

void clgan_ref_gather_labels(int32_t *out, const uint8_t *labels, const int32_t *index,
                             int first, int batch) {
  for (int b = 0; b < batch; b++) out[b] = labels[index[first + b]];
}

clgan_status clgan_labels_from_uniform(clgan_device *dev, clgan_buffer *out, const clgan_buffer *u,
                                       const clgan_buffer *cdf, int batch, int classes) {
  static const char op[] = "clgan_labels_from_uniform";
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = ops_check_count(batch, op, "batch")) || (st = ops_check_count(classes, op, "classes")))
    return st;
  if (batch == 0) return CLGAN_OK;
  if (classes < 1) {
    clgan_error("%s: classes = %d, at least 1 is needed", op, classes);
    return CLGAN_INVALID_ARGUMENT;
  }
  if ((st = ops_check_buf(out, (size_t)batch * sizeof(int32_t), op, "out")) ||
      (st = ops_check_buf(u, (size_t)batch * sizeof(float), op, "u")) ||
      (st = ops_check_buf(cdf, (size_t)classes * sizeof(float), op, "cdf")) ||
      (st = ops_kernel_get(dev, "cond.cl", "labels_from_uniform", &k)))
    return st;
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(batch), CLGAN_BUF(out), CLGAN_BUF(u),
                      CLGAN_BUF(cdf), CLGAN_INT(batch), CLGAN_INT(classes));
}

void clgan_ref_labels_from_uniform(int32_t *out, const float *u, const float *cdf, int batch,
                                   int classes) {
  for (int b = 0; b < batch; b++) {
    int k = 0;
    while (k < classes - 1 && u[b] >= cdf[k]) k++;
    out[b] = k;
  }
}

void clgan_class_cdf(float *cdf, const double *weights, int classes) {
  double total = 0.0, run = 0.0;
  for (int k = 0; k < classes; k++) total += weights ? weights[k] : 1.0;
  for (int k = 0; k < classes; k++) {
    run += weights ? weights[k] : 1.0;
    cdf[k] = (float)(run / total);
  }
  if (classes > 0) cdf[classes - 1] = 1.0f;
}
