/* Batch normalisation over (N, C, S) tensors, element (n, c, s) at n*C*S + c*S + s
 * (src/ops/batchnorm.c). The per-channel reductions use one work-item per channel that walks
 * its N*S values in a fixed order: deterministic, and enough parallelism for GAN widths
 * (C = 64..1024); a tree reduction per channel is the next step if profiles ask for it. */

/* Batch mean and biased variance (two passes, so no cancellation in E[x^2] - E[x]^2),
 * the saved invstd, and PyTorch's running statistics with the unbiased variance. */
__kernel void bn_stats(__global float *mean, __global float *invstd, __global float *running_mean,
                       __global float *running_var, __global const float *x, int n, int c, int s,
                       float eps, float momentum) {
  int ch = get_global_id(0);
  if (ch >= c) return;
  int m = n * s;
  float sum = 0.0f;
  for (int b = 0; b < n; b++) {
    __global const float *p = x + ((size_t)b * c + ch) * s;
    for (int j = 0; j < s; j++) sum += p[j];
  }
  float mu = sum / (float)m;
  float ss = 0.0f;
  for (int b = 0; b < n; b++) {
    __global const float *p = x + ((size_t)b * c + ch) * s;
    for (int j = 0; j < s; j++) {
      float d = p[j] - mu;
      ss += d * d;
    }
  }
  float var = ss / (float)m;
  mean[ch] = mu;
  invstd[ch] = 1.0f / sqrt(var + eps);
  float unbiased = var * ((float)m / (float)(m - 1));
  running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mu;
  running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * unbiased;
}

__kernel void bn_forward(__global float *y, __global const float *x, __global const float *mean,
                         __global const float *invstd, __global const float *gamma,
                         __global const float *beta, int n, int c, int s) {
  int i = get_global_id(0);
  if (i >= n * c * s) return;
  int ch = (i / s) % c;
  y[i] = gamma[ch] * ((x[i] - mean[ch]) * invstd[ch]) + beta[ch];
}

__kernel void bn_forward_eval(__global float *y, __global const float *x,
                              __global const float *running_mean,
                              __global const float *running_var, __global const float *gamma,
                              __global const float *beta, int n, int c, int s, float eps) {
  int i = get_global_id(0);
  if (i >= n * c * s) return;
  int ch = (i / s) % c;
  float inv = 1.0f / sqrt(running_var[ch] + eps);
  y[i] = gamma[ch] * ((x[i] - running_mean[ch]) * inv) + beta[ch];
}

/* One work-item per channel: the two batch sums, then dx from them, with xhat = (x-mean)*invstd:
 *   dbeta = sum dy, dgamma = sum dy*xhat,
 *   dx = gamma*invstd/M * (M*dy - dbeta - xhat*dgamma).
 * dx needs this batch's sums even when dgamma and dbeta accumulate, hence one kernel. */
__kernel void bn_backward(__global float *dx, __global float *dgamma, __global float *dbeta,
                          __global const float *dy, __global const float *x,
                          __global const float *mean, __global const float *invstd,
                          __global const float *gamma, int n, int c, int s, int accumulate,
                          int write_params) {
  int ch = get_global_id(0);
  if (ch >= c) return;
  float mu = mean[ch], is = invstd[ch];
  float sdy = 0.0f, sdyx = 0.0f;
  for (int b = 0; b < n; b++) {
    size_t base = ((size_t)b * c + ch) * s;
    for (int j = 0; j < s; j++) {
      float g = dy[base + j];
      sdy += g;
      sdyx += g * ((x[base + j] - mu) * is);
    }
  }
  if (write_params) {
    dbeta[ch] = accumulate ? dbeta[ch] + sdy : sdy;
    dgamma[ch] = accumulate ? dgamma[ch] + sdyx : sdyx;
  }
  float m = (float)(n * s);
  float k = gamma[ch] * is / m;
  for (int b = 0; b < n; b++) {
    size_t base = ((size_t)b * c + ch) * s;
    for (int j = 0; j < s; j++) {
      float xhat = (x[base + j] - mu) * is;
      dx[base + j] = k * (m * dy[base + j] - sdy - xhat * sdyx);
    }
  }
}
