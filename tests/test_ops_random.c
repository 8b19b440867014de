/* Philox-4x32-10 against Random123's known-answer vectors (kat_vectors; clgan's word order is
 * Random123's: out[0] is the first word of the vector), the element-to-counter mapping of the
 * references rebuilt here from the raw generator, statistics of the device's draws that a wrong
 * scale, shift, shape or pairing fails (mean, variance, tails, a histogram, neighbour
 * correlation), and the Fisher-Yates shuffle that orders training data. The device against the
 * references (uniform bitwise, normal to 1e-5 relative) on odd sizes and several (seed, step,
 * stream) is rows of tests/test_ops.c. */
#include <math.h>
#include <stdio.h>

#include "ops_testutil.h"

static void check_kat(void) {
  static const uint32_t kat[3][10] = {
      /* ctr[4], key[2], expected[4]: philox4x32_10 lines of Random123's kat_vectors */
      {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
       0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
       0x94fdcceb, 0x5001e420, 0x24126ea1}};
  for (int t = 0; t < 3; t++) {
    uint32_t out[4];
    clgan_philox4x32(kat[t], kat[t] + 4, out);
    CHECK(memcmp(out, kat[t] + 6, sizeof out) == 0,
          "philox4x32_10 KAT %d: got %08x %08x %08x %08x want %08x %08x %08x %08x", t, out[0],
          out[1], out[2], out[3], kat[t][6], kat[t][7], kat[t][8], kat[t][9]);
  }
}

/* The documented mapping, from the raw generator: counter (i/4, step_lo, step_hi, stream), key
 * (seed_lo, seed_hi), u = (bits >> 9) * 2^-23 + 2^-24 (exact in double too). */
static void check_mapping(uint64_t seed, uint64_t step, uint32_t stream) {
  enum { N = 11 };
  float got[N];
  clgan_ref_rand_uniform(got, N, 0.0f, 1.0f, seed, step, stream);
  int ok = 1;
  for (int i = 0; i < N; i++) {
    uint32_t ctr[4] = {(uint32_t)(i / 4), (uint32_t)step, (uint32_t)(step >> 32), stream};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, w[4];
    clgan_philox4x32(ctr, key, w);
    double u = (double)(w[i % 4] >> 9) / 8388608.0 + 1.0 / 16777216.0;
    ok &= got[i] == (float)u && u > 0.0 && u < 1.0;
  }
  CHECK(ok, "uniform element i = word i%%4 of block (i/4, step, stream) under seed");
}

/* clgan_philox_shuffle: the orders the GAN trainer and the classifier drew before they shared
 * it (pinned: their checkpoints, resume tests and parity fixtures depend on them), a
 * permutation for every n, and (seed, epoch, stream) each changing the order. */
static void check_shuffle(void) {
  static const int32_t want10[10] = {2, 3, 6, 4, 9, 7, 5, 1, 0, 8};
  static const int32_t want13[13] = {9, 2, 11, 5, 4, 3, 12, 7, 6, 1, 8, 10, 0};
  int32_t got[13];
  clgan_philox_shuffle(got, 10, 0x0123456789abcdefULL, 3, 4);
  CHECK(memcmp(got, want10, sizeof want10) == 0, "shuffle of 10, seed %#llx epoch 3 stream 4",
        0x0123456789abcdefULL);
  clgan_philox_shuffle(got, 13, 1, 0, 0xC1A6);
  CHECK(memcmp(got, want13, sizeof want13) == 0, "shuffle of 13, seed 1 epoch 0 stream 0xC1A6");
  got[0] = -1;
  clgan_philox_shuffle(got, 1, 7, 0, 0);
  CHECK(got[0] == 0, "shuffle of 1 is the identity");

  enum { N = 1000 };
  static int32_t a[N], b[N];
  static int seen[N];
  clgan_philox_shuffle(a, N, 42, 5, 4);
  int perm = 1;
  for (int i = 0; i < N; i++) perm &= a[i] >= 0 && a[i] < N && !seen[a[i]]++;
  CHECK(perm, "shuffle of %d is a permutation", N);
  const uint64_t keys[][3] = {{43, 5, 4}, {42, 6, 4}, {42, 5, 5}, {42 + (1ULL << 32), 5, 4}};
  for (int k = 0; k < 4; k++) {
    clgan_philox_shuffle(b, N, keys[k][0], (uint32_t)keys[k][1], (uint32_t)keys[k][2]);
    int same = 0;
    for (int i = 0; i < N; i++) same += a[i] == b[i];
    CHECK(same < 20, "variant %d of (seed, epoch, stream) changes the order (%d fixed)", k, same);
  }
  clgan_philox_shuffle(b, N, 42, 5, 4);
  CHECK(memcmp(a, b, sizeof a) == 0, "same key, same order");
}

static size_t count_equal(const float *a, const float *b, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += memcmp(&a[i], &b[i], sizeof(float)) == 0;
  return k;
}

static void check_stats(clgan_device *dev) {
  enum { N = 100000 };
  float *x = malloc(N * sizeof *x);
  clgan_buffer out = upload(dev, NULL, N);
  CHECK_OK(clgan_rand_normal(dev, &out, N, 0.0f, 1.0f, 42, 0, 0));
  download(dev, &out, x, N);
  double s = 0, ss = 0, s4 = 0;
  for (int i = 0; i < N; i++) s += x[i];
  double mean = s / N;
  for (int i = 0; i < N; i++) {
    double d = x[i] - mean;
    ss += d * d, s4 += d * d * d * d;
  }
  double sd = sqrt(ss / (N - 1)), kurt = s4 / N / (sd * sd * sd * sd);
  /* Standard errors: mean 0.0032, sd 0.0022, kurtosis ~0.015; bounds at 6+ sigma. */
  CHECK(fabs(mean) < 0.02 && fabs(sd - 1.0) < 0.015 && fabs(kurt - 3.0) < 0.1,
        "normal(0,1) over %d: mean %.4f sd %.4f kurtosis %.3f", N, mean, sd, kurt);
  printf("normal(0,1) over %d draws: mean %.5f sd %.5f kurtosis %.4f\n", N, mean, sd, kurt);

  CHECK_OK(clgan_rand_uniform(dev, &out, N, 0.0f, 1.0f, 42, 0, 0));
  download(dev, &out, x, N);
  double us = 0, uss = 0;
  int inside = 1;
  for (int i = 0; i < N; i++) {
    us += x[i], uss += (double)x[i] * x[i];
    inside &= x[i] > 0.0f && x[i] < 1.0f;
  }
  double um = us / N, uv = uss / N - um * um;
  CHECK(inside, "uniforms lie strictly inside (0, 1)");
  CHECK(fabs(um - 0.5) < 0.006 && fabs(uv - 1.0 / 12) < 0.002, "uniform mean %.4f var %.5f", um,
        uv);
  /* 20 equal bins: chi-square with 19 degrees of freedom has mean 19, sd 6.2; 60 is p < 1e-5. */
  int bins[20] = {0};
  for (int i = 0; i < N; i++) bins[(int)(x[i] * 20.0f) < 20 ? (int)(x[i] * 20.0f) : 19]++;
  double chi2 = 0;
  for (int k = 0; k < 20; k++) chi2 += (bins[k] - N / 20.0) * (bins[k] - N / 20.0) / (N / 20.0);
  CHECK(chi2 < 60, "uniform histogram of 20 bins: chi-square %.1f (19 degrees of freedom)", chi2);
  printf("uniform(0,1) over %d draws: mean %.5f var %.6f chi-square(19) %.1f\n", N, um, uv, chi2);
  clgan_buffer_free(&out);
  free(x);
}

/* Mean and variance of N draws of normal(mean, sd) and uniform[lo, hi) on the device against
 * their parameters, at about 6 standard errors (mean: sd/sqrt(N); variance: sd^2 sqrt(2/N) for
 * the normal, (hi-lo)^2 sqrt(1/180/N) for the uniform); for the normal also P(|z| > 2) =
 * 0.0455 (tails: a wrong shape) and the correlation of neighbours (the two outputs of one
 * Box-Muller pair share a radius; correlated neighbours mean reused words). */
static void check_moments(clgan_device *dev, float p0, float p1, uint64_t seed, uint64_t step,
                          uint32_t stream) {
  enum { N = 40000 };
  float *x = malloc(N * sizeof *x);
  clgan_buffer out = upload(dev, NULL, N);
  for (int normal = 0; normal < 2; normal++) {
    if (normal) CHECK_OK(clgan_rand_normal(dev, &out, N, p0, p1, seed, step, stream));
    else CHECK_OK(clgan_rand_uniform(dev, &out, N, p0, p1, seed, step, stream));
    download(dev, &out, x, N);
    double s = 0, ss = 0, lag = 0;
    int tails = 0;
    for (int i = 0; i < N; i++) s += x[i];
    double m = s / N;
    for (int i = 0; i < N; i++) {
      double d = x[i] - m;
      ss += d * d;
      if (i) lag += d * (x[i - 1] - m);
      tails += fabs(x[i] - p0) > 2.0 * p1;
    }
    double var = ss / (N - 1), r1 = lag / ss;
    double want_m = normal ? p0 : 0.5 * ((double)p0 + p1);
    double want_v = normal ? (double)p1 * p1 : ((double)p1 - p0) * ((double)p1 - p0) / 12.0;
    double se_m = sqrt(want_v / N);
    double se_v = normal ? want_v * sqrt(2.0 / N)
                         : ((double)p1 - p0) * ((double)p1 - p0) * sqrt(1.0 / 180.0 / N);
    const char *kind = normal ? "normal" : "uniform";
    CHECK(fabs(m - want_m) < 6 * se_m, "%s(%g, %g) stream %u: mean %.6g, want %.6g +- %.2g",
          kind, (double)p0, (double)p1, stream, m, want_m, 6 * se_m);
    CHECK(fabs(var - want_v) < 6 * se_v, "%s(%g, %g) stream %u: variance %.6g, want %.6g +- %.2g",
          kind, (double)p0, (double)p1, stream, var, want_v, 6 * se_v);
    CHECK(fabs(r1) < 6 / sqrt(N), "%s(%g, %g) stream %u: neighbour correlation %.4f", kind,
          (double)p0, (double)p1, stream, r1);
    if (normal) /* binomial(N, 0.0455): sd 0.00104 of the fraction */
      CHECK(fabs((double)tails / N - 0.0455) < 0.0063, "normal(%g, %g): %.4f beyond 2 sd (0.0455)",
            (double)p0, (double)p1, (double)tails / N);
  }
  clgan_buffer_free(&out);
  free(x);
}

static void check_same_numbers(void) {

  /* Different seed, step or stream: different numbers; the same: the same. */
  float a[64], b[64];
  clgan_ref_rand_uniform(a, 64, 0, 1, 42, 0, 0);
  uint64_t keys[][3] = {{43, 0, 0}, {42, 1, 0}, {42, 0, 1}, {42, 1ULL << 32, 0},
                        {42 + (1ULL << 32), 0, 0}};
  for (int k = 0; k < 5; k++) {
    clgan_ref_rand_uniform(b, 64, 0, 1, keys[k][0], keys[k][1], (uint32_t)keys[k][2]);
    CHECK(count_equal(a, b, 64) < 4, "variant %d of (seed, step, stream) changes the stream", k);
  }
  clgan_ref_rand_uniform(b, 64, 0, 1, 42, 0, 0);
  CHECK(memcmp(a, b, sizeof a) == 0, "same key, same numbers");
}

int main(void) {
  check_kat();
  check_mapping(42, 0, 0);
  check_mapping(0x0123456789abcdefULL, 0x100000005ULL, 7);
  check_shuffle();
  clgan_device *dev = test_open_device();
  /* A shorter draw is a prefix of a longer one: element i depends on i only. */
  float p7[7], p1000[1000];
  clgan_buffer out = upload(dev, NULL, 1000);
  CHECK_OK(clgan_rand_normal(dev, &out, 1000, 0, 1, 9, 9, 9));
  download(dev, &out, p1000, 1000);
  CHECK_OK(clgan_rand_normal(dev, &out, 7, 0, 1, 9, 9, 9));
  download(dev, &out, p7, 7);
  CHECK(memcmp(p7, p1000, sizeof p7) == 0, "normal n=7 is a prefix of n=1000");
  clgan_buffer_free(&out);
  check_stats(dev);
  check_same_numbers();
  check_moments(dev, 0.0f, 1.0f, 1, 2, 3);
  check_moments(dev, 0.5f, 0.02f, 99, 0, 0x5A4D);
  check_moments(dev, -2.0f, 3.0f, 0xfedcba9876543210ULL, 1ULL << 32, 7);
  clgan_device_close(dev);
  return test_finish();
}
