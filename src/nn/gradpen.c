/* The double backward behind WGAN-GP's gradient penalty (Gulrajani et al. 2017), derived in
 * docs/wgan-gp.md: differentiating the critic's input-gradient pass is a forward sweep from the
 * input side, in which each layer's input-gradient map B(gy; W), linear in both arguments,
 * contributes dW += (dB/dW contracted with gbar_in) and passes gbar_out = B*(gbar_in) on. For a
 * linear layer those are the weight-gradient GEMM with (gy, gbar_in) and the forward GEMM; for a
 * convolution, conv2d_backward's weight gradient and conv2d_forward; for (leaky) ReLU the mask
 * of the forward pass. */
#include "nn/layers.h"

int clgan_net_check_double_backward(const clgan_net *net) {
  for (int i = 0; i < net->run_count; i++) {
    const clgan_layer *l = &net->layers[i];
    int ok = l->spec.kind == CLGAN_LAYER_LINEAR || l->spec.kind == CLGAN_LAYER_CONV ||
             clgan_layer_is_view(l) ||
             (l->spec.kind == CLGAN_LAYER_ACT &&
              (l->spec.act == CLGAN_ACT_LRELU || l->spec.act == CLGAN_ACT_RELU));
    if (!ok) return i;
  }
  return -1;
}

clgan_status clgan_net_double_backward(clgan_net *net, int batch, const clgan_buffer *x,
                                       const clgan_buffer *seed, const clgan_buffer *gbar) {
  clgan_status st = CLGAN_OK;
  if (clgan_net_check_double_backward(net) >= 0) return CLGAN_UNSUPPORTED;
  if (!net->scratch[0].mem) {
    int widest = net->in;
    for (int i = 0; i < net->count; i++)
      if (net->layers[i].out > widest) widest = net->layers[i].out;
    size_t bytes = (size_t)net->max_batch * (size_t)widest * sizeof(float);
    if ((st = clgan_buffer_alloc(net->dev, &net->scratch[0], bytes)) ||
        (st = clgan_buffer_alloc(net->dev, &net->scratch[1], bytes)))
      return st;
  }
  int last = net->run_count - 1;
  while (last > 0 && clgan_layer_is_view(&net->layers[last])) last--;
  const clgan_buffer *in = x;       /* the layer's forward input h */
  const clgan_buffer *gin = gbar;   /* dP/d(the layer's input gradient) */
  int ping = 0;
  for (int i = 0; i <= last; i++) {
    clgan_layer *l = &net->layers[i];
    if (clgan_layer_is_view(l)) continue;
    /* gy: the input-gradient pass's gradient at this layer's output. */
    const clgan_buffer *gy = seed;
    for (int j = i + 1; j < net->run_count; j++)
      if (!clgan_layer_is_view(&net->layers[j])) {
        gy = &net->layers[j].dx;
        break;
      }
    clgan_buffer *gout = &net->scratch[ping];
    int need_out = i < last;
    clgan_conv_shape sh = l->conv;
    sh.n = batch;
    if (l->spec.kind == CLGAN_LAYER_LINEAR) {
      clgan_gemm_args gw = {.trans_a = 1, .m = (size_t)l->out, .n = (size_t)l->in,
                            .k = (size_t)batch, .alpha = 1.0f, .beta = 1.0f, .a = gy,
                            .lda = (size_t)l->out, .b = gin, .ldb = (size_t)l->in, .c = &l->dw,
                            .ldc = (size_t)l->in};
      clgan_gemm_args go = {.trans_b = 1, .m = (size_t)batch, .n = (size_t)l->out,
                            .k = (size_t)l->in, .alpha = 1.0f, .beta = 0.0f, .a = gin,
                            .lda = (size_t)l->in, .b = &l->w, .ldb = (size_t)l->in, .c = gout,
                            .ldc = (size_t)l->out};
      if ((st = clgan_matmul(net->dev, &gw)) || (need_out && (st = clgan_matmul(net->dev, &go))))
        return st;
    } else if (l->spec.kind == CLGAN_LAYER_CONV) {
      if ((st = clgan_conv2d_backward(net->dev, &sh, NULL, &l->dw, NULL, gy, gin, &l->w,
                                      &net->col, 1)) ||
          (need_out &&
           (st = clgan_conv2d_forward(net->dev, &sh, gout, gin, &l->w, NULL, &net->col))))
        return st;
    } else {
      /* (leaky) ReLU: the mask of the forward input h, applied to gbar. */
      if (need_out && (st = clgan_act_backward(net->dev, l->spec.act, l->spec.param, gout, gin,
                                               in, &l->y, batch * l->out)))
        return st;
    }
    in = &l->y;
    gin = gout;
    ping ^= 1;
  }
  return CLGAN_OK;
}
