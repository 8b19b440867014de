/* PyTorch parity: three training steps of mlp and mlp-bn from the fixtures that
 * tests/fixtures/make_fixtures.py writes with Debian's python3-torch (same initial weights, real
 * batches and noise), compared with PyTorch's losses, D outputs, first fake batch, step-0
 * gradients, and weights, Adam moments and batch-norm running statistics after three steps.
 * Tolerances: tests/fixtures/README.md (float32 summation order is the only expected difference). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "gan/trainer_internal.h"
#include "harness.h"

static const float *tensor(const clgan_st_file *f, const char *name, size_t n) {
  const clgan_st_tensor *t = clgan_st_find(f, name);
  CHECK(t && t->dtype == CLGAN_ST_F32 && t->nbytes == n * sizeof(float),
        "fixture tensor %s with %zu floats", name, n);
  return t && t->nbytes == n * sizeof(float) ? (const float *)t->data : NULL;
}

/* Tolerances from tests/fixtures/README.md ("Tolerances for the C test"): about ten times the
 * differences the fixture script measured between float32 summation orders. */
typedef struct {
  double loss0, loss;         /* relative, step 0 and steps 1-2 */
  double fake0;               /* absolute */
  double grad0;               /* normwise: max|got - want| / max|want| per tensor */
  double final_d, final_g;    /* absolute, every element */
  double share_1e5, share_1e4; /* largest share of G elements off by > 1e-5 / 1e-4 (1 = any) */
  double running;             /* absolute */
  double moments_d, moments_g; /* normwise */
} tolerances;

static const tolerances tol_mlp = {2e-6, 2e-6, 3e-6, 3e-5, 1e-5, 1e-5, 1, 1, 2e-4, 3e-5, 3e-5};
static const tolerances tol_mlp_bn = {2e-6, 1e-4, 5e-5, 1e-4, 3e-4, 1.5e-3, 0.02, 0.001, 2e-4,
                                      1e-3, 0.2};

static double normwise(const float *got, const float *want, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (!(d <= num)) num = d;
    if (fabs((double)want[i]) > den) den = fabs((double)want[i]);
  }
  return num / (den + 1e-30);
}

static double max_abs(const float *got, const float *want, size_t n, size_t *over5, size_t *over4) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (!(d <= m)) m = d;
    *over5 += !(d <= 1e-5);
    *over4 += !(d <= 1e-4);
  }
  return m;
}

typedef enum { WHAT_PARAMS, WHAT_GRADS, WHAT_M, WHAT_V } what_kind;

/* Visits every parameter tensor of net, handing its device data and its fixture name. */
static void compare_net(clgan_device *dev, clgan_net *net, const char *prefix,
                        const clgan_st_file *f, const char *fixture_prefix, what_kind what,
                        double tol, const char *label, const tolerances *share) {
  size_t total = 0, over5 = 0, over4 = 0;
  const clgan_buffer *arena = what == WHAT_PARAMS ? &net->params
                              : what == WHAT_GRADS ? &net->grads
                              : what == WHAT_M     ? &net->state1
                                                   : &net->state2;
  float *host = malloc(net->arena_n * sizeof *host);
  clgan_buffer_read(dev, arena, 0, net->arena_n * sizeof *host, host);
  for (int i = 0; i < net->count; i++) {
    clgan_layer *l = &net->layers[i];
    if (!l->w_n) continue;
    const char *names[2] = {"weight", "bias"};
    size_t offs[2] = {l->w_off, l->b_off}, ns[2] = {l->w_n, l->b_n};
    for (int k = 0; k < 2; k++) {
      char tname[128], fname[200];
      clgan_net_tensor_name(tname, sizeof tname, prefix, i, names[k]);
      snprintf(fname, sizeof fname, "%s.%s", fixture_prefix, tname);
      if (!clgan_st_find(f, fname)) continue; /* the fixture may leave some out (README) */
      const float *want = tensor(f, fname, ns[k]);
      if (!want) continue;
      if (what == WHAT_PARAMS) {
        double e = max_abs(host + offs[k], want, ns[k], &over5, &over4);
        total += ns[k];
        CHECK(e <= tol, "%s %s: max abs difference %.3g > %.3g", label, tname, e, tol);
        printf("  %-8s %-28s max abs difference %.2e\n", label, tname, e);
      } else {
        double e = normwise(host + offs[k], want, ns[k]);
        CHECK(e <= tol, "%s %s: normwise difference %.3g > %.3g", label, tname, e, tol);
        printf("  %-8s %-28s normwise difference %.2e\n", label, tname, e);
      }
    }
  }
  if (share && total) {
    double s5 = (double)over5 / (double)total, s4 = (double)over4 / (double)total;
    printf("  %s %s: %.4f%% of elements off by > 1e-5, %.4f%% by > 1e-4\n", label, prefix,
           100 * s5, 100 * s4);
    CHECK(s5 <= share->share_1e5 && s4 <= share->share_1e4,
          "%s %s: shares off by > 1e-5 (%.4g) and > 1e-4 (%.4g) within %.4g and %.4g", label,
          prefix, s5, s4, share->share_1e5, share->share_1e4);
  }
  free(host);
}

static void upload_init(clgan_device *dev, clgan_net *net, const char *prefix,
                        const clgan_st_file *f) {
  for (int i = 0; i < net->count; i++) {
    clgan_layer *l = &net->layers[i];
    if (!l->w_n) continue;
    char tname[128], fname[200];
    clgan_net_tensor_name(tname, sizeof tname, prefix, i, "weight");
    snprintf(fname, sizeof fname, "init.%s", tname);
    const float *w = tensor(f, fname, l->w_n);
    clgan_net_tensor_name(tname, sizeof tname, prefix, i, "bias");
    snprintf(fname, sizeof fname, "init.%s", tname);
    const float *b = tensor(f, fname, l->b_n);
    if (w) clgan_buffer_write(dev, &l->w, 0, l->w_n * sizeof(float), w);
    if (b) clgan_buffer_write(dev, &l->b, 0, l->b_n * sizeof(float), b);
  }
}

static void run_fixture(clgan_device *dev, const char *model, const char *file,
                        const tolerances *tol) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", CLGAN_TEST_DATA_DIR, file);
  clgan_st_file *f = NULL;
  CHECK(clgan_st_open(path, &f) == CLGAN_OK, "open %s", path);
  if (!f) return;
  printf("%s (%s, torch %s)\n", model, file, clgan_st_meta(f, "torch_version"));
  clgan_train_cfg cfg;
  clgan_preset(model, &cfg);
  const char *adam = clgan_st_meta(f, "adam");
  CHECK(adam && strstr(adam, "1e-08"), "the fixture's Adam eps is 1e-8: %s", adam);
  cfg.opt_g.eps = cfg.opt_d.eps = 1e-8;
  int b = cfg.batch, dim = 784;
  const float *real0 = tensor(f, "real.0", (size_t)b * dim);
  if (!real0) {
    clgan_st_close(f);
    return;
  }
  /* The trainer needs a data set; the fixture's batches are fed to it directly instead. */
  clgan_train_data data = {.count = b, .rows = 28, .cols = 28};
  clgan_buffer_alloc(dev, &data.images, (size_t)b * dim);
  clgan_buffer_zero(dev, &data.images);
  clgan_trainer *t = NULL;
  CHECK(clgan_trainer_create(&t, dev, &cfg, &data) == CLGAN_OK, "trainer for %s", model);
  if (!t) {
    clgan_st_close(f);
    return;
  }
  t->external_batches = 1;
  upload_init(dev, &t->g, "generator", f);
  upload_init(dev, &t->d, "discriminator", f);

  const float *loss_d = tensor(f, "loss_d", 3), *loss_g = tensor(f, "loss_g", 3);
  const float *d_real = tensor(f, "d_real", 3), *d_fake = tensor(f, "d_fake", 3);
  for (int k = 0; k < 3; k++) {
    char name[32];
    snprintf(name, sizeof name, "real.%d", k);
    const float *real = tensor(f, name, (size_t)b * dim);
    snprintf(name, sizeof name, "noise.%d", k);
    const float *noise = tensor(f, name, (size_t)b * cfg.latent);
    if (!real || !noise) break;
    clgan_buffer_write(dev, &t->real, 0, (size_t)b * dim * sizeof(float), real);
    clgan_buffer_write(dev, &t->z, 0, (size_t)b * cfg.latent * sizeof(float), noise);
    CHECK(clgan_trainer_step(t) == CLGAN_OK, "step %d", k);
    clgan_metrics m;
    CHECK(clgan_trainer_metrics(t, &m) == CLGAN_OK, "metrics");
    if (loss_d && loss_g && d_real && d_fake) {
      float got[4] = {(float)m.d_loss, (float)m.g_loss, (float)m.d_real, (float)m.d_fake};
      float want[4] = {loss_d[k], loss_g[k], d_real[k], d_fake[k]};
      printf("  step %d: D loss %.7f (torch %.7f)  G loss %.7f (torch %.7f)  D(x) %.6f  "
             "D(G(z)) %.6f\n", k, got[0], want[0], got[1], want[1], got[2], got[3]);
      CHECK_CLOSE("losses, D(x), D(G(z))", got, want, 4, 0, k ? tol->loss : tol->loss0);
    }
    if (k == 0) {
      const float *fake0 = tensor(f, "fake0", (size_t)b * dim);
      float *fake = malloc((size_t)b * dim * sizeof *fake);
      clgan_buffer_read(dev, &t->g.layers[t->g.count - 1].y, 0, (size_t)b * dim * sizeof *fake,
                        fake);
      if (fake0) CHECK_CLOSE("fake batch of step 0", fake, fake0, (size_t)b * dim, tol->fake0, 0);
      free(fake);
      compare_net(dev, &t->d, "discriminator", f, "grad0", WHAT_GRADS, tol->grad0, "grad0", NULL);
      compare_net(dev, &t->g, "generator", f, "grad0", WHAT_GRADS, tol->grad0, "grad0", NULL);
    }
  }
  compare_net(dev, &t->g, "generator", f, "final", WHAT_PARAMS, tol->final_g, "final", tol);
  compare_net(dev, &t->d, "discriminator", f, "final", WHAT_PARAMS, tol->final_d, "final", NULL);
  compare_net(dev, &t->g, "generator", f, "final_m", WHAT_M, tol->moments_g, "final_m", NULL);
  compare_net(dev, &t->d, "discriminator", f, "final_m", WHAT_M, tol->moments_d, "final_m", NULL);
  compare_net(dev, &t->g, "generator", f, "final_v", WHAT_V, tol->moments_g, "final_v", NULL);
  compare_net(dev, &t->d, "discriminator", f, "final_v", WHAT_V, tol->moments_d, "final_v", NULL);
  for (int i = 0; i < t->g.count; i++) {
    clgan_layer *l = &t->g.layers[i];
    if (l->spec.kind != CLGAN_LAYER_BN) continue;
    char tname[128], fname[200];
    float *got = malloc((size_t)l->out * sizeof *got);
    const char *which[2] = {"running_mean", "running_var"};
    clgan_buffer *bufs[2] = {&l->running_mean, &l->running_var};
    for (int k = 0; k < 2; k++) {
      clgan_net_tensor_name(tname, sizeof tname, "generator", i, which[k]);
      snprintf(fname, sizeof fname, "final.%s", tname);
      const float *want = tensor(f, fname, (size_t)l->out);
      clgan_buffer_read(dev, bufs[k], 0, (size_t)l->out * sizeof *got, got);
      if (want) CHECK_CLOSE(fname, got, want, (size_t)l->out, tol->running, 0);
    }
    clgan_net_tensor_name(tname, sizeof tname, "generator", i, "num_batches_tracked");
    snprintf(fname, sizeof fname, "final.%s", tname);
    const clgan_st_tensor *nb = clgan_st_find(f, fname);
    long long want_nb = -1;
    if (nb && nb->nbytes == 8) memcpy(&want_nb, nb->data, 8);
    CHECK(l->bn_batches == want_nb, "%s: %ld, torch %lld", fname, l->bn_batches, want_nb);
    free(got);
  }
  clgan_trainer_free(t);
  clgan_buffer_free(&data.images);
  clgan_st_close(f);
}

int main(void) {
  clgan_device *dev = test_open_device();
  run_fixture(dev, "mlp", "parity_mlp.safetensors", &tol_mlp);
  run_fixture(dev, "mlp-bn", "parity_mlp_bn.safetensors", &tol_mlp_bn);
  clgan_device_close(dev);
  return test_finish();
}
