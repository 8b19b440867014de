/* Activations against the C reference (every kind, odd sizes, in place), and the device backward
 * against central differences of the reference forward. Inputs stay away from the kinks of
 * ReLU and leaky ReLU at 0, where the derivative is not defined. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

static const char *act_names[] = {"identity", "relu", "lrelu", "tanh", "sigmoid"};

static void check_act(clgan_device *dev, clgan_act act, float param, int n) {
  size_t un = (size_t)n;
  float *x = rand_floats(un, -4, 4), *dy = rand_floats(un, -1, 1);
  for (size_t i = 0; i < un; i++) /* keep |x| >= 0.05: no finite difference across a kink */
    if (fabsf(x[i]) < 0.05f) x[i] = copysignf(0.05f + fabsf(x[i]), x[i]);
  float *y = malloc(un * 4), *ywant = malloc(un * 4);
  float *dx = malloc(un * 4), *dxwant = malloc(un * 4);
  clgan_buffer xd = upload(dev, x, un), yd = upload(dev, NULL, un), dyd = upload(dev, dy, un);
  clgan_buffer dxd = upload(dev, NULL, un);
  char what[128];

  CHECK_OK(clgan_act_forward(dev, act, param, &yd, &xd, n));
  download(dev, &yd, y, un);
  clgan_ref_act_forward(act, param, ywant, x, n);
  snprintf(what, sizeof what, "%s forward n=%d", act_names[act], n);
  CHECK_CLOSE(what, y, ywant, un, 1e-6, 1e-5);

  CHECK_OK(clgan_act_backward(dev, act, param, &dxd, &dyd, &xd, &yd, n));
  download(dev, &dxd, dx, un);
  clgan_ref_act_backward(act, param, dxwant, dy, x, y, n);
  snprintf(what, sizeof what, "%s backward n=%d", act_names[act], n);
  CHECK_CLOSE(what, dx, dxwant, un, 1e-6, 1e-5);

  /* Central differences, with the step actually taken after rounding to float. */
  float *fd = malloc(un * 4);
  for (size_t i = 0; i < un; i++) {
    float xp = (float)(x[i] + 1e-3), xm = (float)(x[i] - 1e-3), yp, ym;
    clgan_ref_act_forward(act, param, &yp, &xp, 1);
    clgan_ref_act_forward(act, param, &ym, &xm, 1);
    fd[i] = (float)((double)dy[i] * ((double)yp - ym) / ((double)xp - xm));
  }
  snprintf(what, sizeof what, "%s backward vs finite differences n=%d", act_names[act], n);
  CHECK_CLOSE(what, dx, fd, un, 1e-4, 1e-3);

  /* In place: y = act(y), dy = dy * act'(.) overwriting dy. */
  CHECK_OK(clgan_act_forward(dev, act, param, &xd, &xd, n));
  download(dev, &xd, y, un);
  snprintf(what, sizeof what, "%s forward in place n=%d", act_names[act], n);
  CHECK_CLOSE(what, y, ywant, un, 1e-6, 1e-5);
  clgan_buffer_write(dev, &xd, 0, un * 4, x);
  CHECK_OK(clgan_act_backward(dev, act, param, &dyd, &dyd, &xd, &yd, n));
  download(dev, &dyd, dx, un);
  snprintf(what, sizeof what, "%s backward in place n=%d", act_names[act], n);
  CHECK_CLOSE(what, dx, dxwant, un, 1e-6, 1e-5);

  clgan_buffer_free(&xd), clgan_buffer_free(&yd), clgan_buffer_free(&dyd), clgan_buffer_free(&dxd);
  free(x), free(dy), free(y), free(ywant), free(dx), free(dxwant), free(fd);
}

int main(void) {
  clgan_device *dev = test_open_device();
  static const int sizes[] = {1, 7, 1000, 4099};
  for (int a = CLGAN_ACT_IDENTITY; a <= CLGAN_ACT_SIGMOID; a++)
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
      check_act(dev, (clgan_act)a, a == CLGAN_ACT_LRELU ? 0.2f : 0.0f, sizes[s]);

  /* Saturation: sigmoid and tanh stay finite and exact at the extremes. */
  float big[4] = {-100.0f, 100.0f, -30.0f, 30.0f}, out[4];
  clgan_buffer bd = upload(dev, big, 4);
  CHECK_OK(clgan_act_forward(dev, CLGAN_ACT_SIGMOID, 0, &bd, &bd, 4));
  download(dev, &bd, out, 4);
  CHECK(out[0] >= 0.0f && out[0] < 1e-40f && out[1] == 1.0f && out[2] > 0.0f && out[3] == 1.0f,
        "sigmoid saturates cleanly: %g %g %g %g", out[0], out[1], out[2], out[3]);
  clgan_buffer_free(&bd);

  /* NaN goes through every activation as NaN (torch.relu(nan) is nan): a NaN that a ReLU
   * turned into 0 would hide a broken input from the checks downstream (clgan eval's). */
  for (int a = CLGAN_ACT_IDENTITY; a <= CLGAN_ACT_SIGMOID; a++) {
    float nan_in[2] = {NAN, -NAN}, nan_out[2], nan_ref[2];
    clgan_buffer nd = upload(dev, nan_in, 2);
    CHECK_OK(clgan_act_forward(dev, (clgan_act)a, 0.2f, &nd, &nd, 2));
    download(dev, &nd, nan_out, 2);
    clgan_ref_act_forward((clgan_act)a, 0.2f, nan_ref, nan_in, 2);
    CHECK(isnan(nan_out[0]) && isnan(nan_out[1]) && isnan(nan_ref[0]) && isnan(nan_ref[1]),
          "%s(nan) is nan: device %g %g, reference %g %g", act_names[a], nan_out[0], nan_out[1],
          nan_ref[0], nan_ref[1]);
    clgan_buffer_free(&nd);
  }

  clgan_buffer small = upload(dev, NULL, 4);
  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_act_forward(dev, (clgan_act)9, 0, &small, &small, 4) == CLGAN_INVALID_ARGUMENT,
        "an unknown activation is refused");
  CHECK(clgan_act_backward(dev, CLGAN_ACT_RELU, 0, &small, &small, NULL, &small, 4) ==
            CLGAN_INVALID_ARGUMENT,
        "relu backward without x is refused");
  clgan_set_log(NULL, NULL);
  CHECK_OK(clgan_act_backward(dev, CLGAN_ACT_TANH, 0, &small, &small, NULL, &small, 4));
  clgan_buffer_free(&small);
  clgan_device_close(dev);
  return test_finish();
}
