/* The double backward behind WGAN-GP's gradient penalty (Gulrajani et al. 2017), derived in
 * docs/wgan-gp.md: differentiating the critic's input-gradient pass is a forward sweep from the
 * input side, in which each layer's input-gradient map B(gy; W), linear in both arguments,
 * contributes dW += (dB/dW contracted with gbar_in) and passes gbar_out = B*(gbar_in) on. Each
 * kind's record says how (its double_backward: linear.c, conv.c, act.c); views pass gbar on.
 * A layer with spectral normalisation runs its kind's double backward with W_sn and corrects
 * the weight gradient as its backward does (u and v constant, PyTorch's semantics). */
#include "nn/layers.h"

static int has_double_backward(const clgan_layer *l) {
  const clgan_layer_ops *ops = clgan_layer_kind_ops(l->spec.kind);
  if (!ops->forward) return 1; /* a view */
  return ops->double_backward && (!ops->has_double_backward || ops->has_double_backward(l));
}

int clgan_net_check_double_backward(const clgan_net *net) {
  for (int i = 0; i < net->run_count; i++)
    if (!has_double_backward(&net->layers[i])) return i;
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
  if ((st = nn_cond_double_backward_input(net, batch, &x, &gbar))) return st;
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
    clgan_buffer *gout = i < last ? &net->scratch[ping] : NULL;
    /* Spectral normalisation: the kind adds dP/dW_sn to sn_g, which turns into dW_orig's share
     * as in the backward, with the u, v and sigma of the forward on x (spectral.c). */
    int sn = l->spec.sn;
    if ((sn && (st = clgan_sn_begin_grad(net, l, 1))) ||
        (st = clgan_layer_kind_ops(l->spec.kind)->double_backward(net, l, batch, in, gy, gin,
                                                                  gout)) ||
        (sn && (st = clgan_sn_end_grad(net, l, 1))) ||
        (st = nn_cond_double_backward_layer(net, i, batch, seed, gin)))
      return st;
    in = &l->y;
    gin = &net->scratch[ping];
    ping ^= 1;
  }
  return CLGAN_OK;
}
