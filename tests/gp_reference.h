/* A double-precision reference for the WGAN-GP penalty of a small critic and its gradient with
 * respect to every weight, computed by the explicit double-backward formulas of
 * docs/wgan-gp.md; what a device implementation of the penalty step is tested against.
 * Header-only (static inline) so that any tests/test_*.c can include it without a CMake entry.
 *
 * The critic is a stack of Conv2d layers (PyTorch layouts, see clgan_conv_shape) with leaky ReLU
 * between them and none after the last, whose output must be one value per sample. A linear
 * layer is the conv whose kernel covers its whole input, so flatten + nn.Linear(F, out) is
 * gp_ref_linear_after(...) and an MLP is a stack of gp_ref_linear(...) layers; the weight
 * (out, C, H, W) of that conv is nn.Linear's (out, C*H*W) with torch.flatten's order.
 *
 *   P = scale * sum_b lambda (||g_b|| - 1)^2,   g_b = dD/dx (x_b)
 *
 * x plays the part of x_hat (the interpolation is clgan_gp_interpolate's business). */
#ifndef CLGAN_GP_REFERENCE_H
#define CLGAN_GP_REFERENCE_H

#include <math.h>
#include <stdlib.h>

#include "clgan/ops.h"

#define GP_REF_MAX_LAYERS 8

typedef struct {
  int layers;                 /* 1 .. GP_REF_MAX_LAYERS */
  const clgan_conv_shape *sh; /* sh[l]; all with the same n (the batch); chained shapes */
  double slope;               /* leaky ReLU negative slope */
  double lambda, scale;       /* penalty weight; scale = 1/batch for a mean */
} gp_ref_critic;

/* Outputs of gp_ref_penalty; every field may be NULL (dw[l] / db[l] individually too). */
typedef struct {
  float **dw, **db;  /* dw[l] (sh[l] weight layout) = dP/dW_l; db[l] = dP/db_l, all zero */
  float *g;          /* (batch, input size): dD/dx per sample */
  float *norm;       /* (batch): ||g_b|| */
  float *d;          /* (batch): D(x) */
  double *min_abs_h; /* smallest |pre-activation| before a leaky ReLU: how far the masks are
                        from flipping, for finite-difference tests */
} gp_ref_out;

/* nn.Linear(in, out) on a flat input, as a conv. */
static inline clgan_conv_shape gp_ref_linear(int batch, int in, int out) {
  return (clgan_conv_shape){batch, in, 1, 1, out, 1, 1, 1, 0};
}

/* torch.flatten then nn.Linear(c*h*w, out), as a conv over the whole (c, h, w) input. */
static inline clgan_conv_shape gp_ref_linear_after(int batch, int c, int h, int w, int out) {
  return (clgan_conv_shape){batch, c, h, w, out, h, w, 1, 0};
}

static inline double *gp_ref_alloc(size_t n) {
  double *p = calloc(n ? n : 1, sizeof *p);
  if (!p) abort(); /* test code: nothing sensible to do without memory */
  return p;
}

static inline size_t gp_ref_in_size(const clgan_conv_shape *s) {
  return (size_t)s->c_in * s->h_in * s->w_in;
}

static inline size_t gp_ref_out_size(const clgan_conv_shape *s) {
  int ho, wo;
  clgan_conv2d_out_hw(s, &ho, &wo);
  return (size_t)s->c_out * ho * wo;
}

/* y = conv(x; w) (+ b), per sample batch; double in and out. */
static inline void gp_ref_conv_forward(const clgan_conv_shape *s, double *y, const double *x,
                                       const float *w, const float *b) {
  int ho, wo, C = s->c_in, H = s->h_in, W = s->w_in, O = s->c_out;
  clgan_conv2d_out_hw(s, &ho, &wo);
  for (int n = 0; n < s->n; n++)
    for (int o = 0; o < O; o++)
      for (int oh = 0; oh < ho; oh++)
        for (int ow = 0; ow < wo; ow++) {
          double acc = b ? b[o] : 0.0;
          for (int c = 0; c < C; c++)
            for (int i = 0; i < s->kh; i++)
              for (int j = 0; j < s->kw; j++) {
                int r = oh * s->stride - s->pad + i, q = ow * s->stride - s->pad + j;
                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                acc += w[((size_t)(o * C + c) * s->kh + i) * s->kw + j] *
                       x[((size_t)(n * C + c) * H + r) * W + q];
              }
          y[((size_t)(n * O + o) * ho + oh) * wo + ow] = acc;
        }
}

/* The transposes of the sum above: dx = B(dy; w) (backward-data, overwritten) and
 * dw += sum over the batch and positions of dy * x (either may be NULL). */
static inline void gp_ref_conv_backward(const clgan_conv_shape *s, double *dx, double *dw,
                                        const double *dy, const double *x, const float *w) {
  int ho, wo, C = s->c_in, H = s->h_in, W = s->w_in, O = s->c_out;
  clgan_conv2d_out_hw(s, &ho, &wo);
  if (dx)
    for (size_t i = 0; i < (size_t)s->n * C * H * W; i++) dx[i] = 0.0;
  for (int n = 0; n < s->n; n++)
    for (int o = 0; o < O; o++)
      for (int oh = 0; oh < ho; oh++)
        for (int ow = 0; ow < wo; ow++) {
          double g = dy[((size_t)(n * O + o) * ho + oh) * wo + ow];
          for (int c = 0; c < C; c++)
            for (int i = 0; i < s->kh; i++)
              for (int j = 0; j < s->kw; j++) {
                int r = oh * s->stride - s->pad + i, q = ow * s->stride - s->pad + j;
                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                size_t xi = ((size_t)(n * C + c) * H + r) * W + q;
                size_t wi = ((size_t)(o * C + c) * s->kh + i) * s->kw + j;
                if (dx) dx[xi] += g * w[wi];
                if (dw) dw[wi] += g * x[xi];
              }
        }
}

/* The penalty P (returned) and what out asks for (out may be NULL). NAN if the shapes do not
 * chain or the stack does not end in one value per sample. */
static inline double gp_ref_penalty(const gp_ref_critic *c, const float *x,
                                    const float *const *w, const float *const *b,
                                    gp_ref_out *out) {
  int L = c->layers, B = c->sh[0].n;
  if (L < 1 || L > GP_REF_MAX_LAYERS || gp_ref_out_size(&c->sh[L - 1]) != 1) return NAN;
  for (int l = 1; l < L; l++)
    if (c->sh[l].n != B || gp_ref_in_size(&c->sh[l]) != gp_ref_out_size(&c->sh[l - 1]))
      return NAN;
  double *a[GP_REF_MAX_LAYERS], *h[GP_REF_MAX_LAYERS], *gh[GP_REF_MAX_LAYERS];
  size_t in[GP_REF_MAX_LAYERS], osz[GP_REF_MAX_LAYERS];
  for (int l = 0; l < L; l++) {
    in[l] = gp_ref_in_size(&c->sh[l]) * (size_t)B;
    osz[l] = gp_ref_out_size(&c->sh[l]) * (size_t)B;
    a[l] = gp_ref_alloc(in[l]), h[l] = gp_ref_alloc(osz[l]), gh[l] = gp_ref_alloc(osz[l]);
  }
  double min_h = INFINITY;

  /* Forward: h_l = conv_l(a_l) + b_l, a_{l+1} = lrelu(h_l), D = h_{L-1}. */
  for (size_t i = 0; i < in[0]; i++) a[0][i] = x[i];
  for (int l = 0; l < L; l++) {
    gp_ref_conv_forward(&c->sh[l], h[l], a[l], w[l], b[l]);
    if (l + 1 < L)
      for (size_t i = 0; i < osz[l]; i++) {
        double v = h[l][i];
        a[l + 1][i] = v > 0.0 ? v : c->slope * v;
        min_h = fmin(min_h, fabs(v));
      }
  }

  /* Input gradient, dD = 1: gh_{L-1} = 1; ga_l = B_l(gh_l); gh_{l-1} = ga_l * lrelu'(h_{l-1}). */
  double *ga = gp_ref_alloc(in[L - 1]), *gx = NULL;
  for (int i = 0; i < B; i++) gh[L - 1][i] = 1.0;
  for (int l = L - 1; l >= 0; l--) {
    gp_ref_conv_backward(&c->sh[l], ga, NULL, gh[l], NULL, w[l]);
    if (l == 0) break;
    for (size_t i = 0; i < osz[l - 1]; i++)
      gh[l - 1][i] = ga[i] * (h[l - 1][i] > 0.0 ? 1.0 : c->slope);
    free(ga);
    ga = gp_ref_alloc(in[l - 1]);
  }
  gx = ga; /* (B, in_0) */

  /* The penalty and its seed gbar = dP/dg. */
  size_t dim = in[0] / (size_t)B;
  double p = 0.0, *gbar = gp_ref_alloc(in[0]);
  for (int n = 0; n < B; n++) {
    double s = 0.0;
    for (size_t j = 0; j < dim; j++) s += gx[n * dim + j] * gx[n * dim + j];
    double nrm = sqrt(s), f = nrm > 0.0 ? c->scale * 2.0 * c->lambda * (nrm - 1.0) / nrm : 0.0;
    p += c->lambda * (nrm - 1.0) * (nrm - 1.0);
    for (size_t j = 0; j < dim; j++) gbar[n * dim + j] = f * gx[n * dim + j];
    if (out && out->norm) out->norm[n] = (float)nrm;
  }
  p *= c->scale;

  /* The double backward, from the input side up: Wbar_l = dW(dy = gh_l, x = gbar_l);
   * gbar_{l+1} = conv_l(gbar_l) (no bias) * lrelu'(h_l). Biases: zero. */
  for (int l = 0; l < L; l++) {
    size_t nw = (size_t)c->sh[l].c_out * c->sh[l].c_in * c->sh[l].kh * c->sh[l].kw;
    double *dw = gp_ref_alloc(nw);
    gp_ref_conv_backward(&c->sh[l], NULL, dw, gh[l], gbar, NULL);
    if (out && out->dw && out->dw[l])
      for (size_t i = 0; i < nw; i++) out->dw[l][i] = (float)dw[i];
    if (out && out->db && out->db[l])
      for (int o = 0; o < c->sh[l].c_out; o++) out->db[l][o] = 0.0f;
    free(dw);
    if (l + 1 == L) break;
    double *next = gp_ref_alloc(osz[l]);
    gp_ref_conv_forward(&c->sh[l], next, gbar, w[l], NULL);
    for (size_t i = 0; i < osz[l]; i++) next[i] *= h[l][i] > 0.0 ? 1.0 : c->slope;
    free(gbar);
    gbar = next;
  }

  if (out && out->g)
    for (size_t i = 0; i < in[0]; i++) out->g[i] = (float)gx[i];
  if (out && out->d)
    for (int n = 0; n < B; n++) out->d[n] = (float)h[L - 1][n];
  if (out && out->min_abs_h) *out->min_abs_h = min_h;
  for (int l = 0; l < L; l++) free(a[l]), free(h[l]), free(gh[l]);
  free(gx), free(gbar);
  return p;
}

#endif
