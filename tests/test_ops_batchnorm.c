/* Batch norm: the reference's running statistics and output against PyTorch's convention,
 * computed here independently, and the refusals. The device against the reference (training
 * and eval forward, running statistics, backward with accumulate on and off) and the backward
 * against central differences are rows of tests/test_ops.c. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

/* PyTorch's convention, derived here: biased variance normalises, the unbiased one enters the
 * running estimate with weight momentum. */
static void check_torch_convention(clgan_bn_shape sh) {
  size_t total = (size_t)sh.n * sh.c * sh.s, c = (size_t)sh.c;
  float *x = rand_floats(total, -2, 2), *gamma = rand_floats(c, 0.5f, 1.5f);
  float *beta = rand_floats(c, -1, 1), *rmean = rand_floats(c, -0.5f, 0.5f);
  float *rvar = rand_floats(c, 0.5f, 2.0f);
  for (size_t i = 0; i < total; i++) { /* channels with their own offset and scale */
    size_t ch = (i / (size_t)sh.s) % c;
    x[i] = x[i] * (1.0f + (float)ch * 0.5f) + (float)ch - 2.0f;
  }
  float *want = malloc(total * 4), *wmean = malloc(c * 4), *winv = malloc(c * 4);
  float *wrm = copy_floats(rmean, c), *wrv = copy_floats(rvar, c);
  clgan_ref_bn_forward_train(&sh, want, wmean, winv, wrm, wrv, x, gamma, beta);

  char tag[64], what[160];
  snprintf(tag, sizeof tag, "(N=%d C=%d S=%d)", sh.n, sh.c, sh.s);
  double m = (double)sh.n * sh.s;
  float *pm = malloc(c * 4), *pv = malloc(c * 4), *py = malloc(total * 4);
  for (size_t ch = 0; ch < c; ch++) {
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < total; i++)
      if ((i / (size_t)sh.s) % c == ch) s1 += x[i], s2 += (double)x[i] * x[i];
    double mu = s1 / m, var = s2 / m - mu * mu;
    pm[ch] = (float)((1 - sh.momentum) * rmean[ch] + sh.momentum * mu);
    pv[ch] = (float)((1 - sh.momentum) * rvar[ch] + sh.momentum * var * m / (m - 1));
    for (size_t i = 0; i < total; i++)
      if ((i / (size_t)sh.s) % c == ch)
        py[i] = (float)(gamma[ch] * (x[i] - mu) / sqrt(var + sh.eps) + beta[ch]);
  }
  snprintf(what, sizeof what, "bn running_mean vs torch convention %s", tag);
  CHECK_CLOSE(what, wrm, pm, c, 1e-5, 1e-5);
  snprintf(what, sizeof what, "bn running_var vs torch convention %s", tag);
  CHECK_CLOSE(what, wrv, pv, c, 1e-5, 1e-5);
  snprintf(what, sizeof what, "bn y vs closed form %s", tag);
  CHECK_CLOSE(what, want, py, total, 1e-4, 1e-4);
  free(pm), free(pv), free(py);
  free(x), free(gamma), free(beta), free(rmean), free(rvar);
  free(want), free(wmean), free(winv), free(wrm), free(wrv);
}

int main(void) {
  clgan_device *dev = test_open_device();
  check_torch_convention((clgan_bn_shape){3, 5, 1, 1e-5f, 0.1f});
  check_torch_convention((clgan_bn_shape){3, 5, 4, 1e-5f, 0.1f});
  check_torch_convention((clgan_bn_shape){2, 1, 1, 1e-5f, 0.2f});
  check_torch_convention((clgan_bn_shape){7, 3, 13, 1e-3f, 1.0f});
  check_torch_convention((clgan_bn_shape){128, 257, 1, 1e-5f, 0.1f});
  check_torch_convention((clgan_bn_shape){64, 32, 49, 1e-5f, 0.1f});

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
