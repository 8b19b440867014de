/* The network's WGAN-GP double backward (src/nn/gradpen.c) against tests/gp_reference.h, the
 * double-precision reference of the explicit formulas (itself checked by finite differences in
 * test_ops_gp.c): the input gradient g, the penalty, and dP/dW of every layer, for a conv critic
 * and an MLP critic; the same critics with spectral normalisation on some layers, against the
 * reference carried through sn's correction and against finite differences in W_orig. Also:
 * layers the double backward cannot go through are refused. */
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

/* Spectral normalisation: sigma = u^T W v in double with the u and v the forward left. */
static double sn_sigma(const clgan_layer *l, const float *w, const float *u, const float *v) {
  const clgan_sn_shape *sh = &l->sn;
  double s = 0;
  for (int a = 0; a < sh->a; a++)
    for (int r = 0; r < sh->r; r++)
      for (int k = 0; k < sh->k; k++)
        s += (double)u[r] * w[((size_t)a * sh->r + r) * sh->k + k] * v[a * sh->k + k];
  return s;
}

typedef struct {
  const clgan_net *net;
  const gp_ref_critic *critic;
  const float *x;
  float *params;          /* W_orig and biases, the arena's layout */
  float *weff[8];         /* per parametrised layer: W_orig / sigma, or W */
  const float *bref[8];
  float *u[8], *v[8];     /* sn layers: after the forward */
} sn_problem;

/* The penalty as a function of the arena's W_orig, u and v held (out: dP/dW_eff when non-NULL). */
static double sn_penalty(sn_problem *q, float **dw, float **db) {
  int k = 0;
  for (int i = 0; i < q->net->count; i++) {
    const clgan_layer *l = &q->net->layers[i];
    if (!l->w_n) continue;
    const float *w = q->params + l->w_off;
    double sigma = l->spec.sn ? sn_sigma(l, w, q->u[k], q->v[k]) : 1.0;
    for (size_t j = 0; j < l->w_n; j++) q->weff[k][j] = (float)(w[j] / sigma);
    k++;
  }
  gp_ref_out out = {.dw = dw, .db = db};
  return gp_ref_penalty(q->critic, q->x, (const float *const *)q->weff, q->bref, dw ? &out : NULL);
}

/* The double backward through sn layers (with u and v constant, as PyTorch's spectral_norm
 * holds them in autograd.grad(create_graph=True)): dP/dW_orig against the reference's dP/dW_sn
 * carried through clgan_ref_sn_backward, and against central finite differences of the
 * penalty in W_orig itself. */
static void run_sn(clgan_device *dev, const char *spec_text, int c, int h, int w,
                   const clgan_conv_shape *sh, int layers) {
  clgan_net_spec spec;
  char err[256], what[160];
  clgan_net net;
  CHECK(clgan_spec_parse(spec_text, &spec, err, sizeof err) == CLGAN_OK, "%s: %s", spec_text, err);
  CHECK(clgan_net_create(&net, dev, &spec, c, h, w, BATCH) == CLGAN_OK, "create %s", spec_text);
  CHECK(clgan_net_init(&net, CLGAN_INIT_TORCH, 11, 1) == CLGAN_OK, "init");
  CHECK(clgan_net_check_double_backward(&net) == -1, "%s goes through", spec_text);
  int dim = c * h * w;
  size_t nx = (size_t)BATCH * dim;
  float *x = malloc(nx * sizeof *x);
  unsigned long long rng = 7;
  test_fill_uniform(x, nx, -1, 1, &rng);
  gp_ref_critic critic = {layers, sh, 0.2, 10.0, 1.0 / BATCH};
  sn_problem q = {.net = &net, .critic = &critic, .x = x};
  q.params = malloc(net.arena_n * sizeof *q.params);
  clgan_buffer_read(dev, &net.params, 0, net.arena_n * sizeof *q.params, q.params);
  for (size_t i = 0; i < net.arena_n; i++) q.params[i] *= 3.0f;
  clgan_buffer_write(dev, &net.params, 0, net.arena_n * sizeof *q.params, q.params);

  clgan_buffer bx = {0}, ones = {0}, loss = {0};
  clgan_buffer_alloc(dev, &bx, nx * sizeof(float));
  clgan_buffer_alloc(dev, &ones, BATCH * sizeof(float));
  clgan_buffer_alloc(dev, &loss, BATCH * sizeof(float));
  clgan_buffer_write(dev, &bx, 0, nx * sizeof(float), x);
  clgan_fill(dev, &ones, BATCH, 1.0f);
  const clgan_buffer *y = NULL, *g = NULL;
  clgan_backward_cfg through = {.layers = net.run_count, .batch = BATCH, .input_grad = 1};
  clgan_gp_cfg gp = {.lambda = 10.0f, .scale = 1.0f / BATCH};
  CHECK(clgan_net_forward(&net, &bx, BATCH, net.run_count, 1, &y) == CLGAN_OK &&
            clgan_net_backward(&net, &through, &bx, &ones, &g) == CLGAN_OK &&
            clgan_gp_penalty(dev, &gp, (clgan_buffer *)g, &loss, NULL, g, BATCH, dim) == CLGAN_OK &&
            clgan_buffer_zero(dev, &net.grads) == CLGAN_OK &&
            clgan_net_double_backward(&net, BATCH, &bx, &ones, g) == CLGAN_OK,
        "%s: forward, input gradient, penalty, double backward", spec_text);
  float *got = malloc(net.arena_n * sizeof *got);
  clgan_buffer_read(dev, &net.grads, 0, net.arena_n * sizeof *got, got);

  float *dwref[8], *dbref[8];
  int k = 0;
  for (int i = 0; i < net.count; i++) {
    const clgan_layer *l = &net.layers[i];
    if (!l->w_n) continue;
    q.weff[k] = malloc(l->w_n * sizeof(float));
    q.bref[k] = q.params + l->b_off;
    dwref[k] = calloc(l->w_n, sizeof(float));
    dbref[k] = calloc(l->b_n, sizeof(float));
    q.u[k] = q.v[k] = NULL;
    if (l->spec.sn) {
      q.u[k] = malloc(l->sn_u.bytes);
      q.v[k] = malloc(l->sn_v.bytes);
      clgan_buffer_read(dev, &l->sn_u, 0, l->sn_u.bytes, q.u[k]);
      clgan_buffer_read(dev, &l->sn_v, 0, l->sn_v.bytes, q.v[k]);
    }
    k++;
  }
  CHECK(k == layers, "%d parametrised layers", k);
  double p = sn_penalty(&q, dwref, dbref);
  CHECK(p == p && p > 0, "reference penalty %g", p);
  k = 0;
  for (int i = 0; i < net.count; i++) {
    const clgan_layer *l = &net.layers[i];
    if (!l->w_n) continue;
    float *want = malloc(l->w_n * sizeof *want), *fd = malloc(l->w_n * sizeof *fd), sig[2];
    float *w0 = q.params + l->w_off;
    memcpy(want, dwref[k], l->w_n * sizeof *want);
    if (l->spec.sn) {
      sig[0] = (float)sn_sigma(l, w0, q.u[k], q.v[k]);
      clgan_ref_sn_backward(&l->sn, want, sig, dwref[k], q.weff[k], q.u[k], q.v[k], 0);
    }
    float maxref = 0;
    for (size_t j = 0; j < l->w_n; j++)
      if (fabsf(want[j]) > maxref) maxref = fabsf(want[j]);
    snprintf(what, sizeof what, "%s: dP/dW%s of layer %d", spec_text,
             l->spec.sn ? "_orig (through sn)" : "", i);
    CHECK(maxref > 1e-4f, "%s is not trivially zero (%g)", what, (double)maxref);
    CHECK_CLOSE(what, got + l->w_off, want, l->w_n, 1e-5 * maxref + 1e-7, 1e-3);
    for (size_t j = 0; j < l->w_n; j++) {
      float keep = w0[j], up = keep + 1e-3f, down = keep - 1e-3f;
      w0[j] = up;
      double lp = sn_penalty(&q, NULL, NULL);
      w0[j] = down;
      double lm = sn_penalty(&q, NULL, NULL);
      w0[j] = keep;
      fd[j] = (float)((lp - lm) / ((double)up - down));
    }
    snprintf(what, sizeof what, "%s: dP/dW of layer %d vs finite differences", spec_text, i);
    CHECK_CLOSE(what, got + l->w_off, fd, l->w_n, 2e-3 * maxref, 1e-2);
    free(want);
    free(fd);
    k++;
  }
  for (int j = 0; j < k; j++) free(q.weff[j]), free(q.u[j]), free(q.v[j]), free(dwref[j]), free(dbref[j]);
  clgan_buffer_free(&bx);
  clgan_buffer_free(&ones);
  clgan_buffer_free(&loss);
  clgan_net_free(&net);
  free(x);
  free(q.params);
  free(got);
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
  run_sn(dev, "conv:3:3:2:1:sn,lrelu:0.2,conv:5:3:2:1,lrelu:0.2,flatten,linear:1:sn", 2, 7, 7,
         conv, 3);
  run_sn(dev, "linear:6:sn,lrelu:0.2,linear:4:sn,lrelu:0.2,linear:1", 10, 1, 1, mlp, 3);

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

  clgan_device_close(dev);
  return test_finish();
}
