/* Statistics on features (issue 8): FID, KID, precision / recall, density / coverage and the
 * class histogram, as declared in include/clgan/eval.h.
 *
 * FID is host code in double precision: two-pass moments, LAPACKE_dsyevd for the matrix square
 * root. KID and the k-NN statistics need every pairwise dot product of two sets of thousands of
 * rows, which is GEMM work: the device computes the float32 Gram blocks through clgan_matmul and
 * the host turns them into kernel values or squared distances and sums or counts in double.
 *
 * The k-NN statistics compare distances with radii, and a float32 dot product can put a point
 * on the wrong side of a radius it touches (a duplicated point is exactly on it). So every
 * decision the float32 value cannot settle, given a rigorous bound on its error, is redone with
 * clgan_sqdist_exact; the radii themselves are exact k-th smallest values. The counts are then
 * those of a double-precision brute force on any device. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/eval.h"
#include "clgan/ops.h"
#include "gan/metrics_internal.h"

/* ---- Input checks ------------------------------------------------------------------------- */

static clgan_status check_rows(const char *fn, const char *what, const float *x, int n, int least,
                               int dim) {
  if (dim < 1) {
    clgan_error("%s: feature dimension %d; it must be at least 1", fn, dim);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (!x || n < least) {
    clgan_error("%s: %s has %d rows; it needs at least %d", fn, what, x ? n : 0, least);
    return CLGAN_INVALID_ARGUMENT;
  }
  for (int i = 0; i < n; i++)
    for (int p = 0; p < dim; p++)
      if (!isfinite(x[(size_t)i * dim + p])) {
        clgan_error("%s: feature row %d of %s is not finite (column %d is %g)", fn, i, what, p,
                    (double)x[(size_t)i * dim + p]);
        return CLGAN_NUMERIC;
      }
  return CLGAN_OK;
}

/* ---- FID ---------------------------------------------------------------------------------- */

enum { MOMENT_BLOCK = 64 }; /* rows per block of the covariance: dim x 64 doubles stay in cache */

/* Four chains: a double sum cannot be reordered by the compiler, so give it independent ones. */
static double dot4(const double *x, const double *y, int n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  for (int r = 0; r < n; r += 4) {
    s0 += x[r] * y[r];
    s1 += x[r + 1] * y[r + 1];
    s2 += x[r + 2] * y[r + 2];
    s3 += x[r + 3] * y[r + 3];
  }
  return (s0 + s1) + (s2 + s3);
}

/* mean (dim) and cov (dim, dim), n - 1 normalised as numpy.cov, of x (n, dim). Two passes: the
 * mean first, then sums of products of centred values, a block of rows at a time, transposed
 * into t (dim, MOMENT_BLOCK) so that each of the dim (dim + 1) / 2 sums is a contiguous dot. */
static void moments(const float *x, int n, int dim, double *mean, double *cov, double *t) {
  memset(mean, 0, (size_t)dim * sizeof *mean);
  for (int i = 0; i < n; i++)
    for (int p = 0; p < dim; p++) mean[p] += x[(size_t)i * dim + p];
  for (int p = 0; p < dim; p++) mean[p] /= n;
  memset(cov, 0, (size_t)dim * dim * sizeof *cov);
  for (int r0 = 0; r0 < n; r0 += MOMENT_BLOCK) {
    int rows = n - r0 < MOMENT_BLOCK ? n - r0 : MOMENT_BLOCK;
    for (int p = 0; p < dim; p++) {
      double *tp = t + (size_t)p * MOMENT_BLOCK;
      for (int r = 0; r < rows; r++) tp[r] = x[(size_t)(r0 + r) * dim + p] - mean[p];
      for (int r = rows; r < MOMENT_BLOCK; r++) tp[r] = 0.0;
    }
    for (int p = 0; p < dim; p++)
      for (int q = p; q < dim; q++)
        cov[(size_t)p * dim + q] +=
            dot4(t + (size_t)p * MOMENT_BLOCK, t + (size_t)q * MOMENT_BLOCK, MOMENT_BLOCK);
  }
  for (int p = 0; p < dim; p++)
    for (int q = p; q < dim; q++) {
      double c = cov[(size_t)p * dim + q] / (n - 1);
      cov[(size_t)p * dim + q] = c;
      cov[(size_t)q * dim + p] = c;
    }
}

static clgan_status eigenvalues(double *s, int dim, char jobz, double *w) {
  lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, jobz, 'U', dim, s, dim, w);
  if (info == 0) return CLGAN_OK;
  if (info < 0) {
    clgan_error("clgan_fid: LAPACKE_dsyevd refused argument %d", (int)-info);
    return CLGAN_INVALID_ARGUMENT;
  }
  clgan_error("clgan_fid: LAPACKE_dsyevd did not converge (info %d) on a %d x %d covariance",
              (int)info, dim, dim);
  return CLGAN_NUMERIC;
}

/* tr (S_a S_b)^(1/2) is computed as tr M^(1/2) with M = V_a^T (S_a^(1/2) S_b S_a^(1/2)) V_a =
 * C^T S_b C, C = V_a diag(sqrt(max(L_a, 0))): M is the symmetric matrix of the header in S_a's
 * eigenbasis (an orthogonal similarity, so the same eigenvalues), one matrix product cheaper
 * than forming S_a^(1/2). Eigenvalues below 0 are rounding and count as 0, where pytorch-fid's
 * scipy.linalg.sqrtm of the non-symmetric S_a S_b returns a complex part and drops it. */
clgan_status clgan_fid(const float *a, int na, const float *b, int nb, int dim, double *fid) {
  clgan_status st = CLGAN_OK;
  double *mem = NULL;
  if ((st = check_rows("clgan_fid", "set a", a, na, 2, dim)) ||
      (st = check_rows("clgan_fid", "set b", b, nb, 2, dim)))
    return st;
  size_t d = (size_t)dim, dd = d * d;
  mem = malloc((4 * d + 4 * dd + d * MOMENT_BLOCK) * sizeof *mem);
  if (!mem) {
    clgan_error("clgan_fid: %s (%d features)", clgan_status_message(CLGAN_HOST_OUT_OF_MEMORY), dim);
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto fail;
  }
  double *ma = mem, *mb = ma + d, *wa = mb + d, *wm = wa + d;
  double *sa = wm + d, *sb = sa + dd, *t = sb + dd, *m = t + dd, *blk = m + dd;
  moments(a, na, dim, ma, sa, blk);
  moments(b, nb, dim, mb, sb, blk);
  double diff2 = 0.0, trace = 0.0;
  for (size_t p = 0; p < d; p++) {
    diff2 += (ma[p] - mb[p]) * (ma[p] - mb[p]);
    trace += sa[p * d + p] + sb[p * d + p];
  }
  if ((st = eigenvalues(sa, dim, 'V', wa))) goto fail;
  /* sa now holds V_a (eigenvectors in columns); scale column q into C. */
  for (size_t q = 0; q < d; q++) wa[q] = sqrt(wa[q] > 0.0 ? wa[q] : 0.0);
  for (size_t p = 0; p < d; p++)
    for (size_t q = 0; q < d; q++) sa[p * d + q] *= wa[q];
  /* t = S_b C, then m = C^T t; the inner loops run along rows, so they vectorise. */
  memset(t, 0, dd * sizeof *t);
  for (size_t i = 0; i < d; i++)
    for (size_t k = 0; k < d; k++) {
      double s = sb[i * d + k];
      const double *c = sa + k * d;
      double *ti = t + i * d;
      for (size_t j = 0; j < d; j++) ti[j] += s * c[j];
    }
  memset(m, 0, dd * sizeof *m);
  for (size_t k = 0; k < d; k++)
    for (size_t i = 0; i < d; i++) {
      double s = sa[k * d + i];
      const double *tk = t + k * d;
      double *mi = m + i * d;
      for (size_t j = 0; j < d; j++) mi[j] += s * tk[j];
    }
  if ((st = eigenvalues(m, dim, 'N', wm))) goto fail;
  double trsqrt = 0.0;
  for (size_t q = 0; q < d; q++) trsqrt += sqrt(wm[q] > 0.0 ? wm[q] : 0.0);
  *fid = diff2 + trace - 2.0 * trsqrt;
fail:
  free(mem);
  return st;
}

/* ---- KID ---------------------------------------------------------------------------------- */

void clgan_kid_subset(int *idx, int *scratch, int n, int m, uint64_t seed, int subset, int which) {
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  for (int i = 0; i < n; i++) scratch[i] = i;
  for (int i = 0; i < m; i++) {
    const uint32_t ctr[4] = {(uint32_t)i, (uint32_t)subset, (uint32_t)which, 0x4b4944u};
    uint32_t r[4];
    clgan_philox4x32(ctr, key, r);
    /* 64 random bits modulo n - i: a bias below n / 2^64, far under any sampling noise. */
    uint64_t u = (uint64_t)r[0] << 32 | r[1];
    int j = i + (int)(u % (uint64_t)(n - i));
    int s = scratch[i];
    scratch[i] = scratch[j];
    scratch[j] = s;
    idx[i] = scratch[i];
  }
}

/* Sum of (g / dim + 1)^3 over a rows x cols block of dot products, leaving out the diagonal
 * when skip_diag (Kxx and Kyy of the unbiased estimate). Four chains, as in dot4. */
static double cubic_sum(const float *g, int rows, int cols, double inv_dim, int skip_diag) {
  double s[4] = {0.0, 0.0, 0.0, 0.0};
  for (int i = 0; i < rows; i++) {
    const float *gi = g + (size_t)i * cols;
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    for (int j = 0; j < cols; j++) {
      double t = gi[j] * inv_dim + 1.0;
      acc[j & 3] += t * t * t;
    }
    if (skip_diag) {
      double t = gi[i] * inv_dim + 1.0;
      acc[i & 3] -= t * t * t;
    }
    for (int c = 0; c < 4; c++) s[c] += acc[c];
  }
  return (s[0] + s[1]) + (s[2] + s[3]);
}

/* torch-fidelity's kid (after Binkowski et al.'s reference code): per subset,
 * (sum_{i!=j} k(x_i, x_j) + sum_{i!=j} k(y_i, y_j)) / (m (m - 1)) - 2 sum_{i,j} k(x_i, y_j) / m^2;
 * *mean and *std over the subsets, std the population one (np.std, as torch-fidelity has it).
 * Per subset the device computes [X; Y] X^T (Kxx and Kyx, m x m each) and Y Y^T. */
clgan_status clgan_kid(clgan_device *dev, const float *a, int na, const float *b, int nb, int dim,
                       const clgan_kid_cfg *cfg, double *mean, double *std) {
  clgan_status st = CLGAN_OK;
  clgan_buffer dz = {0}, dg = {0};
  float *z = NULL, *g = NULL;
  int *idx = NULL, *scratch = NULL;
  double *mmd = NULL;
  if (!dev) {
    clgan_error("clgan_kid: no device");
    return CLGAN_INVALID_ARGUMENT;
  }
  if ((st = check_rows("clgan_kid", "set a", a, na, 2, dim)) ||
      (st = check_rows("clgan_kid", "set b", b, nb, 2, dim)))
    return st;
  int subsets = cfg && cfg->subsets > 0 ? cfg->subsets : 100;
  int m = cfg && cfg->subset_size > 0 ? cfg->subset_size : 1000;
  if (m > na) m = na;
  if (m > nb) m = nb;
  uint64_t seed = cfg ? cfg->seed : 0;
  size_t md = (size_t)m * dim, mm = (size_t)m * m;
  z = malloc(2 * md * sizeof *z);
  g = malloc(3 * mm * sizeof *g);
  idx = malloc((size_t)m * sizeof *idx);
  scratch = malloc((size_t)(na > nb ? na : nb) * sizeof *scratch);
  mmd = malloc((size_t)subsets * sizeof *mmd);
  if (!z || !g || !idx || !scratch || !mmd) {
    clgan_error("clgan_kid: %s (subsets of %d rows)",
                clgan_status_message(CLGAN_HOST_OUT_OF_MEMORY), m);
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto fail;
  }
  if ((st = clgan_buffer_alloc(dev, &dz, 2 * md * sizeof(float))) ||
      (st = clgan_buffer_alloc(dev, &dg, 3 * mm * sizeof(float))))
    goto fail;
  const clgan_gemm_args zx = {.trans_b = 1, .m = 2 * (size_t)m, .n = (size_t)m, .k = (size_t)dim,
                              .alpha = 1.0f, .a = &dz, .lda = (size_t)dim, .b = &dz,
                              .ldb = (size_t)dim, .c = &dg, .ldc = (size_t)m};
  const clgan_gemm_args yy = {.trans_b = 1, .m = (size_t)m, .n = (size_t)m, .k = (size_t)dim,
                              .alpha = 1.0f, .a = &dz, .a_off = md, .lda = (size_t)dim, .b = &dz,
                              .b_off = md, .ldb = (size_t)dim, .c = &dg, .c_off = 2 * mm,
                              .ldc = (size_t)m};
  double inv_dim = 1.0 / dim;
  for (int s = 0; s < subsets; s++) {
    for (int which = 0; which < 2; which++) {
      const float *x = which ? b : a;
      clgan_kid_subset(idx, scratch, which ? nb : na, m, seed, s, which);
      for (int i = 0; i < m; i++)
        memcpy(z + which * md + (size_t)i * dim, x + (size_t)idx[i] * dim, (size_t)dim * sizeof *z);
    }
    if ((st = clgan_buffer_write(dev, &dz, 0, 2 * md * sizeof *z, z)) ||
        (st = clgan_matmul(dev, &zx)) || (st = clgan_matmul(dev, &yy)) ||
        (st = clgan_buffer_read(dev, &dg, 0, 3 * mm * sizeof *g, g)))
      goto fail;
    double kxx = cubic_sum(g, m, m, inv_dim, 1);
    double kyx = cubic_sum(g + mm, m, m, inv_dim, 0);
    double kyy = cubic_sum(g + 2 * mm, m, m, inv_dim, 1);
    mmd[s] = (kxx + kyy) / ((double)m * (m - 1)) - 2.0 * kyx / ((double)m * m);
  }
  double sum = 0.0, var = 0.0;
  for (int s = 0; s < subsets; s++) sum += mmd[s];
  sum /= subsets;
  for (int s = 0; s < subsets; s++) var += (mmd[s] - sum) * (mmd[s] - sum);
  *mean = sum;
  if (std) *std = sqrt(var / subsets);
fail:
  clgan_buffer_free(&dz);
  clgan_buffer_free(&dg);
  free(z);
  free(g);
  free(idx);
  free(scratch);
  free(mmd);
  return st;
}

/* ---- Precision, recall, density, coverage ------------------------------------------------- */

double clgan_sqdist_exact(const float *x, const float *y, int dim) {
  double s = 0.0;
  for (int p = 0; p < dim; p++) {
    double e = (double)x[p] - y[p];
    s += e * e;
  }
  return s;
}

/* The k-th smallest (k from 0) of x[0..n): Hoare partitioning around a median of three, one side
 * kept, average O(n); x is reordered. */
static double select_kth(double *x, int n, int k) {
  int lo = 0, hi = n - 1;
  while (hi > lo) {
    int mid = lo + (hi - lo) / 2;
    double p0 = x[lo], p1 = x[mid], p2 = x[hi];
    double pivot = p0 < p1 ? (p1 < p2 ? p1 : p0 < p2 ? p2 : p0)
                           : (p0 < p2 ? p0 : p1 < p2 ? p2 : p1);
    int i = lo, j = hi;
    while (i <= j) {
      while (x[i] < pivot) i++;
      while (x[j] > pivot) j--;
      if (i <= j) {
        double t = x[i];
        x[i] = x[j];
        x[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return x[k];
  }
  return x[k];
}

/* Two sets on the device and a block of their Gram matrix on the host. */
typedef struct {
  clgan_device *dev;
  int dim;
  double gamma; /* |float32 d^2 - exact d^2| <= gamma |x| |y| + tiny (|x|^2 + |y|^2) */
  clgan_buffer dreal, dfake, dg;
  float *g;     /* (block, max(nr, nf)) */
  int block;    /* rows per Gram block */
} prdc_ctx;

/* Higham's bound for a float32 dot product of dim terms in any order, with or without FMA, is
 * gamma_dim sum |x_p y_p| <= (dim u / (1 - dim u)) |x| |y|, u = 2^-24; d^2 carries it twice.
 * A further factor 2 leaves room for a device that rounds worse than IEEE. */
static double error_gamma(int dim) {
  double du = dim * 0x1p-24;
  return 4.0 * du / (1.0 - du);
}
static const double TINY = 1e-12; /* double rounding of |x|^2 + |y|^2 - 2 g on the host */

/* rows x n of (queries from q at row0) . (rows of r), into ctx->g with leading dimension n. */
static clgan_status gram_block(prdc_ctx *ctx, const clgan_buffer *q, int row0, int rows,
                               const clgan_buffer *r, int n) {
  clgan_gemm_args ga = {.trans_b = 1, .m = (size_t)rows, .n = (size_t)n, .k = (size_t)ctx->dim,
                        .alpha = 1.0f, .a = q, .a_off = (size_t)row0 * ctx->dim,
                        .lda = (size_t)ctx->dim, .b = r, .ldb = (size_t)ctx->dim, .c = &ctx->dg,
                        .ldc = (size_t)n};
  clgan_status st = clgan_matmul(ctx->dev, &ga);
  if (st == CLGAN_OK)
    st = clgan_buffer_read(ctx->dev, &ctx->dg, 0, (size_t)rows * n * sizeof(float), ctx->g);
  return st;
}

enum { SMALL_K = 32 }; /* up to this k one scan keeps the k smallest in a sorted array */

/* The float32 squared distance of rows i and j from their dot product g and squared norms. */
static inline double approx_sqdist(double n2i, double n2j, float g) {
  double a = n2i + n2j - 2.0 * g;
  return a > 0.0 ? a : 0.0;
}

/* The exact k[0]-th and k[1]-th nearest-neighbour squared distances (k from 1) of row self of
 * x (n rows, squared norms n2, norms nn, largest norm nmax) among the other rows, given the
 * float32 dot products g of row self with every row. The float32 distances find the k-th
 * smallest v (one scan into a sorted array of the k smallest for the usual small k, else
 * quickselect); every row whose exact distance could be on either side of v (within twice the
 * error bound) is measured exactly, and the exact k-th is picked from those. work holds 3 n
 * doubles. */
static void knn_radii(const prdc_ctx *ctx, const float *x, const double *n2, const double *nn,
                      double nmax, int n, int self, const float *g, const int k[2], double out[2],
                      double *work) {
  int dim = ctx->dim, kmax = k[0] > k[1] ? k[0] : k[1];
  double e = ctx->gamma * nn[self] * nmax + TINY * (n2[self] + nmax * nmax), v[2];
  if (kmax <= SMALL_K) {
    double top[SMALL_K];
    int have = 0;
    for (int j = 0; j < n; j++) {
      if (j == self) continue;
      double a = approx_sqdist(n2[self], n2[j], g[j]);
      if (have == kmax && a >= top[kmax - 1]) continue;
      int at = have < kmax ? have++ : kmax - 1;
      for (; at > 0 && top[at - 1] > a; at--) top[at] = top[at - 1];
      top[at] = a;
    }
    v[0] = top[k[0] - 1];
    v[1] = top[k[1] - 1];
  } else {
    int cnt = 0;
    for (int j = 0; j < n; j++)
      if (j != self) work[cnt++] = approx_sqdist(n2[self], n2[j], g[j]);
    v[0] = select_kth(work, cnt, k[0] - 1);
    v[1] = select_kth(work, cnt, k[1] - 1);
  }
  double *cand[2] = {work + n, work + 2 * n};
  int below[2] = {0, 0}, nc[2] = {0, 0};
  const float *xs = x + (size_t)self * dim;
  for (int j = 0; j < n; j++) {
    if (j == self) continue;
    double a = approx_sqdist(n2[self], n2[j], g[j]), exact = -1.0;
    for (int t = 0; t < 2; t++) {
      if (a < v[t] - 2.0 * e) below[t]++;
      else if (a <= v[t] + 2.0 * e) {
        if (exact < 0.0) exact = clgan_sqdist_exact(xs, x + (size_t)j * dim, dim);
        cand[t][nc[t]++] = exact;
      }
    }
  }
  for (int t = 0; t < 2; t++) {
    int at = k[t] - 1 - below[t];
    if (at < 0 || at >= nc[t]) { /* only a device outside the error bound gets here: measure all */
      nc[t] = 0;
      for (int j = 0; j < n; j++)
        if (j != self) cand[t][nc[t]++] = clgan_sqdist_exact(xs, x + (size_t)j * dim, dim);
      at = k[t] - 1;
    }
    out[t] = select_kth(cand[t], nc[t], at);
  }
}

/* The radii of every row of one set (on the device in d): r0 for k[0], r1 for k[1] (may be
 * NULL), both squared. */
static clgan_status radii_pass(prdc_ctx *ctx, const clgan_buffer *d, const float *x, int n,
                               const double *n2, const double *nn, const int k[2], double *r0,
                               double *r1, double *work) {
  clgan_status st = CLGAN_OK;
  double nmax = 0.0;
  for (int j = 0; j < n; j++) nmax = nn[j] > nmax ? nn[j] : nmax;
  for (int row0 = 0; row0 < n; row0 += ctx->block) {
    int rows = n - row0 < ctx->block ? n - row0 : ctx->block;
    if ((st = gram_block(ctx, d, row0, rows, d, n))) return st;
    for (int i = 0; i < rows; i++) {
      double r[2];
      knn_radii(ctx, x, n2, nn, nmax, n, row0 + i, ctx->g + (size_t)i * n, k, r, work);
      r0[row0 + i] = r[0];
      if (r1) r1[row0 + i] = r[1];
    }
  }
  return st;
}

/* Is the squared distance of x and y below r2, given its float32 value lies in [lo, hi]? The
 * bound settles it where it can; otherwise *exact (negative: not yet measured) decides. */
static int below(double lo, double hi, double r2, double *exact, const float *x, const float *y,
                 int dim) {
  if (hi < r2) return 1;
  if (lo >= r2) return 0;
  if (*exact < 0.0) *exact = clgan_sqdist_exact(x, y, dim);
  return *exact < r2;
}

static void norms(const float *x, int n, int dim, double *n2, double *nn) {
  for (int i = 0; i < n; i++) {
    double s = 0.0;
    for (int p = 0; p < dim; p++) s += (double)x[(size_t)i * dim + p] * x[(size_t)i * dim + p];
    n2[i] = s;
    nn[i] = sqrt(s);
  }
}

/* As the reference `prdc` package (Naeem et al.'s clovaai/generative-evaluation-prdc) has it,
 * with its strict comparisons (distance < radius; a point exactly on a radius is outside):
 * radius of a point = distance to its k-th nearest other point of its own set;
 * precision = share of fakes within some real's k_pr radius, recall = share of reals within
 * some fake's k_pr radius, density = (1 / (k_dc nf)) sum over fakes of the number of reals
 * whose k_dc radius holds it, coverage = share of reals whose k_dc radius holds some fake
 * (its nearest fake within the radius). prdc uses one k for all four; here precision / recall
 * take k_pr and density / coverage k_dc. Passes: real-real (both radii of the reals),
 * fake-fake (k_pr radii of the fakes), real-fake (all four counts). */
clgan_status clgan_prdc_compute(clgan_device *dev, const float *real, int nr, const float *fake,
                                int nf, int dim, int k_pr, int k_dc, clgan_prdc *out) {
  return clgan_prdc_blocked(dev, real, nr, fake, nf, dim, k_pr, k_dc, (size_t)64 << 20, out);
}

clgan_status clgan_prdc_blocked(clgan_device *dev, const float *real, int nr, const float *fake,
                                int nf, int dim, int k_pr, int k_dc, size_t block_bytes,
                                clgan_prdc *out) {
  clgan_status st = CLGAN_OK;
  prdc_ctx ctx = {.dev = dev, .dim = dim};
  double *mem = NULL;
  unsigned char *flags = NULL;
  if (!dev) {
    clgan_error("clgan_prdc_compute: no device");
    return CLGAN_INVALID_ARGUMENT;
  }
  if (k_pr == 0) k_pr = 3;
  if (k_dc == 0) k_dc = 5;
  if (k_pr < 0 || k_dc < 0) {
    clgan_error("clgan_prdc_compute: k_pr %d, k_dc %d; they must be at least 1", k_pr, k_dc);
    return CLGAN_INVALID_ARGUMENT;
  }
  int kmax = k_pr > k_dc ? k_pr : k_dc;
  if ((st = check_rows("clgan_prdc_compute", "the real features", real, nr, kmax + 1, dim)) ||
      (st = check_rows("clgan_prdc_compute", "the fake features", fake, nf, kmax + 1, dim)))
    return st;
  int nmax = nr > nf ? nr : nf;
  /* Gram blocks of at most block_bytes (and what the device can hold in one buffer). */
  size_t budget = block_bytes, max_alloc = (size_t)clgan_device_get_info(dev)->max_alloc;
  if (budget > max_alloc) budget = max_alloc;
  size_t block = budget / ((size_t)nmax * sizeof(float));
  ctx.block = block < 1 ? 1 : block > (size_t)nmax ? nmax : (int)block;
  ctx.gamma = error_gamma(dim);
  ctx.g = malloc((size_t)ctx.block * nmax * sizeof *ctx.g);
  /* n2, nn, radii: real 4 x nr (n2, nn, r_pr, r_dc), fake 3 x nf (n2, nn, r_pr); work 3 x nmax */
  mem = malloc(((size_t)4 * nr + (size_t)3 * nf + (size_t)3 * nmax) * sizeof *mem);
  flags = calloc((size_t)2 * nr + nf, 1);
  long *dens = calloc((size_t)nf, sizeof *dens);
  if (!ctx.g || !mem || !flags || !dens) {
    clgan_error("clgan_prdc_compute: %s (%d and %d rows)",
                clgan_status_message(CLGAN_HOST_OUT_OF_MEMORY), nr, nf);
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto fail;
  }
  double *rn2 = mem, *rnn = rn2 + nr, *rpr = rnn + nr, *rdc = rpr + nr;
  double *fn2 = rdc + nr, *fnn = fn2 + nf, *fpr = fnn + nf, *work = fpr + nf;
  unsigned char *real_recall = flags, *real_cover = flags + nr, *fake_prec = flags + 2 * nr;
  norms(real, nr, dim, rn2, rnn);
  norms(fake, nf, dim, fn2, fnn);
  if ((st = clgan_buffer_alloc(dev, &ctx.dreal, (size_t)nr * dim * sizeof(float))) ||
      (st = clgan_buffer_alloc(dev, &ctx.dfake, (size_t)nf * dim * sizeof(float))) ||
      (st = clgan_buffer_alloc(dev, &ctx.dg, (size_t)ctx.block * nmax * sizeof(float))) ||
      (st = clgan_buffer_write(dev, &ctx.dreal, 0, (size_t)nr * dim * sizeof(float), real)) ||
      (st = clgan_buffer_write(dev, &ctx.dfake, 0, (size_t)nf * dim * sizeof(float), fake)))
    goto fail;
  const int kr[2] = {k_pr, k_dc}, kf[2] = {k_pr, k_pr};
  if ((st = radii_pass(&ctx, &ctx.dreal, real, nr, rn2, rnn, kr, rpr, rdc, work)) ||
      (st = radii_pass(&ctx, &ctx.dfake, fake, nf, fn2, fnn, kf, fpr, NULL, work)))
    goto fail;
  double fpr_max = 0.0;
  for (int j = 0; j < nf; j++) fpr_max = fpr[j] > fpr_max ? fpr[j] : fpr_max;
  long density = 0;
  for (int row0 = 0; row0 < nr; row0 += ctx.block) {
    int rows = nr - row0 < ctx.block ? nr - row0 : ctx.block;
    if ((st = gram_block(&ctx, &ctx.dreal, row0, rows, &ctx.dfake, nf))) goto fail;
    for (int ii = 0; ii < rows; ii++) {
      int i = row0 + ii;
      const float *gi = ctx.g + (size_t)ii * nf;
      double rmax = rpr[i] > rdc[i] ? rpr[i] : rdc[i];
      double far = rmax > fpr_max ? rmax : fpr_max; /* beyond it no comparison can succeed */
      for (int j = 0; j < nf; j++) {
        double a = approx_sqdist(rn2[i], fn2[j], gi[j]);
        double e = ctx.gamma * rnn[i] * fnn[j] + TINY * (rn2[i] + fn2[j]);
        double lo = a - e, hi = a + e;
        if (lo >= far) continue;
        double exact = -1.0; /* measured on first need */
        const float *x = real + (size_t)i * dim, *y = fake + (size_t)j * dim;
        if (!fake_prec[j] && below(lo, hi, rpr[i], &exact, x, y, dim)) fake_prec[j] = 1;
        if (!real_recall[i] && below(lo, hi, fpr[j], &exact, x, y, dim)) real_recall[i] = 1;
        if (below(lo, hi, rdc[i], &exact, x, y, dim)) {
          dens[j]++;
          real_cover[i] = 1;
        }
      }
    }
  }
  long prec = 0, rec = 0, cover = 0;
  for (int j = 0; j < nf; j++) {
    prec += fake_prec[j];
    density += dens[j];
  }
  for (int i = 0; i < nr; i++) {
    rec += real_recall[i];
    cover += real_cover[i];
  }
  out->precision = (double)prec / nf;
  out->recall = (double)rec / nr;
  out->density = (double)density / ((double)k_dc * nf);
  out->coverage = (double)cover / nr;
fail:
  clgan_buffer_free(&ctx.dreal);
  clgan_buffer_free(&ctx.dfake);
  clgan_buffer_free(&ctx.dg);
  free(ctx.g);
  free(mem);
  free(flags);
  free(dens);
  return st;
}

/* ---- Class histogram ---------------------------------------------------------------------- */

/* Predictions outside [0, classes) fall in no bin and leave the entropy's total; conf may be
 * NULL (mean_conf 0). */
void clgan_class_stats_compute(clgan_class_stats *s, const int *pred, const float *conf, int count,
                               int classes) {
  memset(s, 0, sizeof *s);
  if (classes > CLGAN_MAX_CLASSES) classes = CLGAN_MAX_CLASSES;
  if (classes < 0) classes = 0;
  if (count < 0) count = 0;
  s->classes = classes;
  s->count = count;
  long total = 0;
  double conf_sum = 0.0;
  for (int i = 0; i < count; i++) {
    if (pred && pred[i] >= 0 && pred[i] < classes) {
      s->hist[pred[i]]++;
      total++;
    }
    if (conf) conf_sum += conf[i];
  }
  for (int c = 0; c < classes; c++)
    if (s->hist[c] > 0) {
      double p = (double)s->hist[c] / total;
      s->entropy -= p * log(p);
    }
  s->mean_conf = count > 0 && conf ? conf_sum / count : 0.0;
}
