/* Private to src/gan/metrics.c and tests/test_metrics.c: the pieces of the feature statistics a
 * reference has to reproduce exactly, so that the test can compare against the same subsets and
 * the same tie-breaking distances rather than against statistics of other draws. */
#ifndef CLGAN_METRICS_INTERNAL_H
#define CLGAN_METRICS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "clgan/eval.h"

/* The rows of KID's subset `subset` of one set (which: 0 for a, 1 for b) of n rows: m distinct
 * indices into idx, a partial Fisher-Yates shuffle driven by Philox-4x32-10 keyed by seed with
 * counter (draw, subset, which, 'KID'). scratch holds n ints. */
void clgan_kid_subset(int *idx, int *scratch, int n, int m, uint64_t seed, int subset, int which);

/* The squared Euclidean distance in double, sum over p of ((double)x[p] - y[p])^2 in order of p:
 * the value every radius and every comparison near a radius is decided on. */
double clgan_sqdist_exact(const float *x, const float *y, int dim);

/* clgan_prdc_compute with Gram blocks of at most block_bytes (it passes 64 MB): small blocks let
 * the test cross block boundaries on small sets. */
clgan_status clgan_prdc_blocked(clgan_device *dev, const float *real, int nr, const float *fake,
                                int nf, int dim, int k_pr, int k_dc, size_t block_bytes,
                                clgan_prdc *out);

#endif
