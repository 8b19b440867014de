/* Activations at their extremes: saturation, NaN propagation, refusals. Every kind against the
 * C reference (odd sizes, in place) and against finite differences is a row of tests/test_ops.c. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"


int main(void) {
  clgan_device *dev = test_open_device();
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
          "%s(nan) is nan: device %g %g, reference %g %g", clgan_act_name((clgan_act)a),
          nan_out[0], nan_out[1], nan_ref[0], nan_ref[1]);
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
