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
