/* Conditional networks (src/nn/cond.c, issue 12) by finite differences of the device's own
 * forward: for a projection discriminator (conv features, nn.Embedding dotted with them) and a
 * concatenating MLP (one-hot label beside the flattened image), the gradient of
 * L = sum(dy .* D(x, y)) in every parameter (the embedding included) and in x (the image part
 * of a concatenated input), and WGAN-GP's double backward: dP/dtheta of the penalty on
 * ||dD/dx||, the projection's share included. Also the refusals: concat on a convolutional
 * first layer, projection without a one-output last layer, a forward without labels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/nn.h"
#include "harness.h"

#define BATCH 4

typedef struct {
  clgan_device *dev;
  clgan_net net;
  clgan_buffer x, labels, dy, ones, loss;
  int dim;
  float *params;
} problem;

static int open_problem(problem *p, clgan_device *dev, const char *text, int c, int h, int w,
                        clgan_cond kind, int classes) {
  clgan_net_spec spec;
  char err[256];
  memset(p, 0, sizeof *p);
  p->dev = dev;
  p->dim = c * h * w;
  clgan_cond_cfg cond = {kind, classes};
  if (clgan_spec_parse(text, &spec, err, sizeof err) != CLGAN_OK ||
      clgan_net_create_cond(&p->net, dev, &spec, c, h, w, BATCH, &cond) != CLGAN_OK ||
      clgan_net_init(&p->net, CLGAN_INIT_TORCH, 3, 1) != CLGAN_OK)
    return 0;
  size_t fb = sizeof(float), nx = (size_t)BATCH * p->dim;
  float *x = malloc(nx * fb), dy[BATCH];
  int32_t labels[BATCH] = {0, 2, 1, 2};
  unsigned long long rng = 17;
  test_fill_uniform(x, nx, -1, 1, &rng);
  test_fill_uniform(dy, BATCH, -1, 1, &rng);
  p->params = malloc(p->net.arena_n * fb);
  clgan_buffer_read(dev, &p->net.params, 0, p->net.arena_n * fb, p->params);
  /* Larger weights keep the penalty's gradient away from zero. */
  for (size_t i = 0; i < p->net.arena_n; i++) p->params[i] *= 2.0f;
  clgan_buffer_write(dev, &p->net.params, 0, p->net.arena_n * fb, p->params);
  clgan_buffer_alloc(dev, &p->x, nx * fb);
  clgan_buffer_alloc(dev, &p->labels, sizeof labels);
  clgan_buffer_alloc(dev, &p->dy, sizeof dy);
  clgan_buffer_alloc(dev, &p->ones, sizeof dy);
  clgan_buffer_alloc(dev, &p->loss, sizeof dy);
  clgan_buffer_write(dev, &p->x, 0, nx * fb, x);
  clgan_buffer_write(dev, &p->labels, 0, sizeof labels, labels);
  clgan_buffer_write(dev, &p->dy, 0, sizeof dy, dy);
  clgan_fill(dev, &p->ones, BATCH, 1.0f);
  clgan_net_set_labels(&p->net, &p->labels);
  free(x);
  return 1;
}

static void close_problem(problem *p) {
  clgan_buffer *b[] = {&p->x, &p->labels, &p->dy, &p->ones, &p->loss};
  for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) clgan_buffer_free(b[i]);
  clgan_net_free(&p->net);
  free(p->params);
}

/* L = sum(dy .* D(x, y)) with the parameters in p->params. */
static double value(problem *p) {
  const clgan_buffer *y = NULL;
  float out[BATCH], dy[BATCH];
  clgan_buffer_write(p->dev, &p->net.params, 0, p->net.arena_n * sizeof(float), p->params);
  clgan_net_forward(&p->net, &p->x, BATCH, p->net.run_count, 1, &y);
  clgan_buffer_read(p->dev, y, 0, sizeof out, out);
  clgan_buffer_read(p->dev, &p->dy, 0, sizeof dy, dy);
  double l = 0;
  for (int b = 0; b < BATCH; b++) l += (double)dy[b] * out[b];
  return l;
}

/* The penalty sum_b scale * lambda (||dD/dx_b|| - 1)^2; with grads = 1 the double backward's
 * dP/dtheta is left in the arena's gradients. */
static double penalty(problem *p, int grads) {
  const clgan_buffer *y = NULL, *g = NULL;
  clgan_backward_cfg through = {.layers = p->net.run_count, .batch = BATCH, .input_grad = 1};
  clgan_gp_cfg gp = {.lambda = 10.0f, .scale = 1.0f / BATCH};
  float loss[BATCH];
  clgan_buffer_write(p->dev, &p->net.params, 0, p->net.arena_n * sizeof(float), p->params);
  clgan_status st = clgan_net_forward(&p->net, &p->x, BATCH, p->net.run_count, 1, &y);
  if (!st) st = clgan_net_backward(&p->net, &through, &p->x, &p->ones, &g);
  if (!st) st = clgan_gp_penalty(p->dev, &gp, (clgan_buffer *)g, &p->loss, NULL, g, BATCH, p->dim);
  if (!st && grads) st = clgan_buffer_zero(p->dev, &p->net.grads);
  if (!st && grads) st = clgan_net_double_backward(&p->net, BATCH, &p->x, &p->ones, g);
  CHECK(st == CLGAN_OK, "penalty: status %d", (int)st);
  clgan_buffer_read(p->dev, &p->loss, 0, sizeof loss, loss);
  double s = 0;
  for (int b = 0; b < BATCH; b++) s += (double)loss[b] / BATCH;
  return s;
}

/* A central difference of f in *v at step h (the step taken after rounding to float). */
static double central(problem *p, double (*f)(problem *, int), float *v, float h, int upload_x,
                      float *x, size_t nx) {
  float keep = *v, up = keep + h, down = keep - h;
  *v = up;
  if (upload_x) clgan_buffer_write(p->dev, &p->x, 0, nx * sizeof *x, x);
  double lp = f(p, 0);
  *v = down;
  if (upload_x) clgan_buffer_write(p->dev, &p->x, 0, nx * sizeof *x, x);
  double lm = f(p, 0);
  *v = keep;
  if (upload_x) clgan_buffer_write(p->dev, &p->x, 0, nx * sizeof *x, x);
  return (lp - lm) / ((double)up - down);
}

/* Finite differences of f in the n values v against got: at steps 1e-3 and 5e-4, and where
 * the two disagree (a leaky ReLU's kink inside the step) the element is left out; at most a
 * tenth of them may be. */
static void fd_check(problem *p, double (*f)(problem *, int), float *v, size_t n, int upload_x,
                     float *x, size_t nx, const float *got, const char *what) {
  float *fd = malloc(n * sizeof *fd);
  double maxg = 0;
  size_t kinks = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs(got[i]) > maxg) maxg = fabs(got[i]);
  double atol = 3e-3 * maxg + 1e-4;
  for (size_t i = 0; i < n; i++) {
    double a = central(p, f, &v[i], 1e-3f, upload_x, x, nx);
    double b = central(p, f, &v[i], 5e-4f, upload_x, x, nx);
    fd[i] = (float)b;
    if (fabs(a - b) > atol + 1e-2 * fabs(b)) {
      fd[i] = got[i];
      kinks++;
    }
  }
  CHECK(maxg > 1e-3, "%s: the gradient is not trivially zero (%g)", what, maxg);
  CHECK(kinks <= n / 10, "%s: %zu of %zu elements have a kink within the step", what, kinks, n);
  CHECK_CLOSE(what, got, fd, n, atol, 2e-2);
  free(fd);
}

/* Central differences of f in every parameter against got (arena layout). */
static void fd_params(problem *p, double (*f)(problem *, int), const float *got, const char *what) {
  fd_check(p, f, p->params, p->net.arena_n, 0, NULL, 0, got, what);
  if (p->net.e_n) {
    double maxe = 0;
    for (size_t i = 0; i < p->net.e_n; i++)
      if (fabs(got[p->net.e_off + i]) > maxe) maxe = fabs(got[p->net.e_off + i]);
    CHECK(maxe > 1e-3, "%s: the embedding's gradient is not zero (%g)", what, maxe);
  }
}

static double value_f(problem *p, int grads) {
  (void)grads;
  return value(p);
}

static void check_gradients(clgan_device *dev, const char *text, int c, int h, int w,
                            clgan_cond kind) {
  problem p;
  char what[200];
  CHECK(open_problem(&p, dev, text, c, h, w, kind, 3), "build %s (%s)", text,
        clgan_cond_name(kind));
  if (!p.params) return;
  /* The backward: parameter gradients and the input gradient. */
  const clgan_buffer *y = NULL, *dx = NULL;
  clgan_backward_cfg all = {.layers = p.net.run_count, .batch = BATCH, .param_grads = 1,
                            .input_grad = 1};
  size_t nx = (size_t)BATCH * p.dim;
  float *got = malloc(p.net.arena_n * sizeof *got), *gx = malloc(nx * sizeof *gx);
  float *x = malloc(nx * sizeof *x);
  CHECK(clgan_net_forward(&p.net, &p.x, BATCH, p.net.run_count, 1, &y) == CLGAN_OK &&
            clgan_net_backward(&p.net, &all, &p.x, &p.dy, &dx) == CLGAN_OK,
        "%s: forward and backward", text);
  clgan_buffer_read(dev, &p.net.grads, 0, p.net.arena_n * sizeof *got, got);
  clgan_buffer_read(dev, dx, 0, nx * sizeof *gx, gx);
  snprintf(what, sizeof what, "%s (%s): dL/dtheta", text, clgan_cond_name(kind));
  fd_params(&p, value_f, got, what);
  clgan_buffer_read(dev, &p.x, 0, nx * sizeof *x, x);
  snprintf(what, sizeof what, "%s (%s): dL/dx", text, clgan_cond_name(kind));
  fd_check(&p, value_f, x, nx, 1, x, nx, gx, what);
  /* WGAN-GP's double backward. */
  penalty(&p, 1);
  clgan_buffer_read(dev, &p.net.grads, 0, p.net.arena_n * sizeof *got, got);
  snprintf(what, sizeof what, "%s (%s): dP/dtheta of the gradient penalty", text,
           clgan_cond_name(kind));
  fd_params(&p, penalty, got, what);
  free(got);
  free(gx);
  free(x);
  close_problem(&p);
}

static void check_refusals(clgan_device *dev) {
  clgan_net_spec spec;
  clgan_net net;
  char err[200];
  clgan_cond_cfg concat = {CLGAN_COND_CONCAT, 3}, proj = {CLGAN_COND_PROJECTION, 3};
  clgan_spec_parse("conv:2:3:2:1,flatten,linear:1", &spec, err, sizeof err);
  CHECK(clgan_net_create_cond(&net, dev, &spec, 1, 6, 6, 2, &concat) == CLGAN_INVALID_ARGUMENT,
        "concat on a convolution is refused");
  clgan_spec_parse("linear:4,tanh", &spec, err, sizeof err);
  CHECK(clgan_net_create_cond(&net, dev, &spec, 1, 3, 3, 2, &proj) == CLGAN_INVALID_ARGUMENT,
        "projection without a one-output last layer is refused");
  clgan_spec_parse("linear:4,relu,linear:1", &spec, err, sizeof err);
  CHECK(clgan_net_create_cond(&net, dev, &spec, 1, 3, 3, 2, &proj) == CLGAN_OK, "projection MLP");
  clgan_buffer x = {0};
  const clgan_buffer *y = NULL;
  clgan_buffer_alloc(dev, &x, 2 * 9 * sizeof(float));
  clgan_buffer_zero(dev, &x);
  CHECK(clgan_net_forward(&net, &x, 2, net.run_count, 1, &y) == CLGAN_INVALID_ARGUMENT,
        "a conditional forward without labels is refused");
  clgan_buffer_free(&x);
  clgan_net_free(&net);
  CHECK(clgan_cond_name(CLGAN_COND_PROJECTION) && !strcmp(clgan_cond_name(CLGAN_COND_PROJECTION),
                                                          "projection"),
        "names");
}

int main(void) {
  clgan_device *dev = test_open_device();
  check_gradients(dev, "conv:2:3:2:1,lrelu:0.2,flatten,linear:1", 1, 6, 6,
                  CLGAN_COND_PROJECTION);
  check_gradients(dev, "linear:5,lrelu:0.2,linear:1", 1, 3, 3, CLGAN_COND_CONCAT);
  check_gradients(dev, "linear:5,lrelu:0.2,linear:1", 1, 3, 3, CLGAN_COND_PROJECTION);
  check_gradients(dev, "conv:2:3:2:1,lrelu:0.2,flatten,linear:1", 1, 6, 6, CLGAN_COND_NONE);
  check_refusals(dev);
  clgan_device_close(dev);
  return test_finish();
}
