/* The sequential network against a double-precision host reference: forward outputs, and every
 * gradient (weights, biases, BN gamma/beta, input) against central finite differences. Also the
 * backward flags: accumulate adds, param_grads = 0 leaves weight gradients alone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/nn.h"
#include "harness.h"

#define BATCH 4
#define IN 5
#define MAXF 16

/* Forward of the first `layers` layers in double, training-mode batch norm. */
static void ref_forward(const clgan_net *net, const double *p, const double *x, int layers,
                        double *out) {
  double a[BATCH * MAXF], b[BATCH * MAXF];
  memcpy(a, x, sizeof(double) * BATCH * IN);
  for (int i = 0; i < layers; i++) {
    const clgan_layer *l = &net->layers[i];
    for (int n = 0; n < BATCH; n++) {
      for (int o = 0; o < l->out; o++) {
        double v = 0;
        const double *xi = a + n * l->in;
        if (l->spec.kind == CLGAN_LAYER_LINEAR) {
          v = p[l->b_off + o];
          for (int k = 0; k < l->in; k++) v += p[l->w_off + (size_t)o * l->in + k] * xi[k];
        } else if (l->spec.kind == CLGAN_LAYER_ACT) {
          double z = xi[o];
          switch (l->spec.act) {
            case CLGAN_ACT_RELU: v = z > 0 ? z : 0; break;
            case CLGAN_ACT_LRELU: v = z > 0 ? z : l->spec.param * z; break;
            case CLGAN_ACT_TANH: v = tanh(z); break;
            case CLGAN_ACT_SIGMOID: v = 1 / (1 + exp(-z)); break;
            default: v = z; break;
          }
        } else {
          double mean = 0, var = 0;
          for (int m = 0; m < BATCH; m++) mean += a[m * l->in + o];
          mean /= BATCH;
          for (int m = 0; m < BATCH; m++) var += (a[m * l->in + o] - mean) * (a[m * l->in + o] - mean);
          var /= BATCH;
          v = p[l->w_off + o] * (xi[o] - mean) / sqrt(var + l->spec.eps) + p[l->b_off + o];
        }
        b[n * l->out + o] = v;
      }
    }
    memcpy(a, b, sizeof(double) * BATCH * (size_t)l->out);
  }
  memcpy(out, a, sizeof(double) * BATCH * (size_t)net->layers[layers - 1].out);
}

static double ref_loss(const clgan_net *net, const double *p, const double *x, int layers,
                       const double *r) {
  double y[BATCH * MAXF], s = 0;
  ref_forward(net, p, x, layers, y);
  for (int i = 0; i < BATCH * net->layers[layers - 1].out; i++) s += y[i] * r[i];
  return s;
}

int main(void) {
  clgan_device *dev = test_open_device();
  clgan_net_spec spec;
  char err[256];
  const char *text = "linear:7,lrelu:0.2,bn:0.8:0.001,linear:6,tanh,linear:3,sigmoid";
  CHECK(clgan_spec_parse(text, &spec, err, sizeof err) == CLGAN_OK, "spec: %s", err);
  clgan_net net;
  CHECK(clgan_net_create(&net, dev, &spec, IN, 1, 1, BATCH) == CLGAN_OK, "create");
  CHECK(net.run_count == net.count - 1, "a final sigmoid is left to the loss");
  CHECK(clgan_net_init(&net, CLGAN_INIT_TORCH, 7, 1) == CLGAN_OK, "init");
  /* BN gamma/beta away from 1/0 so their gradients are exercised in general position. */
  unsigned long long rng = 99;
  float *pf = malloc(net.arena_n * sizeof *pf);
  clgan_buffer_read(dev, &net.params, 0, net.arena_n * sizeof *pf, pf);
  const clgan_layer *bn = &net.layers[2];
  test_fill_uniform(pf + bn->w_off, bn->w_n, 0.5f, 1.5f, &rng);
  test_fill_uniform(pf + bn->b_off, bn->b_n, -0.5f, 0.5f, &rng);
  clgan_buffer_write(dev, &net.params, 0, net.arena_n * sizeof *pf, pf);

  float xf[BATCH * IN], rf[BATCH * MAXF];
  double x[BATCH * IN], r[BATCH * MAXF];
  test_fill_uniform(xf, BATCH * IN, -1, 1, &rng);
  test_fill_uniform(rf, BATCH * MAXF, -1, 1, &rng);
  for (int i = 0; i < BATCH * IN; i++) x[i] = xf[i];
  for (int i = 0; i < BATCH * MAXF; i++) r[i] = rf[i];
  double *p = malloc(net.arena_n * sizeof *p);
  for (size_t i = 0; i < net.arena_n; i++) p[i] = pf[i];

  clgan_buffer dx_in = {0}, dy = {0};
  clgan_buffer_alloc(dev, &dx_in, sizeof xf);
  clgan_buffer_alloc(dev, &dy, sizeof rf);
  clgan_buffer_write(dev, &dx_in, 0, sizeof xf, xf);
  clgan_buffer_write(dev, &dy, 0, BATCH * 3 * sizeof(float), rf);

  /* Forward: all layers (with the sigmoid) and the logits. */
  for (int pass = 0; pass < 2; pass++) {
    int layers = pass ? net.run_count : net.count;
    const clgan_buffer *y = NULL;
    CHECK(clgan_net_forward(&net, &dx_in, BATCH, layers, 1, &y) == CLGAN_OK, "forward");
    float yf[BATCH * 3], want[BATCH * 3];
    double yd[BATCH * 3];
    clgan_buffer_read(dev, y, 0, sizeof yf, yf);
    ref_forward(&net, p, x, layers, yd);
    for (int i = 0; i < BATCH * 3; i++) want[i] = (float)yd[i];
    CHECK_CLOSE(pass ? "forward (logits)" : "forward (all layers)", yf, want, BATCH * 3, 1e-5, 1e-4);
  }

  /* Backward of L = sum(logits * r) against central differences. */
  clgan_backward_cfg cfg = {.layers = net.run_count, .batch = BATCH, .param_grads = 1,
                            .input_grad = 1};
  const clgan_buffer *dxp = NULL;
  CHECK(clgan_net_backward(&net, &cfg, &dx_in, &dy, &dxp) == CLGAN_OK, "backward");
  float *g = malloc(net.arena_n * sizeof *g), gx[BATCH * IN];
  clgan_buffer_read(dev, &net.grads, 0, net.arena_n * sizeof *g, g);
  clgan_buffer_read(dev, dxp, 0, sizeof gx, gx);
  const double h = 1e-5;
  float *num = malloc(net.arena_n * sizeof *num);
  memcpy(num, g, net.arena_n * sizeof *num);
  for (int i = 0; i < net.count; i++) {
    const clgan_layer *l = &net.layers[i];
    size_t offs[2] = {l->w_off, l->b_off}, ns[2] = {l->w_n, l->b_n};
    for (int t = 0; t < 2; t++) {
      for (size_t j = 0; j < ns[t]; j++) {
        double *q = &p[offs[t] + j], keep = *q;
        *q = keep + h;
        double lp = ref_loss(&net, p, x, net.run_count, r);
        *q = keep - h;
        double lm = ref_loss(&net, p, x, net.run_count, r);
        *q = keep;
        num[offs[t] + j] = (float)((lp - lm) / (2 * h));
      }
    }
  }
  CHECK_CLOSE("parameter gradients vs finite differences", g, num, net.arena_n, 1e-4, 2e-3);
  float numx[BATCH * IN];
  for (int i = 0; i < BATCH * IN; i++) {
    double keep = x[i];
    x[i] = keep + h;
    double lp = ref_loss(&net, p, x, net.run_count, r);
    x[i] = keep - h;
    double lm = ref_loss(&net, p, x, net.run_count, r);
    x[i] = keep;
    numx[i] = (float)((lp - lm) / (2 * h));
  }
  CHECK_CLOSE("input gradient vs finite differences", gx, numx, BATCH * IN, 1e-4, 2e-3);

  /* accumulate = 1 adds a second copy of the gradients. */
  const clgan_buffer *y = NULL;
  clgan_net_forward(&net, &dx_in, BATCH, net.run_count, 1, &y);
  cfg.accumulate = 1;
  CHECK(clgan_net_backward(&net, &cfg, &dx_in, &dy, NULL) == CLGAN_OK, "backward accumulate");
  float *g2 = malloc(net.arena_n * sizeof *g2);
  clgan_buffer_read(dev, &net.grads, 0, net.arena_n * sizeof *g2, g2);
  for (size_t i = 0; i < net.arena_n; i++) g[i] *= 2;
  CHECK_CLOSE("accumulated gradients are twice one pass", g2, g, net.arena_n, 1e-6, 1e-5);

  /* param_grads = 0: linear weight gradients are not touched (D's pass in a G step). */
  clgan_fill(dev, &net.grads, (int)net.arena_n, 42.0f);
  clgan_net_forward(&net, &dx_in, BATCH, net.run_count, 1, &y);
  clgan_backward_cfg through = {.layers = net.run_count, .batch = BATCH, .input_grad = 1};
  CHECK(clgan_net_backward(&net, &through, &dx_in, &dy, &dxp) == CLGAN_OK, "input-only backward");
  clgan_buffer_read(dev, &net.grads, 0, net.arena_n * sizeof *g2, g2);
  CHECK(g2[net.layers[0].w_off] == 42.0f && g2[net.layers[3].w_off] == 42.0f &&
            g2[net.layers[2].w_off] == 42.0f && g2[net.layers[2].b_off] == 42.0f,
        "param_grads = 0 leaves linear and batch-norm gradients alone");
  float gx2[BATCH * IN];
  clgan_buffer_read(dev, dxp, 0, sizeof gx2, gx2);
  CHECK_CLOSE("input gradient without parameter gradients", gx2, numx, BATCH * IN, 1e-4, 2e-3);

  /* Eval mode uses running statistics: after init (mean 0, var 1) BN is gamma*x/sqrt(1+eps)+beta. */
  clgan_net fresh;
  CHECK(clgan_net_create(&fresh, dev, &spec, IN, 1, 1, BATCH) == CLGAN_OK &&
            clgan_net_init(&fresh, CLGAN_INIT_GLOROT, 3, 1) == CLGAN_OK,
        "second net");
  float p3[64];
  clgan_buffer_read(dev, &fresh.layers[2].w, 0, 7 * sizeof(float), p3);
  CHECK(p3[0] == 1.0f && p3[6] == 1.0f, "glorot init: BN gamma starts at 1");
  clgan_net_forward(&fresh, &dx_in, BATCH, 3, 0, &y);
  float ye[BATCH * 7], y1[BATCH * 7];
  clgan_buffer_read(dev, y, 0, sizeof ye, ye);
  clgan_net_forward(&fresh, &dx_in, BATCH, 2, 0, &y);
  clgan_buffer_read(dev, y, 0, sizeof y1, y1);
  for (int i = 0; i < BATCH * 7; i++) y1[i] = y1[i] / sqrtf(1.0f + 0.001f);
  CHECK_CLOSE("eval-mode batch norm uses running statistics", ye, y1, BATCH * 7, 1e-6, 1e-5);

  clgan_net_free(&fresh);
  clgan_net_free(&net);
  clgan_net_free(&net); /* freeing twice is harmless */
  clgan_buffer_free(&dx_in);
  clgan_buffer_free(&dy);
  free(pf);
  free(p);
  free(g);
  free(g2);
  free(num);
  clgan_device_close(dev);
  return test_finish();
}
