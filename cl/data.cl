/* Batch gather from the uint8 training set on the device (src/ops/data.c). */

/* (p - 127.5) * fl(1/127.5), the ops preamble's CLGAN_PIXEL_OFFSET and CLGAN_PIXEL_SCALE
 * (clgan_pixel_to_unit's): the same value as p / 127.5 - 1 to within an ulp, exactly -1 and 1
 * at 0 and 255, and built from operations every OpenCL device rounds correctly (a division
 * may be off by 2.5 ulp), so every device and the C reference produce the same bits. */
__kernel void gather_images(__global float *out, __global const uchar *images,
                            __global const int *index, int first, int batch, int dim,
                            int nimages) {
  /* Work-item (c, b): CLGAN_VEC pixels of sample b from pixel c * CLGAN_VEC, a 16-byte load
   * and a float16 of arithmetic on CPU devices (3-4x a pixel a work-item; the same bits). */
  int j = get_global_id(0) * CLGAN_VEC, b = get_global_id(1);
  if (b >= batch || j >= dim) return;
  int row = index[first + b];
  __global float *o = out + (size_t)b * dim;
  /* A bad permutation entry reads nothing and poisons the batch, so it cannot pass unseen. */
  if (row < 0 || row >= nimages) {
    for (int q = j; q < min(j + CLGAN_VEC, dim); q++) o[q] = NAN;
    return;
  }
  __global const uchar *src = images + (size_t)row * (size_t)dim;
  if (j <= dim - CLGAN_VEC)
    VSTORE((VLOAD_U8F(src + j) - CLGAN_PIXEL_OFFSET) * CLGAN_PIXEL_SCALE, o + j);
  else
    for (; j < dim; j++) o[j] = ((float)src[j] - CLGAN_PIXEL_OFFSET) * CLGAN_PIXEL_SCALE;
}

/* gather_images with random horizontal flips (issue 13's --flip): where flips[first + b] is
 * not 0, sample b's rows of `width` pixels are read right to left (every channel alike). */
__kernel void gather_images_flip(__global float *out, __global const uchar *images,
                                 __global const int *index, __global const uchar *flips,
                                 int first, int batch, int dim, int nimages, int width) {
  int i = get_global_id(0);
  if (i >= batch * dim) return;
  int b = i / dim, j = i - b * dim;
  int row = index[first + b];
  if (row < 0 || row >= nimages) {
    out[i] = NAN;
    return;
  }
  if (flips[first + b]) {
    int x = j % width;
    j += width - 1 - 2 * x;
  }
  out[i] = ((float)images[(size_t)row * (size_t)dim + (size_t)j] - CLGAN_PIXEL_OFFSET) * CLGAN_PIXEL_SCALE;
}
