/* BCE from logits against the C reference (targets 1, 0, 0.9, sign +1 and -1, odd sizes,
 * optional outputs), dz against central differences of the reference loss, and stability at
 * |z| = 80 and 100 against the closed form. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

static void check_cfg(clgan_device *dev, clgan_bce_cfg cfg, int n) {
  size_t un = (size_t)n;
  float *z = rand_floats(un, -8, 8);
  float *dz = malloc(un * 4), *loss = malloc(un * 4), *prob = malloc(un * 4);
  float *wdz = malloc(un * 4), *wloss = malloc(un * 4), *wprob = malloc(un * 4);
  clgan_buffer zd = upload(dev, z, un), dzd = upload(dev, NULL, un);
  clgan_buffer ld = upload(dev, NULL, un), pd = upload(dev, NULL, un);
  char tag[96], what[160];
  snprintf(tag, sizeof tag, "t=%g scale=%g sign=%g n=%d", (double)cfg.target, (double)cfg.scale,
           (double)cfg.sign, n);

  CHECK_OK(clgan_bce_logits(dev, &cfg, &dzd, &ld, &pd, &zd, n));
  clgan_ref_bce_logits(&cfg, wdz, wloss, wprob, z, n);
  download(dev, &dzd, dz, un), download(dev, &ld, loss, un), download(dev, &pd, prob, un);
  snprintf(what, sizeof what, "bce dz %s", tag);
  CHECK_CLOSE(what, dz, wdz, un, 1e-7 * fabs(cfg.scale), 1e-5);
  snprintf(what, sizeof what, "bce loss %s", tag);
  CHECK_CLOSE(what, loss, wloss, un, 1e-6, 1e-5);
  snprintf(what, sizeof what, "bce prob %s", tag);
  CHECK_CLOSE(what, prob, wprob, un, 1e-7, 1e-5);

  /* dz = scale * d(loss)/dz, loss carrying the sign: central differences on the reference. */
  float *fd = malloc(un * 4);
  for (size_t i = 0; i < un; i++) {
    float zp = (float)(z[i] + 1e-2), zm = (float)(z[i] - 1e-2), lp, lm;
    clgan_ref_bce_logits(&cfg, NULL, &lp, NULL, &zp, 1);
    clgan_ref_bce_logits(&cfg, NULL, &lm, NULL, &zm, 1);
    fd[i] = (float)(cfg.scale * ((double)lp - lm) / ((double)zp - zm));
  }
  snprintf(what, sizeof what, "bce dz vs finite differences %s", tag);
  CHECK_CLOSE(what, dz, fd, un, 1e-4 * fabs(cfg.scale), 1e-3);

  /* Metrics only (dz NULL), then dz only: the outputs not asked for stay untouched. */
  clgan_buffer_zero(dev, &pd);
  CHECK_OK(clgan_bce_logits(dev, &cfg, NULL, &ld, &pd, &zd, n));
  download(dev, &pd, prob, un);
  snprintf(what, sizeof what, "bce prob without dz %s", tag);
  CHECK_CLOSE(what, prob, wprob, un, 1e-7, 1e-5);
  clgan_buffer_zero(dev, &pd);
  clgan_buffer_zero(dev, &dzd);
  CHECK_OK(clgan_bce_logits(dev, &cfg, &dzd, NULL, NULL, &zd, n));
  download(dev, &dzd, dz, un), download(dev, &pd, prob, un);
  snprintf(what, sizeof what, "bce dz alone %s", tag);
  CHECK_CLOSE(what, dz, wdz, un, 1e-7 * fabs(cfg.scale), 1e-5);
  int untouched = 1;
  for (size_t i = 0; i < un; i++) untouched &= prob[i] == 0.0f;
  CHECK(untouched, "bce with prob NULL writes no prob (%s)", tag);

  clgan_buffer_free(&zd), clgan_buffer_free(&dzd), clgan_buffer_free(&ld), clgan_buffer_free(&pd);
  free(z), free(dz), free(loss), free(prob), free(wdz), free(wloss), free(wprob), free(fd);
}

/* Logits far out in the tails: finite loss and the right gradient, from the closed form
 * loss = max(z,0) - z t + log(1 + exp(-|z|)), in long double. */
static void check_extremes(clgan_device *dev, clgan_bce_cfg cfg) {
  float z[] = {80, -80, 100, -100, 0, 20, -20};
  enum { N = sizeof z / sizeof z[0] };
  float dz[N], loss[N], prob[N], wdz[N], wloss[N], wprob[N];
  for (int i = 0; i < N; i++) {
    long double v = z[i], e = expl(-fabsl(v));
    long double p = v >= 0 ? 1 / (1 + e) : e / (1 + e);
    wprob[i] = (float)p;
    wdz[i] = (float)(cfg.sign * cfg.scale * (p - cfg.target));
    wloss[i] = (float)(cfg.sign * ((v > 0 ? v : 0) - v * cfg.target + log1pl(e)));
  }
  clgan_buffer zd = upload(dev, z, N), dzd = upload(dev, NULL, N);
  clgan_buffer ld = upload(dev, NULL, N), pd = upload(dev, NULL, N);
  CHECK_OK(clgan_bce_logits(dev, &cfg, &dzd, &ld, &pd, &zd, N));
  download(dev, &dzd, dz, N), download(dev, &ld, loss, N), download(dev, &pd, prob, N);
  int finite = 1;
  for (int i = 0; i < N; i++) finite &= isfinite(dz[i]) && isfinite(loss[i]) && isfinite(prob[i]);
  CHECK(finite, "bce outputs finite at |z| up to 100 (t=%g sign=%g)", (double)cfg.target,
        (double)cfg.sign);
  char what[96];
  snprintf(what, sizeof what, "bce extreme dz t=%g sign=%g", (double)cfg.target, (double)cfg.sign);
  CHECK_CLOSE(what, dz, wdz, N, 1e-7, 1e-5);
  snprintf(what, sizeof what, "bce extreme loss t=%g sign=%g", (double)cfg.target,
           (double)cfg.sign);
  CHECK_CLOSE(what, loss, wloss, N, 1e-6, 1e-5);
  snprintf(what, sizeof what, "bce extreme prob t=%g sign=%g", (double)cfg.target,
           (double)cfg.sign);
  CHECK_CLOSE(what, prob, wprob, N, 1e-30, 1e-5);
  clgan_buffer_free(&zd), clgan_buffer_free(&dzd), clgan_buffer_free(&ld), clgan_buffer_free(&pd);
}

int main(void) {
  clgan_device *dev = test_open_device();
  static const int sizes[] = {1, 7, 1000, 4099};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    int n = sizes[s];
    float inv = 1.0f / (float)n;
    check_cfg(dev, (clgan_bce_cfg){1.0f, inv, 1.0f}, n);  /* D on real */
    check_cfg(dev, (clgan_bce_cfg){0.0f, inv, 1.0f}, n);  /* D on fake */
    check_cfg(dev, (clgan_bce_cfg){0.0f, inv, -1.0f}, n); /* minimax G */
    check_cfg(dev, (clgan_bce_cfg){0.9f, inv, 1.0f}, n);  /* one-sided label smoothing */
    check_cfg(dev, (clgan_bce_cfg){0.9f, 1.0f, -1.0f}, n);
  }
  check_extremes(dev, (clgan_bce_cfg){1.0f, 1.0f, 1.0f});
  check_extremes(dev, (clgan_bce_cfg){0.0f, 1.0f, 1.0f});
  check_extremes(dev, (clgan_bce_cfg){0.0f, 0.5f, -1.0f});
  check_extremes(dev, (clgan_bce_cfg){0.9f, 1.0f, 1.0f});

  clgan_buffer b = upload(dev, NULL, 4);
  clgan_bce_cfg cfg = {1, 1, 1};
  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_bce_logits(dev, &cfg, &b, &b, &b, &b, 8) == CLGAN_INVALID_ARGUMENT,
        "buffers too small are refused");
  clgan_set_log(NULL, NULL);
  clgan_buffer_free(&b);
  clgan_device_close(dev);
  return test_finish();
}
