/* Binary cross-entropy from logits (src/ops/loss.c): per-sample loss, logit gradient and
 * probability in one pass. Stable for any finite z: exp only ever sees -|z|. */

__kernel void bce_logits(__global float *dz, __global float *loss, __global float *prob,
                         __global const float *z, int n, float target, float scale, float sign,
                         int want_dz, int want_loss, int want_prob) {
  int i = get_global_id(0);
  if (i >= n) return;
  float v = z[i];
  float e = exp(-fabs(v));
  float p = v >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
  if (want_dz) dz[i] = sign * scale * (p - target);
  if (want_loss) loss[i] = sign * (fmax(v, 0.0f) - v * target + log1p(e));
  if (want_prob) prob[i] = p;
}
