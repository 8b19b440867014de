/* The network with image layers (conv, convT, bn2d, reshape, flatten) against a double-precision
 * host forward written out here: the forward output, and every parameter gradient and the input
 * gradient against central finite differences, for a D-like and a G-like net on odd shapes, with
 * and without spectral normalisation (sn on linear, conv and convT layers: the power iteration
 * against clgan_ref_sn_forward, then the finite differences of W_orig -> W_orig / sigma with u
 * and v held at the values the forward left, as PyTorch's backward holds them). A second
 * backward with accumulate must double every parameter gradient. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/nn.h"
#include "harness.h"

#define BATCH 3
#define MAXA 4096 /* values per sample, the widest activation below */

/* One layer forward in double on (BATCH, C, H, W) activations. */
static void layer_ref(const clgan_layer *l, const double *p, const double *x, double *y) {
  int ci = l->in_c, hi = l->in_h, wi = l->in_w, co = l->out_c, ho = l->out_h, wo = l->out_w;
  int k = l->spec.k, s = l->spec.stride, pad = l->spec.pad;
  for (int n = 0; n < BATCH; n++) {
    const double *xn = x + (size_t)n * l->in;
    double *yn = y + (size_t)n * l->out;
    switch (l->spec.kind) {
      case CLGAN_LAYER_LINEAR:
        for (int o = 0; o < l->out; o++) {
          double v = p[l->b_off + o];
          for (int i = 0; i < l->in; i++) v += p[l->w_off + (size_t)o * l->in + i] * xn[i];
          yn[o] = v;
        }
        break;
      case CLGAN_LAYER_CONV: /* w (co, ci, k, k) */
        for (int o = 0; o < co; o++)
          for (int a = 0; a < ho; a++)
            for (int b = 0; b < wo; b++) {
              double v = p[l->b_off + o];
              for (int c = 0; c < ci; c++)
                for (int u = 0; u < k; u++)
                  for (int t = 0; t < k; t++) {
                    int r = a * s - pad + u, q = b * s - pad + t;
                    if (r < 0 || r >= hi || q < 0 || q >= wi) continue;
                    v += p[l->w_off + (((size_t)o * ci + c) * k + u) * k + t] *
                         xn[((size_t)c * hi + r) * wi + q];
                  }
              yn[((size_t)o * ho + a) * wo + b] = v;
            }
        break;
      case CLGAN_LAYER_CONVT: /* w (ci, co, k, k): each input pixel scatters a kernel */
        for (int o = 0; o < co; o++)
          for (int i = 0; i < ho * wo; i++) yn[(size_t)o * ho * wo + i] = p[l->b_off + o];
        for (int c = 0; c < ci; c++)
          for (int a = 0; a < hi; a++)
            for (int b = 0; b < wi; b++)
              for (int o = 0; o < co; o++)
                for (int u = 0; u < k; u++)
                  for (int t = 0; t < k; t++) {
                    int r = a * s - pad + u, q = b * s - pad + t;
                    if (r < 0 || r >= ho || q < 0 || q >= wo) continue;
                    yn[((size_t)o * ho + r) * wo + q] +=
                        p[l->w_off + (((size_t)c * co + o) * k + u) * k + t] *
                        xn[((size_t)c * hi + a) * wi + b];
                  }
        break;
      case CLGAN_LAYER_ACT:
        for (int i = 0; i < l->out; i++) {
          double z = xn[i];
          yn[i] = l->spec.act == CLGAN_ACT_LRELU ? (z > 0 ? z : l->spec.param * z)
                  : l->spec.act == CLGAN_ACT_TANH ? tanh(z)
                  : l->spec.act == CLGAN_ACT_RELU ? (z > 0 ? z : 0)
                                                  : z;
        }
        break;
      default: /* reshape, flatten: the same values; batch norm below, over the batch */
        memcpy(yn, xn, sizeof(double) * (size_t)l->in);
        break;
    }
  }
  if (clgan_layer_is_bn(l->spec.kind)) {
    int c = l->out_c, sp = l->out_h * l->out_w;
    for (int ch = 0; ch < c; ch++) {
      double mean = 0, var = 0;
      for (int n = 0; n < BATCH; n++)
        for (int i = 0; i < sp; i++) mean += x[(size_t)n * l->in + (size_t)ch * sp + i];
      mean /= BATCH * sp;
      for (int n = 0; n < BATCH; n++)
        for (int i = 0; i < sp; i++) {
          double d = x[(size_t)n * l->in + (size_t)ch * sp + i] - mean;
          var += d * d;
        }
      var /= BATCH * sp;
      for (int n = 0; n < BATCH; n++)
        for (int i = 0; i < sp; i++) {
          size_t at = (size_t)n * l->in + (size_t)ch * sp + i;
          y[at] = p[l->w_off + ch] * (x[at] - mean) / sqrt(var + l->spec.eps) + p[l->b_off + ch];
        }
    }
  }
}

/* Spectral normalisation: u and v of each sn layer after the device's forward, and a copy of
 * the parameters in which such a layer's weight is W / sigma, sigma = u^T W v in double. */
static float *sn_uv[CLGAN_MAX_LAYERS][2];
static double *sn_params;

static const double *sn_weights(const clgan_layer *l, int i, const double *p) {
  if (!l->spec.sn) return p;
  const clgan_sn_shape *sh = &l->sn;
  double sigma = 0;
  for (int a = 0; a < sh->a; a++)
    for (int r = 0; r < sh->r; r++)
      for (int k = 0; k < sh->k; k++)
        sigma += (double)sn_uv[i][0][r] * p[l->w_off + ((size_t)a * sh->r + r) * sh->k + k] *
                 sn_uv[i][1][a * sh->k + k];
  memcpy(sn_params + l->b_off, p + l->b_off, l->b_n * sizeof *p);
  for (size_t j = 0; j < l->w_n; j++) sn_params[l->w_off + j] = p[l->w_off + j] / sigma;
  return sn_params;
}

static double net_ref(const clgan_net *net, const double *p, const double *x, double *out) {
  static double a[BATCH * MAXA], b[BATCH * MAXA];
  memcpy(a, x, sizeof(double) * BATCH * (size_t)net->in);
  for (int i = 0; i < net->run_count; i++) {
    layer_ref(&net->layers[i], sn_weights(&net->layers[i], i, p), a, b);
    memcpy(a, b, sizeof(double) * BATCH * (size_t)net->layers[i].out);
  }
  if (out) memcpy(out, a, sizeof(double) * BATCH * (size_t)net->out);
  return 0;
}

/* Before the forward: what each sn layer's power iteration should give, from its u and v now
 * (clgan_ref_sn_forward), into sn_uv. */
static void sn_expect(clgan_device *dev, const clgan_net *net, const float *pf) {
  sn_params = malloc(net->arena_n * sizeof *sn_params);
  float *w_sn = malloc(net->arena_n * sizeof *w_sn), sigma[2];
  for (int i = 0; i < net->count; i++) {
    const clgan_layer *l = &net->layers[i];
    if (!l->spec.sn) continue;
    size_t r = (size_t)l->sn.r, cols = (size_t)l->sn.a * (size_t)l->sn.k;
    float *t = malloc(r * sizeof *t);
    for (int k = 0; k < 2; k++) sn_uv[i][k] = malloc((k ? cols : r) * sizeof(float));
    clgan_buffer_read(dev, &l->sn_u, 0, r * sizeof(float), sn_uv[i][0]);
    clgan_buffer_read(dev, &l->sn_v, 0, cols * sizeof(float), sn_uv[i][1]);
    clgan_ref_sn_forward(&l->sn, w_sn, sn_uv[i][0], sn_uv[i][1], t, sigma, pf + l->w_off, 1);
    free(t);
  }
  free(w_sn);
}

/* After the forward: u and v against sn_expect's, then sn_uv takes the device's, at which the
 * finite differences hold them. */
static void sn_check(clgan_device *dev, const clgan_net *net, const char *text) {
  char what[256];
  for (int i = 0; i < net->count; i++) {
    const clgan_layer *l = &net->layers[i];
    if (!l->spec.sn) continue;
    size_t r = (size_t)l->sn.r, cols = (size_t)l->sn.a * (size_t)l->sn.k;
    float *got = malloc((r > cols ? r : cols) * sizeof *got);
    snprintf(what, sizeof what, "%s: layer %d's power iteration: u", text, i);
    clgan_buffer_read(dev, &l->sn_u, 0, r * sizeof(float), got);
    CHECK_CLOSE(what, got, sn_uv[i][0], r, 1e-6, 1e-5);
    snprintf(what, sizeof what, "%s: layer %d's power iteration: v", text, i);
    clgan_buffer_read(dev, &l->sn_v, 0, cols * sizeof(float), got);
    CHECK_CLOSE(what, got, sn_uv[i][1], cols, 1e-6, 1e-5);
    clgan_buffer_read(dev, &l->sn_u, 0, r * sizeof(float), sn_uv[i][0]);
    clgan_buffer_read(dev, &l->sn_v, 0, cols * sizeof(float), sn_uv[i][1]);
    free(got);
  }
}

/* L = sum(output * r) */
static double loss_ref(const clgan_net *net, const double *p, const double *x, const double *r) {
  static double y[BATCH * MAXA];
  net_ref(net, p, x, y);
  double s = 0;
  for (int i = 0; i < BATCH * net->out; i++) s += y[i] * r[i];
  return s;
}

static void check_net(clgan_device *dev, const char *text, int c, int h, int w) {
  clgan_net_spec spec;
  char err[256];
  clgan_net net;
  CHECK(clgan_spec_parse(text, &spec, err, sizeof err) == CLGAN_OK, "%s: %s", text, err);
  CHECK(clgan_net_create(&net, dev, &spec, c, h, w, BATCH) == CLGAN_OK, "create %s", text);
  CHECK(clgan_net_init(&net, CLGAN_INIT_TORCH, 5, 1) == CLGAN_OK, "init");
  CHECK(net.out * BATCH <= BATCH * MAXA && net.in <= MAXA, "shapes fit the test's buffers");
  unsigned long long rng = 17;
  float *pf = malloc(net.arena_n * sizeof *pf);
  clgan_buffer_read(dev, &net.params, 0, net.arena_n * sizeof *pf, pf);
  for (int i = 0; i < net.count; i++) { /* BN gamma/beta in general position */
    const clgan_layer *l = &net.layers[i];
    if (!clgan_layer_is_bn(l->spec.kind)) continue;
    test_fill_uniform(pf + l->w_off, l->w_n, 0.5f, 1.5f, &rng);
    test_fill_uniform(pf + l->b_off, l->b_n, -0.5f, 0.5f, &rng);
  }
  clgan_buffer_write(dev, &net.params, 0, net.arena_n * sizeof *pf, pf);
  size_t nx = (size_t)BATCH * net.in, ny = (size_t)BATCH * net.out;
  float *xf = malloc(nx * sizeof *xf), *rf = malloc(ny * sizeof *rf);
  test_fill_uniform(xf, nx, -1, 1, &rng);
  test_fill_uniform(rf, ny, -1, 1, &rng);
  double *x = malloc(nx * sizeof *x), *r = malloc(ny * sizeof *r), *p = malloc(net.arena_n * sizeof *p);
  for (size_t i = 0; i < nx; i++) x[i] = xf[i];
  for (size_t i = 0; i < ny; i++) r[i] = rf[i];
  for (size_t i = 0; i < net.arena_n; i++) p[i] = pf[i];
  char what[256];
  clgan_buffer bx = {0}, bdy = {0};
  clgan_buffer_alloc(dev, &bx, nx * sizeof(float));
  clgan_buffer_alloc(dev, &bdy, ny * sizeof(float));
  clgan_buffer_write(dev, &bx, 0, nx * sizeof(float), xf);
  clgan_buffer_write(dev, &bdy, 0, ny * sizeof(float), rf);

  sn_expect(dev, &net, pf);
  const clgan_buffer *y = NULL, *dx = NULL;
  CHECK(clgan_net_forward(&net, &bx, BATCH, net.run_count, 1, &y) == CLGAN_OK, "forward");
  sn_check(dev, &net, text);
  float *yf = malloc(ny * sizeof *yf), *want = malloc(ny * sizeof *want);
  double *yd = malloc(ny * sizeof *yd);
  clgan_buffer_read(dev, y, 0, ny * sizeof *yf, yf);
  net_ref(&net, p, x, yd);
  for (size_t i = 0; i < ny; i++) want[i] = (float)yd[i];
  snprintf(what, sizeof what, "%s: forward", text);
  CHECK_CLOSE(what, yf, want, ny, 1e-5, 1e-4);

  clgan_backward_cfg cfg = {.layers = net.run_count, .batch = BATCH, .param_grads = 1, .input_grad = 1};
  CHECK(clgan_net_backward(&net, &cfg, &bx, &bdy, &dx) == CLGAN_OK, "backward");
  float *g = malloc(net.arena_n * sizeof *g), *num = malloc(net.arena_n * sizeof *num);
  float *gx = malloc(nx * sizeof *gx), *numx = malloc(nx * sizeof *numx);
  clgan_buffer_read(dev, &net.grads, 0, net.arena_n * sizeof *g, g);
  clgan_buffer_read(dev, dx, 0, nx * sizeof *gx, gx);
  memcpy(num, g, net.arena_n * sizeof *num); /* padding keeps its (zero) gradient */
  const double fd = 1e-5;
  for (int i = 0; i < net.count; i++) {
    const clgan_layer *l = &net.layers[i];
    size_t offs[2] = {l->w_off, l->b_off}, ns[2] = {l->w_n, l->b_n};
    for (int t = 0; t < 2; t++)
      for (size_t j = 0; j < ns[t]; j++) {
        double *q = &p[offs[t] + j], keep = *q;
        *q = keep + fd;
        double lp = loss_ref(&net, p, x, r);
        *q = keep - fd;
        double lm = loss_ref(&net, p, x, r);
        *q = keep;
        num[offs[t] + j] = (float)((lp - lm) / (2 * fd));
      }
  }
  snprintf(what, sizeof what, "%s: parameter gradients vs finite differences", text);
  CHECK_CLOSE(what, g, num, net.arena_n, 2e-4, 2e-3);
  for (size_t i = 0; i < nx; i++) {
    double keep = x[i];
    x[i] = keep + fd;
    double lp = loss_ref(&net, p, x, r);
    x[i] = keep - fd;
    double lm = loss_ref(&net, p, x, r);
    x[i] = keep;
    numx[i] = (float)((lp - lm) / (2 * fd));
  }
  snprintf(what, sizeof what, "%s: input gradient vs finite differences", text);
  CHECK_CLOSE(what, gx, numx, nx, 2e-4, 2e-3);

  /* The same backward again, accumulating: every parameter gradient doubles (with sn, each
   * pass's dL/dW_sn starts from zero before its correction is added). */
  cfg.accumulate = 1;
  CHECK(clgan_net_backward(&net, &cfg, &bx, &bdy, &dx) == CLGAN_OK, "backward, accumulating");
  float *g2 = malloc(net.arena_n * sizeof *g2);
  clgan_buffer_read(dev, &net.grads, 0, net.arena_n * sizeof *g2, g2);
  for (size_t i = 0; i < net.arena_n; i++) g[i] *= 2.0f;
  snprintf(what, sizeof what, "%s: a second backward with accumulate doubles the gradients", text);
  CHECK_CLOSE(what, g2, g, net.arena_n, 1e-6, 1e-5);
  free(g2);
  for (int i = 0; i < net.count; i++)
    for (int k = 0; k < 2; k++) {
      free(sn_uv[i][k]);
      sn_uv[i][k] = NULL;
    }
  free(sn_params);

  clgan_buffer_free(&bx);
  clgan_buffer_free(&bdy);
  clgan_net_free(&net);
  free(pf), free(xf), free(rf), free(x), free(r), free(p), free(yf), free(want), free(yd);
  free(g), free(num), free(gx), free(numx);
}

int main(void) {
  clgan_device *dev = test_open_device();
  /* A discriminator: stride 2, padding 1, odd sizes, channels 3 and 5. */
  check_net(dev, "conv:3:3:2:1,bn2d:0.9:0.001,lrelu:0.2,conv:5:4:2:1,lrelu:0.2,flatten,linear:2", 2, 7, 7);
  /* A generator: dense to an image, transposed convolutions up, tanh. */
  check_net(dev, "linear:12,bn,relu,reshape:3x2x2,convT:5:4:2:1,bn2d,lrelu:0.2,convT:2:3:2:1,tanh", 4, 1, 1);
  /* dcgan32 / dcgan64's shapes (issue 13), small: G from the latent as Cx1x1 through a 4x4
   * stride-1 transposed convolution, up to 3 channels; D down to one 1x1 logit by a 4x4 stride-1
   * convolution, flattened. */
  check_net(dev, "convT:5:4:1:0,bn2d,relu,convT:4:4:2:1,bn2d,relu,convT:3:4:2:1,tanh", 6, 1, 1);
  check_net(dev, "conv:4:4:2:1,lrelu:0.2,conv:6:4:2:1,bn2d,lrelu:0.2,conv:1:4:1:0,flatten", 3, 16,
            16);
  /* The same with spectral normalisation on some of the layers with weights. */
  check_net(dev, "conv:3:3:2:1:sn,lrelu:0.2,conv:5:4:2:1,lrelu:0.2,flatten,linear:2:sn", 2, 7, 7);
  check_net(dev, "linear:12:sn,bn,relu,reshape:3x2x2,convT:5:4:2:1:sn,bn2d,lrelu:0.2,"
            "convT:2:3:2:1:sn,tanh", 4, 1, 1);

  /* Shape errors are refused with the layer named. */
  clgan_net_spec spec;
  char err[128];
  clgan_net net;
  clgan_spec_parse("linear:8,conv:2:3", &spec, err, sizeof err);
  CHECK(clgan_net_create(&net, dev, &spec, 4, 1, 1, BATCH) == CLGAN_INVALID_ARGUMENT,
        "a 3x3 kernel on 8 dense features is refused");
  clgan_spec_parse("conv:2:3:1:1,bn,flatten,linear:1", &spec, err, sizeof err);
  CHECK(clgan_net_create(&net, dev, &spec, 1, 5, 5, BATCH) == CLGAN_INVALID_ARGUMENT,
        "bn after a convolution is refused (bn2d is meant)");
  clgan_spec_parse("linear:8,relu,linear:1", &spec, err, sizeof err);
  spec.layers[1].sn = 1; /* past the parser, which refuses relu:sn */
  CHECK(clgan_net_create(&net, dev, &spec, 4, 1, 1, BATCH) == CLGAN_INVALID_ARGUMENT,
        "sn on a layer without a weight is refused");
  clgan_spec_parse("linear:10,reshape:2x2x2", &spec, err, sizeof err);
  CHECK(clgan_net_create(&net, dev, &spec, 4, 1, 1, BATCH) == CLGAN_INVALID_ARGUMENT,
        "a reshape of the wrong size is refused");
  clgan_device_close(dev);
  return test_finish();
}
