/* Conv2d and ConvTranspose2d: device forward and backward against the C references (bias on and
 * off, accumulate on and off, each gradient optional), the device gradients against central
 * differences of the reference forward on small odd shapes (batch 3, channels 3 and 5, kernels
 * 3 and 4, stride 1, 2 and 3, H != W), the DCGAN layer shapes at batch 2, the output-size
 * formulas against PyTorch's documented ones, bitwise repeatability, and refused arguments. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

typedef clgan_status (*dev_fwd_fn)(clgan_device *, const clgan_conv_shape *, clgan_buffer *,
                                   const clgan_buffer *, const clgan_buffer *,
                                   const clgan_buffer *, clgan_buffer *);
typedef clgan_status (*dev_bwd_fn)(clgan_device *, const clgan_conv_shape *, clgan_buffer *,
                                   clgan_buffer *, clgan_buffer *, const clgan_buffer *,
                                   const clgan_buffer *, const clgan_buffer *, clgan_buffer *,
                                   int);
typedef void (*ref_fwd_fn)(const clgan_conv_shape *, float *, const float *, const float *,
                           const float *);
typedef void (*ref_bwd_fn)(const clgan_conv_shape *, float *, float *, float *, const float *,
                           const float *, const float *, int);

typedef struct {
  const char *name;
  dev_fwd_fn fwd;
  dev_bwd_fn bwd;
  ref_fwd_fn ref_fwd;
  ref_bwd_fn ref_bwd;
  void (*out_hw)(const clgan_conv_shape *, int *, int *);
  size_t (*workspace)(const clgan_conv_shape *);
} conv_kind;

static const conv_kind CONV = {"conv2d", clgan_conv2d_forward, clgan_conv2d_backward,
                               clgan_ref_conv2d_forward, clgan_ref_conv2d_backward,
                               clgan_conv2d_out_hw, clgan_conv2d_workspace};
static const conv_kind CONVT = {"convT2d", clgan_convT2d_forward, clgan_convT2d_backward,
                                clgan_ref_convT2d_forward, clgan_ref_convT2d_backward,
                                clgan_convT2d_out_hw, clgan_convT2d_workspace};

typedef struct {
  size_t nx, ny, nw, nb;
} sizes;

static sizes sizes_of(const conv_kind *kind, const clgan_conv_shape *sh) {
  int ho, wo;
  kind->out_hw(sh, &ho, &wo);
  return (sizes){(size_t)sh->n * sh->c_in * sh->h_in * sh->w_in,
                 (size_t)sh->n * sh->c_out * ho * wo,
                 (size_t)sh->c_out * sh->c_in * sh->kh * sh->kw, (size_t)sh->c_out};
}

/* L = sum(g .* y) through the reference forward, in double. */
static double ref_loss(const conv_kind *kind, const clgan_conv_shape *sh, const float *g,
                       const float *x, const float *w, const float *b, float *y) {
  sizes z = sizes_of(kind, sh);
  kind->ref_fwd(sh, y, x, w, b);
  double l = 0.0;
  for (size_t i = 0; i < z.ny; i++) l += (double)g[i] * y[i];
  return l;
}

/* dL/dp[i] by central differences, with the step actually taken after rounding. */
static void fd_grad(const conv_kind *kind, const clgan_conv_shape *sh, const float *g, float *x,
                    float *w, float *b, float *p, size_t np, float *out, float *y) {
  for (size_t i = 0; i < np; i++) {
    float keep = p[i], up = keep + 1e-2f, down = keep - 1e-2f;
    p[i] = up;
    double lp = ref_loss(kind, sh, g, x, w, b, y);
    p[i] = down;
    double lm = ref_loss(kind, sh, g, x, w, b, y);
    p[i] = keep;
    out[i] = (float)((lp - lm) / ((double)up - down));
  }
}

static void check_shape(clgan_device *dev, const conv_kind *kind, clgan_conv_shape sh, int fd,
                        double tol) {
  sizes z = sizes_of(kind, &sh);
  char tag[160], what[256];
  snprintf(tag, sizeof tag, "%s n=%d c_in=%d %dx%d c_out=%d k=%dx%d s=%d p=%d", kind->name, sh.n,
           sh.c_in, sh.h_in, sh.w_in, sh.c_out, sh.kh, sh.kw, sh.stride, sh.pad);
  float wscale = 1.0f / sqrtf((float)(sh.c_in * sh.kh * sh.kw));
  float *x = rand_floats(z.nx, -1, 1), *w = rand_floats(z.nw, -wscale, wscale);
  float *b = rand_floats(z.nb, -0.5f, 0.5f), *g = rand_floats(z.ny, -1, 1);
  float *got = malloc((z.ny > z.nx ? z.ny : z.nx) * 4 + 4), *want = malloc(z.ny * 4 + 4);
  size_t nws = kind->workspace(&sh);
  clgan_buffer xd = upload(dev, x, z.nx), wd = upload(dev, w, z.nw), bd = upload(dev, b, z.nb);
  clgan_buffer yd = upload(dev, NULL, z.ny), gd = upload(dev, g, z.ny);
  clgan_buffer col = upload(dev, NULL, nws);

  /* Forward, with and without bias; a second run is bitwise the first. */
  for (int with_b = 1; with_b >= 0; with_b--) {
    CHECK_OK(kind->fwd(dev, &sh, &yd, &xd, &wd, with_b ? &bd : NULL, &col));
    kind->ref_fwd(&sh, want, x, w, with_b ? b : NULL);
    download(dev, &yd, got, z.ny);
    snprintf(what, sizeof what, "%s forward bias=%d", tag, with_b);
    CHECK_CLOSE(what, got, want, z.ny, tol, tol);
  }
  {
    float *again = malloc(z.ny * 4 + 4);
    CHECK_OK(kind->fwd(dev, &sh, &yd, &xd, &wd, NULL, &col));
    download(dev, &yd, again, z.ny);
    CHECK(!memcmp(again, got, z.ny * 4), "%s forward repeats bitwise", tag);
    free(again);
  }

  /* Backward: all three gradients, accumulate on (onto random values) then off. */
  float *dw0 = rand_floats(z.nw, -1, 1), *db0 = rand_floats(z.nb, -1, 1);
  float *wdx = malloc(z.nx * 4), *wdw = copy_floats(dw0, z.nw), *wdb = copy_floats(db0, z.nb);
  float *gdw = malloc(z.nw * 4), *gdb = malloc(z.nb * 4);
  clgan_buffer dxd = upload(dev, NULL, z.nx), dwd = upload(dev, dw0, z.nw);
  clgan_buffer dbd = upload(dev, db0, z.nb);
  for (int acc = 1; acc >= 0; acc--) {
    CHECK_OK(kind->bwd(dev, &sh, &dxd, &dwd, &dbd, &gd, &xd, &wd, &col, acc));
    kind->ref_bwd(&sh, wdx, wdw, wdb, g, x, w, acc);
    download(dev, &dxd, got, z.nx);
    snprintf(what, sizeof what, "%s backward dx accumulate=%d", tag, acc);
    CHECK_CLOSE(what, got, wdx, z.nx, tol, tol);
    download(dev, &dwd, gdw, z.nw);
    snprintf(what, sizeof what, "%s backward dw accumulate=%d", tag, acc);
    CHECK_CLOSE(what, gdw, wdw, z.nw, tol, tol);
    download(dev, &dbd, gdb, z.nb);
    snprintf(what, sizeof what, "%s backward db accumulate=%d", tag, acc);
    CHECK_CLOSE(what, gdb, wdb, z.nb, tol, tol);
  }

  /* Each gradient alone: the others are neither needed nor touched. The buffers not wanted are
   * filled with a marker first. */
  {
    float *mark = malloc((z.nx > z.nw ? z.nx : z.nw) * 4 + 4);
    for (int which = 0; which < 3; which++) {
      CHECK_OK(clgan_fill(dev, &dxd, (int)z.nx, 7.0f));
      CHECK_OK(clgan_fill(dev, &dwd, (int)z.nw, 7.0f));
      CHECK_OK(clgan_fill(dev, &dbd, (int)z.nb, 7.0f));
      CHECK_OK(kind->bwd(dev, &sh, which == 0 ? &dxd : NULL, which == 1 ? &dwd : NULL,
                         which == 2 ? &dbd : NULL, &gd, which == 1 ? &xd : NULL,
                         which == 0 ? &wd : NULL, which == 2 ? NULL : &col, 0));
      const clgan_buffer *bufs[3] = {&dxd, &dwd, &dbd};
      const float *wants[3] = {wdx, wdw, wdb};
      size_t ns[3] = {z.nx, z.nw, z.nb};
      for (int k = 0; k < 3; k++) {
        download(dev, bufs[k], mark, ns[k]);
        if (k == which) {
          snprintf(what, sizeof what, "%s backward gradient %d alone", tag, k);
          CHECK_CLOSE(what, mark, wants[k], ns[k], tol, tol);
        } else {
          int untouched = 1;
          for (size_t i = 0; i < ns[k]; i++) untouched &= mark[i] == 7.0f;
          CHECK(untouched, "%s backward gradient %d alone leaves gradient %d alone", tag, which,
                k);
        }
      }
    }
    free(mark);
  }

  if (fd) { /* device gradients (wdx/wdw/wdb agree with them, accumulate = 0) vs differences */
    float *fdx = malloc(z.nx * 4), *fdw = malloc(z.nw * 4), *fdb = malloc(z.nb * 4);
    float *y = malloc(z.ny * 4);
    fd_grad(kind, &sh, g, x, w, b, x, z.nx, fdx, y);
    fd_grad(kind, &sh, g, x, w, b, w, z.nw, fdw, y);
    fd_grad(kind, &sh, g, x, w, b, b, z.nb, fdb, y);
    CHECK_OK(kind->bwd(dev, &sh, &dxd, &dwd, &dbd, &gd, &xd, &wd, &col, 0));
    download(dev, &dxd, got, z.nx);
    snprintf(what, sizeof what, "%s dx vs finite differences", tag);
    CHECK_CLOSE(what, got, fdx, z.nx, 5e-4, 2e-3);
    download(dev, &dwd, gdw, z.nw);
    snprintf(what, sizeof what, "%s dw vs finite differences", tag);
    CHECK_CLOSE(what, gdw, fdw, z.nw, 5e-4, 2e-3);
    download(dev, &dbd, gdb, z.nb);
    snprintf(what, sizeof what, "%s db vs finite differences", tag);
    CHECK_CLOSE(what, gdb, fdb, z.nb, 5e-4, 2e-3);
    free(fdx), free(fdw), free(fdb), free(y);
  }

  clgan_buffer bufs[] = {xd, wd, bd, yd, gd, col, dxd, dwd, dbd};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) clgan_buffer_free(&bufs[i]);
  free(x), free(w), free(b), free(g), free(got), free(want), free(dw0), free(db0);
  free(wdx), free(wdw), free(wdb), free(gdw), free(gdb);
}

/* Output sizes as torch.nn.Conv2d / ConvTranspose2d document them (dilation 1, no
 * output_padding), written out here independently. */
static void check_out_sizes(void) {
  for (int h = 1; h <= 9; h++)
    for (int k = 1; k <= 5; k++)
      for (int s = 1; s <= 3; s++)
        for (int p = 0; p <= 2; p++) {
          clgan_conv_shape sh = {1, 1, h, h + 1, 1, k, k, s, p};
          int ho, wo;
          if (h + 2 * p >= k) {
            clgan_conv2d_out_hw(&sh, &ho, &wo);
            CHECK(ho == (int)floor((h + 2.0 * p - (k - 1) - 1) / s + 1) &&
                      wo == (int)floor((h + 1 + 2.0 * p - (k - 1) - 1) / s + 1),
                  "conv2d out size h=%d k=%d s=%d p=%d", h, k, s, p);
          }
          clgan_convT2d_out_hw(&sh, &ho, &wo);
          CHECK(ho == (h - 1) * s - 2 * p + (k - 1) + 1 && wo == h * s - 2 * p + (k - 1) + 1,
                "convT2d out size h=%d k=%d s=%d p=%d", h, k, s, p);
        }
}

static void check_refusals(clgan_device *dev) {
  clgan_conv_shape sh = {2, 3, 5, 5, 4, 3, 3, 1, 1};
  size_t nws = clgan_conv2d_workspace(&sh);
  clgan_buffer x = upload(dev, NULL, 2 * 3 * 25), y = upload(dev, NULL, 2 * 4 * 25);
  clgan_buffer w = upload(dev, NULL, 4 * 3 * 9), col = upload(dev, NULL, nws - 1);
  clgan_buffer big = upload(dev, NULL, nws);
  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_conv2d_forward(dev, &sh, &y, &x, &w, NULL, &col) == CLGAN_INVALID_ARGUMENT,
        "a workspace one float short is refused");
  CHECK(clgan_conv2d_forward(dev, &sh, &x, &x, &w, NULL, &big) == CLGAN_INVALID_ARGUMENT,
        "an output buffer too small is refused");
  clgan_conv_shape bad = sh;
  bad.stride = 0;
  CHECK(clgan_conv2d_forward(dev, &bad, &y, &x, &w, NULL, &big) == CLGAN_INVALID_ARGUMENT,
        "stride 0 is refused");
  bad = sh, bad.kh = 8; /* 5 + 2 < 8: no output */
  CHECK(clgan_conv2d_forward(dev, &bad, &y, &x, &w, NULL, &big) == CLGAN_INVALID_ARGUMENT,
        "a kernel larger than the padded input is refused");
  bad = (clgan_conv_shape){2, 3, 1, 1, 4, 1, 1, 1, 1}; /* convT: (1-1)*1 - 2 + 1 < 1 */
  CHECK(clgan_convT2d_forward(dev, &bad, &y, &x, &w, NULL, &big) == CLGAN_INVALID_ARGUMENT,
        "a transposed conv with an empty output is refused");
  CHECK(clgan_conv2d_backward(dev, &sh, &x, NULL, NULL, &y, NULL, NULL, &big, 0) ==
            CLGAN_INVALID_ARGUMENT,
        "dx without w is refused");
  clgan_set_log(NULL, NULL);

  /* An empty batch: nothing to do forward; gradients are zeroed, or kept with accumulate. */
  clgan_conv_shape none = sh;
  none.n = 0;
  CHECK_OK(clgan_conv2d_forward(dev, &none, &y, &x, &w, NULL, &big));
  float keep[108];
  CHECK_OK(clgan_fill(dev, &w, 108, 3.0f));
  CHECK_OK(clgan_conv2d_backward(dev, &none, NULL, &w, NULL, &y, &x, &w, &big, 1));
  download(dev, &w, keep, 108);
  CHECK(keep[0] == 3.0f && keep[107] == 3.0f, "empty batch with accumulate keeps dw");
  CHECK_OK(clgan_convT2d_backward(dev, &none, NULL, &w, NULL, &y, &x, &w, &big, 0));
  download(dev, &w, keep, 108);
  CHECK(keep[0] == 0.0f && keep[107] == 0.0f, "empty batch without accumulate zeroes dw");
  clgan_buffer_free(&x), clgan_buffer_free(&y), clgan_buffer_free(&w), clgan_buffer_free(&col);
  clgan_buffer_free(&big);
}

int main(void) {
  clgan_device *dev = test_open_device();
  check_out_sizes();
  /* Small odd shapes, with finite differences. */
  static const clgan_conv_shape small[] = {
      {3, 3, 7, 5, 5, 3, 3, 2, 1}, {3, 5, 7, 5, 3, 4, 4, 2, 1}, {3, 3, 5, 7, 5, 3, 3, 1, 0},
      {3, 5, 7, 5, 3, 3, 2, 1, 1}, {3, 3, 7, 7, 5, 4, 4, 3, 2}, {1, 1, 1, 1, 1, 1, 1, 1, 0},
  };
  for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
    check_shape(dev, &CONV, small[i], 1, 2e-5);
    check_shape(dev, &CONVT, small[i], 1, 2e-5);
  }
  /* The DCGAN layers at batch 2 (generator 7 -> 14 -> 28, discriminator 28 -> 14 -> 7). */
  check_shape(dev, &CONVT, (clgan_conv_shape){2, 256, 7, 7, 128, 4, 4, 2, 1}, 0, 1e-4);
  check_shape(dev, &CONVT, (clgan_conv_shape){2, 128, 14, 14, 1, 4, 4, 2, 1}, 0, 1e-4);
  check_shape(dev, &CONV, (clgan_conv_shape){2, 1, 28, 28, 32, 4, 4, 2, 1}, 0, 1e-4);
  check_shape(dev, &CONV, (clgan_conv_shape){2, 32, 14, 14, 64, 4, 4, 2, 1}, 0, 1e-4);
  check_refusals(dev);
  clgan_device_close(dev);
  return test_finish();
}
