/* The batch-norm layer over dense features (PyTorch nn.BatchNorm1d), S = 1 in the ops' layout. */
#include "nn/layers.h"

clgan_status clgan_bn_layer_forward(clgan_device *dev, clgan_layer *l, const clgan_buffer *x,
                                    int batch, int train) {
  clgan_bn_shape sh = {.n = batch, .c = l->out, .s = 1, .eps = l->spec.eps,
                       .momentum = l->spec.param};
  if (!train)
    return clgan_bn_forward_eval(dev, &sh, &l->y, &l->running_mean, &l->running_var, x, &l->w,
                                 &l->b);
  l->bn_batches++;
  return clgan_bn_forward_train(dev, &sh, &l->y, &l->mean, &l->invstd, &l->running_mean,
                                &l->running_var, x, &l->w, &l->b);
}

clgan_status clgan_bn_layer_backward(clgan_device *dev, clgan_layer *l, const clgan_buffer *dy,
                                     const clgan_buffer *x, int batch, int accumulate) {
  clgan_bn_shape sh = {.n = batch, .c = l->out, .s = 1, .eps = l->spec.eps,
                       .momentum = l->spec.param};
  return clgan_bn_backward(dev, &sh, &l->dx, &l->dw, &l->db, dy, x, &l->mean, &l->invstd, &l->w,
                           accumulate);
}
