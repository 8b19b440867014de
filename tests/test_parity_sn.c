/* Spectral normalisation (the `sn` spec modifier) against PyTorch's
 * torch.nn.utils.spectral_norm, from tests/data/parity_sn.safetensors
 * (tests/fixtures/make_sn_fixture.py, README there):
 *   - an SN linear, conv and convT layer each: two training-mode forward + backward passes,
 *     the gradients accumulating, each forward with its own power iteration: outputs, input
 *     gradients, u and v after each forward, weight_orig's and bias's gradients after each
 *     pass; then an eval-mode forward (no iteration, u unchanged);
 *   - three steps of a small GAN with hinge loss whose D has two SN layers and whose G ends in
 *     an SN convT: every D step's losses and mean outputs, the first gradients, the whole state
 *     (weight_orig, bias, weight_u, weight_v) after the first and the last step, Adam's moments;
 *   - the same three steps with WGAN-GP, whose penalty's double backward goes through the SN
 *     layers (the critic's forward on the interpolates runs a third power iteration).
 * Every comparison is normwise: max |got - want| / max |want| over the tensor. Tolerances are
 * about ten times what PoCL measured (README "Spectral normalisation"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "gan/trainer_internal.h"
#include "harness.h"

static const float *tensor(const clgan_st_file *f, const char *name, size_t n) {
  const clgan_st_tensor *t = clgan_st_find(f, name);
  int ok = t && t->dtype == CLGAN_ST_F32 && t->nbytes == n * sizeof(float);
  CHECK(ok, "fixture tensor %s with %zu floats", name, n);
  return ok ? (const float *)t->data : NULL;
}

static double worst_seen; /* the largest normwise difference of the current group */

/* max |got - want| / max |want| <= tol. */
static void compare(const char *what, const float *got, const float *want, size_t n, double tol) {
  if (!want) return;
  double scale = 0, diff = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (fabs((double)want[i]) > scale) scale = fabs((double)want[i]);
    if (!(d <= diff)) diff = d;
  }
  double nw = diff / (scale > 0 ? scale : 1);
  if (!(nw <= worst_seen)) worst_seen = nw;
  printf("  %-44s normwise %.2e (max abs %.2e)\n", what, nw, diff);
  CHECK(nw <= tol, "%s: normwise difference %.3g > %.3g", what, nw, tol);
}

static void compare_buffer(clgan_device *dev, const char *what, const clgan_buffer *b,
                           const float *want, size_t n, double tol) {
  float *got = malloc(n * sizeof *got);
  CHECK(clgan_buffer_read(dev, b, 0, n * sizeof *got, got) == CLGAN_OK, "read %s", what);
  compare(what, got, want, n, tol);
  free(got);
}

static clgan_buffer upload(clgan_device *dev, const float *x, size_t n) {
  clgan_buffer b = {0};
  CHECK(clgan_buffer_alloc(dev, &b, n * sizeof *x) == CLGAN_OK, "alloc");
  if (x) clgan_buffer_write(dev, &b, 0, n * sizeof *x, x);
  return b;
}

/* ---- Layer level -------------------------------------------------------------------------- */

static void layer_case(clgan_device *dev, const clgan_st_file *f, const char *name,
                       const char *text, int batch, int c, int h, int w) {
  clgan_net_spec spec;
  clgan_net net;
  char err[256], tn[128], what[160];
  printf("%s (%s, input %dx%dx%dx%d)\n", name, text, batch, c, h, w);
  CHECK(clgan_spec_parse(text, &spec, err, sizeof err) == CLGAN_OK, "%s: %s", text, err);
  if (clgan_net_create(&net, dev, &spec, c, h, w, batch) != CLGAN_OK) {
    CHECK(0, "create %s", text);
    return;
  }
  clgan_layer *l = &net.layers[0];
  size_t r = (size_t)l->sn.r, cols = (size_t)l->sn.a * (size_t)l->sn.k;
  size_t nx = (size_t)batch * (size_t)net.in, ny = (size_t)batch * (size_t)net.out;
  float *host = calloc(net.arena_n, sizeof *host);
  snprintf(tn, sizeof tn, "%s.weight_orig", name);
  const float *wo = tensor(f, tn, l->w_n);
  snprintf(tn, sizeof tn, "%s.bias", name);
  const float *bias = tensor(f, tn, l->b_n);
  snprintf(tn, sizeof tn, "%s.weight_u0", name);
  const float *u0 = tensor(f, tn, r);
  snprintf(tn, sizeof tn, "%s.weight_v0", name);
  const float *v0 = tensor(f, tn, cols);
  if (!wo || !bias || !u0 || !v0) goto done;
  memcpy(host + l->w_off, wo, l->w_n * sizeof *host);
  memcpy(host + l->b_off, bias, l->b_n * sizeof *host);
  clgan_buffer_write(dev, &net.params, 0, net.arena_n * sizeof *host, host);
  clgan_buffer_write(dev, &l->sn_u, 0, r * sizeof(float), u0);
  clgan_buffer_write(dev, &l->sn_v, 0, cols * sizeof(float), v0);
  for (int k = 1; k <= 2; k++) {
    const float *t[8];
    const char *what_k[8] = {"x", "dy", "y", "dx", "weight_u", "weight_v", "grad_weight_orig",
                             "grad_bias"};
    size_t sizes[8] = {nx, ny, ny, nx, r, cols, l->w_n, l->b_n};
    for (int i = 0; i < 8; i++) {
      snprintf(tn, sizeof tn, "%s.%s%d", name, what_k[i], k);
      t[i] = tensor(f, tn, sizes[i]);
      if (!t[i]) goto done;
    }
    clgan_buffer bx = upload(dev, t[0], nx), bdy = upload(dev, t[1], ny);
    const clgan_buffer *y = NULL, *dx = NULL;
    clgan_backward_cfg cfg = {.layers = 1, .batch = batch, .param_grads = 1, .accumulate = k == 2,
                              .input_grad = 1};
    CHECK(clgan_net_forward(&net, &bx, batch, 1, 1, &y) == CLGAN_OK, "forward %d", k);
    CHECK(clgan_net_backward(&net, &cfg, &bx, &bdy, &dx) == CLGAN_OK, "backward %d", k);
    const clgan_buffer *got[6] = {y, dx, &l->sn_u, &l->sn_v, &l->dw, &l->db};
    for (int i = 0; i < 6; i++) {
      snprintf(what, sizeof what, "%s pass %d: %s", name, k, what_k[i + 2]);
      compare_buffer(dev, what, got[i], t[i + 2], sizes[i + 2], 2e-6);
    }
    clgan_buffer_free(&bx);
    clgan_buffer_free(&bdy);
  }
  /* Eval mode: sigma from the stored u and v, no iteration. */
  snprintf(tn, sizeof tn, "%s.x1", name);
  const float *x1 = tensor(f, tn, nx);
  snprintf(tn, sizeof tn, "%s.y_eval", name);
  const float *y_eval = tensor(f, tn, ny);
  snprintf(tn, sizeof tn, "%s.weight_u_eval", name);
  const float *u_eval = tensor(f, tn, r);
  if (x1 && y_eval && u_eval) {
    clgan_buffer bx = upload(dev, x1, nx);
    const clgan_buffer *y = NULL;
    CHECK(clgan_net_forward(&net, &bx, batch, 1, 0, &y) == CLGAN_OK, "eval forward");
    snprintf(what, sizeof what, "%s eval: y", name);
    compare_buffer(dev, what, y, y_eval, ny, 2e-6);
    snprintf(what, sizeof what, "%s eval: weight_u (unchanged)", name);
    compare_buffer(dev, what, &l->sn_u, u_eval, r, 1e-6);
    clgan_buffer_free(&bx);
  }
done:
  free(host);
  clgan_net_free(&net);
}

/* ---- A GAN -------------------------------------------------------------------------------- */

/* Parameters (and u, v) of one net: from "<kind>.<prefix>.<i>.<what>" into the device
 * (load = 1), or compared against them with tolerance tol (load = 0). "<kind>" tensors of
 * gradients or optimizer state have no u or v (uv = 0). */
static void net_tensors(clgan_device *dev, clgan_net *net, const clgan_buffer *arena,
                        const clgan_st_file *f, const char *kind, const char *prefix, int load,
                        int uv, double tol) {
  float *host = calloc(net->arena_n, sizeof *host);
  clgan_buffer_read(dev, arena, 0, net->arena_n * sizeof *host, host);
  for (int i = 0; i < net->count; i++) {
    clgan_layer *l = &net->layers[i];
    if (!l->w_n) continue;
    char name[128], fname[200];
    const char *whats[4] = {l->spec.sn ? "weight_orig" : "weight", "bias", "weight_u",
                            "weight_v"};
    size_t offs[2] = {l->w_off, l->b_off}, ns[4] = {l->w_n, l->b_n, (size_t)l->sn.r,
                                                   (size_t)l->sn.a * (size_t)l->sn.k};
    clgan_buffer *bufs[4] = {NULL, NULL, &l->sn_u, &l->sn_v};
    int count = l->spec.sn && uv ? 4 : 2;
    for (int k = 0; k < count; k++) {
      clgan_net_tensor_name(name, sizeof name, prefix, i, whats[k]);
      snprintf(fname, sizeof fname, "%s.%s", kind, name);
      const float *want = tensor(f, fname, ns[k]);
      if (!want) continue;
      if (load && k < 2) memcpy(host + offs[k], want, ns[k] * sizeof *host);
      else if (load) clgan_buffer_write(dev, bufs[k], 0, ns[k] * sizeof *want, want);
      else if (k < 2) compare(fname, host + offs[k], want, ns[k], tol);
      else compare_buffer(dev, fname, bufs[k], want, ns[k], tol);
    }
  }
  if (load) clgan_buffer_write(dev, &net->params, 0, net->arena_n * sizeof *host, host);
  free(host);
}

typedef struct {
  clgan_device *dev;
  const clgan_st_file *f;
  int batch, latent, dim, gp;
  float loss_d[8], d_real[8], d_fake[8], penalty[8];
  float *dgrad0, *fake0;
} feed_ctx;

static clgan_status read_stats(clgan_trainer *t, float *s) {
  clgan_status st = clgan_buffer_read(t->dev, &t->stats, 0, STAT_COUNT * sizeof(float), s);
  return st ? st : clgan_buffer_zero(t->dev, &t->stats);
}

static clgan_status feed_hook(clgan_trainer *t, int after, void *ctx) {
  feed_ctx *c = ctx;
  long n = t->d_batches;
  size_t b = (size_t)c->batch;
  clgan_status st;
  if (!after) {
    char name[64];
    snprintf(name, sizeof name, "real.%ld", n);
    const float *x = tensor(c->f, name, b * (size_t)c->dim);
    snprintf(name, sizeof name, "noise.%ld", n);
    const float *z = tensor(c->f, name, b * (size_t)c->latent);
    if (!x || !z) return CLGAN_INVALID_ARGUMENT;
    snprintf(name, sizeof name, "eps.%ld", n);
    const float *e = c->gp ? tensor(c->f, name, b) : NULL;
    if ((c->gp && !e) ||
        (st = clgan_buffer_write(c->dev, &t->real, 0, b * (size_t)c->dim * sizeof *x, x)) ||
        (e && (st = clgan_buffer_write(c->dev, &t->gp_eps, 0, b * sizeof *e, e))))
      return st;
    return clgan_buffer_write(c->dev, &t->z, 0, b * (size_t)c->latent * sizeof *z, z);
  }
  float s[STAT_COUNT];
  if ((st = read_stats(t, s))) return st;
  c->loss_d[n] = (s[STAT_D_LOSS_REAL] + s[STAT_D_LOSS_FAKE] + s[STAT_GP]) / (float)b;
  c->penalty[n] = s[STAT_GP] / (float)b;
  c->d_real[n] = s[STAT_D_REAL] / (float)b;
  c->d_fake[n] = s[STAT_D_FAKE] / (float)b;
  if (n == 0 &&
      ((st = clgan_buffer_read(c->dev, &t->d.grads, 0, t->d.arena_n * sizeof(float), c->dgrad0)) ||
       (st = clgan_buffer_read(c->dev, t->g.output, 0, b * (size_t)c->dim * sizeof(float),
                               c->fake0))))
    return st;
  return CLGAN_OK;
}

/* run "": hinge; "gp.": WGAN-GP on the same data, init and networks. */
static void gan_case(clgan_device *dev, const clgan_st_file *f, const char *run) {
  char k0[64], k1[64];
  clgan_train_cfg cfg;
  clgan_preset("mlp", &cfg);
  const char *gs = clgan_st_meta(f, "generator.spec"), *ds = clgan_st_meta(f, "discriminator.spec");
  CHECK(gs && ds, "fixture specs");
  if (!gs || !ds) return;
  snprintf(cfg.g_spec, sizeof cfg.g_spec, "%s", gs);
  snprintf(cfg.d_spec, sizeof cfg.d_spec, "%s", ds);
  cfg.batch = atoi(clgan_st_meta(f, "batch"));
  cfg.latent = atoi(clgan_st_meta(f, "latent"));
  int steps = atoi(clgan_st_meta(f, "steps"));
  int gp = *run != '\0';
  cfg.loss = gp ? CLGAN_LOSS_WGAN_GP : CLGAN_LOSS_HINGE;
  cfg.gp_lambda = gp ? (float)atof(clgan_st_meta(f, "gp_lambda")) : 0.0f;
  cfg.d_steps = 1;
  clgan_opt_cfg adam = {.kind = CLGAN_OPT_ADAM, .lr = 1e-3, .beta1 = 0.5, .beta2 = 0.999,
                        .eps = 1e-8};
  const char *opt = clgan_st_meta(f, "optimizer");
  CHECK(opt && strstr(opt, "\"lr\": 0.001") && strstr(opt, "\"betas\": [0.5, 0.999]") &&
            strstr(opt, "\"eps\": 1e-08"),
        "the fixture's optimizer is this test's (%s)", opt);
  cfg.opt_g = cfg.opt_d = adam;
  printf("GAN: G '%s', D '%s', %s, batch %d, %d steps\n", gs, ds, clgan_loss_name(cfg.loss),
         cfg.batch, steps);
  int dim = 64;
  clgan_train_data data = {.count = cfg.batch, .rows = 8, .cols = 8};
  clgan_buffer_alloc(dev, &data.images, (size_t)cfg.batch * dim);
  clgan_buffer_zero(dev, &data.images);
  clgan_trainer *t = NULL;
  CHECK(clgan_trainer_create(&t, dev, &cfg, &data) == CLGAN_OK, "trainer");
  if (!t || steps > 8) {
    clgan_buffer_free(&data.images);
    return;
  }
  /* Batch 8 is below the device's alignment, where the D step is never fused; at 64 a D
   * without sn would be on any device whose alignment is at most 256 bytes (PoCL's is 256). */
  clgan_trainer *t64 = NULL;
  cfg.loss = CLGAN_LOSS_HINGE;
  clgan_train_cfg cfg64 = cfg;
  clgan_train_data data64 = data;
  cfg64.batch = data64.count = 64;
  clgan_buffer_alloc(dev, &data64.images, (size_t)64 * dim);
  CHECK(clgan_trainer_create(&t64, dev, &cfg64, &data64) == CLGAN_OK && !t64->fused,
        "an SN discriminator takes the real and the fake batch in two forwards, as PyTorch's two "
        "calls, each with its power iteration (batch 64)");
  clgan_trainer_free(t64);
  clgan_buffer_free(&data64.images);
  cfg.loss = gp ? CLGAN_LOSS_WGAN_GP : CLGAN_LOSS_HINGE;
  CHECK(!gp || !t->fused, "a WGAN-GP critic is not fused either");
  net_tensors(dev, &t->g, &t->g.params, f, "init", "generator", 1, 1, 0);
  net_tensors(dev, &t->d, &t->d.params, f, "init", "discriminator", 1, 1, 0);
  feed_ctx c = {.dev = dev, .f = f, .batch = cfg.batch, .latent = cfg.latent, .dim = dim,
                .gp = gp};
  c.dgrad0 = malloc(t->d.arena_n * sizeof(float));
  c.fake0 = malloc((size_t)cfg.batch * dim * sizeof(float));
  t->external_batches = 1;
  t->test_hook = feed_hook;
  t->test_hook_ctx = &c;
  float loss_g[8];
  for (int k = 0; k < steps; k++) {
    CHECK(clgan_trainer_step(t) == CLGAN_OK, "step %d", k);
    float s[STAT_COUNT];
    CHECK(read_stats(t, s) == CLGAN_OK, "read the metrics");
    loss_g[k] = s[STAT_G_LOSS] / (float)cfg.batch;
    printf("  step %d: D loss %.7f D(x) %.6f D(G(z)) %.6f G loss %.7f", k, c.loss_d[k],
           c.d_real[k], c.d_fake[k], loss_g[k]);
    printf(gp ? " penalty %.7f\n" : "\n", c.penalty[k]);
    if (k > 0) continue;
    snprintf(k0, sizeof k0, "%sfake0", run);
    compare(k0, c.fake0, tensor(f, k0, (size_t)cfg.batch * dim), (size_t)cfg.batch * dim, 2e-6);
    clgan_buffer dg = upload(dev, c.dgrad0, t->d.arena_n);
    snprintf(k0, sizeof k0, "%sgrad0", run);
    net_tensors(dev, &t->d, &dg, f, k0, "discriminator", 0, 0, 7e-6);
    clgan_buffer_free(&dg);
    net_tensors(dev, &t->g, &t->g.grads, f, k0, "generator", 0, 0, 7e-6);
    snprintf(k0, sizeof k0, "%safter0", run);
    net_tensors(dev, &t->d, &t->d.params, f, k0, "discriminator", 0, 1, 2e-6);
    net_tensors(dev, &t->g, &t->g.params, f, k0, "generator", 0, 1, 2e-6);
  }
  const char *names[5] = {"loss_d", "d_real", "d_fake", "loss_g", "gp"};
  const float *got[5] = {c.loss_d, c.d_real, c.d_fake, loss_g, c.penalty};
  for (int i = 0; i < (gp ? 5 : 4); i++) {
    snprintf(k0, sizeof k0, "%s%s", run, names[i]);
    compare(k0, got[i], tensor(f, k0, (size_t)steps), (size_t)steps, 2e-6);
  }
  snprintf(k0, sizeof k0, "%sfinal", run);
  net_tensors(dev, &t->d, &t->d.params, f, k0, "discriminator", 0, 1, 2e-6);
  net_tensors(dev, &t->g, &t->g.params, f, k0, "generator", 0, 1, 2e-6);
  snprintf(k0, sizeof k0, "%sfinal_m", run);
  snprintf(k1, sizeof k1, "%sfinal_v", run);
  net_tensors(dev, &t->d, &t->d.state1, f, k0, "discriminator", 0, 0, 7e-6);
  net_tensors(dev, &t->g, &t->g.state1, f, k0, "generator", 0, 0, 7e-6);
  net_tensors(dev, &t->d, &t->d.state2, f, k1, "discriminator", 0, 0, 7e-6);
  net_tensors(dev, &t->g, &t->g.state2, f, k1, "generator", 0, 0, 7e-6);
  free(c.dgrad0);
  free(c.fake0);
  clgan_trainer_free(t);
  clgan_buffer_free(&data.images);
}

int main(void) {
  clgan_device *dev = test_open_device();
  clgan_st_file *f = NULL;
  const char *path = CLGAN_TEST_DATA_DIR "/parity_sn.safetensors";
  CHECK(clgan_st_open(path, &f) == CLGAN_OK, "open %s", path);
  if (f) {
    printf("%s (torch %s)\n", path, clgan_st_meta(f, "torch_version"));
    layer_case(dev, f, "linear", "linear:5:sn", 4, 7, 1, 1);
    layer_case(dev, f, "conv", "conv:4:3:2:1:sn", 2, 3, 6, 5);
    layer_case(dev, f, "convT", "convT:4:4:2:1:sn", 2, 3, 3, 4);
    gan_case(dev, f, "");
    gan_case(dev, f, "gp.");
    printf("largest normwise difference: %.2e\n", worst_seen);
  }
  clgan_st_close(f);
  clgan_device_close(dev);
  return test_finish();
}
