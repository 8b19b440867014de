/* The network's WGAN-GP double backward (src/nn/gradpen.c) against tests/gp_reference.h, the
 * double-precision reference of the explicit formulas (itself checked by finite differences in
 * test_ops_gp.c): the input gradient g, the penalty, and dP/dW of every layer, for a conv critic
 * and an MLP critic. Also: layers the double backward cannot go through are refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/nn.h"
#include "gp_reference.h"
#include "harness.h"

#define BATCH 3

static void run(clgan_device *dev, const char *spec_text, int c, int h, int w,
                const clgan_conv_shape *sh, int layers) {
  clgan_net_spec spec;
  char err[256];
  clgan_net net;
  CHECK(clgan_spec_parse(spec_text, &spec, err, sizeof err) == CLGAN_OK, "%s: %s", spec_text, err);
  CHECK(clgan_net_create(&net, dev, &spec, c, h, w, BATCH) == CLGAN_OK, "create %s", spec_text);
  CHECK(clgan_net_init(&net, CLGAN_INIT_TORCH, 11, 1) == CLGAN_OK, "init");
  CHECK(clgan_net_check_double_backward(&net) == -1, "%s goes through", spec_text);
  int dim = c * h * w;
  float *x = malloc((size_t)BATCH * dim * sizeof *x);
  unsigned long long rng = 5;
  test_fill_uniform(x, (size_t)BATCH * dim, -1, 1, &rng);
  float *params = malloc(net.arena_n * sizeof *params);
  clgan_buffer_read(dev, &net.params, 0, net.arena_n * sizeof *params, params);
  /* Scale weights up so the penalty's gradient is well away from zero. */
  for (size_t i = 0; i < net.arena_n; i++) params[i] *= 3.0f;
  clgan_buffer_write(dev, &net.params, 0, net.arena_n * sizeof *params, params);

  const float *wref[8], *bref[8];
  float *dwref[8], *dbref[8];
  float *dwgot[8];
  int k = 0;
  for (int i = 0; i < net.count; i++) {
    clgan_layer *l = &net.layers[i];
    if (!l->w_n) continue;
    wref[k] = params + l->w_off;
    bref[k] = params + l->b_off;
    dwref[k] = calloc(l->w_n, sizeof(float));
    dbref[k] = calloc(l->b_n, sizeof(float));
    dwgot[k] = malloc(l->w_n * sizeof(float));
    k++;
  }
  CHECK(k == layers, "%d parametrised layers", k);
  float *g = malloc((size_t)BATCH * dim * sizeof *g), norm[BATCH];
  gp_ref_critic critic = {layers, sh, 0.2, 10.0, 1.0 / BATCH};
  gp_ref_out out = {.dw = dwref, .db = dbref, .g = g, .norm = norm};
  double p = gp_ref_penalty(&critic, x, wref, bref, &out);
  CHECK(p == p && p > 0, "reference penalty %g", p);

  clgan_buffer dx = {0}, ones = {0}, loss = {0};
  clgan_buffer_alloc(dev, &dx, (size_t)BATCH * dim * sizeof(float));
  clgan_buffer_alloc(dev, &ones, BATCH * sizeof(float));
  clgan_buffer_alloc(dev, &loss, BATCH * sizeof(float));
  clgan_buffer_write(dev, &dx, 0, (size_t)BATCH * dim * sizeof(float), x);
  clgan_fill(dev, &ones, BATCH, 1.0f);
  const clgan_buffer *y = NULL, *gdev = NULL;
  clgan_backward_cfg through = {.layers = net.run_count, .batch = BATCH, .input_grad = 1};
  CHECK(clgan_net_forward(&net, &dx, BATCH, net.run_count, 1, &y) == CLGAN_OK, "forward");
  CHECK(clgan_net_backward(&net, &through, &dx, &ones, &gdev) == CLGAN_OK, "input gradient");
  float *ggot = malloc((size_t)BATCH * dim * sizeof *ggot);
  clgan_buffer_read(dev, gdev, 0, (size_t)BATCH * dim * sizeof *ggot, ggot);
  CHECK_CLOSE("input gradient g = dD/dx", ggot, g, (size_t)BATCH * dim, 1e-6, 1e-4);
  clgan_gp_cfg gp = {.lambda = 10.0f, .scale = 1.0f / BATCH};
  clgan_buffer *gbar = (clgan_buffer *)gdev;
  CHECK(clgan_gp_penalty(dev, &gp, gbar, &loss, NULL, gdev, BATCH, dim) == CLGAN_OK, "penalty");
  float lt[BATCH];
  clgan_buffer_read(dev, &loss, 0, sizeof lt, lt);
  float pgot = (lt[0] + lt[1] + lt[2]) / BATCH, pwant = (float)p;
  CHECK_CLOSE("penalty value", &pgot, &pwant, 1, 1e-6, 1e-4);
  clgan_buffer_zero(dev, &net.grads);
  CHECK(clgan_net_double_backward(&net, BATCH, &dx, &ones, gbar) == CLGAN_OK, "double backward");
  k = 0;
  for (int i = 0; i < net.count; i++) {
    clgan_layer *l = &net.layers[i];
    if (!l->w_n) continue;
    clgan_buffer_read(dev, &l->dw, 0, l->w_n * sizeof(float), dwgot[k]);
    char what[96];
    snprintf(what, sizeof what, "%s: dP/dW of layer %d", spec_text, i);
    float maxref = 0;
    for (size_t j = 0; j < l->w_n; j++)
      if (fabsf(dwref[k][j]) > maxref) maxref = fabsf(dwref[k][j]);
    CHECK(maxref > 1e-4f, "%s is not trivially zero (%g)", what, (double)maxref);
    CHECK_CLOSE(what, dwgot[k], dwref[k], l->w_n, 1e-5 * maxref + 1e-7, 1e-3);
    float zero = 0, db0;
    clgan_buffer_read(dev, &l->db, 0, sizeof db0, &db0);
    CHECK_CLOSE("the penalty leaves biases alone", &db0, &zero, 1, 0, 0);
    free(dwref[k]);
    free(dbref[k]);
    free(dwgot[k]);
    k++;
  }
  clgan_buffer_free(&dx);
  clgan_buffer_free(&ones);
  clgan_buffer_free(&loss);
  clgan_net_free(&net);
  free(x);
  free(params);
  free(ggot);
  free(g);
}

int main(void) {
  clgan_device *dev = test_open_device();
  const clgan_conv_shape conv[3] = {{BATCH, 2, 7, 7, 3, 3, 3, 2, 1},
                                    {BATCH, 3, 4, 4, 5, 3, 3, 2, 1},
                                    gp_ref_linear_after(BATCH, 5, 2, 2, 1)};
  run(dev, "conv:3:3:2:1,lrelu:0.2,conv:5:3:2:1,lrelu:0.2,flatten,linear:1", 2, 7, 7, conv, 3);
  const clgan_conv_shape mlp[3] = {gp_ref_linear(BATCH, 10, 6), gp_ref_linear(BATCH, 6, 4),
                                   gp_ref_linear(BATCH, 4, 1)};
  run(dev, "linear:6,lrelu:0.2,linear:4,lrelu:0.2,linear:1", 10, 1, 1, mlp, 3);

  clgan_net_spec spec;
  char err[128];
  clgan_net net;
  clgan_spec_parse("linear:6,bn,lrelu:0.2,linear:1", &spec, err, sizeof err);
  clgan_net_create(&net, dev, &spec, 10, 1, 1, BATCH);
  CHECK(clgan_net_check_double_backward(&net) == 1, "batch norm is where the double backward stops");
  clgan_net_free(&net);
  clgan_spec_parse("linear:6,tanh,linear:1", &spec, err, sizeof err);
  clgan_net_create(&net, dev, &spec, 10, 1, 1, BATCH);
  CHECK(clgan_net_check_double_backward(&net) == 1, "so is tanh (its second derivative is not 0)");
  clgan_net_free(&net);
  clgan_spec_parse("linear:6,lrelu:0.2,linear:1:sn", &spec, err, sizeof err);
  clgan_net_create(&net, dev, &spec, 10, 1, 1, BATCH);
  CHECK(clgan_net_check_double_backward(&net) == 2, "and a layer with spectral normalisation");
  clgan_net_free(&net);
  clgan_device_close(dev);
  return test_finish();
}
