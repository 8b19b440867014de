/* The GEMMs of one training step, for `clgan tune --model`: a trainer on blank images runs one
 * step while the device records every clgan_gemm call's shape. */
#include "clgan/gan.h"

clgan_status clgan_train_gemm_shapes(clgan_device *dev, const clgan_train_cfg *cfg,
                                     clgan_tune_shape *shapes, int max, int *count) {
  *count = 0;
  clgan_train_data data = {.count = cfg->batch, .rows = 28, .cols = 28};
  clgan_trainer *t = NULL;
  int dropped = 0;
  clgan_status st = clgan_buffer_alloc(dev, &data.images, (size_t)cfg->batch * 28 * 28);
  if (st == CLGAN_OK) st = clgan_buffer_zero(dev, &data.images);
  if (st == CLGAN_OK) st = clgan_trainer_create(&t, dev, cfg, &data);
  if (st == CLGAN_OK) {
    clgan_gemm_record(dev, shapes, max, count, &dropped);
    st = clgan_trainer_step(t);
    clgan_gemm_record(dev, NULL, 0, NULL, NULL);
  }
  /* Reading the metrics waits for the step, so a failure of its kernels is reported here. */
  clgan_metrics m;
  if (st == CLGAN_OK) st = clgan_trainer_metrics(t, &m);
  if (st == CLGAN_OK && dropped) {
    clgan_error("%s: a step of this model runs more than %d distinct GEMM shapes",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), max);
    st = CLGAN_INVALID_ARGUMENT;
  }
  clgan_trainer_free(t);
  clgan_buffer_free(&data.images);
  return st;
}
