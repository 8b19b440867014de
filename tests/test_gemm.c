/* clgan_gemm against the C reference, through CLBlast and through clgan's packed kernels (both
 * tile heights): random shapes including odd sizes, all four transpose combinations, offsets,
 * padded leading dimensions, alpha, beta, and a bias on rows or columns. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static unsigned long long rng = 12345;

static int irand(int lo, int hi) {
  rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return lo + (int)((rng >> 33) % (unsigned long long)(hi - lo + 1));
}

static void run_case(clgan_device *dev, size_t m, size_t n, size_t k, int ta, int tb, size_t pad,
                     size_t off, float alpha, float beta) {
  clgan_gemm_args g = {.trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k, .alpha = alpha,
                       .beta = beta};
  g.lda = (ta ? m : k) + pad;
  g.ldb = (tb ? k : n) + pad;
  g.ldc = n + pad;
  g.a_off = off;
  g.b_off = 2 * off;
  g.c_off = 3 * off;
  char what[128];
  snprintf(what, sizeof what, "gemm m=%zu n=%zu k=%zu %c%c pad=%zu off=%zu alpha=%g beta=%g", m, n,
           k, ta ? 'T' : 'N', tb ? 'T' : 'N', pad, off, (double)alpha, (double)beta);
  /* Untouched padding and offsets must stay as they were: the comparison covers all of C. */
  test_gemm_case(dev, g, &rng, what);
}

/* The judge itself: what it accepts and what it must not. */
static void test_error_ratio(void) {
  float ref[4] = {0.0f, 1.0f, -1000.0f, 5.0f}, c[4];
  double atol, rtol;
  clgan_gemm_tolerance(100, &atol, &rtol);
  CHECK(fabs(atol - 3e-4) < 1e-12 && rtol == 1e-4, "tolerance at k = 100: %g, %g", atol, rtol);
  memcpy(c, ref, sizeof c);
  size_t worst = 9;
  CHECK(clgan_gemm_error_ratio(100, c, ref, 4, &worst) == 0.0 && worst == 0, "equal arrays");
  c[2] = -1000.0f + 0.09f; /* within 3e-4 + 0.1 */
  CHECK(clgan_gemm_error_ratio(100, c, ref, 4, NULL) <= 1.0, "relative slack on a large value");
  c[0] = 4e-4f; /* over 3e-4 absolute */
  double r = clgan_gemm_error_ratio(100, c, ref, 4, &worst);
  CHECK(r > 1.0 && worst == 0, "absolute error caught: ratio %g at %zu", r, worst);
  memcpy(c, ref, sizeof c);
  c[3] = NAN;
  CHECK(!(clgan_gemm_error_ratio(100, c, ref, 4, &worst) <= 1.0) && worst == 3, "NaN is a mismatch");
}

int main(void) {
  test_error_ratio();
  clgan_device *dev = NULL;
  /* The packed path reads plain operands in place unless gemm_pack_all packs them. */
  const clgan_device_cfg paths[] = {
      {.gemm = CLGAN_GEMM_CLBLAST, .profile = 1},
      {.gemm = CLGAN_GEMM_PACKED, .gemm_mr = 12, .profile = 1},
      {.gemm = CLGAN_GEMM_PACKED, .gemm_mr = 6, .profile = 1},
      {.gemm = CLGAN_GEMM_PACKED, .gemm_mr = 12, .gemm_pack_all = 1, .profile = 1}};
  for (int p = 0; p < 4; p++) {
    dev = test_open_device_cfg(paths[p]);
    CHECK(clgan_device_gemm(dev) == paths[p].gemm, "GEMM path %s", clgan_gemm_kind_name(paths[p].gemm));
    /* Training shapes of the mlp GAN, and one of dcgan's (G's first transposed convolution). */
    run_case(dev, 128, 256, 784, 0, 1, 0, 0, 1.0f, 0.0f);
    run_case(dev, 128, 784, 256, 0, 0, 0, 0, 1.0f, 0.0f);
    run_case(dev, 256, 784, 128, 1, 0, 0, 0, 1.0f, 1.0f);
    run_case(dev, 256, 196, 512, 1, 0, 0, 0, 1.0f, 0.0f);
    /* Odd sizes, every transpose, offsets and padded leading dimensions. */
    for (int t = 0; t < 16; t++) {
      size_t m = (size_t)irand(1, 67), n = (size_t)irand(1, 67), k = (size_t)irand(1, 131);
      run_case(dev, m, n, k, t & 1, (t >> 1) & 1, (size_t)irand(0, 5), (size_t)irand(0, 9),
               t & 4 ? 0.5f : 1.0f, t & 8 ? -0.75f : 0.0f);
    }
    /* B read in place on the packed path (untransposed, whole 16-column panels), with offsets,
     * padding, both A layouts and a partial last tile row. */
    for (int t = 0; t < 4; t++)
      run_case(dev, (size_t)irand(1, 40), 16 * (size_t)irand(1, 4), (size_t)irand(1, 70), t & 1, 0,
               (size_t)irand(1, 5), (size_t)irand(1, 9), 1.0f, t & 2 ? 0.5f : 0.0f);
    /* A read in place on the packed path: transposed, rows a multiple of 12 (and so of 6), with
     * offsets, padding, both B layouts. */
    for (int t = 0; t < 4; t++)
      run_case(dev, 12 * (size_t)irand(1, 5), (size_t)irand(1, 50), (size_t)irand(1, 70), 1, t & 1,
               (size_t)irand(1, 5), (size_t)irand(1, 9), 1.0f, t & 2 ? 0.5f : 0.0f);
    /* A B^T, as the dense layers' forward pass, with offsets, padding, alpha, beta and a bias on
     * rows or columns (clgan_gemm_ex; the packed path only), sizes off the tile edges. */
    for (int t = 0; t < 6; t++) {
      size_t m = (size_t)irand(1, 70), n = (size_t)irand(1, 70), k = (size_t)irand(1, 300);
      clgan_gemm_args g = {.trans_b = 1, .m = m, .n = n, .k = k, .alpha = t & 1 ? 0.5f : 1.0f,
                           .beta = t & 2 ? -0.75f : 0.0f, .lda = k + (size_t)irand(0, 5),
                           .ldb = k + (size_t)irand(0, 5), .ldc = n + (size_t)irand(0, 5),
                           .a_off = (size_t)irand(0, 9), .b_off = (size_t)irand(0, 9),
                           .c_off = (size_t)irand(0, 9)};
      char what[128];
      snprintf(what, sizeof what, "A B^T m=%zu n=%zu k=%zu alpha=%g beta=%g bias %d", m, n, k,
               (double)g.alpha, (double)g.beta, t % 3);
      if (paths[p].gemm == CLGAN_GEMM_PACKED || t % 3 == 0)
        test_gemm_case_bias(dev, g, t % 3, &rng, what);
    }
    /* Each GEMM is one "gemm" in the profile whichever path ran it; that the path asked for is
     * the one that ran shows in a path-specific place: the packed panels exist, or not. */
    int np = 0;
    long calls = test_profile_take(dev, "gemm", &np).calls;
    long want = paths[p].gemm == CLGAN_GEMM_PACKED ? 34 : 30;
    CHECK(calls == want, "%s: %ld GEMMs profiled (%ld)", clgan_gemm_kind_name(paths[p].gemm),
          calls, want);
    CHECK((clgan_gemm_packed_bytes(dev) > 0) == (paths[p].gemm == CLGAN_GEMM_PACKED),
          "%s: packed panels of %zu bytes", clgan_gemm_kind_name(paths[p].gemm),
          clgan_gemm_packed_bytes(dev));
    clgan_device_close(dev);
  }
  /* A CPU device computes through the packed kernels unless told otherwise. */
  dev = test_open_device();
  CHECK(clgan_device_gemm(dev) ==
            (clgan_device_get_info(dev)->type == CLGAN_DEVICE_CPU ? CLGAN_GEMM_PACKED
                                                                  : CLGAN_GEMM_CLBLAST),
        "the default GEMM path: %s", clgan_gemm_kind_name(clgan_device_gemm(dev)));
  clgan_device_close(dev);
  dev = test_open_device_cfg((clgan_device_cfg){.splitk = 1, .profile = 1});
  /* Split along k (a small C, a long k: weight gradients over a batch of images), every
   * transpose, offsets, padding, alpha and beta; k = 2049 is not split (no power-of-two piece). */
  for (int t = 0; t < 8; t++)
    run_case(dev, (size_t)irand(1, 40), (size_t)irand(1, 40), t < 4 ? 4096 : 3136, t & 1,
             (t >> 1) & 1, (size_t)irand(0, 3), (size_t)irand(0, 5), t & 4 ? 0.5f : 1.0f,
             t & 2 ? 0.25f : 0.0f);
  run_case(dev, 32, 16, 12544, 0, 0, 0, 0, 1.0f, 0.0f); /* dcgan: D conv1's weight gradient */
  run_case(dev, 64, 1, 3136, 0, 0, 0, 0, 1.0f, 0.0f);   /* dcgan: D's output layer */
  run_case(dev, 9, 11, 2049, 1, 0, 1, 2, 1.0f, -0.5f);
  /* The same split product twice: bitwise the same. */
  {
    size_t m = 24, n = 20, k = 8192;
    float *a = malloc(m * k * 4), *b = malloc(k * n * 4), *c1 = malloc(m * n * 4),
          *c2 = malloc(m * n * 4);
    test_fill_uniform(a, m * k, -1, 1, &rng);
    test_fill_uniform(b, k * n, -1, 1, &rng);
    clgan_buffer da = {0}, db = {0}, dc = {0};
    clgan_buffer_alloc(dev, &da, m * k * 4);
    clgan_buffer_alloc(dev, &db, k * n * 4);
    clgan_buffer_alloc(dev, &dc, m * n * 4);
    clgan_buffer_write(dev, &da, 0, m * k * 4, a);
    clgan_buffer_write(dev, &db, 0, k * n * 4, b);
    clgan_gemm_args g = {.m = m, .n = n, .k = k, .alpha = 1, .a = &da, .lda = k, .b = &db,
                         .ldb = n, .c = &dc, .ldc = n};
    CHECK(clgan_gemm(dev, &g) == CLGAN_OK, "split GEMM");
    clgan_buffer_read(dev, &dc, 0, m * n * 4, c1);
    CHECK(clgan_gemm(dev, &g) == CLGAN_OK, "split GEMM again");
    clgan_buffer_read(dev, &dc, 0, m * n * 4, c2);
    CHECK(memcmp(c1, c2, m * n * 4) == 0, "a split GEMM is deterministic");
    /* A C that does not fit is refused before anything is written. */
    g.ldc = n + 1;
    CHECK(clgan_gemm(dev, &g) == CLGAN_INVALID_ARGUMENT, "split GEMM: C past its buffer refused");
    /* The split path really ran: its reduction kernel is in the profile, once for each of the
     * 12 split products (the loop's 8, the two dcgan shapes, the two here; k = 2049 is not
     * split, and the refused call enqueues nothing). */
    long reduces = test_profile_take(dev, "gemm_splitk_reduce", NULL).calls;
    CHECK(reduces == 12, "split GEMMs reduced: %ld (12)", reduces);
    clgan_buffer_free(&da);
    clgan_buffer_free(&db);
    clgan_buffer_free(&dc);
    free(a);
    free(b);
    free(c1);
    free(c2);
  }
  /* Degenerate and invalid calls. */
  clgan_buffer d = {0};
  clgan_buffer_alloc(dev, &d, 64 * 4);
  clgan_gemm_args bad = {.m = 4, .n = 4, .k = 4, .alpha = 1, .a = &d, .lda = 2, .b = &d, .ldb = 4,
                         .c = &d, .ldc = 4};
  CHECK(clgan_gemm(dev, &bad) == CLGAN_INVALID_ARGUMENT, "lda smaller than the row is refused");
  clgan_gemm_args big = {.m = 64, .n = 64, .k = 64, .alpha = 1, .a = &d, .lda = 64, .b = &d,
                         .ldb = 64, .c = &d, .ldc = 64};
  CHECK(clgan_gemm(dev, &big) == CLGAN_INVALID_ARGUMENT, "a buffer too small is refused");
  clgan_buffer_free(&d);
  clgan_device_close(dev);

  /* With profiling, each CLBlast GEMM is one "gemm" entry spanning all of CLBlast's kernels (a
   * marker before the call), with results unchanged; a failed call records nothing. */
  dev = test_open_device_cfg((clgan_device_cfg){.profile = 1, .gemm = CLGAN_GEMM_CLBLAST});
  run_case(dev, 200, 300, 400, 0, 1, 3, 5, 1.0f, 0.5f);
  run_case(dev, 7, 5, 3, 1, 0, 0, 0, 1.0f, 0.0f);
  clgan_buffer_alloc(dev, &d, 64 * 4);
  CHECK(clgan_gemm(dev, &big) == CLGAN_INVALID_ARGUMENT, "profiled: a buffer too small is refused");
  clgan_buffer_free(&d);
  int nprof = 0;
  clgan_profile_entry gemm = test_profile_take(dev, "gemm", &nprof);
  CHECK(gemm.calls == 2 && gemm.ms > 0, "two profiled GEMMs: %ld calls, %.3f ms (%d entries)",
        gemm.calls, gemm.ms, nprof);
  clgan_device_close(dev);
  return test_finish();
}
