/* Uploads a data set's images to the device once, as uint8: 60,000 Fashion-MNIST images are
 * 47 MB, a quarter of their float32 size. The gather op in src/ops/ converts batches to floats
 * in [-1, 1] on the device, so the host never touches a batch during training. */
#include <string.h>

#include "clgan/data.h"

clgan_status clgan_dataset_upload(clgan_device *dev, const clgan_dataset *ds,
                                  clgan_buffer *images) {
  memset(images, 0, sizeof *images);
  if (!dev || !ds || !ds->images || ds->count <= 0 || ds->rows <= 0 || ds->cols <= 0)
    return CLGAN_INVALID_ARGUMENT;
  size_t bytes = (size_t)ds->count * clgan_dataset_image_bytes(ds);
  clgan_status st = clgan_buffer_alloc(dev, images, bytes);
  if (st != CLGAN_OK) return st;
  st = clgan_buffer_write(dev, images, 0, bytes, ds->images);
  if (st != CLGAN_OK) clgan_buffer_free(images);
  return st;
}
