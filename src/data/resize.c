/* Image geometry and colour for data sources (issue 13): a centred square crop resized with
 * an antialiasing triangle filter, and BT.601 luma. All on the host, once, while a data set is
 * read; the device only ever sees the result.
 *
 * The filter is Pillow's antialiased bilinear (Image.resize with BILINEAR since Pillow 2.7):
 * output pixel i of an axis sampled at centre (i + 0.5) * scale in input pixels, weights
 * max(0, 1 - |d| / support) with support = max(1, scale), normalised per pixel. Shrinking by
 * a factor s averages over 2s input pixels, so a 218x178 face becomes 64x64 without the
 * aliasing of point sampling; enlarging is plain bilinear. The two axes are separable; the
 * plain double-precision loop over both in tests/test_data_sources.c is its reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "clgan/data.h"

typedef struct {
  int first, n;  /* input pixels [first, first + n) */
  double w[32768]; /* their normalised weights: n <= the crop's side <= 32768 */
} tap;

/* Weights of output pixel i for an axis of `in` input pixels (from offset) to `out`. */
static void make_tap(tap *t, int i, int in, int out, int offset) {
  double scale = (double)in / out, support = scale > 1.0 ? scale : 1.0;
  double centre = (i + 0.5) * scale;
  int lo = (int)floor(centre - support), hi = (int)ceil(centre + support);
  if (lo < 0) lo = 0;
  if (hi > in) hi = in;
  double sum = 0.0;
  t->first = offset + lo;
  t->n = hi - lo;
  for (int j = lo; j < hi; j++) {
    double d = fabs((j + 0.5 - centre) / support);
    double w = d < 1.0 ? 1.0 - d : 0.0;
    t->w[j - lo] = w;
    sum += w;
  }
  for (int j = 0; j < t->n; j++) t->w[j] = sum > 0.0 ? t->w[j] / sum : 0.0;
}

void clgan_image_resize(uint8_t *dst, int size, const uint8_t *src, int w, int h) {
  int side = w < h ? w : h, ox = (w - side) / 2, oy = (h - side) / 2;
  if (side == size) {
    for (int y = 0; y < size; y++)
      memcpy(dst + (size_t)y * size, src + (size_t)(oy + y) * w + ox, (size_t)size);
    return;
  }
  /* Horizontal pass over the crop's rows into doubles, then the vertical pass. */
  double *tmp = malloc((size_t)side * (size_t)size * sizeof *tmp);
  tap *t = malloc(sizeof *t);
  if (!tmp || !t) {
    /* Out of memory for a <= 1024-wide temporary: leave a defined image rather than garbage. */
    memset(dst, 0, (size_t)size * (size_t)size);
    free(tmp);
    free(t);
    return;
  }
  for (int x = 0; x < size; x++) {
    make_tap(t, x, side, size, ox);
    for (int y = 0; y < side; y++) {
      const uint8_t *row = src + (size_t)(oy + y) * w + t->first;
      double s = 0.0;
      for (int j = 0; j < t->n; j++) s += t->w[j] * row[j];
      tmp[(size_t)y * size + x] = s;
    }
  }
  for (int y = 0; y < size; y++) {
    make_tap(t, y, side, size, 0);
    for (int x = 0; x < size; x++) {
      double s = 0.0;
      for (int j = 0; j < t->n; j++) s += t->w[j] * tmp[(size_t)(t->first + j) * size + x];
      long v = lround(s);
      dst[(size_t)y * size + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
  free(tmp);
  free(t);
}

uint8_t clgan_rgb_to_gray(uint8_t r, uint8_t g, uint8_t b) {
  return (uint8_t)((299u * r + 587u * g + 114u * b + 500u) / 1000u);
}

clgan_status clgan_dataset_convert(clgan_dataset *ds, const clgan_data_opts *o) {
  int c = ds->channels > 1 ? ds->channels : 1;
  int s = o && o->image_size ? o->image_size : 0;
  int want_c = o && o->channels ? o->channels : c;
  if (s < 0 || s > CLGAN_IMAGE_SIZE_MAX) {
    clgan_error("image size %d: out of range (allowed: 1..%d)", s, CLGAN_IMAGE_SIZE_MAX);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (want_c != 1 && want_c != 3) {
    clgan_error("channels %d: use 1 (gray) or 3 (RGB)", want_c);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (ds->rows > 32768 || ds->cols > 32768) {
    clgan_error("images of %dx%d: too large to resize (at most 32768 a side)", ds->rows, ds->cols);
    return CLGAN_INVALID_ARGUMENT;
  }
  int rows = s ? s : ds->rows, cols = s ? s : ds->cols;
  if (rows == ds->rows && cols == ds->cols && want_c == c) {
    ds->channels = c;
    return CLGAN_OK;
  }
  size_t in_plane = (size_t)ds->rows * ds->cols, out_plane = (size_t)rows * cols;
  uint8_t *out = malloc((size_t)ds->count * want_c * out_plane + 1);
  uint8_t *planes = malloc(3 * out_plane);
  if (!out || !planes) {
    free(out);
    free(planes);
    return CLGAN_HOST_OUT_OF_MEMORY;
  }
  for (int i = 0; i < ds->count; i++) {
    const uint8_t *img = ds->images + (size_t)i * c * in_plane;
    for (int k = 0; k < c; k++) {
      if (s)
        clgan_image_resize(planes + k * out_plane, s, img + k * in_plane, ds->cols, ds->rows);
      else
        memcpy(planes + k * out_plane, img + k * in_plane, in_plane);
    }
    uint8_t *dst = out + (size_t)i * want_c * out_plane;
    if (want_c == c) {
      memcpy(dst, planes, (size_t)c * out_plane);
    } else if (want_c == 3) {
      for (int k = 0; k < 3; k++) memcpy(dst + k * out_plane, planes, out_plane);
    } else {
      for (size_t p = 0; p < out_plane; p++)
        dst[p] = clgan_rgb_to_gray(planes[p], planes[out_plane + p], planes[2 * out_plane + p]);
    }
  }
  free(planes);
  if (ds->map) {
    /* A cached set is mapped read-only: its labels move to the heap with the new images. */
    uint8_t *labels = ds->labels ? malloc((size_t)ds->count) : NULL;
    if (ds->labels && !labels) {
      free(out);
      return CLGAN_HOST_OUT_OF_MEMORY;
    }
    if (labels) memcpy(labels, ds->labels, (size_t)ds->count);
    munmap(ds->map, ds->map_bytes);
    ds->map = NULL;
    ds->map_bytes = 0;
    ds->labels = labels;
  } else {
    free(ds->images);
  }
  ds->images = out;
  ds->rows = rows;
  ds->cols = cols;
  ds->channels = want_c;
  return CLGAN_OK;
}
