/* The views, reshape (nn.Unflatten) and flatten (nn.Flatten): they change how the features
 * are seen, not the values, so they compute nothing. The net passes their input's buffer on
 * as their output and the gradient back unchanged (a NULL forward says so), in the double
 * backward too. */
#include <stdio.h>

#include "nn/layers.h"

static int reshape_shape(clgan_layer *l, char *err, size_t err_size) {
  const clgan_layer_spec *sp = &l->spec;
  if (sp->c * sp->h * sp->w != l->in) {
    snprintf(err, err_size, "reshape:%dx%dx%d holds %d values but its input has %d", sp->c,
             sp->h, sp->w, sp->c * sp->h * sp->w, l->in);
    return 0;
  }
  l->out_c = sp->c;
  l->out_h = sp->h;
  l->out_w = sp->w;
  return 1;
}

static int flatten_shape(clgan_layer *l, char *err, size_t err_size) {
  (void)err;
  (void)err_size;
  l->out_c = l->in;
  l->out_h = l->out_w = 1;
  return 1;
}

const clgan_layer_ops clgan_layer_reshape = {
    .name = "reshape",
    .shape = reshape_shape,
};

const clgan_layer_ops clgan_layer_flatten = {
    .name = "flatten",
    .shape = flatten_shape,
};
