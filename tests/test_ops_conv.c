/* Conv2d and ConvTranspose2d: each gradient alone against the C reference, bitwise
 * repeatability (small odd shapes and the DCGAN layer shapes at batch 2), the output-size
 * formulas against PyTorch's documented ones, and refused arguments. Forward and backward
 * against the references and the gradients against central differences are rows of
 * tests/test_ops.c. */
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

/* Bitwise repeatability, and each gradient alone: the others are neither needed nor touched.
 * Forward and backward against the reference (bias on and off, accumulate on and off) and
 * the gradients against finite differences are rows of tests/test_ops.c. */
static void check_shape(clgan_device *dev, const conv_kind *kind, clgan_conv_shape sh,
                        double tol) {
  sizes z = sizes_of(kind, &sh);
  char tag[160], what[256];
  snprintf(tag, sizeof tag, "%s n=%d c_in=%d %dx%d c_out=%d k=%dx%d s=%d p=%d", kind->name, sh.n,
           sh.c_in, sh.h_in, sh.w_in, sh.c_out, sh.kh, sh.kw, sh.stride, sh.pad);
  float wscale = 1.0f / sqrtf((float)(sh.c_in * sh.kh * sh.kw));
  float *x = rand_floats(z.nx, -1, 1), *w = rand_floats(z.nw, -wscale, wscale);
  float *g = rand_floats(z.ny, -1, 1);
  float *got = malloc(z.ny * 4 + 4);
  size_t nws = kind->workspace(&sh);
  clgan_buffer xd = upload(dev, x, z.nx), wd = upload(dev, w, z.nw);
  clgan_buffer yd = upload(dev, NULL, z.ny), gd = upload(dev, g, z.ny);
  clgan_buffer col = upload(dev, NULL, nws);

  /* A second forward is bitwise the first. */
  CHECK_OK(kind->fwd(dev, &sh, &yd, &xd, &wd, NULL, &col));
  download(dev, &yd, got, z.ny);
  {
    float *again = malloc(z.ny * 4 + 4);
    CHECK_OK(kind->fwd(dev, &sh, &yd, &xd, &wd, NULL, &col));
    download(dev, &yd, again, z.ny);
    CHECK(!memcmp(again, got, z.ny * 4), "%s forward repeats bitwise", tag);
    free(again);
  }

  float *wdx = malloc(z.nx * 4), *wdw = malloc(z.nw * 4), *wdb = malloc(z.nb * 4);
  clgan_buffer dxd = upload(dev, NULL, z.nx), dwd = upload(dev, NULL, z.nw);
  clgan_buffer dbd = upload(dev, NULL, z.nb);
  kind->ref_bwd(&sh, wdx, wdw, wdb, g, x, w, 0);

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

  clgan_buffer bufs[] = {xd, wd, yd, gd, col, dxd, dwd, dbd};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) clgan_buffer_free(&bufs[i]);
  free(x), free(w), free(g), free(got);
  free(wdx), free(wdw), free(wdb);
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
  check_out_sizes();
  /* Both GEMM paths: CLBlast over im2col and CNHW copies, and clgan's packed kernels reading
   * the tensors in place (clgan_gemm_ex's layouts; with both tile heights). */
  const clgan_device_cfg paths[] = {{.gemm = CLGAN_GEMM_CLBLAST},
                                    {.gemm = CLGAN_GEMM_PACKED, .gemm_mr = 12},
                                    {.gemm = CLGAN_GEMM_PACKED, .gemm_mr = 6},
                                    {.gemm = CLGAN_GEMM_PACKED, .gemm_pack_all = 1}};
  for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
    clgan_device *dev = test_open_device_cfg(paths[p]);
    /* Small odd shapes. */
    static const clgan_conv_shape small[] = {
        {3, 3, 7, 5, 5, 3, 3, 2, 1}, {3, 5, 7, 5, 3, 4, 4, 2, 1}, {3, 3, 5, 7, 5, 3, 3, 1, 0},
        {3, 5, 7, 5, 3, 3, 2, 1, 1}, {3, 3, 7, 7, 5, 4, 4, 3, 2}, {1, 1, 1, 1, 1, 1, 1, 1, 0},
    };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
      check_shape(dev, &CONV, small[i], 2e-5);
      check_shape(dev, &CONVT, small[i], 2e-5);
    }
    /* The DCGAN layers at batch 2 (generator 7 -> 14 -> 28, discriminator 28 -> 14 -> 7). */
    check_shape(dev, &CONVT, (clgan_conv_shape){2, 256, 7, 7, 128, 4, 4, 2, 1}, 1e-4);
    check_shape(dev, &CONVT, (clgan_conv_shape){2, 128, 14, 14, 1, 4, 4, 2, 1}, 1e-4);
    check_shape(dev, &CONV, (clgan_conv_shape){2, 1, 28, 28, 32, 4, 4, 2, 1}, 1e-4);
    check_shape(dev, &CONV, (clgan_conv_shape){2, 32, 14, 14, 64, 4, 4, 2, 1}, 1e-4);
    check_refusals(dev);
    clgan_device_close(dev);
  }
  return test_finish();
}
