/* The batch-norm layers: over dense features (nn.BatchNorm1d, S = 1 in the ops' layout) and per
 * channel of an image (nn.BatchNorm2d, S = H*W). */
#include "nn/layers.h"

clgan_status clgan_bn_layer_forward(clgan_device *dev, clgan_layer *l, const clgan_buffer *x,
                                    int batch, int train) {
  clgan_bn_shape sh = {.n = batch, .c = l->out_c, .s = l->out_h * l->out_w, .eps = l->spec.eps,
                       .momentum = l->spec.param};
  if (!train)
    return clgan_bn_forward_eval(dev, &sh, &l->y, &l->running_mean, &l->running_var, x, &l->w,
                                 &l->b);
  l->bn_batches++;
  return clgan_bn_forward_train(dev, &sh, &l->y, &l->mean, &l->invstd, &l->running_mean,
                                &l->running_var, x, &l->w, &l->b);
}

clgan_status clgan_bn_layer_backward(clgan_device *dev, clgan_layer *l, const clgan_buffer *dy,
                                     const clgan_buffer *x, int batch, int param_grads,
                                     int accumulate) {
  clgan_bn_shape sh = {.n = batch, .c = l->out_c, .s = l->out_h * l->out_w, .eps = l->spec.eps,
                       .momentum = l->spec.param};
  return clgan_bn_backward(dev, &sh, &l->dx, param_grads ? &l->dw : NULL,
                           param_grads ? &l->db : NULL, dy, x, &l->mean, &l->invstd, &l->w,
                           accumulate);
}
