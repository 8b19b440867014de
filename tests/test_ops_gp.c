/* The WGAN-GP double backward (docs/wgan-gp.md): tests/gp_reference.h against finite
 * differences of its own penalty (every weight and bias) and of its critic (the input
 * gradient), on an MLP critic (linear -> lrelu -> linear), a conv critic (conv2d -> lrelu ->
 * flatten -> linear) and a DCGAN-like critic with two convs; then the same sweep run on the
 * device with the ops the trainer will use (conv2d forward/backward, act_backward, GEMMs,
 * gp_penalty), against the reference. */
#include <math.h>
#include <stdio.h>

#include "gp_reference.h"
#include "ops_testutil.h"

typedef struct {
  const char *name;
  gp_ref_critic c;
  clgan_conv_shape sh[GP_REF_MAX_LAYERS];
  float *x, *w[GP_REF_MAX_LAYERS], *b[GP_REF_MAX_LAYERS];
  size_t nx, nw[GP_REF_MAX_LAYERS], nb[GP_REF_MAX_LAYERS];
} critic;

static void critic_init(critic *k, const char *name, int layers, const clgan_conv_shape *sh) {
  memset(k, 0, sizeof *k);
  k->name = name;
  memcpy(k->sh, sh, (size_t)layers * sizeof *sh);
  k->c = (gp_ref_critic){layers, k->sh, 0.2, 10.0, 1.0 / sh[0].n};
  k->nx = gp_ref_in_size(&sh[0]) * (size_t)sh[0].n;
  for (int l = 0; l < layers; l++) {
    k->nw[l] = (size_t)sh[l].c_out * sh[l].c_in * sh[l].kh * sh[l].kw;
    k->nb[l] = (size_t)sh[l].c_out;
  }
}

static void critic_free(critic *k) {
  free(k->x);
  for (int l = 0; l < k->c.layers; l++) free(k->w[l]), free(k->b[l]);
}

/* Random input and weights (a fan-in scale that keeps ||g|| near 1, so the penalty's gradient
 * is not degenerate), redrawn until every pre-activation is at least 0.02 from the leaky
 * ReLU's kink: then no difference step below flips a mask. Returns 0 if no draw qualified. */
static int critic_draw(critic *k) {
  for (int attempt = 0; attempt < 200; attempt++) {
    critic_free(k);
    k->x = rand_floats(k->nx, -1, 1);
    for (int l = 0; l < k->c.layers; l++) {
      float s = 1.5f / sqrtf((float)(k->sh[l].c_in * k->sh[l].kh * k->sh[l].kw));
      k->w[l] = rand_floats(k->nw[l], -s, s);
      k->b[l] = rand_floats(k->nb[l], -0.3f, 0.3f);
    }
    double margin = 0.0;
    gp_ref_out out = {.min_abs_h = &margin};
    gp_ref_penalty(&k->c, k->x, (const float *const *)k->w, (const float *const *)k->b, &out);
    if (margin > 0.02) return 1;
  }
  return 0;
}

static double penalty(const critic *k) {
  return gp_ref_penalty(&k->c, k->x, (const float *const *)k->w, (const float *const *)k->b,
                        NULL);
}

/* dP/dp[i] by central differences, with the step actually taken after rounding. */
static void fd_penalty(critic *k, float *p, size_t n, float *out) {
  for (size_t i = 0; i < n; i++) {
    float keep = p[i], up = keep + 1e-3f, down = keep - 1e-3f;
    p[i] = up;
    double lp = penalty(k);
    p[i] = down;
    double lm = penalty(k);
    p[i] = keep;
    out[i] = (float)((lp - lm) / ((double)up - down));
  }
}

static void check_reference(critic *k) {
  CHECK(critic_draw(k), "%s: a draw with every pre-activation away from the kink", k->name);
  int L = k->c.layers, B = k->sh[0].n;
  size_t dim = k->nx / (size_t)B;
  float *dw[GP_REF_MAX_LAYERS], *db[GP_REF_MAX_LAYERS];
  for (int l = 0; l < L; l++) dw[l] = malloc(k->nw[l] * 4), db[l] = malloc(k->nb[l] * 4);
  float *g = malloc(k->nx * 4), *norm = malloc((size_t)B * 4), *d = malloc((size_t)B * 4);
  gp_ref_out out = {.dw = dw, .db = db, .g = g, .norm = norm, .d = d};
  double p = gp_ref_penalty(&k->c, k->x, (const float *const *)k->w,
                            (const float *const *)k->b, &out);
  char what[160];

  /* P from the norms, as clgan_gp_penalty's terms would sum. */
  double sum = 0.0;
  for (int n = 0; n < B; n++) sum += k->c.lambda * (norm[n] - 1.0) * (norm[n] - 1.0);
  CHECK(fabs(p - k->c.scale * sum) <= 1e-5 * (1.0 + fabs(p)), "%s: P %g = scale sum of terms %g",
        k->name, p, k->c.scale * sum);
  CHECK(p > 1e-3, "%s: a penalty that is not negligible (%g)", k->name, p);

  for (int l = 0; l < L; l++) {
    float *fd = malloc(k->nw[l] * 4);
    fd_penalty(k, k->w[l], k->nw[l], fd);
    snprintf(what, sizeof what, "%s: dP/dW%d vs finite differences", k->name, l);
    CHECK_CLOSE(what, dw[l], fd, k->nw[l], 1e-6, 1e-4);
    free(fd);
    fd = malloc(k->nb[l] * 4);
    fd_penalty(k, k->b[l], k->nb[l], fd);
    snprintf(what, sizeof what, "%s: dP/db%d (zero) vs finite differences", k->name, l);
    CHECK_CLOSE(what, db[l], fd, k->nb[l], 1e-9, 0);
    free(fd);
  }

  /* g = dD/dx: D_b depends on x_b only. */
  float *fdg = malloc(k->nx * 4), *dp = malloc((size_t)B * 4), *dm = malloc((size_t)B * 4);
  gp_ref_out dout = {0};
  for (size_t i = 0; i < k->nx; i++) {
    float keep = k->x[i], up = keep + 1e-3f, down = keep - 1e-3f;
    k->x[i] = up, dout.d = dp;
    gp_ref_penalty(&k->c, k->x, (const float *const *)k->w, (const float *const *)k->b, &dout);
    k->x[i] = down, dout.d = dm;
    gp_ref_penalty(&k->c, k->x, (const float *const *)k->w, (const float *const *)k->b, &dout);
    k->x[i] = keep;
    size_t n = i / dim;
    fdg[i] = (float)(((double)dp[n] - dm[n]) / ((double)up - down));
  }
  snprintf(what, sizeof what, "%s: dD/dx vs finite differences", k->name);
  CHECK_CLOSE(what, g, fdg, k->nx, 2e-4, 1e-3);

  for (int l = 0; l < L; l++) free(dw[l]), free(db[l]);
  free(g), free(norm), free(d), free(fdg), free(dp), free(dm);
}

/* The same sweep on the device, every layer through the conv ops (a linear layer as the conv
 * that covers its input): forward, input gradient with dD = 1, clgan_gp_penalty, then the
 * double backward of docs/wgan-gp.md. */
static void check_device_conv(clgan_device *dev, const critic *k) {
  int L = k->c.layers, B = k->sh[0].n;
  size_t in[GP_REF_MAX_LAYERS], osz[GP_REF_MAX_LAYERS], nws = 0, big = 0;
  clgan_buffer w[GP_REF_MAX_LAYERS], b[GP_REF_MAX_LAYERS], h[GP_REF_MAX_LAYERS];
  clgan_buffer gh[GP_REF_MAX_LAYERS], dw[GP_REF_MAX_LAYERS];
  for (int l = 0; l < L; l++) {
    in[l] = gp_ref_in_size(&k->sh[l]) * (size_t)B;
    osz[l] = gp_ref_out_size(&k->sh[l]) * (size_t)B;
    size_t ws = clgan_conv2d_workspace(&k->sh[l]);
    nws = ws > nws ? ws : nws;
    big = in[l] > big ? in[l] : big;
    w[l] = upload(dev, k->w[l], k->nw[l]), b[l] = upload(dev, k->b[l], k->nb[l]);
    h[l] = upload(dev, NULL, osz[l]), gh[l] = upload(dev, NULL, osz[l]);
    dw[l] = upload(dev, NULL, k->nw[l]);
  }
  clgan_buffer col = upload(dev, NULL, nws), a = upload(dev, k->x, k->nx);
  clgan_buffer t1 = upload(dev, NULL, big), t2 = upload(dev, NULL, big);
  clgan_buffer ld = upload(dev, NULL, (size_t)B), nd = upload(dev, NULL, (size_t)B);
  clgan_buffer gbar = upload(dev, NULL, k->nx);
  const float slope = (float)k->c.slope;

  /* Forward, keeping every pre-activation h_l (t1 carries the activations). */
  for (int l = 0; l < L; l++) {
    CHECK_OK(clgan_conv2d_forward(dev, &k->sh[l], &h[l], l ? &t1 : &a, &w[l], &b[l], &col));
    if (l + 1 < L) CHECK_OK(clgan_act_forward(dev, CLGAN_ACT_LRELU, slope, &t1, &h[l],
                                              (int)osz[l]));
  }
  /* Input gradient: gh_{L-1} = 1; ga_l = B_l(gh_l) into t1; gh_{l-1} = lrelu'(h_{l-1}) ga_l. */
  CHECK_OK(clgan_fill(dev, &gh[L - 1], B, 1.0f));
  for (int l = L - 1; l >= 0; l--) {
    CHECK_OK(clgan_conv2d_backward(dev, &k->sh[l], &t1, NULL, NULL, &gh[l], NULL, &w[l], &col,
                                   0));
    if (l > 0) CHECK_OK(clgan_act_backward(dev, CLGAN_ACT_LRELU, slope, &gh[l - 1], &t1,
                                           &h[l - 1], NULL, (int)osz[l - 1]));
  }
  clgan_gp_cfg gcfg = {(float)k->c.lambda, (float)k->c.scale};
  int dim = (int)(k->nx / (size_t)B);
  float *g = malloc(k->nx * 4);
  download(dev, &t1, g, k->nx);
  CHECK_OK(clgan_gp_penalty(dev, &gcfg, &gbar, &ld, &nd, &t1, B, dim));
  /* Double backward: Wbar_l = dW(dy = gh_l, x = gbar_l); gbar_{l+1} = lrelu'(h_l) conv_l(gbar_l). */
  clgan_buffer *cur = &gbar, *nxt = &t2;
  for (int l = 0; l < L; l++) {
    CHECK_OK(clgan_conv2d_backward(dev, &k->sh[l], NULL, &dw[l], NULL, &gh[l], cur, NULL, &col,
                                   0));
    if (l + 1 == L) break;
    CHECK_OK(clgan_conv2d_forward(dev, &k->sh[l], nxt, cur, &w[l], NULL, &col));
    CHECK_OK(clgan_act_backward(dev, CLGAN_ACT_LRELU, slope, nxt, nxt, &h[l], NULL,
                                (int)osz[l]));
    clgan_buffer *s = cur == &gbar ? &t1 : cur;
    cur = nxt, nxt = s;
  }

  /* Against the reference. */
  float *wdw[GP_REF_MAX_LAYERS], *wg = malloc(k->nx * 4), *wnorm = malloc((size_t)B * 4);
  float *wd = malloc((size_t)B * 4), *got = malloc((size_t)B * 4);
  for (int l = 0; l < L; l++) wdw[l] = malloc(k->nw[l] * 4);
  gp_ref_out out = {.dw = wdw, .g = wg, .norm = wnorm, .d = wd};
  double p = gp_ref_penalty(&k->c, k->x, (const float *const *)k->w, (const float *const *)k->b,
                            &out);
  char what[160];
  download(dev, &h[L - 1], got, (size_t)B);
  snprintf(what, sizeof what, "%s device: D(x)", k->name);
  CHECK_CLOSE(what, got, wd, (size_t)B, 1e-5, 1e-4);
  snprintf(what, sizeof what, "%s device: dD/dx", k->name);
  CHECK_CLOSE(what, g, wg, k->nx, 1e-5, 1e-4);
  download(dev, &nd, got, (size_t)B);
  snprintf(what, sizeof what, "%s device: ||g||", k->name);
  CHECK_CLOSE(what, got, wnorm, (size_t)B, 1e-5, 1e-4);
  download(dev, &ld, got, (size_t)B);
  double sum = 0.0;
  for (int n = 0; n < B; n++) sum += got[n];
  CHECK(fabs(k->c.scale * sum - p) <= 1e-4 * (1.0 + fabs(p)), "%s device: P %g vs %g", k->name,
        k->c.scale * sum, p);
  for (int l = 0; l < L; l++) {
    float *gw = malloc(k->nw[l] * 4);
    download(dev, &dw[l], gw, k->nw[l]);
    snprintf(what, sizeof what, "%s device: dP/dW%d", k->name, l);
    CHECK_CLOSE(what, gw, wdw[l], k->nw[l], 1e-5, 1e-3);
    free(gw), free(wdw[l]);
  }

  for (int l = 0; l < L; l++)
    clgan_buffer_free(&w[l]), clgan_buffer_free(&b[l]), clgan_buffer_free(&h[l]),
        clgan_buffer_free(&gh[l]), clgan_buffer_free(&dw[l]);
  clgan_buffer_free(&col), clgan_buffer_free(&a), clgan_buffer_free(&t1);
  clgan_buffer_free(&t2), clgan_buffer_free(&ld), clgan_buffer_free(&nd);
  clgan_buffer_free(&gbar);
  free(g), free(wg), free(wnorm), free(wd), free(got);
}

/* The MLP critic as the dense layers compute it, with GEMMs (row-major, W (out, in)):
 *   h1 = x W1^T + b1; a1 = lrelu(h1); D = a1 w2^T + b2
 *   ga1 = 1 w2; gh1 = lrelu'(h1) ga1; g = gh1 W1
 *   W1bar = gh1^T gbar;  gbar_h1 = gbar W1^T;  gbar_a1 = lrelu'(h1) gbar_h1;  w2bar = 1^T gbar_a1 */
static void check_device_mlp(clgan_device *dev, const critic *k) {
  int B = k->sh[0].n, IN = k->sh[0].c_in, H = k->sh[0].c_out;
  size_t ub = (size_t)B, nh = ub * H, nx = k->nx;
  clgan_buffer x = upload(dev, k->x, nx), w1 = upload(dev, k->w[0], k->nw[0]);
  clgan_buffer b1 = upload(dev, k->b[0], k->nb[0]), w2 = upload(dev, k->w[1], k->nw[1]);
  clgan_buffer h1 = upload(dev, NULL, nh), ga1 = upload(dev, NULL, nh), gh1 = upload(dev, NULL, nh);
  clgan_buffer g = upload(dev, NULL, nx), gbar = upload(dev, NULL, nx), ones = upload(dev, NULL, ub);
  clgan_buffer dw1 = upload(dev, NULL, k->nw[0]), dw2 = upload(dev, NULL, k->nw[1]);
  clgan_buffer t = upload(dev, NULL, nh), ld = upload(dev, NULL, ub);
  const float slope = (float)k->c.slope;
  size_t in = (size_t)IN, hh = (size_t)H;

  clgan_gemm_args fwd = {.trans_b = 1, .m = ub, .n = hh, .k = in, .alpha = 1, .a = &x, .lda = in,
                         .b = &w1, .ldb = in, .c = &h1, .ldc = hh};
  CHECK_OK(clgan_gemm(dev, &fwd));
  CHECK_OK(clgan_bias_forward(dev, &h1, &b1, B, H));
  CHECK_OK(clgan_fill(dev, &ones, B, 1.0f));
  clgan_gemm_args bw2 = {.m = ub, .n = hh, .k = 1, .alpha = 1, .a = &ones, .lda = 1, .b = &w2,
                         .ldb = hh, .c = &ga1, .ldc = hh};
  CHECK_OK(clgan_gemm(dev, &bw2));
  CHECK_OK(clgan_act_backward(dev, CLGAN_ACT_LRELU, slope, &gh1, &ga1, &h1, NULL, (int)nh));
  clgan_gemm_args bw1 = {.m = ub, .n = in, .k = hh, .alpha = 1, .a = &gh1, .lda = hh, .b = &w1,
                         .ldb = in, .c = &g, .ldc = in};
  CHECK_OK(clgan_gemm(dev, &bw1));
  clgan_gp_cfg gcfg = {(float)k->c.lambda, (float)k->c.scale};
  CHECK_OK(clgan_gp_penalty(dev, &gcfg, &gbar, &ld, NULL, &g, B, IN));
  clgan_gemm_args dd1 = {.trans_a = 1, .m = hh, .n = in, .k = ub, .alpha = 1, .a = &gh1,
                         .lda = hh, .b = &gbar, .ldb = in, .c = &dw1, .ldc = in};
  CHECK_OK(clgan_gemm(dev, &dd1));
  clgan_gemm_args gf = {.trans_b = 1, .m = ub, .n = hh, .k = in, .alpha = 1, .a = &gbar,
                        .lda = in, .b = &w1, .ldb = in, .c = &t, .ldc = hh};
  CHECK_OK(clgan_gemm(dev, &gf));
  CHECK_OK(clgan_act_backward(dev, CLGAN_ACT_LRELU, slope, &t, &t, &h1, NULL, (int)nh));
  clgan_gemm_args dd2 = {.trans_a = 1, .m = 1, .n = hh, .k = ub, .alpha = 1, .a = &ones,
                         .lda = 1, .b = &t, .ldb = hh, .c = &dw2, .ldc = hh};
  CHECK_OK(clgan_gemm(dev, &dd2));

  float *wdw[2] = {malloc(k->nw[0] * 4), malloc(k->nw[1] * 4)}, *wg = malloc(nx * 4);
  float *got = malloc((nx > k->nw[0] ? nx : k->nw[0]) * 4);
  gp_ref_out out = {.dw = wdw, .g = wg};
  gp_ref_penalty(&k->c, k->x, (const float *const *)k->w, (const float *const *)k->b, &out);
  download(dev, &g, got, nx);
  CHECK_CLOSE("mlp GEMM device: dD/dx", got, wg, nx, 1e-5, 1e-4);
  download(dev, &dw1, got, k->nw[0]);
  CHECK_CLOSE("mlp GEMM device: dP/dW1", got, wdw[0], k->nw[0], 1e-5, 1e-3);
  download(dev, &dw2, got, k->nw[1]);
  CHECK_CLOSE("mlp GEMM device: dP/dw2", got, wdw[1], k->nw[1], 1e-5, 1e-3);

  clgan_buffer bufs[] = {x, w1, b1, w2, h1, ga1, gh1, g, gbar, ones, dw1, dw2, t, ld};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) clgan_buffer_free(&bufs[i]);
  free(wdw[0]), free(wdw[1]), free(wg), free(got);
}

int main(void) {
  clgan_device *dev = test_open_device();
  critic mlp, conv, dcgan;
  clgan_conv_shape s_mlp[] = {gp_ref_linear(3, 6, 5), gp_ref_linear(3, 5, 1)};
  critic_init(&mlp, "mlp 6-5-1", 2, s_mlp);
  /* conv 2 -> 3, 7x5 -> 3x2 (k4 s2 p1), then linear 18 -> 1 */
  clgan_conv_shape s_conv[] = {{3, 2, 7, 5, 3, 4, 4, 2, 1}, gp_ref_linear_after(3, 3, 3, 2, 1)};
  critic_init(&conv, "conv critic", 2, s_conv);
  /* DCGAN's critic in small: conv 1 -> 3 (8x8 -> 4x4), conv 3 -> 4 (-> 2x2), linear 16 -> 1 */
  clgan_conv_shape s_dcgan[] = {{2, 1, 8, 8, 3, 4, 4, 2, 1}, {2, 3, 4, 4, 4, 4, 4, 2, 1},
                                gp_ref_linear_after(2, 4, 2, 2, 1)};
  critic_init(&dcgan, "two-conv critic", 3, s_dcgan);

  critic *all[] = {&mlp, &conv, &dcgan};
  for (size_t i = 0; i < 3; i++) {
    check_reference(all[i]);
    check_device_conv(dev, all[i]);
  }
  check_device_mlp(dev, &mlp);

  clgan_conv_shape bad[] = {gp_ref_linear(3, 6, 5), gp_ref_linear(3, 4, 1)};
  gp_ref_critic c = {2, bad, 0.2, 10, 1.0 / 3};
  float z[64] = {0};
  const float *zs[2] = {z, z};
  CHECK(isnan(gp_ref_penalty(&c, z, zs, zs, NULL)), "shapes that do not chain give NAN");

  for (size_t i = 0; i < 3; i++) critic_free(all[i]);
  clgan_device_close(dev);
  return test_finish();
}
