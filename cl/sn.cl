/* Spectral normalisation (src/ops/sn.c; Miyato et al. 2018, torch.nn.utils.spectral_norm).
 * The weight is seen as a matrix of R rows (PyTorch's `dim`) and A*K columns, stored as
 * (A, R, K): element (r, a*K + k) of the matrix sits at (a*R + r)*K + k. A = 1 for a weight
 * whose dim is 0 (Linear, Conv2d), A = c_in for ConvTranspose2d's (c_in, c_out, kh, kw), dim 1.
 * Sums are sequential per work-item or one work-group's fixed tree: no atomics, so every run
 * on a device gives the same bits. */

/* v[c] = sum_r W[r, c] u[r]: one work-item per column. */
__kernel void sn_wt_u(__global float *v, __global const float *w, __global const float *u,
                      int a_n, int r_n, int k_n) {
  int c = get_global_id(0);
  if (c >= a_n * k_n) return;
  int a = c / k_n, k = c % k_n;
  float s = 0.0f;
  for (int r = 0; r < r_n; r++) s += w[(a * r_n + r) * k_n + k] * u[r];
  v[c] = s;
}

/* t[r] = sum_c W[r, c] v[c]: one work-item per row. */
__kernel void sn_w_v(__global float *t, __global const float *w, __global const float *v,
                     int a_n, int r_n, int k_n) {
  int r = get_global_id(0);
  if (r >= r_n) return;
  float s = 0.0f;
  for (int a = 0; a < a_n; a++)
    for (int k = 0; k < k_n; k++) s += w[(a * r_n + r) * k_n + k] * v[a * k_n + k];
  t[r] = s;
}

/* One work-group. x = x / max(||x||, eps) (F.normalize). */
__kernel void sn_normalize(__global float *x, int n, float eps, __local float *scratch) {
  float s = 0.0f;
  for (int i = get_local_id(0); i < n; i += get_local_size(0)) s += x[i] * x[i];
  float d = fmax(sqrt(clgan_tree_sum(scratch, s)), eps);
  for (int i = get_local_id(0); i < n; i += get_local_size(0)) x[i] = x[i] / d;
}

/* One work-group. With update: u = t / max(||t||, eps). Then sigma[0] = u . t. Each work-item
 * reads back only the u it wrote, so no global barrier is needed. */
__kernel void sn_sigma(__global float *sigma, __global float *u, __global const float *t, int n,
                       float eps, int update, __local float *scratch) {
  float d = 1.0f;
  if (update) {
    float s = 0.0f;
    for (int i = get_local_id(0); i < n; i += get_local_size(0)) s += t[i] * t[i];
    d = fmax(sqrt(clgan_tree_sum(scratch, s)), eps);
  }
  float p = 0.0f;
  for (int i = get_local_id(0); i < n; i += get_local_size(0)) {
    float ui = update ? t[i] / d : u[i];
    if (update) u[i] = ui;
    p += ui * t[i];
  }
  float sig = clgan_tree_sum(scratch, p);
  if (get_local_id(0) == 0) sigma[0] = sig;
}

/* w_sn = w / sigma[0], as PyTorch divides. */
__kernel void sn_scale(__global float *w_sn, __global const float *w,
                       __global const float *sigma, int n) {
  int i = get_global_id(0);
  if (i >= n) return;
  w_sn[i] = w[i] / sigma[0];
}

/* One work-group. sigma[1] = <g, w_sn>_F. */
__kernel void sn_dot(__global float *sigma, __global const float *g,
                     __global const float *w_sn, int n, __local float *scratch) {
  float p = 0.0f;
  for (int i = get_local_id(0); i < n; i += get_local_size(0)) p += g[i] * w_sn[i];
  float s = clgan_tree_sum(scratch, p);
  if (get_local_id(0) == 0) sigma[1] = s;
}

/* dW_orig (+)= (g - <g, w_sn> u v^T) / sigma, u and v constants (PyTorch's clones). */
__kernel void sn_backward(__global float *dw, __global const float *g, __global const float *u,
                          __global const float *v, __global const float *sigma, int a_n,
                          int r_n, int k_n, int accumulate) {
  int i = get_global_id(0);
  if (i >= a_n * r_n * k_n) return;
  int k = i % k_n, r = (i / k_n) % r_n, a = i / (k_n * r_n);
  float val = (g[i] - sigma[1] * u[r] * v[a * k_n + k]) / sigma[0];
  dw[i] = accumulate ? dw[i] + val : val;
}
