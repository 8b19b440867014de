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

/* Softmax cross-entropy (src/ops/loss.c), one work-item per row: classes is small (10 for
 * Fashion-MNIST), so a row's three passes stay in the work-item's cache. exp only ever sees
 * z - max <= 0, so no logit overflows it. */
__kernel void softmax_xent(__global float *dz, __global float *loss, __global float *correct,
                           __global const float *z, __global const int *labels, int label_off,
                           int n, int classes, float scale, int want_dz, int want_loss,
                           int want_correct) {
  int i = get_global_id(0);
  if (i >= n) return;
  __global const float *row = z + (size_t)i * (size_t)classes;
  int label = labels[label_off + i];
  int valid = label >= 0 && label < classes;
  float m = row[0];
  int arg = 0;
  for (int c = 1; c < classes; c++) {
    if (row[c] > m) {
      m = row[c];
      arg = c;
    }
  }
  float sum = 0.0f;
  for (int c = 0; c < classes; c++) sum += exp(row[c] - m);
  if (want_loss) loss[i] = valid ? log(sum) - (row[label] - m) : NAN;
  if (want_correct) correct[i] = valid && arg == label ? 1.0f : 0.0f;
  if (want_dz) {
    __global float *d = dz + (size_t)i * (size_t)classes;
    float inv = 1.0f / sum;
    for (int c = 0; c < classes; c++)
      d[c] = valid ? scale * (exp(row[c] - m) * inv - (c == label ? 1.0f : 0.0f)) : NAN;
  }
}
