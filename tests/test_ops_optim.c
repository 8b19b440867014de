/* Optimizers: the reference against closed forms derived by hand from the torch.optim formulas:
 * Adam's first step moves each weight by lr * g / (|g| + eps), about lr * sign(g); RMSprop's
 * first step by lr * g / (sqrt(1 - alpha) |g| + eps); SGD momentum's second buffer is
 * momentum * g1 + g2; SGD's first momentum step ignores the old buffer, on the device too; and
 * refusals. The device against the reference over 1 to 5 steps (weights and every state
 * buffer) for Adam, RMSprop and SGD with and without momentum is rows of tests/test_ops.c. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

static void check_closed_forms(void) {
  enum { N = 64 };
  float w0[N], w[N], g[N], g2[N], m[N], v[N], want[N];
  test_fill_uniform(w0, N, -1, 1, &ops_rng);
  test_fill_uniform(g, N, -1, 1, &ops_rng);
  test_fill_uniform(g2, N, -1, 1, &ops_rng);
  g[0] = 1e-3f, g[1] = -1e-3f, g[2] = 1e-9f; /* small gradients, and one near eps */

  clgan_opt_cfg adam = {CLGAN_OPT_ADAM, 2e-4f, 0.5f, 0.999f, 0, 0, 1e-8f};
  memcpy(w, w0, sizeof w), memset(m, 0, sizeof m), memset(v, 0, sizeof v);
  clgan_ref_opt_step(&adam, 1, w, g, m, v, N);
  int near_lr = 1;
  for (int i = 0; i < N; i++) {
    want[i] = (float)(w0[i] - 2e-4 * g[i] / (fabs(g[i]) + 1e-8));
    double moved = (double)w0[i] - w[i], lr_sign = 2e-4 * (g[i] > 0 ? 1 : -1);
    if (fabsf(g[i]) > 1e-6f) near_lr &= fabs(moved - lr_sign) < 1e-6;
  }
  CHECK_CLOSE("adam step 1 vs w - lr g / (|g| + eps)", w, want, N, 1e-7, 1e-6);
  CHECK(near_lr, "adam's first step moves each weight by lr * sign(g)");

  clgan_opt_cfg rms = {CLGAN_OPT_RMSPROP, 5e-5f, 0, 0, 0.99f, 0, 1e-8f};
  memcpy(w, w0, sizeof w), memset(v, 0, sizeof v);
  clgan_ref_opt_step(&rms, 1, w, g, v, NULL, N);
  for (int i = 0; i < N; i++)
    want[i] = (float)(w0[i] - 5e-5 * g[i] / (sqrt(0.01) * fabs(g[i]) + 1e-8));
  CHECK_CLOSE("rmsprop step 1 vs closed form", w, want, N, 1e-7, 1e-6);

  clgan_opt_cfg sgd = {CLGAN_OPT_SGD, 0.1f, 0, 0, 0, 0.9f, 0};
  memcpy(w, w0, sizeof w), memset(m, 0, sizeof m);
  clgan_ref_opt_step(&sgd, 1, w, g, m, NULL, N);
  clgan_ref_opt_step(&sgd, 2, w, g2, m, NULL, N);
  for (int i = 0; i < N; i++) want[i] = (float)(w0[i] - 0.1 * g[i] - 0.1 * (0.9 * g[i] + g2[i]));
  CHECK_CLOSE("sgd momentum two steps vs closed form", w, want, N, 1e-6, 1e-5);

  /* torch starts the momentum buffer from the first gradient, whatever the buffer held. */
  for (int i = 0; i < N; i++) m[i] = 123.0f;
  memcpy(w, w0, sizeof w);
  clgan_ref_opt_step(&sgd, 1, w, g, m, NULL, N);
  for (int i = 0; i < N; i++) want[i] = (float)(w0[i] - 0.1 * g[i]);
  CHECK_CLOSE("sgd momentum step 1 ignores the old buffer", w, want, N, 1e-7, 1e-6);
}

int main(void) {
  check_closed_forms();
  clgan_device *dev = test_open_device();
  static const clgan_opt_cfg cfgs[] = {
      {CLGAN_OPT_ADAM, 2e-4f, 0.5f, 0.999f, 0, 0, 1e-8f},
      {CLGAN_OPT_ADAM, 1e-3f, 0.9f, 0.999f, 0, 0, 1e-6f},
      {CLGAN_OPT_RMSPROP, 5e-5f, 0, 0, 0.99f, 0, 1e-8f},
      {CLGAN_OPT_SGD, 0.01f, 0, 0, 0, 0.9f, 0},
      {CLGAN_OPT_SGD, 0.01f, 0, 0, 0, 0.0f, 0},
  };
  /* On the device too, step 1 of SGD with momentum starts the buffer from g, as torch does. */
  {
    float w8[8], g8[8], junk[8], got[8], want[8];
    test_fill_uniform(w8, 8, -1, 1, &ops_rng);
    test_fill_uniform(g8, 8, -1, 1, &ops_rng);
    for (int i = 0; i < 8; i++) junk[i] = 123.0f, want[i] = w8[i];
    clgan_buffer wd = upload(dev, w8, 8), gd = upload(dev, g8, 8), bd = upload(dev, junk, 8);
    CHECK_OK(clgan_opt_step(dev, &cfgs[3], 1, &wd, &gd, &bd, NULL, 8));
    clgan_ref_opt_step(&cfgs[3], 1, want, g8, junk, NULL, 8);
    download(dev, &wd, got, 8);
    CHECK_CLOSE("sgd momentum step 1 on the device ignores the old buffer", got, want, 8, 1e-7,
                1e-6);
    clgan_buffer_free(&wd), clgan_buffer_free(&gd), clgan_buffer_free(&bd);
  }

  clgan_buffer b = upload(dev, NULL, 8);
  clgan_opt_cfg adam = cfgs[0], sgd = cfgs[4];
  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_opt_step(dev, &adam, 0, &b, &b, &b, &b, 8) == CLGAN_INVALID_ARGUMENT,
        "t = 0 is refused (t counts from 1)");
  CHECK(clgan_opt_step(dev, &adam, 1, &b, &b, &b, NULL, 8) == CLGAN_INVALID_ARGUMENT,
        "adam without a second state buffer is refused");
  clgan_set_log(NULL, NULL);
  CHECK_OK(clgan_opt_step(dev, &sgd, 1, &b, &b, NULL, NULL, 8));
  clgan_buffer_free(&b);
  clgan_device_close(dev);
  return test_finish();
}
