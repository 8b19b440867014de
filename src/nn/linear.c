/* The dense layer (PyTorch nn.Linear): three GEMMs through CLBlast and the bias ops. */
#include "nn/layers.h"

clgan_status clgan_linear_forward(clgan_device *dev, clgan_layer *l, const clgan_buffer *x,
                                  int batch) {
  clgan_gemm_args g = {.trans_b = 1, .m = (size_t)batch, .n = (size_t)l->out, .k = (size_t)l->in,
                       .alpha = 1.0f, .beta = 0.0f, .a = x, .lda = (size_t)l->in, .b = &l->w,
                       .ldb = (size_t)l->in, .c = &l->y, .ldc = (size_t)l->out};
  clgan_status st = clgan_gemm(dev, &g);
  if (st != CLGAN_OK) return st;
  return clgan_bias_forward(dev, &l->y, &l->b, batch, l->out);
}

clgan_status clgan_linear_backward(clgan_device *dev, clgan_layer *l, const clgan_buffer *dy,
                                   const clgan_buffer *x, int batch, int param_grads,
                                   int accumulate, int need_dx) {
  clgan_status st = CLGAN_OK;
  if (param_grads) {
    clgan_gemm_args gw = {.trans_a = 1, .m = (size_t)l->out, .n = (size_t)l->in,
                          .k = (size_t)batch, .alpha = 1.0f, .beta = accumulate ? 1.0f : 0.0f,
                          .a = dy, .lda = (size_t)l->out, .b = x, .ldb = (size_t)l->in,
                          .c = &l->dw, .ldc = (size_t)l->in};
    if ((st = clgan_gemm(dev, &gw)) ||
        (st = clgan_bias_backward(dev, &l->db, dy, batch, l->out, accumulate)))
      return st;
  }
  if (need_dx) {
    clgan_gemm_args gx = {.m = (size_t)batch, .n = (size_t)l->in, .k = (size_t)l->out,
                          .alpha = 1.0f, .beta = 0.0f, .a = dy, .lda = (size_t)l->out,
                          .b = &l->w, .ldb = (size_t)l->in, .c = &l->dx, .ldc = (size_t)l->in};
    st = clgan_gemm(dev, &gx);
  }
  return st;
}
