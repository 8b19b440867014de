/* Critic losses and the WGAN-GP pieces (src/ops/gan_loss.c): per-sample loss terms and the
 * gradient w.r.t. the critic output in one pass; the real/fake interpolation; the gradient
 * penalty with its gradient w.r.t. the input gradient. kind is a clgan_critic_kind, whose
 * values the ops preamble defines (src/ops/preamble.c). */

__kernel void critic_loss(__global float *dd, __global float *loss, __global const float *d, int n,
                          int kind, float sign, float target, float scale, int want_dd,
                          int want_loss) {
  int i = get_global_id(0);
  if (i >= n) return;
  float v = d[i], l, g;
  if (kind == CLGAN_CRITIC_WASSERSTEIN) {
    l = sign * v;
    g = sign;
  } else if (kind == CLGAN_CRITIC_HINGE) {
    float m = 1.0f + sign * v;
    l = fmax(m, 0.0f);
    g = m > 0.0f ? sign : 0.0f; /* relu'(0) = 0, as torch */
  } else {
    float e = v - target;
    l = 0.5f * e * e;
    g = e;
  }
  if (want_dd) dd[i] = scale * g;
  if (want_loss) loss[i] = l;
}

/* x_hat[b, j] = eps[b] * real[b, j] + (1 - eps[b]) * fake[b, j]. */
__kernel void gp_interpolate(__global float *x_hat, __global const float *real,
                             __global const float *fake, __global const float *eps, int batch,
                             int dim) {
  int i = get_global_id(0);
  if (i >= batch * dim) return;
  float e = eps[i / dim];
  x_hat[i] = e * real[i] + (1.0f - e) * fake[i];
}

/* One work-group per sample b (size L, a power of two): ||g_b|| by clgan_tree_sum over
 * the items' strided partial sums, then every item writes its share of
 *   dg = scale * 2 lambda (||g|| - 1) g / ||g||   (0 where ||g|| = 0).
 * Each work-item reads and writes only its own indices j = l, l + L, ..., so dg may alias g. */
__kernel void gp_penalty(__global float *dg, __global float *loss, __global float *norm,
                         __global const float *g, int dim, float lambda, float scale, int want_dg,
                         int want_loss, int want_norm, __local float *scratch) {
  int b = get_group_id(0), l = get_local_id(0), size = get_local_size(0);
  __global const float *row = g + b * dim;
  float s = 0.0f;
  for (int j = l; j < dim; j += size) s += row[j] * row[j];
  float nrm = sqrt(clgan_tree_sum(scratch, s));
  if (l == 0) {
    if (want_loss) loss[b] = lambda * (nrm - 1.0f) * (nrm - 1.0f);
    if (want_norm) norm[b] = nrm;
  }
  if (!want_dg) return;
  float f = nrm > 0.0f ? scale * 2.0f * lambda * (nrm - 1.0f) / nrm : 0.0f;
  for (int j = l; j < dim; j += size) dg[b * dim + j] = f * row[j];
}
