/* The layers a clgan_net walks: each a forward/backward pair over one clgan_layer, whose
 * buffers hold its parameters (views into the net's arena), saved statistics and activations. */
#ifndef CLGAN_NN_LAYERS_H
#define CLGAN_NN_LAYERS_H

#include "clgan/nn.h"

/* y = x W^T + b; x (batch, in), W (out, in), y (batch, out). */
clgan_status clgan_linear_forward(clgan_device *dev, clgan_layer *l, const clgan_buffer *x,
                                  int batch);
/* dW (+)= dy^T x, db (+)= sum_rows dy (when param_grads); dx = dy W (when need_dx). */
clgan_status clgan_linear_backward(clgan_device *dev, clgan_layer *l, const clgan_buffer *dy,
                                   const clgan_buffer *x, int batch, int param_grads,
                                   int accumulate, int need_dx);

/* Batch norm over features, training (batch statistics) or eval (running statistics). */
clgan_status clgan_bn_layer_forward(clgan_device *dev, clgan_layer *l, const clgan_buffer *x,
                                    int batch, int train);
clgan_status clgan_bn_layer_backward(clgan_device *dev, clgan_layer *l, const clgan_buffer *dy,
                                     const clgan_buffer *x, int batch, int param_grads,
                                     int accumulate);

#endif
