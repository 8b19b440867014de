/* DiffAugment's ops against the official PyTorch code's semantics, worked out here from first
 * principles rather than through clgan_aug_sample: on images whose pixels name their position,
 * each translated sample is the input moved by one (tx, ty) with zeros where it came from
 * outside, and every shift of [-s, s] appears (s = int(size/8 + 0.5): 4 for 28, 1 for 7);
 * each cut-out sample is zero on exactly one rectangle of int(size/2 + 0.5) rows and columns,
 * clipped at the borders, whose centre takes every value of [0, size - cut%2]. Also: the
 * adjoint <A x, dy> = <x, A^T dy> on the device's own outputs, the policy spellings, the
 * keying by (seed, step, stream), and the refusals. Device against reference, row by row, is
 * tests/test_ops.c. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

static void check_names(void) {
  static const char *const good[] = {"none", "translation", "cutout", "translation,cutout"};
  for (unsigned p = 0; p < 4; p++) {
    unsigned got = 99;
    CHECK(clgan_aug_policy_parse(good[p], &got) && got == p &&
              !strcmp(clgan_aug_policy_name(p), good[p]),
          "policy '%s' is %u and back", good[p], p);
  }
  static const char *const bad[] = {"cutout,translation", "translation,", "bogus", "",
                                    "translation,translation", "Translation", "color"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    unsigned got = 99;
    CHECK(!clgan_aug_policy_parse(bad[i], &got) && got == 99, "'%s' is not a policy", bad[i]);
  }
  CHECK(clgan_aug_policy_name(4) == NULL && clgan_aug_policy_name(~0u) == NULL,
        "bits of no op have no name");
}

/* Translation alone of n samples of 1 x h x w images x = position + 1: the shift of each
 * sample read off its output, its range, and that every shift occurs. */
static void check_translation(clgan_device *dev, int n, int h, int w) {
  size_t plane = (size_t)h * w, all = (size_t)n * plane;
  float *x = malloc(all * sizeof *x), *y = malloc(all * sizeof *y);
  for (size_t e = 0; e < all; e++) x[e] = (float)(e % plane + 1);
  clgan_aug_cfg cfg = {.policy = 1u << CLGAN_AUG_TRANSLATION, .n = n, .c = 1, .h = h, .w = w,
                       .seed = 77, .step = 3, .stream = 6};
  clgan_buffer bx = upload(dev, x, all), by = upload(dev, NULL, all);
  CHECK_OK(clgan_augment_forward(dev, &cfg, &by, &bx));
  download(dev, &by, y, all);
  int sh = (int)(h * 0.125 + 0.5), sw = (int)(w * 0.125 + 0.5); /* the official formula */
  int seen[17][17] = {{0}}, bad = 0;
  for (int b = 0; b < n; b++) {
    const float *yb = y + (size_t)b * plane;
    /* The shift: any pixel that holds a value names where it came from. */
    int tx = 99, ty = 99;
    for (size_t e = 0; e < plane && tx == 99; e++)
      if (yb[e] != 0.0f) {
        int src = (int)yb[e] - 1;
        tx = src / w - (int)e / w;
        ty = src % w - (int)e % w;
      }
    if (tx == 99 || abs(tx) > sh || abs(ty) > sw) {
      bad++;
      continue;
    }
    seen[tx + sh][ty + sw]++;
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++) {
        int si = i + tx, sj = j + ty;
        float want = si >= 0 && si < h && sj >= 0 && sj < w ? (float)(si * w + sj + 1) : 0.0f;
        bad += yb[i * w + j] != want;
      }
  }
  int missing = 0;
  for (int a = 0; a <= 2 * sh; a++)
    for (int c = 0; c <= 2 * sw; c++) missing += seen[a][c] == 0;
  CHECK(bad == 0, "translation %dx%d: every sample is the image moved by one shift in [-%d, %d] "
        "x [-%d, %d], zero where it came from outside (%d bad)", h, w, sh, sh, sw, sw, bad);
  CHECK(missing == 0, "translation %dx%d: all %d shifts occur in %d samples (%d missing)", h, w,
        (2 * sh + 1) * (2 * sw + 1), n, missing);
  clgan_buffer_free(&bx);
  clgan_buffer_free(&by);
  free(x);
  free(y);
}

/* Cutout alone of n samples of c x h x w ones: each sample zero on one clipped rectangle, the
 * same in every channel, of the official size, its centre covering the official range. */
static void check_cutout(clgan_device *dev, int n, int c, int h, int w) {
  size_t plane = (size_t)h * w, all = (size_t)n * c * plane;
  float *x = malloc(all * sizeof *x), *y = malloc(all * sizeof *y);
  for (size_t e = 0; e < all; e++) x[e] = 1.0f;
  clgan_aug_cfg cfg = {.policy = 1u << CLGAN_AUG_CUTOUT, .n = n, .c = c, .h = h, .w = w,
                       .seed = 5, .step = 0, .stream = 7};
  clgan_buffer bx = upload(dev, x, all), by = upload(dev, NULL, all);
  CHECK_OK(clgan_augment_forward(dev, &cfg, &by, &bx));
  download(dev, &by, y, all);
  int ch = (int)(h * 0.5 + 0.5), cw = (int)(w * 0.5 + 0.5); /* the official formula */
  int ox_n = h + 1 - ch % 2, oy_n = w + 1 - cw % 2;         /* randint(0, size + 1 - cut%2) */
  int seen_x[64] = {0}, seen_y[64] = {0}, bad = 0;
  for (int b = 0; b < n; b++) {
    const float *yb = y + (size_t)b * c * plane;
    int r0 = h, r1 = -1, c0 = w, c1 = -1;
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++)
        if (yb[i * w + j] == 0.0f) {
          r0 = i < r0 ? i : r0, r1 = i > r1 ? i : r1;
          c0 = j < c0 ? j : c0, c1 = j > c1 ? j : c1;
        }
    /* The centre that clips to [r0, r1]: rows ox - ch/2 .. ox - ch/2 + ch - 1. */
    int ox = r0 > 0 ? r0 + ch / 2 : r1 - ch + 1 + ch / 2;
    int oy = c0 > 0 ? c0 + cw / 2 : c1 - cw + 1 + cw / 2;
    if (r1 < 0 || ox < 0 || ox >= ox_n || oy < 0 || oy >= oy_n) {
      bad++;
      continue;
    }
    int want_r0 = ox - ch / 2 > 0 ? ox - ch / 2 : 0, want_c0 = oy - cw / 2 > 0 ? oy - cw / 2 : 0;
    int want_r1 = ox - ch / 2 + ch - 1 < h ? ox - ch / 2 + ch - 1 : h - 1;
    int want_c1 = oy - cw / 2 + cw - 1 < w ? oy - cw / 2 + cw - 1 : w - 1;
    bad += r0 != want_r0 || r1 != want_r1 || c0 != want_c0 || c1 != want_c1;
    seen_x[ox]++, seen_y[oy]++;
    for (int k = 0; k < c; k++)
      for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
          int cut = i >= r0 && i <= r1 && j >= c0 && j <= c1;
          bad += yb[(size_t)k * plane + i * w + j] != (cut ? 0.0f : 1.0f);
        }
  }
  int missing = 0;
  for (int i = 0; i < ox_n; i++) missing += seen_x[i] == 0;
  for (int j = 0; j < oy_n; j++) missing += seen_y[j] == 0;
  CHECK(bad == 0, "cutout %dx%dx%d: each sample zero on one %dx%d square clipped at the borders, "
        "in every channel (%d bad)", c, h, w, ch, cw, bad);
  CHECK(missing == 0, "cutout %dx%d: centres cover [0, %d] x [0, %d] (%d values missing)", h, w,
        ox_n - 1, oy_n - 1, missing);
  clgan_buffer_free(&bx);
  clgan_buffer_free(&by);
  free(x);
  free(y);
}

static double dot(const float *a, const float *b, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
  return s;
}

/* <A x, dy> = <x, A^T dy> from the device's outputs; the same key gives the same draws, and
 * another seed, step or stream other ones. */
static void check_adjoint_and_keys(clgan_device *dev) {
  enum { N = 16, C = 3, H = 11, W = 9, ALL = N * C * H * W };
  float *x = rand_floats(ALL, -1, 1), *dy = rand_floats(ALL, -1, 1);
  float *y = malloc(ALL * sizeof *y), *dx = malloc(ALL * sizeof *dx), *y2 = malloc(ALL * sizeof *y2);
  clgan_buffer bx = upload(dev, x, ALL), bdy = upload(dev, dy, ALL);
  clgan_buffer by = upload(dev, NULL, ALL), bdx = upload(dev, NULL, ALL);
  clgan_aug_cfg cfg = {.policy = CLGAN_AUG_ALL, .n = N, .c = C, .h = H, .w = W, .seed = 9,
                       .step = 1ULL << 33, .stream = 8};
  CHECK_OK(clgan_augment_forward(dev, &cfg, &by, &bx));
  CHECK_OK(clgan_augment_backward(dev, &cfg, &bdx, &bdy));
  download(dev, &by, y, ALL);
  download(dev, &bdx, dx, ALL);
  double l = dot(y, dy, ALL), r = dot(x, dx, ALL);
  CHECK(fabs(l - r) <= 1e-12 * (fabs(l) + 1.0), "adjoint: <A x, dy> = %.15g, <x, A^T dy> = %.15g",
        l, r);
  size_t zeros = 0;
  for (size_t i = 0; i < ALL; i++) zeros += y[i] == 0.0f;
  CHECK(zeros > ALL / 8 && zeros < ALL, "translation,cutout zeroes part of the batch (%zu of %d)",
        zeros, ALL);
  const clgan_aug_cfg other[] = {{CLGAN_AUG_ALL, N, C, H, W, 10, 1ULL << 33, 8},
                                 {CLGAN_AUG_ALL, N, C, H, W, 9, 0, 8},
                                 {CLGAN_AUG_ALL, N, C, H, W, 9, 1ULL << 33, 7}};
  for (int k = 0; k < 3; k++) {
    CHECK_OK(clgan_augment_forward(dev, &other[k], &by, &bx));
    download(dev, &by, y2, ALL);
    CHECK(memcmp(y, y2, ALL * sizeof *y) != 0, "another seed, step or stream (%d): other draws",
          k);
  }
  CHECK_OK(clgan_augment_forward(dev, &cfg, &by, &bx));
  download(dev, &by, y2, ALL);
  CHECK(!memcmp(y, y2, ALL * sizeof *y), "the same key: the same batch, bit for bit");

  clgan_set_log(quiet_log, NULL);
  CHECK(clgan_augment_forward(dev, &cfg, &bx, &bx) == CLGAN_INVALID_ARGUMENT,
        "in place is refused");
  clgan_aug_cfg bits = cfg;
  bits.policy = 4;
  CHECK(clgan_augment_forward(dev, &bits, &by, &bx) == CLGAN_INVALID_ARGUMENT,
        "a policy with bits of no op is refused");
  clgan_aug_cfg big = cfg;
  big.n = N + 1;
  CHECK(clgan_augment_backward(dev, &big, &bdx, &bdy) == CLGAN_INVALID_ARGUMENT,
        "a shape larger than the buffers is refused");
  clgan_set_log(NULL, NULL);
  clgan_buffer bufs[] = {bx, bdy, by, bdx};
  for (int i = 0; i < 4; i++) clgan_buffer_free(&bufs[i]);
  free(x), free(dy), free(y), free(dx), free(y2);
}

int main(void) {
  check_names();
  clgan_device *dev = test_open_device();
  check_translation(dev, 2000, 28, 28);
  check_translation(dev, 300, 7, 5);
  check_translation(dev, 50, 3, 1);
  check_cutout(dev, 2000, 1, 28, 28);
  check_cutout(dev, 500, 3, 7, 5);
  check_cutout(dev, 100, 2, 4, 9);
  check_adjoint_and_keys(dev);
  clgan_device_close(dev);
  return test_finish();
}
