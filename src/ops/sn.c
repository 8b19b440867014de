/* Spectral normalisation's device work (cl/sn.cl) and its C references: the power iteration,
 * sigma and W / sigma in the forward, the correction of the weight gradient in the backward
 * (include/clgan/ops.h). The matrix-vector products are one work-item per output element with
 * a sequential sum, so the (A, R, K) layout of a transposed convolution's weight needs no
 * permuted copy; the norms and dots are one work-group's fixed tree (ops_reduce_local). */
#include <math.h>
#include <stdlib.h>

#include "clgan/ops.h"
#include "ops/internal.h"

static clgan_status check(const clgan_sn_shape *sh, const char *op, const clgan_buffer *w,
                          const clgan_buffer *u, const clgan_buffer *v,
                          const clgan_buffer *sigma) {
  clgan_status st;
  long long r = sh->r, cols = (long long)sh->a * sh->k;
  if (sh->a < 1 || sh->r < 1 || sh->k < 1) {
    clgan_error("%s: shape (%d, %d, %d) must be positive", op, sh->a, sh->r, sh->k);
    return CLGAN_INVALID_ARGUMENT;
  }
  if ((st = ops_check_count(r * cols, op, "a*r*k")) ||
      (st = ops_check_buf(w, (size_t)(r * cols) * sizeof(float), op, "w")) ||
      (st = ops_check_buf(u, (size_t)r * sizeof(float), op, "u")) ||
      (st = ops_check_buf(v, (size_t)cols * sizeof(float), op, "v")) ||
      (st = ops_check_buf(sigma, 2 * sizeof(float), op, "sigma")))
    return st;
  return CLGAN_OK;
}

/* One work-group of the reduction size. */
static clgan_range one_group(clgan_device *dev) {
  size_t local = ops_reduce_local(dev);
  return (clgan_range){.dims = 1, .global = {local, 1, 1}, .local = {local, 1, 1}};
}

clgan_status clgan_sn_forward(clgan_device *dev, const clgan_sn_shape *sh, clgan_buffer *w_sn,
                              clgan_buffer *u, clgan_buffer *v, clgan_buffer *t,
                              clgan_buffer *sigma, const clgan_buffer *w, int train) {
  static const char op[] = "clgan_sn_forward";
  clgan_status st;
  clgan_kernel *k_wtu = NULL, *k_norm = NULL, *k_wv = NULL, *k_sigma = NULL, *k_scale = NULL;
  int n = sh->a * sh->r * sh->k, cols = sh->a * sh->k;
  if ((st = check(sh, op, w, u, v, sigma)) ||
      (st = ops_check_buf(w_sn, (size_t)n * sizeof(float), op, "w_sn")) ||
      (st = ops_check_buf(t, (size_t)sh->r * sizeof(float), op, "t")) ||
      (st = ops_kernel_get(dev, "sn.cl", "sn_wt_u", &k_wtu)) ||
      (st = ops_kernel_get(dev, "sn.cl", "sn_normalize", &k_norm)) ||
      (st = ops_kernel_get(dev, "sn.cl", "sn_w_v", &k_wv)) ||
      (st = ops_kernel_get(dev, "sn.cl", "sn_sigma", &k_sigma)) ||
      (st = ops_kernel_get(dev, "sn.cl", "sn_scale", &k_scale)))
    return st;
  clgan_range g1 = one_group(dev);
  size_t scratch = g1.local[0] * sizeof(float);
  if (train &&
      ((st = CLGAN_LAUNCH(dev, k_wtu, CLGAN_RANGE_1D(cols), CLGAN_BUF(v), CLGAN_BUF(w),
                          CLGAN_BUF(u), CLGAN_INT(sh->a), CLGAN_INT(sh->r), CLGAN_INT(sh->k))) ||
       (st = CLGAN_LAUNCH(dev, k_norm, g1, CLGAN_BUF(v), CLGAN_INT(cols), CLGAN_FLOAT(sh->eps),
                          CLGAN_LOCAL(scratch)))))
    return st;
  if ((st = CLGAN_LAUNCH(dev, k_wv, CLGAN_RANGE_1D(sh->r), CLGAN_BUF(t), CLGAN_BUF(w),
                         CLGAN_BUF(v), CLGAN_INT(sh->a), CLGAN_INT(sh->r), CLGAN_INT(sh->k))) ||
      (st = CLGAN_LAUNCH(dev, k_sigma, g1, CLGAN_BUF(sigma), CLGAN_BUF(u), CLGAN_BUF(t),
                         CLGAN_INT(sh->r), CLGAN_FLOAT(sh->eps), CLGAN_INT(train != 0),
                         CLGAN_LOCAL(scratch))))
    return st;
  return CLGAN_LAUNCH(dev, k_scale, CLGAN_RANGE_1D(n), CLGAN_BUF(w_sn), CLGAN_BUF(w),
                      CLGAN_BUF(sigma), CLGAN_INT(n));
}

clgan_status clgan_sn_backward(clgan_device *dev, const clgan_sn_shape *sh, clgan_buffer *dw,
                               clgan_buffer *sigma, const clgan_buffer *g,
                               const clgan_buffer *w_sn, const clgan_buffer *u,
                               const clgan_buffer *v, int accumulate) {
  static const char op[] = "clgan_sn_backward";
  clgan_status st;
  clgan_kernel *k_dot = NULL, *k_back = NULL;
  int n = sh->a * sh->r * sh->k;
  if ((st = check(sh, op, w_sn, u, v, sigma)) ||
      (st = ops_check_buf(g, (size_t)n * sizeof(float), op, "g")) ||
      (st = ops_check_buf(dw, (size_t)n * sizeof(float), op, "dw")) ||
      (st = ops_kernel_get(dev, "sn.cl", "sn_dot", &k_dot)) ||
      (st = ops_kernel_get(dev, "sn.cl", "sn_backward", &k_back)))
    return st;
  clgan_range g1 = one_group(dev);
  if ((st = CLGAN_LAUNCH(dev, k_dot, g1, CLGAN_BUF(sigma), CLGAN_BUF(g), CLGAN_BUF(w_sn),
                         CLGAN_INT(n), CLGAN_LOCAL(g1.local[0] * sizeof(float)))))
    return st;
  return CLGAN_LAUNCH(dev, k_back, CLGAN_RANGE_1D(n), CLGAN_BUF(dw), CLGAN_BUF(g), CLGAN_BUF(u),
                      CLGAN_BUF(v), CLGAN_BUF(sigma), CLGAN_INT(sh->a), CLGAN_INT(sh->r),
                      CLGAN_INT(sh->k), CLGAN_INT(accumulate != 0));
}

static size_t at(const clgan_sn_shape *sh, int r, int c) {
  return ((size_t)(c / sh->k) * (size_t)sh->r + (size_t)r) * (size_t)sh->k + (size_t)(c % sh->k);
}

/* x = x / max(||x||, eps) in double, rounded to float. */
static void normalize(double *x, int n, double eps) {
  double s = 0;
  for (int i = 0; i < n; i++) s += x[i] * x[i];
  double d = fmax(sqrt(s), eps);
  for (int i = 0; i < n; i++) x[i] = (float)(x[i] / d);
}

void clgan_ref_sn_forward(const clgan_sn_shape *sh, float *w_sn, float *u, float *v, float *t,
                          float *sigma, const float *w, int train) {
  int cols = sh->a * sh->k, n = sh->r * cols;
  double *dv = malloc((size_t)cols * sizeof *dv), *dt = malloc((size_t)sh->r * sizeof *dt);
  if (!dv || !dt) abort();
  for (int c = 0; c < cols; c++) {
    double s = 0;
    for (int r = 0; r < sh->r && train; r++) s += (double)w[at(sh, r, c)] * u[r];
    dv[c] = train ? s : v[c];
  }
  if (train) normalize(dv, cols, sh->eps);
  for (int r = 0; r < sh->r; r++) {
    double s = 0;
    for (int c = 0; c < cols; c++) s += (double)w[at(sh, r, c)] * dv[c];
    dt[r] = s;
    t[r] = (float)s;
  }
  double d = 1;
  if (train) {
    double s = 0;
    for (int r = 0; r < sh->r; r++) s += dt[r] * dt[r];
    d = fmax(sqrt(s), sh->eps);
  }
  double sig = 0;
  for (int r = 0; r < sh->r; r++) {
    if (train) u[r] = (float)(dt[r] / d);
    sig += (double)u[r] * dt[r];
  }
  for (int c = 0; c < cols; c++) v[c] = (float)dv[c];
  sigma[0] = (float)sig;
  for (int i = 0; i < n; i++) w_sn[i] = w[i] / sigma[0];
  free(dv);
  free(dt);
}

void clgan_ref_sn_backward(const clgan_sn_shape *sh, float *dw, float *sigma, const float *g,
                           const float *w_sn, const float *u, const float *v, int accumulate) {
  int cols = sh->a * sh->k;
  double dot = 0;
  size_t n = (size_t)sh->r * (size_t)cols;
  for (size_t i = 0; i < n; i++) dot += (double)g[i] * w_sn[i];
  sigma[1] = (float)dot;
  for (int r = 0; r < sh->r; r++)
    for (int c = 0; c < cols; c++) {
      size_t i = at(sh, r, c);
      double val = ((double)g[i] - dot * u[r] * v[c]) / sigma[0];
      dw[i] = (float)(accumulate ? dw[i] + val : val);
    }
}
