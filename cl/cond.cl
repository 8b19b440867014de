/* Class conditioning (src/ops/cond.c): one-hot concatenation (Mirza & Osindero 2014), the
 * projection discriminator's inner product (Miyato & Koyama 2018), and the batch's labels.
 * Every sum runs serially in one work item, in index order: no atomics, the same bits on every
 * run. A label outside 0..classes-1 writes NaN where it would index, so it cannot pass unseen. */

/* out (batch, n + classes) = [x | one_hot(labels)]; with onehot = 0 the class columns are 0. */
__kernel void cond_concat(__global float *out, __global const float *x,
                          __global const int *labels, int batch, int n, int classes,
                          int onehot) {
  int i = get_global_id(0);
  int width = n + classes;
  if (i >= batch * width) return;
  int b = i / width, j = i - b * width;
  if (j < n) {
    out[i] = x[(size_t)b * (size_t)n + (size_t)j];
  } else if (!onehot) {
    out[i] = 0.0f;
  } else {
    int y = labels[b];
    out[i] = (y < 0 || y >= classes) ? NAN : (y == j - n ? 1.0f : 0.0f);
  }
}

/* out (batch, n) = the first n columns of in (batch, stride). */
__kernel void cond_slice(__global float *out, __global const float *in, int batch, int n,
                         int stride) {
  int i = get_global_id(0);
  if (i >= batch * n) return;
  int b = i / n, j = i - b * n;
  out[i] = in[(size_t)b * (size_t)stride + (size_t)j];
}

/* y[b] += <embed[labels[b]], h[b]>. */
__kernel void proj_forward(__global float *y, __global const float *h,
                           __global const float *embed, __global const int *labels, int batch,
                           int features, int classes) {
  int b = get_global_id(0);
  if (b >= batch) return;
  int c = labels[b];
  if (c < 0 || c >= classes) {
    y[b] = NAN;
    return;
  }
  __global const float *e = embed + (size_t)c * (size_t)features;
  __global const float *hb = h + (size_t)b * (size_t)features;
  float s = 0.0f;
  for (int j = 0; j < features; j++) s += e[j] * hb[j];
  y[b] += s;
}

/* dh[b, j] += dy[b] * embed[labels[b], j]. */
__kernel void proj_backward_input(__global float *dh, __global const float *dy,
                                  __global const float *embed, __global const int *labels,
                                  int batch, int features, int classes) {
  int i = get_global_id(0);
  if (i >= batch * features) return;
  int b = i / features, j = i - b * features;
  int c = labels[b];
  dh[i] += (c < 0 || c >= classes) ? NAN : dy[b] * embed[(size_t)c * (size_t)features + j];
}

/* dembed[k, j] (+)= sum over the rows b of class k of dy[b] * h[b, j], rows in order. */
__kernel void proj_backward_embed(__global float *dembed, __global const float *dy,
                                  __global const float *h, __global const int *labels,
                                  int batch, int features, int classes, int accumulate) {
  int i = get_global_id(0);
  if (i >= classes * features) return;
  int k = i / features, j = i - k * features;
  float s = 0.0f;
  for (int b = 0; b < batch; b++)
    if (labels[b] == k) s += dy[b] * h[(size_t)b * (size_t)features + j];
  dembed[i] = accumulate ? dembed[i] + s : s;
}

/* out[b] = labels[index[first + b]]: the batch's labels, gathered with its images. */
__kernel void gather_labels(__global int *out, __global const uchar *labels,
                            __global const int *index, int first, int batch, int nlabels) {
  int b = get_global_id(0);
  if (b >= batch) return;
  int row = index[first + b];
  out[b] = (row < 0 || row >= nlabels) ? -1 : (int)labels[row];
}

/* out[b] = the class whose cumulative weight first exceeds u[b] (cdf (classes), ascending,
 * cdf[classes - 1] = 1): uniform classes with cdf[k] = (k + 1) / classes. */
__kernel void labels_from_uniform(__global int *out, __global const float *u,
                                  __global const float *cdf, int batch, int classes) {
  int b = get_global_id(0);
  if (b >= batch) return;
  int k = 0;
  while (k < classes - 1 && u[b] >= cdf[k]) k++;
  out[b] = k;
}
