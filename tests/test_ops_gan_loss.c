/* Critic losses (Wasserstein, hinge, least squares) and the WGAN-GP ops (interpolation,
 * gradient penalty): the references against closed forms written out here, the hinge's kink
 * and a zero input gradient, in-place and optional outputs, refused arguments. The device
 * against the references and every gradient against central differences are rows of
 * tests/test_ops.c. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

/* Labels for messages, from the table the kernels' preamble is generated from. */
static const char *kind_name(clgan_critic_kind k) {
  static const char *const names[] = {
#define X(e, name) name,
      CLGAN_CRITIC_TABLE(X)
#undef X
  };
  return (unsigned)k < CLGAN_CRITIC_COUNT ? names[k] : "?";
}

/* The loss terms as the papers write them, in double. */
static double closed_form(const clgan_critic_loss_cfg *cfg, double d) {
  switch (cfg->kind) {
    case CLGAN_CRITIC_WASSERSTEIN: return cfg->sign * d;
    case CLGAN_CRITIC_HINGE: return fmax(0.0, 1.0 + cfg->sign * d);
    default: return 0.5 * (d - cfg->target) * (d - cfg->target);
  }
}

/* The reference against the closed form, and dd alone; both outputs against the reference
 * and dd against finite differences are rows of tests/test_ops.c. */
static void check_critic(clgan_device *dev, clgan_critic_loss_cfg cfg, int n) {
  size_t un = (size_t)n;
  float *d = rand_floats(un, -3, 3);
  /* Clear of the hinge's kink (1 + sign d = 0), which check_hinge_kink tests on its own. */
  if (cfg.kind == CLGAN_CRITIC_HINGE)
    for (size_t i = 0; i < un; i++)
      if (fabs(1.0 + cfg.sign * d[i]) < 0.05) d[i] += 0.1f;
  float *dd = malloc(un * 4), *loss = malloc(un * 4), *wdd = malloc(un * 4);
  float *wloss = malloc(un * 4), *cf = malloc(un * 4);
  clgan_buffer d_d = upload(dev, d, un), ddd = upload(dev, NULL, un), ld = upload(dev, NULL, un);
  char tag[96], what[160];
  snprintf(tag, sizeof tag, "%s sign=%g target=%g scale=%g n=%d", kind_name(cfg.kind),
           (double)cfg.sign, (double)cfg.target, (double)cfg.scale, n);

  clgan_ref_critic_loss(&cfg, wdd, wloss, d, n);

  for (size_t i = 0; i < un; i++) cf[i] = (float)closed_form(&cfg, d[i]);
  snprintf(what, sizeof what, "critic reference loss vs closed form %s", tag);
  CHECK_CLOSE(what, wloss, cf, un, 1e-6, 1e-6);

  /* One output at a time: the other stays untouched. */
  CHECK_OK(clgan_fill(dev, &ld, n, 5.0f));
  CHECK_OK(clgan_critic_loss(dev, &cfg, &ddd, NULL, &d_d, n));
  download(dev, &ld, loss, un), download(dev, &ddd, dd, un);
  int untouched = 1;
  for (size_t i = 0; i < un; i++) untouched &= loss[i] == 5.0f;
  CHECK(untouched, "critic loss NULL leaves loss alone (%s)", tag);
  snprintf(what, sizeof what, "critic dd alone %s", tag);
  CHECK_CLOSE(what, dd, wdd, un, 1e-7 * fabs(cfg.scale), 1e-6);

  clgan_buffer_free(&d_d), clgan_buffer_free(&ddd), clgan_buffer_free(&ld);
  free(d), free(dd), free(loss), free(wdd), free(wloss), free(cf);
}

/* At the kink (1 + sign d = 0) the hinge's loss and gradient are 0, as torch.relu's. */
static void check_hinge_kink(clgan_device *dev) {
  float d[2] = {1.0f, -1.0f}, dd[2], loss[2];
  clgan_buffer d_d = upload(dev, d, 2), ddd = upload(dev, NULL, 2), ld = upload(dev, NULL, 2);
  clgan_critic_loss_cfg real = {CLGAN_CRITIC_HINGE, -1.0f, 0.0f, 0.5f};
  clgan_critic_loss_cfg fake = {CLGAN_CRITIC_HINGE, 1.0f, 0.0f, 0.5f};
  CHECK_OK(clgan_critic_loss(dev, &real, &ddd, &ld, &d_d, 1));
  download(dev, &ddd, dd, 1), download(dev, &ld, loss, 1);
  CHECK(dd[0] == 0.0f && loss[0] == 0.0f, "hinge on real at d = 1: dd %g loss %g", (double)dd[0],
        (double)loss[0]);
  clgan_buffer_write(dev, &d_d, 0, 4, &d[1]);
  CHECK_OK(clgan_critic_loss(dev, &fake, &ddd, &ld, &d_d, 1));
  download(dev, &ddd, dd, 1), download(dev, &ld, loss, 1);
  CHECK(dd[0] == 0.0f && loss[0] == 0.0f, "hinge on fake at d = -1: dd %g loss %g",
        (double)dd[0], (double)loss[0]);
  clgan_buffer_free(&d_d), clgan_buffer_free(&ddd), clgan_buffer_free(&ld);
}

/* Between real and fake from device-drawn eps, and exact at eps 0 and 1; against the reference
 * it is a row of tests/test_ops.c. */
static void check_interpolate(clgan_device *dev, int batch, int dim) {
  size_t n = (size_t)batch * dim, ub = (size_t)batch;
  float *real = rand_floats(n, -1, 1), *fake = rand_floats(n, -1, 1);
  float *eps = malloc(ub * 4), *got = malloc(n * 4);
  clgan_buffer rd = upload(dev, real, n), fk = upload(dev, fake, n), ed = upload(dev, NULL, ub);
  clgan_buffer xd = upload(dev, NULL, n);
  CHECK_OK(clgan_rand_uniform(dev, &ed, batch, 0.0f, 1.0f, 42, 7, 3));
  CHECK_OK(clgan_gp_interpolate(dev, &xd, &rd, &fk, &ed, batch, dim));
  download(dev, &xd, got, n);
  int between = 1;
  for (size_t i = 0; i < n; i++) {
    double lo = fmin(real[i], fake[i]) - 1e-6, hi = fmax(real[i], fake[i]) + 1e-6;
    between &= got[i] >= lo && got[i] <= hi;
  }
  CHECK(between, "gp interpolate stays between real and fake (batch=%d dim=%d)", batch, dim);
  /* eps = 1 gives the real row, eps = 0 the fake one, exactly. */
  for (size_t b = 0; b < ub; b++) eps[b] = (float)(b % 2);
  clgan_buffer_write(dev, &ed, 0, ub * 4, eps);
  CHECK_OK(clgan_gp_interpolate(dev, &xd, &rd, &fk, &ed, batch, dim));
  download(dev, &xd, got, n);
  int exact = 1;
  for (size_t i = 0; i < n; i++) exact &= got[i] == ((i / (size_t)dim) % 2 ? real[i] : fake[i]);
  CHECK(exact, "gp interpolate at eps 0 and 1 is fake and real (batch=%d dim=%d)", batch, dim);
  clgan_buffer_free(&rd), clgan_buffer_free(&fk), clgan_buffer_free(&ed), clgan_buffer_free(&xd);
  free(real), free(fake), free(eps), free(got);
}

/* The reference against closed forms, the zero row's exact values, in place and the loss
 * alone; all outputs against the reference and dg against finite differences are rows of
 * tests/test_ops.c. */
static void check_penalty(clgan_device *dev, clgan_gp_cfg cfg, int batch, int dim) {
  size_t n = (size_t)batch * dim, ub = (size_t)batch;
  /* Rows of different norms around 1, the last all zero. */
  float *g = rand_floats(n, -1, 1);
  for (size_t b = 0; b < ub; b++)
    for (size_t j = 0; j < (size_t)dim; j++)
      g[b * dim + j] *= b + 1 == ub ? 0.0f : (float)(0.3 + 0.5 * b) / sqrtf((float)dim / 3.0f);
  float *dg = malloc(n * 4), *wdg = malloc(n * 4), *loss = malloc(ub * 4), *wloss = malloc(ub * 4);
  float *norm = malloc(ub * 4), *wnorm = malloc(ub * 4), *cf = malloc(ub * 4);
  clgan_buffer gd = upload(dev, g, n), dgd = upload(dev, NULL, n);
  clgan_buffer ld = upload(dev, NULL, ub), nd = upload(dev, NULL, ub);
  char tag[96], what[160];
  snprintf(tag, sizeof tag, "lambda=%g scale=%g batch=%d dim=%d", (double)cfg.lambda,
           (double)cfg.scale, batch, dim);

  CHECK_OK(clgan_gp_penalty(dev, &cfg, &dgd, &ld, &nd, &gd, batch, dim));
  clgan_ref_gp_penalty(&cfg, wdg, wloss, wnorm, g, batch, dim);
  download(dev, &dgd, dg, n), download(dev, &ld, loss, ub), download(dev, &nd, norm, ub);

  /* Closed forms: the norm by a separate sum, loss = lambda (norm - 1)^2. */
  for (size_t b = 0; b < ub; b++) {
    long double s = 0;
    for (size_t j = 0; j < (size_t)dim; j++) s += (long double)g[b * dim + j] * g[b * dim + j];
    cf[b] = (float)sqrtl(s);
  }
  snprintf(what, sizeof what, "gp reference norm vs closed form %s", tag);
  CHECK_CLOSE(what, wnorm, cf, ub, 1e-7, 1e-6);
  for (size_t b = 0; b < ub; b++) cf[b] = (float)(cfg.lambda * (cf[b] - 1.0) * (cf[b] - 1.0));
  snprintf(what, sizeof what, "gp reference loss vs closed form %s", tag);
  CHECK_CLOSE(what, wloss, cf, ub, 1e-6 * cfg.lambda, 1e-5);
  CHECK(norm[ub - 1] == 0.0f && loss[ub - 1] == cfg.lambda, "gp zero row: norm %g loss %g (%s)",
        (double)norm[ub - 1], (double)loss[ub - 1], tag);
  int zero = 1;
  for (size_t j = 0; j < (size_t)dim; j++) zero &= dg[(ub - 1) * dim + j] == 0.0f;
  CHECK(zero, "gp zero row gets a zero gradient, not NaN (%s)", tag);

  /* In place (dg = g), and the metrics alone. */
  CHECK_OK(clgan_gp_penalty(dev, &cfg, &gd, NULL, NULL, &gd, batch, dim));
  download(dev, &gd, dg, n);
  snprintf(what, sizeof what, "gp dg in place %s", tag);
  CHECK_CLOSE(what, dg, wdg, n, 1e-6 * cfg.scale * cfg.lambda, 1e-5);
  clgan_buffer_write(dev, &gd, 0, n * 4, g);
  CHECK_OK(clgan_fill(dev, &dgd, (int)n, 9.0f));
  CHECK_OK(clgan_gp_penalty(dev, &cfg, NULL, &ld, NULL, &gd, batch, dim));
  download(dev, &ld, loss, ub), download(dev, &dgd, dg, n);
  snprintf(what, sizeof what, "gp loss alone %s", tag);
  CHECK_CLOSE(what, loss, cf, ub, 1e-6 * cfg.lambda, 1e-5);
  CHECK(dg[0] == 9.0f && dg[n - 1] == 9.0f, "gp without dg writes no dg (%s)", tag);

  clgan_buffer_free(&gd), clgan_buffer_free(&dgd), clgan_buffer_free(&ld), clgan_buffer_free(&nd);
  free(g), free(dg), free(wdg), free(loss), free(wloss), free(norm), free(wnorm), free(cf);
}

int main(void) {
  clgan_device *dev = test_open_device();
  static const int sizes[] = {1, 7, 1000, 4099};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    int n = sizes[s];
    float inv = 1.0f / (float)n;
    check_critic(dev, (clgan_critic_loss_cfg){CLGAN_CRITIC_WASSERSTEIN, -1, 0, inv}, n);
    check_critic(dev, (clgan_critic_loss_cfg){CLGAN_CRITIC_WASSERSTEIN, 1, 0, inv}, n);
    check_critic(dev, (clgan_critic_loss_cfg){CLGAN_CRITIC_HINGE, -1, 0, inv}, n);
    check_critic(dev, (clgan_critic_loss_cfg){CLGAN_CRITIC_HINGE, 1, 0, inv}, n);
    check_critic(dev, (clgan_critic_loss_cfg){CLGAN_CRITIC_LSQ, 1, 1, inv}, n);
    check_critic(dev, (clgan_critic_loss_cfg){CLGAN_CRITIC_LSQ, 1, 0, 1}, n);
  }
  check_hinge_kink(dev);
  check_interpolate(dev, 1, 1);
  check_interpolate(dev, 5, 7);
  check_interpolate(dev, 64, 784);
  check_penalty(dev, (clgan_gp_cfg){10.0f, 1.0f / 5}, 5, 7);
  check_penalty(dev, (clgan_gp_cfg){10.0f, 1.0f / 4}, 4, 784);
  check_penalty(dev, (clgan_gp_cfg){1.0f, 1.0f}, 3, 1);
  check_penalty(dev, (clgan_gp_cfg){10.0f, 1.0f / 64}, 64, 3136);

  clgan_buffer b = upload(dev, NULL, 4);
  clgan_critic_loss_cfg bad = {(clgan_critic_kind)7, 1, 0, 1};
  clgan_gp_cfg gp = {10, 1};
  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_critic_loss(dev, &bad, &b, &b, &b, 1) == CLGAN_INVALID_ARGUMENT,
        "an unknown critic loss is refused");
  CHECK(clgan_gp_penalty(dev, &gp, &b, &b, &b, &b, 2, 3) == CLGAN_INVALID_ARGUMENT,
        "gp: buffers too small are refused");
  CHECK(clgan_gp_interpolate(dev, &b, &b, &b, &b, 2, 3) == CLGAN_INVALID_ARGUMENT,
        "interpolate: buffers too small are refused");
  clgan_set_log(NULL, NULL);
  clgan_buffer_free(&b);
  clgan_device_close(dev);
  return test_finish();
}
