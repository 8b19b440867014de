/* BCE from logits: the optional outputs (targets 1, 0, 0.9, sign +1 and -1, odd sizes), and
 * stability at |z| = 80 and 100 against the closed form. Softmax cross-entropy: the optional
 * outputs (labels read at an offset), logits of +-1e4, ties, and out-of-range labels (NaN, no
 * stray read). Both against the C reference and their dz against central differences are rows
 * of tests/test_ops.c. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

/* Metrics only (dz NULL), then dz only; all outputs together against the reference, and dz
 * against finite differences, are rows of tests/test_ops.c. */
static void check_optional(clgan_device *dev, clgan_bce_cfg cfg, int n) {
  size_t un = (size_t)n;
  float *z = rand_floats(un, -8, 8);
  float *dz = malloc(un * 4), *prob = malloc(un * 4);
  float *wdz = malloc(un * 4), *wprob = malloc(un * 4);
  clgan_buffer zd = upload(dev, z, un), dzd = upload(dev, NULL, un);
  clgan_buffer ld = upload(dev, NULL, un), pd = upload(dev, NULL, un);
  char tag[96], what[160];
  snprintf(tag, sizeof tag, "t=%g scale=%g sign=%g n=%d", (double)cfg.target, (double)cfg.scale,
           (double)cfg.sign, n);

  clgan_ref_bce_logits(&cfg, wdz, NULL, wprob, z, n);

  /* The outputs not asked for stay untouched. */
  clgan_buffer_zero(dev, &pd);
  CHECK_OK(clgan_bce_logits(dev, &cfg, NULL, &ld, &pd, &zd, n));
  download(dev, &pd, prob, un);
  snprintf(what, sizeof what, "bce prob without dz %s", tag);
  CHECK_CLOSE(what, prob, wprob, un, 1e-7, 1e-5);
  clgan_buffer_zero(dev, &pd);
  clgan_buffer_zero(dev, &dzd);
  CHECK_OK(clgan_bce_logits(dev, &cfg, &dzd, NULL, NULL, &zd, n));
  download(dev, &dzd, dz, un), download(dev, &pd, prob, un);
  snprintf(what, sizeof what, "bce dz alone %s", tag);
  CHECK_CLOSE(what, dz, wdz, un, 1e-7 * fabs(cfg.scale), 1e-5);
  int untouched = 1;
  for (size_t i = 0; i < un; i++) untouched &= prob[i] == 0.0f;
  CHECK(untouched, "bce with prob NULL writes no prob (%s)", tag);

  clgan_buffer_free(&zd), clgan_buffer_free(&dzd), clgan_buffer_free(&ld), clgan_buffer_free(&pd);
  free(z), free(dz), free(prob), free(wdz), free(wprob);
}

/* Logits far out in the tails: finite loss and the right gradient, from the closed form
 * loss = max(z,0) - z t + log(1 + exp(-|z|)), in long double. */
static void check_extremes(clgan_device *dev, clgan_bce_cfg cfg) {
  float z[] = {80, -80, 100, -100, 0, 20, -20};
  enum { N = sizeof z / sizeof z[0] };
  float dz[N], loss[N], prob[N], wdz[N], wloss[N], wprob[N];
  for (int i = 0; i < N; i++) {
    long double v = z[i], e = expl(-fabsl(v));
    long double p = v >= 0 ? 1 / (1 + e) : e / (1 + e);
    wprob[i] = (float)p;
    wdz[i] = (float)(cfg.sign * cfg.scale * (p - cfg.target));
    wloss[i] = (float)(cfg.sign * ((v > 0 ? v : 0) - v * cfg.target + log1pl(e)));
  }
  clgan_buffer zd = upload(dev, z, N), dzd = upload(dev, NULL, N);
  clgan_buffer ld = upload(dev, NULL, N), pd = upload(dev, NULL, N);
  CHECK_OK(clgan_bce_logits(dev, &cfg, &dzd, &ld, &pd, &zd, N));
  download(dev, &dzd, dz, N), download(dev, &ld, loss, N), download(dev, &pd, prob, N);
  int finite = 1;
  for (int i = 0; i < N; i++) finite &= isfinite(dz[i]) && isfinite(loss[i]) && isfinite(prob[i]);
  CHECK(finite, "bce outputs finite at |z| up to 100 (t=%g sign=%g)", (double)cfg.target,
        (double)cfg.sign);
  char what[96];
  snprintf(what, sizeof what, "bce extreme dz t=%g sign=%g", (double)cfg.target, (double)cfg.sign);
  CHECK_CLOSE(what, dz, wdz, N, 1e-7, 1e-5);
  snprintf(what, sizeof what, "bce extreme loss t=%g sign=%g", (double)cfg.target,
           (double)cfg.sign);
  CHECK_CLOSE(what, loss, wloss, N, 1e-6, 1e-5);
  snprintf(what, sizeof what, "bce extreme prob t=%g sign=%g", (double)cfg.target,
           (double)cfg.sign);
  CHECK_CLOSE(what, prob, wprob, N, 1e-30, 1e-5);
  clgan_buffer_free(&zd), clgan_buffer_free(&dzd), clgan_buffer_free(&ld), clgan_buffer_free(&pd);
}

/* ---- Softmax cross-entropy ---------------------------------------------------------------- */

enum { XENT_OFF = 5 }; /* labels sit after XENT_OFF others, which must not be read */

/* n labels in [0, classes) after XENT_OFF out-of-range ones (a kernel reading from the wrong
 * offset would produce NaN rows). */
static int32_t *xent_labels(int n, int classes) {
  int32_t *l = malloc((size_t)(n + XENT_OFF) * sizeof *l);
  if (!l) abort();
  for (int i = 0; i < XENT_OFF; i++) l[i] = -7 - i;
  float *u = rand_floats((size_t)n, 0.0f, (float)classes);
  for (int i = 0; i < n; i++) l[XENT_OFF + i] = (int32_t)u[i] < classes ? (int32_t)u[i] : 0;
  free(u);
  return l;
}

/* One output at a time; all of them against the reference, and dz against finite
 * differences, are rows of tests/test_ops.c. */
static void check_xent_optional(clgan_device *dev, int n, int classes) {
  size_t un = (size_t)n, all = un * (size_t)classes;
  clgan_xent_cfg cfg = {1.0f / (float)n};
  float *z = rand_floats(all, -8, 8);
  int32_t *labels = xent_labels(n, classes);
  float *dz = malloc(all * 4), *loss = malloc(un * 4), *corr = malloc(un * 4);
  float *wdz = malloc(all * 4), *wloss = malloc(un * 4), *wcorr = malloc(un * 4);
  clgan_buffer zd = upload(dev, z, all), dzd = upload(dev, NULL, all);
  clgan_buffer ld = upload(dev, NULL, un), cd = upload(dev, NULL, un);
  clgan_buffer lab = upload_bytes(dev, labels, (un + XENT_OFF) * sizeof *labels);
  char what[160];

  clgan_ref_softmax_xent(&cfg, wdz, wloss, wcorr, z, labels, XENT_OFF, n, classes);

  /* One output at a time: the others keep what they held. */
  clgan_buffer_zero(dev, &dzd), clgan_buffer_zero(dev, &cd);
  CHECK_OK(clgan_softmax_xent(dev, &cfg, NULL, &ld, NULL, &zd, &lab, XENT_OFF, n, classes));
  download(dev, &ld, loss, un), download(dev, &dzd, dz, all), download(dev, &cd, corr, un);
  snprintf(what, sizeof what, "xent loss alone n=%d classes=%d", n, classes);
  CHECK_CLOSE(what, loss, wloss, un, 1e-6, 1e-5);
  int untouched = 1;
  for (size_t i = 0; i < all; i++) untouched &= dz[i] == 0.0f;
  for (size_t i = 0; i < un; i++) untouched &= corr[i] == 0.0f;
  CHECK(untouched, "xent with dz and correct NULL writes neither (n=%d classes=%d)", n, classes);
  clgan_buffer_zero(dev, &ld);
  CHECK_OK(clgan_softmax_xent(dev, &cfg, &dzd, NULL, NULL, &zd, &lab, XENT_OFF, n, classes));
  download(dev, &dzd, dz, all), download(dev, &ld, loss, un);
  snprintf(what, sizeof what, "xent dz alone n=%d classes=%d", n, classes);
  CHECK_CLOSE(what, dz, wdz, all, 1e-7 * cfg.scale, 1e-5);
  untouched = 1;
  for (size_t i = 0; i < un; i++) untouched &= loss[i] == 0.0f;
  CHECK(untouched, "xent with loss NULL writes no loss (n=%d classes=%d)", n, classes);
  CHECK_OK(clgan_softmax_xent(dev, &cfg, NULL, NULL, &cd, &zd, &lab, XENT_OFF, n, classes));
  download(dev, &cd, corr, un);
  snprintf(what, sizeof what, "xent correct alone n=%d classes=%d", n, classes);
  CHECK_CLOSE(what, corr, wcorr, un, 0, 0);

  clgan_buffer_free(&zd), clgan_buffer_free(&dzd), clgan_buffer_free(&ld);
  clgan_buffer_free(&cd), clgan_buffer_free(&lab);
  free(z), free(labels), free(dz), free(loss), free(corr), free(wdz), free(wloss), free(wcorr);
}

/* Logits of +-1e4 (exp of them overflows float a thousand times over), ties, and labels
 * outside [0, classes): finite where they should be, NaN where the label is bad. */
static void check_xent_edges(clgan_device *dev) {
  enum { C = 3, N = 7 };
  float z[N * C] = {1e4f,  -1e4f, 0,     /* label 1: loss 2e4, dz scale * (1, -1, 0) */
                    -1e4f, -1e4f, -1e4f, /* a three-way tie far out, label 0: correct */
                    2,     2,     -1,    /* tie, label 1: wrong (ties go to index 0) */
                    1e4f,  1e4f,  -1e4f, /* label 2: loss 2e4 + ln 2 */
                    0,     1,     2,     /* label -1 */
                    0,     1,     2,     /* label 3 = classes */
                    0,     1,     2};    /* label 2000000000 */
  int32_t labels[N] = {1, 0, 1, 2, -1, 3, 2000000000};
  clgan_xent_cfg cfg = {0.5f};
  float dz[N * C], loss[N], corr[N], wdz[N * C], wloss[N], wcorr[N];
  clgan_buffer zd = upload(dev, z, N * C), dzd = upload(dev, NULL, N * C);
  clgan_buffer ld = upload(dev, NULL, N), cd = upload(dev, NULL, N);
  clgan_buffer lab = upload_bytes(dev, labels, sizeof labels);
  CHECK_OK(clgan_softmax_xent(dev, &cfg, &dzd, &ld, &cd, &zd, &lab, 0, N, C));
  download(dev, &dzd, dz, N * C), download(dev, &ld, loss, N), download(dev, &cd, corr, N);
  clgan_ref_softmax_xent(&cfg, wdz, wloss, wcorr, z, labels, 0, N, C);
  int finite = 1;
  for (int i = 0; i < 4 * C; i++) finite &= isfinite(dz[i]);
  for (int i = 0; i < 4; i++) finite &= isfinite(loss[i]);
  CHECK(finite, "xent: logits of +-1e4 give a finite loss and gradient");
  CHECK(fabs(loss[0] - 2e4) <= 2e4 * 1e-6 && fabs(loss[3] - (2e4 + log(2.0))) <= 2e4 * 1e-6,
        "xent: loss 2e4 below one best logit is 2e4, below two 2e4 + ln 2 (got %g, %g)",
        (double)loss[0],
        (double)loss[3]);
  CHECK(dz[0] == 0.5f && dz[1] == -0.5f && dz[2] == 0.0f,
        "xent: dz of (1e4, -1e4, 0), label 1 is scale * (1, -1, 0) (got %g %g %g)", (double)dz[0],
        (double)dz[1], (double)dz[2]);
  CHECK_CLOSE("xent edge rows dz", dz, wdz, 4 * C, 1e-7, 1e-5);
  CHECK_CLOSE("xent edge rows loss", loss, wloss, 4, 1e-6, 1e-5);
  CHECK(corr[0] == 0 && corr[1] == 1 && corr[2] == 0 && corr[3] == 0,
        "xent: correct with ties to the lowest index (got %g %g %g %g)", (double)corr[0],
        (double)corr[1], (double)corr[2], (double)corr[3]);
  int bad = 1;
  for (int i = 4; i < N; i++) {
    bad &= isnan(loss[i]) && corr[i] == 0.0f && isnan(wloss[i]) && wcorr[i] == 0.0f;
    for (int c = 0; c < C; c++) bad &= isnan(dz[i * C + c]) && isnan(wdz[i * C + c]);
  }
  CHECK(bad, "xent: labels -1, classes and 2e9 give NaN loss and dz and correct 0");

  /* classes = 1: the loss is 0 and the gradient 0 whatever the logit. */
  int32_t zero[2] = {0, 0};
  float z1[2] = {1e4f, -3}, l1[2], d1[2];
  clgan_buffer z1d = upload(dev, z1, 2), l1d = upload(dev, NULL, 2), d1d = upload(dev, NULL, 2);
  clgan_buffer lab1 = upload_bytes(dev, zero, sizeof zero);
  CHECK_OK(clgan_softmax_xent(dev, &cfg, &d1d, &l1d, NULL, &z1d, &lab1, 0, 2, 1));
  download(dev, &l1d, l1, 2), download(dev, &d1d, d1, 2);
  CHECK(l1[0] == 0 && l1[1] == 0 && d1[0] == 0 && d1[1] == 0,
        "xent with one class: loss and dz 0 (got %g %g, %g %g)", (double)l1[0], (double)l1[1],
        (double)d1[0], (double)d1[1]);

  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_softmax_xent(dev, &cfg, &dzd, &ld, &cd, &zd, &lab, 1, N, C) ==
            CLGAN_INVALID_ARGUMENT,
        "xent: labels buffer too small for label_off + n is refused");
  CHECK(clgan_softmax_xent(dev, &cfg, &dzd, &ld, &cd, &zd, &lab, 0, N, C + 1) ==
            CLGAN_INVALID_ARGUMENT,
        "xent: logits buffer too small for n * classes is refused");
  CHECK(clgan_softmax_xent(dev, &cfg, &dzd, &ld, &cd, &zd, &lab, 0, N, 0) ==
            CLGAN_INVALID_ARGUMENT,
        "xent: classes 0 is refused");
  clgan_set_log(NULL, NULL);
  clgan_buffer *bufs[] = {&zd, &dzd, &ld, &cd, &lab, &z1d, &l1d, &d1d, &lab1};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) clgan_buffer_free(bufs[i]);
}

int main(void) {
  clgan_device *dev = test_open_device();
  static const int sizes[] = {1, 7, 1000, 4099};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    int n = sizes[s];
    float inv = 1.0f / (float)n;
    check_optional(dev, (clgan_bce_cfg){1.0f, inv, 1.0f}, n);  /* D on real */
    check_optional(dev, (clgan_bce_cfg){0.0f, inv, 1.0f}, n);  /* D on fake */
    check_optional(dev, (clgan_bce_cfg){0.0f, inv, -1.0f}, n); /* minimax G */
    check_optional(dev, (clgan_bce_cfg){0.9f, inv, 1.0f}, n);  /* one-sided label smoothing */
    check_optional(dev, (clgan_bce_cfg){0.9f, 1.0f, -1.0f}, n);
  }
  check_extremes(dev, (clgan_bce_cfg){1.0f, 1.0f, 1.0f});
  check_extremes(dev, (clgan_bce_cfg){0.0f, 1.0f, 1.0f});
  check_extremes(dev, (clgan_bce_cfg){0.0f, 0.5f, -1.0f});
  check_extremes(dev, (clgan_bce_cfg){0.9f, 1.0f, 1.0f});
  static const int xent_n[] = {1, 37, 129}, xent_classes[] = {1, 2, 10, 17};
  for (size_t i = 0; i < 3; i++)
    for (size_t c = 0; c < 4; c++) check_xent_optional(dev, xent_n[i], xent_classes[c]);
  check_xent_edges(dev);

  clgan_buffer b = upload(dev, NULL, 4);
  clgan_bce_cfg cfg = {1, 1, 1};
  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_bce_logits(dev, &cfg, &b, &b, &b, &b, 8) == CLGAN_INVALID_ARGUMENT,
        "buffers too small are refused");
  clgan_set_log(NULL, NULL);
  clgan_buffer_free(&b);
  clgan_device_close(dev);
  return test_finish();
}
