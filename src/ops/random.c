/* Counter-based random numbers for latent batches and initialisers: Philox-4x32-10 keyed by
 * (seed, step, stream), uniform and normal (Box-Muller), on the device and in C. The same
 * seed gives the same numbers on every device. Kernels: cl/random.cl. Also the host-side
 * shuffle that orders the training data each epoch (GAN trainer and classifier).
 *
 * The C reference computes exactly what the kernel computes, in float, one operation per
 * statement: ISO C mode does not contract a*b+c into an fma, and the kernel turns contraction
 * off, so uniforms agree bit for bit. Normals go through log, cos and sin, whose last bit may
 * differ between libm and a device. */
#include <math.h>

#include "clgan/ops.h"
#include "ops/internal.h"

void clgan_philox4x32(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

void clgan_philox_shuffle(int32_t *perm, int n, uint64_t seed, uint32_t epoch, uint32_t stream) {
  for (int i = 0; i < n; i++) perm[i] = i;
  uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  uint32_t words[4] = {0};
  for (int i = n - 1; i > 0; i--) {
    uint32_t k = (uint32_t)(n - 1 - i);
    if (k % 4 == 0) {
      uint32_t ctr[4] = {k / 4, epoch, 0, stream};
      clgan_philox4x32(ctr, key, words);
    }
    /* Lemire's multiply-shift: a draw in [0, i], without a division. */
    uint32_t j = (uint32_t)(((uint64_t)words[k % 4] * (uint64_t)(i + 1)) >> 32);
    int32_t tmp = perm[i];
    perm[i] = perm[j];
    perm[j] = tmp;
  }
}

static float to_unit(uint32_t bits) {
  float u = (float)(bits >> 9) * 0x1.0p-23f;
  return u + 0x1.0p-24f;
}

static void ref_block(uint32_t out[4], int b, uint64_t seed, uint64_t step, uint32_t stream) {
  uint32_t ctr[4] = {(uint32_t)b, (uint32_t)step, (uint32_t)(step >> 32), stream};
  uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  clgan_philox4x32(ctr, key, out);
}

void clgan_ref_rand_uniform(float *out, int n, float lo, float hi, uint64_t seed, uint64_t step,
                            uint32_t stream) {
  float span = hi - lo;
  for (int b = 0; n > 0 && b <= (n - 1) / 4; b++) {
    uint32_t w[4];
    ref_block(w, b, seed, step, stream);
    for (int k = 0; k < 4 && k < n - 4 * b; k++) {
      float t = span * to_unit(w[k]);
      out[4 * b + k] = lo + t;
    }
  }
}

void clgan_ref_rand_normal(float *out, int n, float mean, float stddev, uint64_t seed,
                           uint64_t step, uint32_t stream) {
  for (int b = 0; n > 0 && b <= (n - 1) / 4; b++) {
    uint32_t w[4];
    ref_block(w, b, seed, step, stream);
    for (int p = 0; p < 2; p++) {
      float l = logf(to_unit(w[2 * p]));
      float r = sqrtf(-2.0f * l);
      float theta = 6.28318530717958647692f * to_unit(w[2 * p + 1]);
      float c = cosf(theta), s = sinf(theta);
      float z[2] = {r * c, r * s};
      for (int k = 0; k < 2 && 2 * p + k < n - 4 * b; k++) {
        float t = stddev * z[k];
        out[4 * b + 2 * p + k] = mean + t;
      }
    }
  }
}

/* per_item: the elements one work-item writes (4 for rand_uniform, 64 for rand_normal). */
static clgan_status launch_rand(clgan_device *dev, const char *op, const char *kernel,
                                int per_item, clgan_buffer *out, int n, float a, float b,
                                uint64_t seed, uint64_t step, uint32_t stream) {
  clgan_status st;
  clgan_kernel *k = NULL;
  if ((st = ops_check_count(n, op, "n"))) return st;
  if (n == 0) return CLGAN_OK;
  if ((st = ops_check_buf(out, (size_t)n * sizeof(float), op, "out")) ||
      (st = ops_kernel_get(dev, "random.cl", kernel, &k)))
    return st;
  int items = (int)(((long long)n + per_item - 1) / per_item);
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(items), CLGAN_BUF(out), CLGAN_INT(n), CLGAN_FLOAT(a),
                      CLGAN_FLOAT(b), CLGAN_UINT((uint32_t)seed),
                      CLGAN_UINT((uint32_t)(seed >> 32)),
                      CLGAN_UINT((uint32_t)step), CLGAN_UINT((uint32_t)(step >> 32)),
                      CLGAN_UINT(stream));
}

clgan_status clgan_rand_uniform(clgan_device *dev, clgan_buffer *out, int n, float lo, float hi,
                                uint64_t seed, uint64_t step, uint32_t stream) {
  return launch_rand(dev, "clgan_rand_uniform", "rand_uniform", 4, out, n, lo, hi, seed, step,
                     stream);
}

clgan_status clgan_rand_normal(clgan_device *dev, clgan_buffer *out, int n, float mean,
                               float stddev, uint64_t seed, uint64_t step, uint32_t stream) {
  return launch_rand(dev, "clgan_rand_normal", "rand_normal", 64, out, n, mean, stddev, seed, step,
                     stream);
}
