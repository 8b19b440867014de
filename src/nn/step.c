/* A network's update (clgan_net_step): what "clip and apply the optimizer" means for one
 * network, so that the trainer and the classifier ask nn for it instead of driving the clip and
 * optimizer ops over the arena themselves (issue 9). One launch per op over the whole arena:
 * padding between tensors is zero in params, grads and state, and stays zero. */
#include "nn/layers.h"

clgan_status clgan_net_step(clgan_net *net, const clgan_step_cfg *cfg) {
  clgan_status st;
  int n = (int)net->arena_n;
  if (cfg->clip_norm > 0.0f &&
      ((st = clgan_reduce_sumsq(net->dev, &net->sumsq, 0, &net->grads, n, 0)) ||
       (st = clgan_clip_by_norm(net->dev, &net->grads, n, &net->sumsq, 0, cfg->clip_norm))))
    return st;
  net->opt_t++;
  if ((st = clgan_opt_step(net->dev, &cfg->opt, net->opt_t, &net->params, &net->grads,
                           &net->state1, &net->state2, n)))
    return st;
  if (cfg->clip_weights > 0.0f)
    return clgan_clamp(net->dev, &net->params, n, cfg->clip_weights);
  return CLGAN_OK;
}

/* The EMA generator's update: parameters and batch-norm running statistics averaged the same
 * way (BigGAN-PyTorch's ema class averages the whole state_dict), the batch counter and
 * spectral normalisation's u and v copied.
 * One launch over the arena, two per batch-norm layer. decay = 0 makes dst a copy of src. */
clgan_status clgan_net_average(clgan_net *dst, const clgan_net *src, double decay) {
  clgan_status st;
  if (dst->arena_n != src->arena_n || dst->count != src->count) return CLGAN_INVALID_ARGUMENT;
  for (int i = 0; i < dst->count; i++) {
    const clgan_layer *d = &dst->layers[i], *s = &src->layers[i];
    if (d->spec.kind != s->spec.kind || d->spec.sn != s->spec.sn || d->w_off != s->w_off || d->w_n != s->w_n ||
        d->b_off != s->b_off || d->b_n != s->b_n || d->out_c != s->out_c)
      return CLGAN_INVALID_ARGUMENT;
  }
  /* Both weights rounded from the double decay, as PyTorch rounds a Python float. */
  float keep = (float)decay, take = (float)(1.0 - decay);
  if ((st = clgan_axpby(dst->dev, &dst->params, take, &src->params, keep, (int)dst->arena_n)))
    return st;
  for (int i = 0; i < dst->count; i++) {
    clgan_layer *d = &dst->layers[i];
    const clgan_layer *s = &src->layers[i];
    /* Spectral normalisation's u and v are copied: they track the singular vectors of nearly
     * the same weights, and the EMA generator, run in eval mode only, never iterates them. */
    if (d->spec.sn &&
        ((st = clgan_axpby(dst->dev, &d->sn_u, 1.0f, &s->sn_u, 0.0f, d->sn.r)) ||
         (st = clgan_axpby(dst->dev, &d->sn_v, 1.0f, &s->sn_v, 0.0f, d->sn.a * d->sn.k))))
      return st;
    if (!clgan_layer_is_bn(d->spec.kind)) continue;
    if ((st = clgan_axpby(dst->dev, &d->running_mean, take, &s->running_mean, keep, d->out_c)) ||
        (st = clgan_axpby(dst->dev, &d->running_var, take, &s->running_var, keep, d->out_c)))
      return st;
    d->bn_batches = s->bn_batches;
  }
  return CLGAN_OK;
}
