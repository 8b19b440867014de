/* Bias: the refusals. Forward and backward against the C reference and the finite differences
 * are rows of tests/test_ops.c. */
#include "ops_testutil.h"

int main(void) {
  clgan_device *dev = test_open_device();
  clgan_buffer small = {0};
  CHECK_OK(clgan_buffer_alloc(dev, &small, 4 * sizeof(float)));
  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_bias_forward(dev, &small, &small, 2, 3) == CLGAN_INVALID_ARGUMENT,
        "a y buffer too small is refused");
  CHECK(clgan_bias_backward(dev, &small, &small, -1, 3, 0) == CLGAN_INVALID_ARGUMENT,
        "negative rows are refused");
  clgan_set_log(NULL, NULL);
  clgan_buffer_free(&small);
  clgan_device_close(dev);
  return test_finish();
}
