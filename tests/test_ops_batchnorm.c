/* Batch norm against the C reference (training and eval forward, running statistics, backward
 * with accumulate on and off), the running statistics against PyTorch's convention computed
 * here independently, and the device backward (dx, dgamma, dbeta) against central differences
 * of the reference forward on shapes (N=3, C=5, S=1) and (N=3, C=5, S=4). */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

typedef struct {
  float *x, *gamma, *beta, *rmean, *rvar;
} bn_inputs;

static bn_inputs make_inputs(const clgan_bn_shape *sh) {
  size_t total = (size_t)sh->n * sh->c * sh->s, c = (size_t)sh->c;
  bn_inputs in = {rand_floats(total, -2, 2), rand_floats(c, 0.5f, 1.5f), rand_floats(c, -1, 1),
                  rand_floats(c, -0.5f, 0.5f), rand_floats(c, 0.5f, 2.0f)};
  /* Channels with their own offset and scale, as real activations have. */
  for (size_t i = 0; i < total; i++) {
    size_t ch = (i / (size_t)sh->s) % c;
    in.x[i] = in.x[i] * (1.0f + (float)ch * 0.5f) + (float)ch - 2.0f;
  }
  return in;
}

static void free_inputs(bn_inputs *in) {
  free(in->x), free(in->gamma), free(in->beta), free(in->rmean), free(in->rvar);
}

/* L = sum(w .* y) through the reference training forward, in double. */
static double ref_loss(const clgan_bn_shape *sh, const float *w, const float *x, const float *gamma,
                       const float *beta) {
  size_t total = (size_t)sh->n * sh->c * sh->s, c = (size_t)sh->c;
  float *y = malloc(total * 4), *mean = malloc(c * 4), *invstd = malloc(c * 4);
  float *rm = calloc(c, 4), *rv = calloc(c, 4);
  clgan_ref_bn_forward_train(sh, y, mean, invstd, rm, rv, x, gamma, beta);
  double l = 0.0;
  for (size_t i = 0; i < total; i++) l += (double)w[i] * y[i];
  free(y), free(mean), free(invstd), free(rm), free(rv);
  return l;
}

/* d L / d p[i] by central differences, with the step actually taken after rounding. */
static float fd_at(const clgan_bn_shape *sh, const float *w, bn_inputs *in, float *p, size_t i,
                   double h) {
  float keep = p[i], up = (float)(keep + h), down = (float)(keep - h);
  p[i] = up;
  double lp = ref_loss(sh, w, in->x, in->gamma, in->beta);
  p[i] = down;
  double lm = ref_loss(sh, w, in->x, in->gamma, in->beta);
  p[i] = keep;
  return (float)((lp - lm) / ((double)up - down));
}

static void check_shape(clgan_device *dev, clgan_bn_shape sh, int fd) {
  size_t total = (size_t)sh.n * sh.c * sh.s, c = (size_t)sh.c;
  bn_inputs in = make_inputs(&sh);
  char tag[64], what[160];
  snprintf(tag, sizeof tag, "(N=%d C=%d S=%d)", sh.n, sh.c, sh.s);

  clgan_buffer x = upload(dev, in.x, total), gamma = upload(dev, in.gamma, c);
  clgan_buffer beta = upload(dev, in.beta, c), rm = upload(dev, in.rmean, c);
  clgan_buffer rv = upload(dev, in.rvar, c), y = upload(dev, NULL, total);
  clgan_buffer mean = upload(dev, NULL, c), invstd = upload(dev, NULL, c);
  float *got = malloc(total * 4), *want = malloc(total * 4), *wmean = malloc(c * 4);
  float *winv = malloc(c * 4), *wrm = copy_floats(in.rmean, c), *wrv = copy_floats(in.rvar, c);
  float *gotc = malloc(c * 4);

  CHECK_OK(clgan_bn_forward_train(dev, &sh, &y, &mean, &invstd, &rm, &rv, &x, &gamma, &beta));
  clgan_ref_bn_forward_train(&sh, want, wmean, winv, wrm, wrv, in.x, in.gamma, in.beta);
  download(dev, &y, got, total);
  snprintf(what, sizeof what, "bn train forward y %s", tag);
  CHECK_CLOSE(what, got, want, total, 2e-5, 2e-5);
  download(dev, &mean, gotc, c);
  snprintf(what, sizeof what, "bn mean %s", tag);
  CHECK_CLOSE(what, gotc, wmean, c, 1e-5, 1e-5);
  download(dev, &invstd, gotc, c);
  snprintf(what, sizeof what, "bn invstd %s", tag);
  CHECK_CLOSE(what, gotc, winv, c, 1e-5, 1e-5);
  download(dev, &rm, gotc, c);
  snprintf(what, sizeof what, "bn running_mean %s", tag);
  CHECK_CLOSE(what, gotc, wrm, c, 1e-5, 1e-5);
  download(dev, &rv, gotc, c);
  snprintf(what, sizeof what, "bn running_var %s", tag);
  CHECK_CLOSE(what, gotc, wrv, c, 1e-5, 1e-5);

  /* PyTorch's convention, derived here: biased variance normalises, the unbiased one enters the
   * running estimate with weight momentum. */
  {
    double m = (double)sh.n * sh.s;
    float *pm = malloc(c * 4), *pv = malloc(c * 4), *py = malloc(total * 4);
    for (size_t ch = 0; ch < c; ch++) {
      double s1 = 0, s2 = 0;
      for (size_t i = 0; i < total; i++)
        if ((i / (size_t)sh.s) % c == ch) s1 += in.x[i], s2 += (double)in.x[i] * in.x[i];
      double mu = s1 / m, var = s2 / m - mu * mu;
      pm[ch] = (float)((1 - sh.momentum) * in.rmean[ch] + sh.momentum * mu);
      pv[ch] = (float)((1 - sh.momentum) * in.rvar[ch] + sh.momentum * var * m / (m - 1));
      for (size_t i = 0; i < total; i++)
        if ((i / (size_t)sh.s) % c == ch)
          py[i] = (float)(in.gamma[ch] * (in.x[i] - mu) / sqrt(var + sh.eps) + in.beta[ch]);
    }
    snprintf(what, sizeof what, "bn running_mean vs torch convention %s", tag);
    CHECK_CLOSE(what, wrm, pm, c, 1e-5, 1e-5);
    snprintf(what, sizeof what, "bn running_var vs torch convention %s", tag);
    CHECK_CLOSE(what, wrv, pv, c, 1e-5, 1e-5);
    snprintf(what, sizeof what, "bn y vs closed form %s", tag);
    CHECK_CLOSE(what, want, py, total, 1e-4, 1e-4);
    free(pm), free(pv), free(py);
  }

  /* Eval mode with the updated running statistics (wrm, wrv agree with the device's). */
  CHECK_OK(clgan_bn_forward_eval(dev, &sh, &y, &rm, &rv, &x, &gamma, &beta));
  clgan_ref_bn_forward_eval(&sh, want, wrm, wrv, in.x, in.gamma, in.beta);
  download(dev, &y, got, total);
  snprintf(what, sizeof what, "bn eval forward %s", tag);
  CHECK_CLOSE(what, got, want, total, 2e-5, 2e-5);

  /* Backward from the saved statistics of the training forward. */
  float *w = rand_floats(total, -1, 1), *dg = rand_floats(c, -1, 1), *db = rand_floats(c, -1, 1);
  float *wdg = copy_floats(dg, c), *wdb = copy_floats(db, c);
  clgan_buffer dy = upload(dev, w, total), dx = upload(dev, NULL, total);
  clgan_buffer dgamma = upload(dev, dg, c), dbeta = upload(dev, db, c);
  for (int acc = 1; acc >= 0; acc--) {
    CHECK_OK(clgan_bn_backward(dev, &sh, &dx, &dgamma, &dbeta, &dy, &x, &mean, &invstd, &gamma,
                               acc));
    clgan_ref_bn_backward(&sh, want, wdg, wdb, w, in.x, wmean, winv, in.gamma, acc);
    download(dev, &dx, got, total);
    snprintf(what, sizeof what, "bn backward dx %s accumulate=%d", tag, acc);
    CHECK_CLOSE(what, got, want, total, 1e-5, 1e-4);
    download(dev, &dgamma, dg, c);
    snprintf(what, sizeof what, "bn backward dgamma %s accumulate=%d", tag, acc);
    CHECK_CLOSE(what, dg, wdg, c, 1e-4, 1e-4);
    download(dev, &dbeta, db, c);
    snprintf(what, sizeof what, "bn backward dbeta %s accumulate=%d", tag, acc);
    CHECK_CLOSE(what, db, wdb, c, 1e-4, 1e-4);
  }

  if (fd) { /* dx, dgamma, dbeta (overwritten above, accumulate = 0) vs central differences */
    download(dev, &dx, got, total);
    float *fdx = malloc(total * 4), *fdg = malloc(c * 4), *fdb = malloc(c * 4);
    for (size_t i = 0; i < total; i++) fdx[i] = fd_at(&sh, w, &in, in.x, i, 1e-2);
    for (size_t ch = 0; ch < c; ch++) {
      fdg[ch] = fd_at(&sh, w, &in, in.gamma, ch, 1e-2);
      fdb[ch] = fd_at(&sh, w, &in, in.beta, ch, 1e-2);
    }
    snprintf(what, sizeof what, "bn dx vs finite differences %s", tag);
    CHECK_CLOSE(what, got, fdx, total, 5e-4, 2e-3);
    snprintf(what, sizeof what, "bn dgamma vs finite differences %s", tag);
    CHECK_CLOSE(what, dg, fdg, c, 5e-4, 2e-3);
    snprintf(what, sizeof what, "bn dbeta vs finite differences %s", tag);
    CHECK_CLOSE(what, db, fdb, c, 5e-4, 2e-3);
    free(fdx), free(fdg), free(fdb);
  }

  clgan_buffer bufs[] = {x, gamma, beta, rm, rv, y, mean, invstd, dy, dx, dgamma, dbeta};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) clgan_buffer_free(&bufs[i]);
  free(got), free(want), free(wmean), free(winv), free(wrm), free(wrv), free(gotc);
  free(w), free(dg), free(db), free(wdg), free(wdb);
  free_inputs(&in);
}

int main(void) {
  clgan_device *dev = test_open_device();
  check_shape(dev, (clgan_bn_shape){3, 5, 1, 1e-5f, 0.1f}, 1);
  check_shape(dev, (clgan_bn_shape){3, 5, 4, 1e-5f, 0.1f}, 1);
  check_shape(dev, (clgan_bn_shape){2, 1, 1, 1e-5f, 0.2f}, 1);
  check_shape(dev, (clgan_bn_shape){7, 3, 13, 1e-3f, 1.0f}, 0);
  check_shape(dev, (clgan_bn_shape){128, 257, 1, 1e-5f, 0.1f}, 0);
  check_shape(dev, (clgan_bn_shape){64, 32, 49, 1e-5f, 0.1f}, 0);

  clgan_buffer b = upload(dev, NULL, 64);
  clgan_bn_shape one = {1, 4, 1, 1e-5f, 0.1f};
  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_bn_forward_train(dev, &one, &b, &b, &b, &b, &b, &b, &b, &b) ==
            CLGAN_INVALID_ARGUMENT,
        "training with one value per channel is refused, as in PyTorch");
  clgan_bn_shape big = {4, 5, 4, 1e-5f, 0.1f};
  CHECK(clgan_bn_forward_eval(dev, &big, &b, &b, &b, &b, &b, &b) == CLGAN_INVALID_ARGUMENT,
        "a buffer too small is refused");
  clgan_set_log(NULL, NULL);
  clgan_buffer_free(&b);
  clgan_device_close(dev);
  return test_finish();
}
