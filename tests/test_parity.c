/* PyTorch parity for every preset, from the fixtures that tests/fixtures/make_fixtures.py writes
 * with Debian's python3-torch: mlp and mlp-bn (3 steps, BCE, Adam, batch 64; mlp's D takes the
 * fused real + fake pass), dcgan (3 steps, BCE, Adam), wgan (3 generator steps of 5 critic steps,
 * weight clipping, RMSprop) and wgan-gp (1 step; its critic gradient is mostly the gradient
 * penalty's double backward), and in colour dcgan32's family (3 steps on 3x32x32 images) and the
 * dcgan64 preset at full width (3 steps on 3x64x64 images). Both sides initialise every parameter
 * from the same hash (hash_value), and the trainer's test hook feeds clgan each D
 * step's real batch, noise and (WGAN-GP) interpolation weights from the fixture. Compared: every
 * D step's loss and mean D outputs, the generator loss, the first fake batch, the first
 * gradients, the weights and running statistics after the first and the last step, and the
 * optimizer state. Tolerances: tests/fixtures/README.md ("Tolerances"). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "gan/trainer_internal.h"
#include "harness.h"

/* The fixtures' initialisation (metadata "init"): element i of parameter tensor number t. Three
 * statements, so that no compiler may fuse the multiply and add into an fma (C11 allows it only
 * within one expression; u * 2 is exact either way). */
static float hash_value(uint32_t t, uint32_t i, float center) {
  uint32_t h = i * 2654435761u + (t + 1u) * 40503u;
  float u = (float)(h >> 8) * 0x1p-24f;
  float s = (u * 2.0f - 1.0f) * 0.05f;
  return s + center;
}

static int is_bn(const clgan_layer *l) { return clgan_layer_is_bn(l->spec.kind); }

/* A bias that feeds a batch norm: the norm subtracts it again, so its gradient is rounding noise
 * and the optimizer moves it by noise (README). */
static int pre_bn_bias(const clgan_net *net, int i, int is_bias) {
  return is_bias && i + 1 < net->count && is_bn(&net->layers[i + 1]);
}

/* Sets every parameter of net from the hash, tensors numbered from *t on. */
static void hash_init(clgan_device *dev, clgan_net *net, uint32_t *t) {
  float *host = calloc(net->arena_n, sizeof *host);
  for (int i = 0; i < net->count; i++) {
    clgan_layer *l = &net->layers[i];
    if (!l->w_n) continue;
    float center = is_bn(l) ? 1.0f : 0.0f;
    for (size_t e = 0; e < l->w_n; e++) host[l->w_off + e] = hash_value(*t, (uint32_t)e, center);
    ++*t;
    for (size_t e = 0; e < l->b_n; e++) host[l->b_off + e] = hash_value(*t, (uint32_t)e, 0.0f);
    ++*t;
  }
  /* A projection discriminator's class embedding: the tensor after its layers'. */
  for (size_t e = 0; e < net->e_n; e++) host[net->e_off + e] = hash_value(*t, (uint32_t)e, 0.0f);
  if (net->e_n) ++*t;
  CHECK(clgan_buffer_write(dev, &net->params, 0, net->arena_n * sizeof *host, host) == CLGAN_OK,
        "upload the hash initialisation");
  free(host);
}

static const float *tensor(const clgan_st_file *f, const char *name, size_t n) {
  const clgan_st_tensor *t = clgan_st_find(f, name);
  CHECK(t && t->dtype == CLGAN_ST_F32 && t->nbytes == n * sizeof(float),
        "fixture tensor %s with %zu floats", name, n);
  return t && t->dtype == CLGAN_ST_F32 && t->nbytes == n * sizeof(float) ? (const float *)t->data
                                                                         : NULL;
}

/* A fixture tensor of `full` elements: stored whole under "<kind>.<name>" (stride 1), or as
 * every stride-th element under "<kind>_sample.<name>". */
typedef struct {
  const float *v;
  size_t n, stride;
} ref_tensor;

static int find_ref(const clgan_st_file *f, const char *kind, const char *name, size_t full,
                    size_t stride, ref_tensor *r) {
  char fname[256];
  snprintf(fname, sizeof fname, "%s.%s", kind, name);
  if (clgan_st_find(f, fname)) {
    *r = (ref_tensor){tensor(f, fname, full), full, 1};
  } else {
    snprintf(fname, sizeof fname, "%s_sample.%s", kind, name);
    size_t n = (full + stride - 1) / stride;
    *r = (ref_tensor){tensor(f, fname, n), n, stride};
  }
  return r->v != NULL;
}

static double ref_max(const ref_tensor *r) {
  double m = 0;
  for (size_t e = 0; e < r->n; e++)
    if (fabs((double)r->v[e]) > m) m = fabs((double)r->v[e]);
  return m;
}

/* Tolerances for one network's state after a step (README "Convolutional models"). */
typedef struct {
  double max_abs;          /* weights and biases but the pre-batch-norm biases */
  double share5, share4;   /* largest share of those off by > 1e-5 / > 1e-4 (at least 5 allowed) */
  double noise;            /* pre-batch-norm biases, absolute */
  double rmean, rvar;      /* running mean absolute, running variance normwise */
} state_tol;

enum { NET_D, NET_G };

typedef struct {
  double loss0_abs, loss0_rel; /* losses and mean D outputs of the first G step: */
  double loss_abs, loss_rel;   /* |got - want| <= abs + rel |want|; later steps */
  double fake0;                /* absolute */
  double grad0_nw[2];          /* per tensor max|got - want| / max|want| (a bias: also over its
                                  layer's weight) */
  double grad0_l2[2];          /* per tensor ||got - want|| / ||want||; 0 = not checked */
  state_tol after0[2], final[2];
  double opt_l2[2];            /* optimizer state, per tensor ||got - want|| / ||want|| */
} tolerances;

/* README "Tolerances": the first step's checks are about ten times the largest
 * difference between the fixture's float32 run, a float64 run and a float32 run with reordered
 * sums; later ones also allow twice the drift of runs with gradient noise (an implementation with
 * less accurate sums). Where the optimizer bounds a difference (2 lr per Adam step, 20 lr per
 * RMSprop step) the bound is used, and shares keep those checks sharp. Indexed [D, G]. */
static const tolerances tol_mlp = {
    .loss0_rel = 2e-6, .loss_rel = 2e-6, .fake0 = 1e-6,
    .grad0_nw = {1.2e-5, 1.2e-5},
    .after0 = {{8e-6, 0, 0, 0, 0, 0}, {3e-6, 0, 0, 0, 0, 0}},
    .final = {{8.2e-4, 4.6e-3, 3.8e-4, 0, 0, 0}, {2.8e-4, 1.2e-2, 4.8e-5, 0, 0, 0}},
    .opt_l2 = {3.2e-3, 2e-4}};
static const tolerances tol_mlp_bn = {
    .loss0_rel = 2e-6, .loss_rel = 4e-3, .fake0 = 5.5e-5,
    .grad0_nw = {1e-5, 5e-5},
    .after0 = {{1.3e-5, 0, 0, 0, 0, 0}, {6e-5, 0, 0, 0, 5.2e-7, 7.4e-7}},
    .final = {{1.2e-3, 0.46, 8.8e-3, 0, 0, 0}, {1.2e-3, 0.98, 5.6e-2, 0, 4.4e-3, 1.24e-2}},
    .opt_l2 = {0.1, 0.82}};
static const tolerances tol_dcgan = {
    .loss0_rel = 2e-5, .loss_rel = 2.5e-3, .fake0 = 7e-5,
    .grad0_nw = {3e-5, 1e-4},
    .after0 = {{4e-6, 0, 0, 4e-4, 4e-4, 2e-6}, {4e-4, 1e-4, 1e-4, 4e-4, 1e-7, 1e-6}},
    .final = {{3e-4, 2e-2, 0, 1.4e-3, 3e-3, 8e-4}, {1.3e-3, 2e-2, 3e-4, 1.4e-3, 1e-3, 1.3e-4}},
    .opt_l2 = {0.2, 0.13}};
/* dcgan64 at full width (README "Colour"): the same rule on its own figures. Its generator's
 * first gradient goes through the D that Adam has just moved (by about lr per element, on the
 * sign of rounding noise where a gradient is near zero): in float32 it is 1.5e-4 normwise from
 * PyTorch's float64 run, where dcgan32's is 1e-6, and the later steps drift accordingly (the
 * gradient-noise runs' figures, doubled). */
static const tolerances tol_dcgan64 = {
    .loss0_rel = 2e-5, .loss_rel = 1.3e-2, .fake0 = 3e-5,
    .grad0_nw = {3e-5, 1.5e-3},
    .after0 = {{4e-4, 1e-4, 1e-4, 4e-4, 4e-4, 1e-4}, {4e-4, 1e-4, 1e-4, 4e-4, 1e-7, 1e-6}},
    .final = {{1.6e-3, 8.6e-2, 6e-4, 1.4e-3, 5.6e-2, 2e-2},
              {2.5e-3, 1, 3.5e-2, 1.4e-3, 6e-4, 6e-3}},
    .opt_l2 = {0.2, 0.56}};
static const tolerances tol_wgan = {
    .loss0_abs = 2.5e-5, .loss_abs = 2.5e-4, .fake0 = 7e-5,
    .grad0_nw = {3e-5, 2}, .grad0_l2 = {0, 0.25},
    .after0 = {{1e-3, 1e-3, 0, 5e-3, 3e-3, 5e-6}, {1.01e-3, 1.2e-2, 3e-3, 5e-5, 2e-7, 4e-6}},
    .final = {{1.7e-3, 5e-2, 0, 1.1e-2, 8e-3, 5e-3}, {3e-3, 1, 0.2, 5e-5, 2e-2, 2e-2}},
    .opt_l2 = {0.15, 0.5}};
static const tolerances tol_wgan_gp = {
    .loss0_rel = 1.2e-4, .fake0 = 7e-5,
    .grad0_nw = {3e-5, 1e-4},
    .final = {{1e-7, 0, 0, 0, 0, 0}, {2e-4, 1.2e-4, 1e-4, 2e-4, 1e-7, 1e-6}},
    .opt_l2 = {3e-5, 1.2e-4}};

static const char *const net_names[2] = {"discriminator", "generator"};

/* The l2 norm over all n elements of a sampled tensor, relative to the fixture's
 * "<kind>_norm.<name>" where it has one (dcgan64's): it covers the elements the sample skips.
 * Returns -1 where there is none. */
static double norm_diff(const float *got, size_t n, const clgan_st_file *f, const char *kind,
                        const char *name) {
  char fname[256];
  snprintf(fname, sizeof fname, "%s_norm.%s", kind, name);
  if (!clgan_st_find(f, fname)) return -1;
  const float *want = tensor(f, fname, 1);
  if (!want) return -1;
  double ss = 0;
  for (size_t e = 0; e < n; e++) ss += (double)got[e] * got[e];
  return fabs(sqrt(ss) - want[0]) / (fabs((double)want[0]) + 1e-30);
}

/* Gradient-like arena contents (host) of one network against "<kind>.*" tensors. */
static void check_grads(const float *host, const clgan_net *net, const char *prefix,
                        const clgan_st_file *f, const char *kind, size_t stride, double tol_nw,
                        double tol_l2) {
  for (int i = 0; i < net->count; i++) {
    const clgan_layer *l = &net->layers[i];
    if (!l->w_n) continue;
    double weight_max = 0;
    for (int is_bias = 0; is_bias < 2; is_bias++) {
      char name[128];
      clgan_net_tensor_name(name, sizeof name, prefix, i, is_bias ? "bias" : "weight");
      ref_tensor r;
      if (!find_ref(f, kind, name, is_bias ? l->b_n : l->w_n, stride, &r)) continue;
      const float *got = host + (is_bias ? l->b_off : l->w_off);
      double scale = ref_max(&r), num = 0, dd = 0, rr = 0;
      if (!is_bias) weight_max = scale;
      else if (weight_max > scale) scale = weight_max;
      for (size_t e = 0; e < r.n; e++) {
        double d = fabs((double)got[e * r.stride] - r.v[e]);
        if (!(d <= num)) num = d;
        dd += d * d;
        rr += (double)r.v[e] * r.v[e];
      }
      double nw = num / (scale + 1e-30), l2 = sqrt(dd) / (sqrt(rr) + 1e-30);
      int noise = pre_bn_bias(net, i, is_bias);
      printf("  %-8s %-26s normwise %.2e", kind, name, nw);
      if (tol_nw > 0)
        CHECK(nw <= tol_nw, "%s %s: normwise difference %.3g > %.3g", kind, name, nw, tol_nw);
      if (!noise && tol_l2 > 0) {
        printf("  rel l2 %.2e", l2);
        CHECK(l2 <= tol_l2, "%s %s: relative l2 difference %.3g > %.3g", kind, name, l2, tol_l2);
      }
      double nd = r.stride > 1 ? norm_diff(got, is_bias ? l->b_n : l->w_n, f, kind, name) : -1;
      if (nd >= 0) {
        double tol = tol_l2 > 0 ? tol_l2 : tol_nw;
        printf("  norm of all %zu %.2e", is_bias ? l->b_n : l->w_n, nd);
        CHECK(nd <= tol, "%s %s: l2 norm over all elements off by %.3g relative > %.3g", kind,
              name, nd, tol);
      }
      printf("%s\n", noise ? "  (feeds a batch norm)" : "");
    }
  }
  ref_tensor r;
  char name[128];
  snprintf(name, sizeof name, "%s.embed.weight", prefix);
  if (!net->e_n || !find_ref(f, kind, name, net->e_n, stride, &r)) return;
  double scale = ref_max(&r), num = 0, dd = 0, rr = 0;
  for (size_t e = 0; e < r.n; e++) {
    double d = fabs((double)host[net->e_off + e * r.stride] - r.v[e]);
    if (!(d <= num)) num = d;
    dd += d * d;
    rr += (double)r.v[e] * r.v[e];
  }
  double nw = num / (scale + 1e-30), l2 = sqrt(dd) / (sqrt(rr) + 1e-30);
  printf("  %-8s %-26s normwise %.2e  rel l2 %.2e\n", kind, name, nw, l2);
  if (tol_nw > 0)
    CHECK(nw <= tol_nw, "%s %s: normwise difference %.3g > %.3g", kind, name, nw, tol_nw);
  if (tol_l2 > 0)
    CHECK(l2 <= tol_l2, "%s %s: relative l2 difference %.3g > %.3g", kind, name, l2, tol_l2);
}

static void check_counter(const clgan_st_file *f, const char *fname, long got) {
  const clgan_st_tensor *nb = clgan_st_find(f, fname);
  long long want = -1;
  if (nb && nb->dtype == CLGAN_ST_I64 && nb->nbytes == 8) memcpy(&want, nb->data, 8);
  CHECK(got == want, "%s: %ld, torch %lld", fname, got, want);
}

/* Weights, biases, running statistics and batch counts of one network against "<kind>.*". */
static void check_state(clgan_device *dev, const clgan_net *net, const char *prefix,
                        const clgan_st_file *f, const char *kind, size_t stride,
                        const state_tol *tol) {
  float *host = malloc(net->arena_n * sizeof *host);
  clgan_buffer_read(dev, &net->params, 0, net->arena_n * sizeof *host, host);
  size_t total = 0, over5 = 0, over4 = 0;
  double worst = 0, noise = 0, rmean = 0, rvar = 0;
  char worst_name[128] = "-";
  for (int i = 0; i < net->count; i++) {
    const clgan_layer *l = &net->layers[i];
    char name[128];
    for (int is_bias = 0; l->w_n && is_bias < 2; is_bias++) {
      clgan_net_tensor_name(name, sizeof name, prefix, i, is_bias ? "bias" : "weight");
      ref_tensor r;
      if (!find_ref(f, kind, name, is_bias ? l->b_n : l->w_n, stride, &r)) continue;
      const float *got = host + (is_bias ? l->b_off : l->w_off);
      int is_noise = pre_bn_bias(net, i, is_bias);
      for (size_t e = 0; e < r.n; e++) {
        double d = fabs((double)got[e * r.stride] - r.v[e]);
        if (is_noise) {
          if (!(d <= noise)) noise = d;
          continue;
        }
        if (!(d <= worst)) {
          worst = d;
          snprintf(worst_name, sizeof worst_name, "%s", name);
        }
        total++;
        over5 += !(d <= 1e-5);
        over4 += !(d <= 1e-4);
      }
    }
    if (!is_bn(l)) continue;
    const char *which[2] = {"running_mean", "running_var"};
    const clgan_buffer *bufs[2] = {&l->running_mean, &l->running_var};
    float *got = malloc((size_t)l->out_c * sizeof *got);
    for (int k = 0; k < 2; k++) {
      clgan_net_tensor_name(name, sizeof name, prefix, i, which[k]);
      ref_tensor r;
      if (!find_ref(f, kind, name, (size_t)l->out_c, stride, &r)) continue;
      clgan_buffer_read(dev, bufs[k], 0, (size_t)l->out_c * sizeof *got, got);
      double num = 0;
      for (size_t e = 0; e < r.n; e++) {
        double d = fabs((double)got[e * r.stride] - r.v[e]);
        if (!(d <= num)) num = d;
      }
      double *slot = k ? &rvar : &rmean;
      double e = k ? num / (ref_max(&r) + 1e-30) : num;
      if (!(e <= *slot)) *slot = e;
    }
    free(got);
    char fname[200];
    clgan_net_tensor_name(name, sizeof name, prefix, i, "num_batches_tracked");
    snprintf(fname, sizeof fname, "%s.%s", kind, name);
    check_counter(f, fname, l->bn_batches);
  }
  char ename[128];
  snprintf(ename, sizeof ename, "%s.embed.weight", prefix);
  ref_tensor er;
  if (net->e_n && find_ref(f, kind, ename, net->e_n, stride, &er)) {
    for (size_t e = 0; e < er.n; e++) {
      double d = fabs((double)host[net->e_off + e * er.stride] - er.v[e]);
      if (!(d <= worst)) {
        worst = d;
        snprintf(worst_name, sizeof worst_name, "%s", ename);
      }
      total++;
      over5 += !(d <= 1e-5);
      over4 += !(d <= 1e-4);
    }
  }
  double s5 = total ? (double)over5 / (double)total : 0;
  double s4 = total ? (double)over4 / (double)total : 0;
  printf("  %-6s %-13s max abs %.2e (%s); %.4f%% of %zu off by > 1e-5, %.4f%% by > 1e-4",
         kind, prefix, worst, worst_name, 100 * s5, total, 100 * s4);
  if (tol->noise > 0) printf("; pre-bn biases %.2e", noise);
  if (tol->rmean > 0) printf("; running mean %.2e, var %.2e (normwise)", rmean, rvar);
  printf("\n");
  CHECK(worst <= tol->max_abs, "%s %s: max abs difference %.3g (%s) > %.3g", kind, prefix, worst,
        worst_name, tol->max_abs);
  /* Shares are measured on a sample for the largest tensors: allow a few elements whatever the
   * share, so that one unlucky sensitive element in the sample is not a failure. */
  CHECK((double)over5 <= fmax(tol->share5 * (double)total, 5) &&
            (double)over4 <= fmax(tol->share4 * (double)total, 5),
        "%s %s: %zu and %zu of %zu elements off by > 1e-5 and > 1e-4, allowed shares %.3g, %.3g",
        kind, prefix, over5, over4, total, tol->share5, tol->share4);
  CHECK(noise <= tol->noise, "%s %s: pre-batch-norm biases off by %.3g > %.3g", kind, prefix,
        noise, tol->noise);
  CHECK(rmean <= tol->rmean && rvar <= tol->rvar,
        "%s %s: running mean off by %.3g (tolerance %.3g), variance by %.3g normwise (%.3g)",
        kind, prefix, rmean, tol->rmean, rvar, tol->rvar);
  free(host);
}

/* What the test hook needs and what it records, per D step n = k * d_steps + j. */
typedef struct {
  clgan_device *dev;
  const clgan_st_file *f;
  int d_steps, batch, latent, dim, feed_eps, classes;
  float *loss_d, *d_real, *d_fake, *gp;
  float *dgrad0, *fake0;   /* D's gradient arena and G's output after D step 0 */
} feed_ctx;

static clgan_status read_stats(clgan_trainer *t, float *s) {
  clgan_status st = clgan_buffer_read(t->dev, &t->stats, 0, STAT_COUNT * sizeof(float), s);
  return st ? st : clgan_buffer_zero(t->dev, &t->stats);
}

static clgan_status feed_hook(clgan_trainer *t, int after, void *ctx) {
  feed_ctx *c = ctx;
  long n = t->d_batches;
  int k = (int)(n / c->d_steps), j = (int)(n % c->d_steps);
  clgan_status st = CLGAN_OK;
  if (!after) {
    char name[64];
    size_t b = (size_t)c->batch;
    snprintf(name, sizeof name, "real.%d.%d", k, j);
    const float *x = tensor(c->f, name, b * (size_t)c->dim);
    snprintf(name, sizeof name, "noise.%d.%d", k, j);
    const float *z = tensor(c->f, name, b * (size_t)c->latent);
    snprintf(name, sizeof name, "eps.%d.%d", k, j);
    const float *e = c->feed_eps ? tensor(c->f, name, b) : NULL;
    if (!x || !z || (c->feed_eps && !e)) return CLGAN_INVALID_ARGUMENT;
    if ((st = clgan_buffer_write(c->dev, &t->real, 0, b * (size_t)c->dim * sizeof *x, x)) ||
        (st = clgan_buffer_write(c->dev, &t->z, 0, b * (size_t)c->latent * sizeof *z, z)) ||
        (e && (st = clgan_buffer_write(c->dev, &t->gp_eps, 0, b * sizeof *e, e))))
      return st;
    /* A conditional model's labels, stored as floats holding integers. */
    for (int which = 0; c->classes && which < 2; which++) {
      snprintf(name, sizeof name, "labels_%s.%d.%d", which ? "fake" : "real", k, j);
      const float *lf = tensor(c->f, name, b);
      int32_t lab[256];
      if (!lf || b > 256) return CLGAN_INVALID_ARGUMENT;
      for (size_t i = 0; i < b; i++) lab[i] = (int32_t)lf[i];
      if ((st = clgan_buffer_write(c->dev, which ? &t->labels_fake : &t->labels_real, 0,
                                   b * sizeof *lab, lab)))
        return st;
    }
    return CLGAN_OK;
  }
  float s[STAT_COUNT];
  if ((st = read_stats(t, s))) return st;
  float b = (float)c->batch;
  c->loss_d[n] = (s[STAT_D_LOSS_REAL] + s[STAT_D_LOSS_FAKE] + s[STAT_GP]) / b;
  c->d_real[n] = s[STAT_D_REAL] / b;
  c->d_fake[n] = s[STAT_D_FAKE] / b;
  c->gp[n] = s[STAT_GP] / b;
  /* The D gradients before the G step: its pass through D leaves batch-norm layers' parameter
   * gradients behind (clgan_bn_layer_backward ignores param_grads). */
  if (n == 0 &&
      ((st = clgan_buffer_read(c->dev, &t->d.grads, 0, t->d.arena_n * sizeof(float), c->dgrad0)) ||
       (st = clgan_buffer_read(c->dev, t->g.output, 0,
                               (size_t)c->batch * (size_t)c->dim * sizeof(float), c->fake0))))
    return st;
  return CLGAN_OK;
}

static void check_losses(const clgan_st_file *f, const char *name, const float *got, int steps,
                         int d_steps, const tolerances *tol) {
  const float *want = tensor(f, name, (size_t)steps * d_steps);
  if (!want) return;
  for (int k = 0; k < steps; k++) {
    char what[64];
    snprintf(what, sizeof what, "%s of step %d", name, k);
    double atol = k ? tol->loss_abs : tol->loss0_abs, rtol = k ? tol->loss_rel : tol->loss0_rel;
    CHECK_CLOSE(what, got + k * d_steps, want + k * d_steps, (size_t)d_steps, atol, rtol);
  }
}

static void run_fixture(clgan_device *dev, const char *model, const char *file,
                        const tolerances *tol, int classes) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", CLGAN_TEST_DATA_DIR, file);
  clgan_st_file *f = NULL;
  CHECK(clgan_st_open(path, &f) == CLGAN_OK, "open %s", path);
  if (!f) return;
  const char *meta[4] = {clgan_st_meta(f, "batch"), clgan_st_meta(f, "steps"),
                         clgan_st_meta(f, "d_steps"), clgan_st_meta(f, "sample")};
  const char *stride_at = meta[3] ? strstr(meta[3], "\"stride\": ") : NULL;
  CHECK(meta[0] && meta[1] && meta[2] && stride_at, "%s: metadata batch, steps, d_steps, sample",
        file);
  if (!meta[0] || !meta[1] || !meta[2] || !stride_at) {
    clgan_st_close(f);
    return;
  }
  int batch = atoi(meta[0]), steps = atoi(meta[1]), d_steps = atoi(meta[2]);
  size_t stride = (size_t)atol(stride_at + strlen("\"stride\": "));
  printf("%s (%s, torch %s): batch %d, %d steps of %d D steps\n", model, file,
         clgan_st_meta(f, "torch_version"), batch, steps, d_steps);

  clgan_train_cfg cfg;
  clgan_preset(model, &cfg);
  /* A fixture of another image shape (issue 13's colour models) names it and its networks. */
  const char *image = clgan_st_meta(f, "image"), *g_spec = clgan_st_meta(f, "g_spec"),
             *d_spec = clgan_st_meta(f, "d_spec");
  int channels = 1, rows = 28, cols = 28;
  if (image)
    CHECK(sscanf(image, "%dx%dx%d", &channels, &rows, &cols) == 3 && channels > 0 && rows > 0 &&
              cols > 0, "%s: image shape '%s'", file, image);
  /* A fixture of the preset itself says so: then its networks must still be the preset's. */
  if (clgan_st_meta(f, "preset_specs"))
    CHECK(g_spec && d_spec && !strcmp(g_spec, cfg.g_spec) && !strcmp(d_spec, cfg.d_spec),
          "%s: the fixture's networks are %s's own: G '%s', D '%s'; the preset's G '%s', D '%s'",
          file, model, g_spec ? g_spec : "-", d_spec ? d_spec : "-", cfg.g_spec, cfg.d_spec);
  if (g_spec) snprintf(cfg.g_spec, sizeof cfg.g_spec, "%s", g_spec);
  if (d_spec) snprintf(cfg.d_spec, sizeof cfg.d_spec, "%s", d_spec);
  cfg.batch = batch;
  cfg.d_steps = d_steps;
  cfg.classes = classes;
  const char *opt = clgan_st_meta(f, "optimizer");
  int adam = cfg.opt_d.kind == CLGAN_OPT_ADAM;
  CHECK(opt && strstr(opt, adam ? "\"adam\"" : "\"rmsprop\""), "optimizer %s", opt);
  /* The fixture must have run the preset's own hyper-parameters (mlp-bn's Keras eps 1e-7 once
   * hid behind a fixture made with 1e-8: only elements with gradients near eps told). */
  const char *keys[3] = {"\"lr\": ", "\"eps\": ", adam ? "\"betas\": [" : "\"alpha\": "};
  double want[3] = {cfg.opt_d.lr, cfg.opt_d.eps, adam ? cfg.opt_d.beta1 : cfg.opt_d.alpha};
  for (int i = 0; i < 3; i++) {
    const char *at = opt ? strstr(opt, keys[i]) : NULL;
    double v = at ? atof(at + strlen(keys[i])) : -1;
    CHECK(fabs(v - want[i]) <= 1e-12 * fabs(want[i]), "%s: fixture's %s%g, preset's %g", file,
          keys[i], v, want[i]);
  }
  int dim = channels * rows * cols, n_d = steps * d_steps;
  clgan_train_data data = {.count = batch, .rows = rows, .cols = cols, .channels = channels};
  clgan_buffer_alloc(dev, &data.images, (size_t)batch * dim);
  clgan_buffer_zero(dev, &data.images);
  if (classes) {
    clgan_buffer_alloc(dev, &data.labels, (size_t)batch);
    clgan_buffer_zero(dev, &data.labels);
  }
  clgan_trainer *t = NULL;
  CHECK(clgan_trainer_create(&t, dev, &cfg, &data) == CLGAN_OK, "trainer for %s", model);
  if (!t) {
    clgan_buffer_free(&data.images);
    clgan_buffer_free(&data.labels);
    clgan_st_close(f);
    return;
  }

  /* The hash: clgan's values against a few that PyTorch's side printed, then the networks. */
  const clgan_st_tensor *hi = clgan_st_find(f, "hash_check.index");
  const clgan_st_tensor *hv = clgan_st_find(f, "hash_check.value");
  CHECK(hi && hv && hi->dtype == CLGAN_ST_I64 && hv->dtype == CLGAN_ST_F32 && hi->ndim == 2 &&
            hi->shape[1] == 2 && hv->nbytes == (size_t)hi->shape[0] * sizeof(float),
        "hash_check tensors");
  for (int64_t r = 0; hi && hv && hi->ndim == 2 && r < hi->shape[0] &&
                      hv->nbytes == (size_t)hi->shape[0] * sizeof(float);
       r++) {
    int64_t ti, ii;
    float want, got;
    memcpy(&ti, (const char *)hi->data + (size_t)r * 16, 8);
    memcpy(&ii, (const char *)hi->data + (size_t)r * 16 + 8, 8);
    memcpy(&want, (const char *)hv->data + (size_t)r * 4, 4);
    /* Which tensor t is decides the centre: find it among the layers (G, then D). */
    float center = 0.0f;
    int64_t count = 0;
    for (int net = 0; net < 2; net++) {
      clgan_net *nn = net ? &t->d : &t->g;
      for (int i = 0; i < nn->count; i++)
        if (nn->layers[i].w_n) {
          if (count == ti && is_bn(&nn->layers[i])) center = 1.0f;
          count += 2;
        }
    }
    got = hash_value((uint32_t)ti, (uint32_t)ii, center);
    CHECK(memcmp(&got, &want, sizeof got) == 0, "hash t=%lld i=%lld: %.9g, torch %.9g",
          (long long)ti, (long long)ii, (double)got, (double)want);
  }
  uint32_t counter = 0;
  hash_init(dev, &t->g, &counter);
  hash_init(dev, &t->d, &counter);

  feed_ctx c = {.dev = dev, .f = f, .d_steps = d_steps, .batch = batch, .latent = cfg.latent,
                .dim = dim, .feed_eps = cfg.loss == CLGAN_LOSS_WGAN_GP, .classes = classes};
  float *rec = calloc((size_t)n_d * 4 + (size_t)steps, sizeof *rec);
  c.loss_d = rec;
  c.d_real = rec + n_d;
  c.d_fake = rec + 2 * n_d;
  c.gp = rec + 3 * n_d;
  float *loss_g = rec + 4 * n_d;
  c.dgrad0 = malloc(t->d.arena_n * sizeof(float));
  c.fake0 = malloc((size_t)batch * dim * sizeof(float));
  t->external_batches = 1;
  t->test_hook = feed_hook;
  t->test_hook_ctx = &c;

  for (int k = 0; k < steps; k++) {
    clgan_status st = clgan_trainer_step(t);
    CHECK(st == CLGAN_OK, "%s step %d: %s", model, k, clgan_status_name(st));
    if (st != CLGAN_OK) break;
    float s[STAT_COUNT];
    CHECK(read_stats(t, s) == CLGAN_OK, "read the metrics");
    loss_g[k] = s[STAT_G_LOSS] / (float)batch;
    for (int j = 0; j < d_steps; j++) {
      int n = k * d_steps + j;
      printf("  step %d.%d: D loss %.7f  D(x) %.6f  D(G(z)) %.6f", k, j, c.loss_d[n], c.d_real[n],
             c.d_fake[n]);
      if (c.feed_eps) printf("  penalty %.6f", c.gp[n]);
      printf("\n");
    }
    printf("  step %d: G loss %.7f\n", k, loss_g[k]);
    if (k > 0) continue;
    /* The first step on its own: its checks are tight and say which part broke. */
    const float *fake0 = tensor(f, "fake0", (size_t)batch * dim);
    if (fake0)
      CHECK_CLOSE("fake batch of step 0", c.fake0, fake0, (size_t)batch * dim, tol->fake0, 0);
    check_grads(c.dgrad0, &t->d, "discriminator", f, "grad0", stride, tol->grad0_nw[NET_D],
                tol->grad0_l2[NET_D]);
    float *ggrad = malloc(t->g.arena_n * sizeof *ggrad);
    clgan_buffer_read(dev, &t->g.grads, 0, t->g.arena_n * sizeof *ggrad, ggrad);
    check_grads(ggrad, &t->g, "generator", f, "grad0", stride, tol->grad0_nw[NET_G],
                tol->grad0_l2[NET_G]);
    free(ggrad);
    if (steps > 1) {
      check_state(dev, &t->d, "discriminator", f, "after0", stride, &tol->after0[NET_D]);
      check_state(dev, &t->g, "generator", f, "after0", stride, &tol->after0[NET_G]);
    }
  }
  check_losses(f, "loss_d", c.loss_d, steps, d_steps, tol);
  check_losses(f, "d_real", c.d_real, steps, d_steps, tol);
  check_losses(f, "d_fake", c.d_fake, steps, d_steps, tol);
  if (c.feed_eps) check_losses(f, "gp", c.gp, steps, d_steps, tol);
  check_losses(f, "loss_g", loss_g, steps, 1, tol);
  check_state(dev, &t->d, "discriminator", f, "final", stride, &tol->final[NET_D]);
  check_state(dev, &t->g, "generator", f, "final", stride, &tol->final[NET_G]);

  /* Optimizer state: Adam's m and v, RMSprop's running square average. */
  const char *kinds[2] = {adam ? "final_m" : "final_square_avg", adam ? "final_v" : NULL};
  for (int s = 0; s < 2 && kinds[s]; s++)
    for (int net = 0; net < 2; net++) {
      clgan_net *nn = net == NET_G ? &t->g : &t->d;
      float *host = malloc(nn->arena_n * sizeof *host);
      clgan_buffer_read(dev, s ? &nn->state2 : &nn->state1, 0, nn->arena_n * sizeof *host, host);
      check_grads(host, nn, net_names[net], f, kinds[s], stride, 0, tol->opt_l2[net]);
      free(host);
    }

  free(c.dgrad0);
  free(c.fake0);
  free(rec);
  clgan_trainer_free(t);
  clgan_buffer_free(&data.images);
  clgan_buffer_free(&data.labels);
  clgan_st_close(f);
}

int main(void) {
  clgan_device *dev = test_open_device();
  run_fixture(dev, "mlp", "parity_mlp.safetensors", &tol_mlp, 0);
  run_fixture(dev, "mlp-bn", "parity_mlp_bn.safetensors", &tol_mlp_bn, 0);
  run_fixture(dev, "dcgan", "parity_dcgan.safetensors", &tol_dcgan, 0);
  run_fixture(dev, "wgan", "parity_wgan.safetensors", &tol_wgan, 0);
  run_fixture(dev, "wgan-gp", "parity_wgan_gp.safetensors", &tol_wgan_gp, 0);
  /* Conditional (issue 12; tests/fixtures/make_cond_fixture.py): the unconditional models'
   * tolerances, the steps being theirs with the conditioning added. */
  run_fixture(dev, "mlp-bn", "parity_cond_mlp_bn.safetensors", &tol_mlp_bn, 10);
  run_fixture(dev, "dcgan", "parity_cond_dcgan.safetensors", &tol_dcgan, 10);
  /* Colour (issue 13; tests/fixtures/make_colour_fixture.py): dcgan32 at a quarter of its
   * width on 3x32x32 images, and dcgan64 itself, full width, on 3x64x64 images. */
  run_fixture(dev, "dcgan32", "parity_dcgan32_rgb.safetensors", &tol_dcgan, 0);
  run_fixture(dev, "dcgan64", "parity_dcgan64_rgb.safetensors", &tol_dcgan64, 0);
  clgan_device_close(dev);
  return test_finish();
}
