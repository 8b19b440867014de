/* The activation layers (relu, lrelu, tanh, sigmoid): elementwise, no parameters, the shape of
 * their input. Their double backward (WGAN-GP) exists for the piecewise linear ones only. */
#include "nn/layers.h"

static int act_shape(clgan_layer *l, char *err, size_t err_size) {
  (void)l;
  (void)err;
  (void)err_size;
  return 1;
}

static clgan_status act_forward(clgan_net *net, clgan_layer *l, const clgan_buffer *x, int batch,
                                int train) {
  (void)train;
  return clgan_act_forward(net->dev, l->spec.act, l->spec.param, &l->y, x, batch * l->out);
}

static clgan_status act_backward(clgan_net *net, clgan_layer *l, const clgan_backward_cfg *cfg,
                                 const clgan_buffer *dy, const clgan_buffer *x, int need_dx) {
  if (!need_dx) return CLGAN_OK;
  return clgan_act_backward(net->dev, l->spec.act, l->spec.param, &l->dx, dy, x, &l->y,
                            cfg->batch * l->out);
}

/* (leaky) ReLU's input-gradient map is the mask of the forward input x, fixed: no weights, and
 * gout is that mask applied to gin. */
static clgan_status act_double_backward(clgan_net *net, clgan_layer *l, int batch,
                                        const clgan_buffer *x, const clgan_buffer *gy,
                                        const clgan_buffer *gin, clgan_buffer *gout) {
  (void)gy;
  if (!gout) return CLGAN_OK;
  return clgan_act_backward(net->dev, l->spec.act, l->spec.param, gout, gin, x, &l->y,
                            batch * l->out);
}

static int act_has_double_backward(const clgan_layer *l) {
  return l->spec.act == CLGAN_ACT_LRELU || l->spec.act == CLGAN_ACT_RELU;
}

const clgan_layer_ops clgan_layer_act = {
    .name = "activation",
    .shape = act_shape,
    .forward = act_forward,
    .backward = act_backward,
    .double_backward = act_double_backward,
    .has_double_backward = act_has_double_backward,
};
