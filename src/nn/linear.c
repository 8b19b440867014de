/* The dense layer (PyTorch nn.Linear): three matrix products (clgan_matmul) and the bias ops.
 * The forward product y = x W^T is computed as x (W^T) from a transposed copy made first: a
 * GEMM with a transposed B ran 3x slower than NN and TN on PoCL (the MLP step's forward GEMMs
 * took two thirds of its time), and the copy costs a fraction of one GEMM. It is redone in every
 * forward, so it can never be stale, whoever changed W. */
#include "nn/layers.h"

clgan_status clgan_linear_forward(clgan_device *dev, clgan_layer *l, const clgan_buffer *x,
                                  int batch) {
  clgan_gemm_args g = {.m = (size_t)batch, .n = (size_t)l->out, .k = (size_t)l->in,
                       .alpha = 1.0f, .beta = 0.0f, .a = x, .lda = (size_t)l->in, .b = &l->wt,
                       .ldb = (size_t)l->out, .c = &l->y, .ldc = (size_t)l->out};
  clgan_status st = clgan_transpose(dev, &l->wt, &l->w, l->out, l->in);
  if (st == CLGAN_OK) st = clgan_matmul(dev, &g);
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
    if ((st = clgan_matmul(dev, &gw)) ||
        (st = clgan_bias_backward(dev, &l->db, dy, batch, l->out, accumulate)))
      return st;
  }
  if (need_dx) {
    clgan_gemm_args gx = {.m = (size_t)batch, .n = (size_t)l->in, .k = (size_t)l->out,
                          .alpha = 1.0f, .beta = 0.0f, .a = dy, .lda = (size_t)l->out,
                          .b = &l->w, .ldb = (size_t)l->in, .c = &l->dx, .ldc = (size_t)l->in};
    st = clgan_matmul(dev, &gx);
  }
  return st;
}
